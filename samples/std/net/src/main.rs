//! `net DIR`: std::net on the loopback interface. A TCP echo server
//! serves eight concurrent clients (a thread per connection), a 4 MiB
//! transfer goes both ways at once, read/write/connect timeouts expire,
//! nonblocking listeners and streams report WouldBlock, and UDP sockets
//! exchange datagrams (connected and not, peeked, truncated, timed out,
//! refused), Unix domain sockets (stream and datagram, bound in DIR, and
//! pairs) carry data, and io::copy sends a file into a TCP stream. Ports
//! are chosen by the OS (bind to port 0) and never printed, so the output
//! is the same on XSC and natively.

use std::io::{self, BufRead, BufReader, ErrorKind, Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

/// An `io::Result` as deterministic text: the value, or the error's kind.
fn res<T: std::fmt::Debug>(r: io::Result<T>) -> String {
    match r {
        Ok(v) => format!("Ok({v:?})"),
        Err(e) => format!("Err({:?})", e.kind()),
    }
}

fn loopback() -> SocketAddr {
    (Ipv4Addr::LOCALHOST, 0).into()
}

fn echo_server() {
    println!("== TCP echo server, 8 concurrent clients");
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    println!(
        "listening on {} (port chosen: {})",
        addr.ip(),
        addr.port() != 0
    );
    let server = thread::spawn(move || {
        let mut conns = Vec::new();
        for _ in 0..8 {
            let (stream, peer) = listener.accept().unwrap();
            conns.push(thread::spawn(move || {
                let mut out = stream.try_clone().unwrap();
                // Tell the client which address we see it from.
                writeln!(out, "you are {peer}").unwrap();
                let mut lines = 0;
                for line in BufReader::new(stream).lines() {
                    let line = line.unwrap();
                    writeln!(out, "{}", line.to_uppercase()).unwrap();
                    lines += 1;
                }
                writeln!(out, "bye after {lines} lines").unwrap();
                lines
            }));
        }
        conns.into_iter().map(|c| c.join().unwrap()).sum::<i32>()
    });
    let clients: Vec<_> = (0..8)
        .map(|id| {
            thread::spawn(move || {
                let mut s = TcpStream::connect(addr).unwrap();
                s.set_nodelay(true).unwrap();
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut hello = String::new();
                r.read_line(&mut hello).unwrap();
                let me = s.local_addr().unwrap();
                let peer_ok = s.peer_addr().unwrap() == addr;
                let seen_right = hello.trim_end() == format!("you are {me}");
                for k in 0..3 {
                    writeln!(s, "client {id} line {k}").unwrap();
                    thread::sleep(Duration::from_millis(2));
                }
                s.shutdown(Shutdown::Write).unwrap();
                let mut rest = String::new();
                r.read_to_string(&mut rest).unwrap();
                (id, seen_right, peer_ok, s.nodelay().unwrap(), rest)
            })
        })
        .collect();
    for c in clients {
        let (id, seen_right, peer_ok, nodelay, rest) = c.join().unwrap();
        println!(
            "client {id}: server saw our address {seen_right}, peer is the server {peer_ok}, nodelay {nodelay}, got {rest:?}"
        );
    }
    println!("server handled {} lines", server.join().unwrap());
}

fn bulk() {
    println!("== 4 MiB each way at once");
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    const N: usize = 4 << 20;
    fn pattern(i: usize) -> u8 {
        (i.wrapping_mul(31) ^ (i >> 11)) as u8
    }
    fn pump(mut w: TcpStream) {
        let buf: Vec<u8> = (0..N).map(pattern).collect();
        for chunk in buf.chunks(100_000) {
            w.write_all(chunk).unwrap();
        }
        w.shutdown(Shutdown::Write).unwrap();
    }
    fn drain(mut r: TcpStream) -> (usize, bool) {
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        let ok = got.iter().enumerate().all(|(i, &b)| b == pattern(i));
        (got.len(), ok)
    }
    let server = thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        let w = s.try_clone().unwrap();
        let writer = thread::spawn(move || pump(w));
        let r = drain(s);
        writer.join().unwrap();
        r
    });
    let c = TcpStream::connect(addr).unwrap();
    let w = c.try_clone().unwrap();
    let writer = thread::spawn(move || pump(w));
    let r = drain(c);
    writer.join().unwrap();
    println!(
        "client received {r:?}, server received {:?}",
        server.join().unwrap()
    );
}

