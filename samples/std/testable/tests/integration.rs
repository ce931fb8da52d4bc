//! Integration tests of `testable`, through its public API only.

use std::sync::mpsc;
use testable::{fib, parallel_sum, parse_kv, word_count};

#[test]
fn words_from_many_threads() {
    let (tx, rx) = mpsc::channel();
    let texts = ["a b c", "one two", "", "x y z w"];
    for t in texts {
        let tx = tx.clone();
        std::thread::spawn(move || tx.send(word_count(t)).unwrap());
    }
    drop(tx);
    assert_eq!(rx.iter().sum::<usize>(), 9);
}

#[test]
fn config_file_round_trip() {
    let dir = std::env::temp_dir().join(format!("testable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("config.txt");
    std::fs::write(&path, "threads = 4\nlimit=90\n").unwrap();
    let m = parse_kv(&std::fs::read_to_string(&path).unwrap()).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let threads: usize = m["threads"].parse().unwrap();
    let limit: u32 = m["limit"].parse().unwrap();
    let data: Vec<u64> = (0..=limit).map(fib).collect();
    assert_eq!(parallel_sum(&data, threads), fib(limit + 2) - 1);
}

#[test]
fn big_fibonacci() {
    println!("captured: fib(90) = {}", fib(90));
    assert_eq!(fib(90), 2_880_067_194_370_816_120);
}
