//! `hello DIR CODE [ARGS...]`: an ordinary std program. Prints its
//! arguments and `HELLO_NAME`, writes a file in DIR and reads it back,
//! hears from a spawned thread, and exits with CODE. Its output is the same
//! on XSC and natively (the differential tests check that).

use std::io::Write;
use std::sync::mpsc;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [dir, code, rest @ ..] = args.as_slice() else {
        eprintln!("usage: hello DIR CODE [ARGS...]");
        std::process::exit(2);
    };
    println!("hello from std");
    println!("args: {rest:?}");
    match std::env::var("HELLO_NAME") {
        Ok(name) => println!("HELLO_NAME={name}"),
        Err(e) => println!("HELLO_NAME: {e}"),
    }

    let path = std::path::Path::new(dir).join("hello.txt");
    let mut f = std::fs::File::create(&path).expect("create the file");
    writeln!(f, "written by hello").expect("write the file");
    drop(f);
    let back = std::fs::read_to_string(&path).expect("read the file back");
    println!("file: {:?} ({} bytes)", back.trim_end(), back.len());
    std::fs::remove_file(&path).expect("remove the file");

    let (tx, rx) = mpsc::channel();
    let t = std::thread::spawn(move || {
        let sum: u64 = (1..=1000).sum();
        tx.send(format!("a thread says the sum of 1..=1000 is {sum}"))
            .unwrap();
        7
    });
    println!("{}", rx.recv().unwrap());
    println!("the thread returned {}", t.join().unwrap());

    let code: i32 = code.parse().unwrap_or_else(|_| {
        eprintln!("CODE must be a number");
        std::process::exit(2)
    });
    eprintln!("exiting with {code}");
    std::process::exit(code);
}