fn timeouts() {
    println!("== timeouts");
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let mut c = TcpStream::connect(addr).unwrap();
    let (silent, _) = listener.accept().unwrap();
    println!("read_timeout at first: {:?}", c.read_timeout().unwrap());
    c.set_read_timeout(Some(Duration::from_millis(150)))
        .unwrap();
    // The kernel rounds the timeout to its clock tick.
    let rt = c.read_timeout().unwrap().unwrap();
    println!(
        "read_timeout now about 150 ms: {}",
        rt >= Duration::from_millis(150) && rt < Duration::from_millis(200)
    );
    let t = Instant::now();
    let mut buf = [0u8; 16];
    let r = c.read(&mut buf);
    println!(
        "read with nothing sent: {}, waited at least 150 ms: {}",
        res(r),
        t.elapsed() >= Duration::from_millis(150)
    );
    println!(
        "a zero timeout is refused: {}",
        res(c.set_read_timeout(Some(Duration::ZERO)))
    );

    // The peer never reads: writes fill the buffers, then time out.
    c.set_write_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let chunk = vec![0x5au8; 256 * 1024];
    let mut written = 0usize;
    let err = loop {
        match c.write(&chunk) {
            Ok(n) => written += n,
            Err(e) => break e,
        }
        if written > 512 << 20 {
            panic!("the write never timed out");
        }
    };
    println!(
        "write to a peer that never reads: {:?} after writing something: {}",
        err.kind(),
        written > 0
    );
    drop(silent);

    // A port nobody listens on.
    let closed = {
        let l = TcpListener::bind(loopback()).unwrap();
        l.local_addr().unwrap()
    };
    println!(
        "connect to a closed port: {}",
        res(TcpStream::connect(closed).map(|_| ()))
    );
    println!(
        "connect_timeout to a closed port: {}",
        res(TcpStream::connect_timeout(&closed, Duration::from_secs(2)).map(|_| ()))
    );
    println!(
        "connect_timeout of zero: {}",
        res(TcpStream::connect_timeout(&addr, Duration::ZERO).map(|_| ()))
    );
    let ok = TcpStream::connect_timeout(&addr, Duration::from_secs(2));
    println!("connect_timeout to a listener: {}", res(ok.map(|_| ())));
}

