//! What an `execve` or `execveat` of the program names, before the runner
//! decides who runs it: an XSC binary (directly, or as the interpreter of
//! `#!` scripts, nested as Linux nests them) that a new xsc-run must load
//! from an open descriptor, a file the host kernel runs itself (with
//! exactly Linux's result and errno), or a refusal the runner must explain
//! (the file cannot be read). It uses nothing of the kernel side's: the
//! caller classifies binaries (the loader does) and reports refusals.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::FromRawFd;

/// How the caller's classifier sees an open executable.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    /// An XSC binary.
    Xsc,
    /// A binary of the runner's machine without the note.
    Plain,
    /// Anything else (another machine's binary, a broken ELF file, text).
    Other,
}

/// What to do with the exec.
#[derive(Debug)]
pub enum Exec {
    /// The host runs what the call names, as given; `plain` if it is a
    /// binary of the runner's machine without the note.
    Host { plain: bool },
    /// A new xsc-run runs the XSC binary open at `file` (close-on-exec),
    /// whose name for the program (`AT_EXECFN`, reports) is `filename`,
    /// with `argv` (for a script: Linux's interpreter arguments).
    Xsc {
        file: File,
        filename: Vec<u8>,
        argv: Vec<Vec<u8>>,
    },
    /// The exec fails with `errno`; `why` says why and what to do.
    Refused { errno: i32, why: String },
}

/// Linux's limit on nested interpreters (fs/exec.c: more than 5 rewrites
/// of the program fail with ELOOP).
const MAX_NESTING: usize = 5;
/// Linux reads this much of a file to find a `#!` line (BINPRM_BUF_SIZE).
const HEAD: usize = 256;

/// `path` as a name that needs no descriptor: itself when absolute or
/// relative to the working directory, else `{fd_dir}/N[/path]` for one
/// relative to descriptor N (`/dev/fd`, as Linux names the program, or
/// `/proc/self/fd`).
pub fn name_at(fd_dir: &str, dirfd: i32, path: &[u8]) -> Vec<u8> {
    if dirfd == libc::AT_FDCWD || path.first() == Some(&b'/') {
        path.to_vec()
    } else if path.is_empty() {
        format!("{fd_dir}/{dirfd}").into_bytes()
    } else {
        let mut f = format!("{fd_dir}/{dirfd}/").into_bytes();
        f.extend_from_slice(path);
        f
    }
}

/// The file `execveat(dirfd, path, argv, envp, flags)` names (`execve` is
/// `dirfd` = `AT_FDCWD`, `flags` = 0), followed through `#!` lines.
pub fn probe(
    dirfd: i32,
    path: &[u8],
    flags: i32,
    argv: &[Vec<u8>],
    classify: impl Fn(&File) -> Found,
) -> Exec {
    // Linux's name for the program (bprm->filename): the path, or
    // /dev/fd/N[/path] for one relative to a descriptor.
    let filename = name_at("/dev/fd", dirfd, path);
    // The descriptor itself, reopened through /proc (which works for
    // O_PATH descriptors and memfds too).
    let (mut dirfd, mut path) = if path.is_empty() && flags & libc::AT_EMPTY_PATH != 0 {
        (
            libc::AT_FDCWD,
            format!("/proc/self/fd/{dirfd}").into_bytes(),
        )
    } else {
        (dirfd, path.to_vec())
    };
    let mut nofollow = flags & libc::AT_SYMLINK_NOFOLLOW != 0;
    let mut filename = filename;
    let mut argv = argv.to_vec();
    for depth in 0..=MAX_NESTING {
        let Ok(c) = CString::new(path.clone()) else {
            return Exec::Host { plain: false };
        };
        if !executable_regular(dirfd, &c, nofollow) {
            // The host finds what is wrong (ENOENT, EACCES, ELOOP, ...),
            // for the file or for an interpreter.
            return Exec::Host { plain: false };
        }
        let file = match open(dirfd, &c) {
            Ok(f) => f,
            Err(e) => return refusal(e, &filename),
        };
        if let Some((interp, arg)) = script_line(&file) {
            if depth == MAX_NESTING {
                break;
            }
            // Linux's interpreter arguments: the interpreter as written,
            // its one optional argument, the script's name, then the
            // original arguments without argv[0].
            let mut next = vec![interp.clone()];
            next.extend(arg);
            next.push(filename);
            next.extend(argv.into_iter().skip(1));
            argv = next;
            filename = interp.clone();
            (dirfd, path, nofollow) = (libc::AT_FDCWD, interp, false);
            continue;
        }
        return match classify(&file) {
            Found::Xsc => Exec::Xsc {
                file,
                filename,
                argv,
            },
            Found::Plain if depth == 0 => Exec::Host { plain: true },
            _ => Exec::Host { plain: false },
        };
    }
    // Too deeply nested: the host fails it with ELOOP.
    Exec::Host { plain: false }
}