fn nonblocking() {
    println!("== nonblocking");
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    println!(
        "accept with no client: {}",
        res(listener.accept().map(|_| ()))
    );
    let mut c = TcpStream::connect(addr).unwrap();
    let mut tries = 0;
    let (mut s, _) = loop {
        match listener.accept() {
            Ok(x) => break x,
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                tries += 1;
                assert!(tries < 5000, "no connection arrived");
                thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("accept: {e}"),
        }
    };
    println!("accepted after polling");
    s.set_nonblocking(true).unwrap();
    let mut buf = [0u8; 64];
    println!("read with no data: {}", res(s.read(&mut buf)));
    c.write_all(b"ping over a nonblocking socket").unwrap();
    let mut got = Vec::new();
    let mut tries = 0;
    while got.len() < 30 {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                tries += 1;
                assert!(tries < 5000, "no data arrived");
                thread::sleep(Duration::from_millis(1));
            }
            Err(e) => panic!("read: {e}"),
        }
    }
    println!("received {:?}", String::from_utf8_lossy(&got));
    c.write_all(b"peek me").unwrap();
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.set_nonblocking(false).unwrap();
    let n = s.peek(&mut buf).unwrap();
    let m = s.read(&mut buf[..7]).unwrap();
    println!(
        "peek saw {:?}; the read got the same: {}",
        String::from_utf8_lossy(&buf[..n]),
        m == n
    );
    // Fill the socket from a nonblocking writer until it would block.
    c.set_nonblocking(true).unwrap();
    let chunk = vec![1u8; 64 * 1024];
    let mut total = 0usize;
    let kind = loop {
        match c.write(&chunk) {
            Ok(n) => total += n,
            Err(e) => break e.kind(),
        }
        assert!(total < 512 << 20, "the writer never blocked");
    };
    println!(
        "nonblocking writer stopped with {kind:?} after writing something: {}",
        total > 0
    );
    drop(s);
    // Wait for the peer's close to arrive, then writes fail.
    c.set_nonblocking(false).unwrap();
    let mut err = None;
    for _ in 0..200 {
        if let Err(e) = c.write(b"x") {
            err = Some(e.kind());
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    println!("writing after the peer closed: {err:?}");
    let (a, _b) = {
        let l = TcpListener::bind(loopback()).unwrap();
        let a = TcpStream::connect(l.local_addr().unwrap()).unwrap();
        (a, l.accept().unwrap())
    };
    a.shutdown(Shutdown::Both).unwrap();
    println!("write after shutdown(Both): {}", res((&a).write(b"late")));
    println!("read after shutdown(Both): {}", res((&a).read(&mut buf)));
}

fn udp() {
    println!("== UDP");
    let a = UdpSocket::bind(loopback()).unwrap();
    let b = UdpSocket::bind(loopback()).unwrap();
    let (aa, ba) = (a.local_addr().unwrap(), b.local_addr().unwrap());
    a.send_to(b"datagram one", ba).unwrap();
    a.send_to(b"datagram two", ba).unwrap();
    let mut buf = [0u8; 65536];
    let (n, from) = b.peek_from(&mut buf).unwrap();
    println!(
        "peek_from: {:?} from a: {}",
        String::from_utf8_lossy(&buf[..n]),
        from == aa
    );
    for _ in 0..2 {
        let (n, from) = b.recv_from(&mut buf).unwrap();
        println!(
            "recv_from: {:?} from a: {}",
            String::from_utf8_lossy(&buf[..n]),
            from == aa
        );
    }
    let big: Vec<u8> = (0..60_000).map(|i| (i % 251) as u8).collect();
    a.send_to(&big, ba).unwrap();
    let (n, _) = b.recv_from(&mut buf).unwrap();
    println!(
        "a 60000-byte datagram: {n} bytes intact {}",
        buf[..n] == big[..]
    );
    a.send_to(b"0123456789", ba).unwrap();
    let mut small = [0u8; 4];
    let (n, _) = b.recv_from(&mut small).unwrap();
    println!(
        "truncated into 4 bytes: {n} {:?}",
        String::from_utf8_lossy(&small)
    );

    a.connect(ba).unwrap();
    b.connect(aa).unwrap();
    a.send(b"connected").unwrap();
    let n = b.recv(&mut buf).unwrap();
    println!(
        "connected send/recv: {:?}, peer_addr is a: {}",
        String::from_utf8_lossy(&buf[..n]),
        b.peer_addr().unwrap() == aa
    );
    b.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let t = Instant::now();
    println!(
        "recv with nothing sent: {}, waited at least 100 ms: {}",
        res(b.recv(&mut buf)),
        t.elapsed() >= Duration::from_millis(100)
    );
    b.set_nonblocking(true).unwrap();
    println!("nonblocking recv: {}", res(b.recv(&mut buf)));

    // A connected socket hears that nobody listens at its peer.
    let closed = {
        let s = UdpSocket::bind(loopback()).unwrap();
        s.local_addr().unwrap()
    };
    let c = UdpSocket::bind(loopback()).unwrap();
    c.connect(closed).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
    c.send(b"anyone?").unwrap();
    println!(
        "recv after sending to a closed port: {}",
        res(c.recv(&mut buf))
    );
    println!(
        "ttl {:?}, broadcast {:?}",
        a.ttl().unwrap(),
        a.broadcast().unwrap()
    );
}

fn unix_sockets(dir: &Path) {
    println!("== Unix domain sockets");
    use std::os::unix::net::{UnixDatagram, UnixListener, UnixStream};
    let path = dir.join("server.sock");
    let listener = UnixListener::bind(&path).unwrap();
    println!(
        "bound, the socket file exists: {}",
        std::fs::symlink_metadata(&path)
            .map(|m| {
                use std::os::unix::fs::FileTypeExt;
                m.file_type().is_socket()
            })
            .unwrap_or(false)
    );
    let server = thread::spawn(move || {
        let mut lines = Vec::new();
        for _ in 0..3 {
            let (s, _) = listener.accept().unwrap();
            let mut out = s.try_clone().unwrap();
            let mut l = String::new();
            BufReader::new(s).read_line(&mut l).unwrap();
            writeln!(out, "echo: {}", l.trim_end()).unwrap();
            lines.push(l.trim_end().to_string());
        }
        lines.sort();
        lines
    });
    let clients: Vec<_> = (0..3)
        .map(|i| {
            let path = path.clone();
            thread::spawn(move || {
                let mut s = UnixStream::connect(&path).unwrap();
                writeln!(s, "unix client {i}").unwrap();
                let mut r = String::new();
                BufReader::new(s).read_line(&mut r).unwrap();
                r.trim_end().to_string()
            })
        })
        .collect();
    for c in clients {
        println!("client got {:?}", c.join().unwrap());
    }
    println!("server got {:?}", server.join().unwrap());
    println!(
        "connect to a missing path: {}",
        res(UnixStream::connect(dir.join("nobody.sock")).map(|_| ()))
    );
    println!(
        "bind over an existing socket file: {}",
        res(UnixListener::bind(&path).map(|_| ()))
    );

    let (mut a, mut b) = UnixStream::pair().unwrap();
    a.write_all(b"through a socketpair").unwrap();
    a.shutdown(Shutdown::Write).unwrap();
    let mut got = String::new();
    b.read_to_string(&mut got).unwrap();
    println!("pair: {got:?}");
    b.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    drop(a);
    println!("read after the peer closed: {}", res(b.read(&mut [0u8; 8])));

    let (x, y) = UnixDatagram::pair().unwrap();
    x.send(b"one datagram").unwrap();
    x.send(b"two").unwrap();
    let mut buf = [0u8; 64];
    let n1 = y.recv(&mut buf).unwrap();
    let first = String::from_utf8_lossy(&buf[..n1]).into_owned();
    let n2 = y.recv(&mut buf).unwrap();
    println!(
        "datagrams keep their boundaries: {first:?} {:?}",
        String::from_utf8_lossy(&buf[..n2])
    );
    let bound = UnixDatagram::bind(dir.join("datagram.sock")).unwrap();
    let unbound = UnixDatagram::unbound().unwrap();
    unbound
        .send_to(b"to a bound datagram socket", dir.join("datagram.sock"))
        .unwrap();
    let n = bound.recv(&mut buf).unwrap();
    println!("{:?}", String::from_utf8_lossy(&buf[..n]));
    y.set_nonblocking(true).unwrap();
    println!("nonblocking recv: {}", res(y.recv(&mut buf)));
}

/// io::copy from a file into a socket (std uses sendfile or splice there).
fn copy_file_to_socket(dir: &Path) {
    println!("== io::copy from a file to a socket");
    let path = dir.join("to-send.bin");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
    std::fs::write(&path, &data).unwrap();
    let listener = TcpListener::bind(loopback()).unwrap();
    let addr = listener.local_addr().unwrap();
    let receiver = thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut got = Vec::new();
        s.read_to_end(&mut got).unwrap();
        got
    });
    let mut s = TcpStream::connect(addr).unwrap();
    let mut f = std::fs::File::open(&path).unwrap();
    let n = io::copy(&mut f, &mut s).unwrap();
    drop(s);
    let got = receiver.join().unwrap();
    println!("copied {n} bytes, received intact: {}", got == data);
    std::fs::remove_file(&path).unwrap();
}

fn names() {
    println!("== addresses");
    let v: Vec<SocketAddr> = "localhost:80".to_socket_addrs().unwrap().collect();
    println!(
        "localhost resolves, all loopback: {} {}",
        !v.is_empty(),
        v.iter().all(|a| a.ip().is_loopback())
    );
    println!(
        "parse: {:?} {:?}",
        "127.0.0.1:8080".parse::<SocketAddr>(),
        "[::1]:443".parse::<SocketAddr>()
    );
    println!(
        "IPv6 loopback available: {}",
        TcpListener::bind("[::1]:0").is_ok()
    );
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: net DIR");
        std::process::exit(2);
    };
    let dir = Path::new(&dir);
    echo_server();
    bulk();
    timeouts();
    nonblocking();
    udp();
    unix_sockets(dir);
    copy_file_to_socket(dir);
    names();
}