/// Is `path` (relative to `dirfd`) a regular file the caller may execute?
fn executable_regular(dirfd: i32, path: &CString, nofollow: bool) -> bool {
    // SAFETY: stat is plain old data, all-zero valid.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    let at = if nofollow {
        libc::AT_SYMLINK_NOFOLLOW
    } else {
        0
    };
    // SAFETY: a NUL-terminated path; fstatat writes only into `st`.
    let r = unsafe { libc::fstatat(dirfd, path.as_ptr(), &mut st, at) };
    if r != 0 || st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return false;
    }
    // SAFETY: a NUL-terminated path.
    unsafe { libc::faccessat(dirfd, path.as_ptr(), libc::X_OK, 0) == 0 }
}

/// Opens `path` for reading, close-on-exec. With the descriptor table
/// full, the soft `RLIMIT_NOFILE` is raised by one for the open, if the
/// hard limit lets it (Linux's exec needs no descriptor; the runner needs
/// one to read the binary), and set back at once: the descriptor then lies
/// above the soft limit, as one opened before a `setrlimit` may.
fn open(dirfd: i32, path: &CString) -> Result<File, i32> {
    let once = || {
        // SAFETY: a NUL-terminated path; the new descriptor is owned by
        // the File made from it.
        let fd = unsafe { libc::openat(dirfd, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            Err(std::io::Error::last_os_error()
                .raw_os_error()
                .unwrap_or(libc::EIO))
        } else {
            // SAFETY: a descriptor we just opened and own.
            Ok(unsafe { File::from_raw_fd(fd) })
        }
    };
    match once() {
        Err(libc::EMFILE) => {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes only into `lim`.
            if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0
                || lim.rlim_cur >= lim.rlim_max
            {
                return Err(libc::EMFILE);
            }
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_cur + 1,
                rlim_max: lim.rlim_max,
            };
            // SAFETY: setrlimit reads only the limits given; the soft limit
            // goes back to its value right after the open.
            unsafe {
                if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                    return Err(libc::EMFILE);
                }
                let r = once();
                libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
                r
            }
        }
        r => r,
    }
}

/// The exec refused when the file cannot be opened for reading.
fn refusal(errno: i32, filename: &[u8]) -> Exec {
    let name = String::from_utf8_lossy(filename);
    let why = match errno {
        libc::EACCES => format!(
            "xsc-run: execve of {name} refused (EACCES): the file is executable but not readable by the program (an execute-only file, mode 0711 say). Linux runs such a binary without reading it; xsc-run must read a binary to tell whether it is an XSC program and to load it. Make it readable (chmod a+r), or exec it with credentials that may read it (docs/xsc-run.md section 6)\n"
        ),
        libc::EMFILE | libc::ENFILE => {
            let mut lim = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            // SAFETY: getrlimit writes only into `lim`.
            unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
            format!(
                "xsc-run: execve of {name} refused ({}): the descriptor table is full (RLIMIT_NOFILE {}, hard limit {}). Linux's exec needs no descriptor; xsc-run needs one to read the binary. Close a descriptor, or raise the hard limit (docs/xsc-run.md section 6)\n",
                if errno == libc::EMFILE { "EMFILE" } else { "ENFILE" },
                lim.rlim_cur,
                lim.rlim_max
            )
        }
        e => format!(
            "xsc-run: execve of {name} refused: cannot open it to read it ({})\n",
            std::io::Error::from_raw_os_error(e)
        ),
    };
    Exec::Refused { errno, why }
}

/// The interpreter and its optional argument, if `file` starts with a
/// `#!` line Linux would run (binfmt_script's parsing: blanks after `#!`
/// skipped, the interpreter up to the next blank, the rest of the line
/// with its outer blanks removed as one argument). A line longer than
/// Linux reads, or without an interpreter, is left to the host.
fn script_line(file: &File) -> Option<(Vec<u8>, Option<Vec<u8>>)> {
    use std::os::unix::fs::FileExt;
    let mut head = [0u8; HEAD];
    let mut n = 0;
    while n < HEAD {
        match file.read_at(&mut head[n..], n as u64) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k,
        }
    }
    let head = &head[..n];
    let line = head.strip_prefix(b"#!")?;
    let end = line.iter().position(|&b| b == b'\n')?;
    let blank = |b: &u8| *b == b' ' || *b == b'\t';
    let line = &line[..end];
    let start = line.iter().position(|b| !blank(b))?;
    let line = &line[start..];
    let split = line.iter().position(blank).unwrap_or(line.len());
    let (interp, rest) = line.split_at(split);
    let rest = match (
        rest.iter().position(|b| !blank(b)),
        rest.iter().rposition(|b| !blank(b)),
    ) {
        (Some(a), Some(b)) => Some(rest[a..=b].to_vec()),
        _ => None,
    };
    Some((interp.to_vec(), rest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, name: &str, text: &str) -> std::path::PathBuf {
        let p = dir.join(name);
        let mut f = File::create(&p).unwrap();
        f.write_all(text.as_bytes()).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn script_lines_parse_as_linux_does() {
        let dir = std::env::temp_dir().join(format!("exec-probe-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let line = |t: &str| script_line(&File::open(script(&dir, "s", t)).unwrap());
        let v = |s: &str| s.as_bytes().to_vec();
        assert_eq!(line("#!/bin/sh\n"), Some((v("/bin/sh"), None)));
        assert_eq!(
            line("#! \t/usr/bin/env  python3 -u \nx"),
            Some((v("/usr/bin/env"), Some(v("python3 -u"))))
        );
        assert_eq!(line("#!\n"), None);
        assert_eq!(line("#!/bin/sh"), None, "no newline: left to the host");
        assert_eq!(line("\x7fELF"), None);
        let long = format!("#!/{}\n", "a".repeat(300));
        assert_eq!(line(&long), None);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn nested_scripts_give_linux_interpreter_arguments() {
        let dir = std::env::temp_dir().join(format!("exec-probe-n-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let bin = script(&dir, "bin", "BINARY");
        let inner = script(&dir, "inner", &format!("#!{} -x\n", bin.display()));
        let outer = script(&dir, "outer", &format!("#!{}\n", inner.display()));
        let classify = |f: &File| {
            let mut b = [0u8; 6];
            use std::os::unix::fs::FileExt;
            let _ = f.read_at(&mut b, 0);
            if &b == b"BINARY" {
                Found::Xsc
            } else {
                Found::Other
            }
        };
        let outer_b = outer.to_str().unwrap().as_bytes().to_vec();
        let argv = vec![b"argv0".to_vec(), b"a1".to_vec()];
        match probe(libc::AT_FDCWD, &outer_b, 0, &argv, classify) {
            Exec::Xsc { filename, argv, .. } => {
                let s = |p: &std::path::Path| p.to_str().unwrap().as_bytes().to_vec();
                assert_eq!(filename, s(&bin));
                assert_eq!(
                    argv,
                    vec![
                        s(&bin),
                        b"-x".to_vec(),
                        s(&inner),
                        s(&outer),
                        b"a1".to_vec()
                    ]
                );
            }
            other => panic!("{other:?}"),
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
