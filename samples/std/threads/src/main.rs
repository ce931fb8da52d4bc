//! `threads DIR`: std::thread and std::sync at work. 32 threads are
//! spawned and joined; a Mutex, a Condvar, an RwLock, a Barrier, mpsc
//! channels (unbounded, bounded, rendezvous), thread::park, scoped threads,
//! named threads with chosen stack sizes and thread-local destructors are
//! exercised. The output is deterministic (results are collected and
//! sorted, never printed in the order threads happen to run), so it is the
//! same on XSC and natively. A thread-local destructor writes a file in DIR.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Barrier, Condvar, Mutex, OnceLock, RwLock};
use std::thread;
use std::time::Duration;

fn spawn_and_join() {
    println!("== spawn and join");
    let handles: Vec<_> = (0..32u64)
        .map(|i| {
            thread::Builder::new()
                .name(format!("worker-{i:02}"))
                .spawn(move || {
                    let name = thread::current().name().unwrap().to_string();
                    let sum: u64 = (0..=i * 1000).sum();
                    (name, sum)
                })
                .unwrap()
        })
        .collect();
    let ids: std::collections::HashSet<_> = handles.iter().map(|h| h.thread().id()).collect();
    let results: Vec<(String, u64)> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    println!("32 threads, {} distinct ids", ids.len());
    println!("first {:?}, last {:?}", results[0], results[31]);
    println!("sum of all: {}", results.iter().map(|r| r.1).sum::<u64>());
    println!(
        "main thread: name {:?}, id differs from workers: {}",
        thread::current().name(),
        !ids.contains(&thread::current().id())
    );
    let big = thread::Builder::new()
        .stack_size(4 << 20)
        .spawn(|| {
            // Use a good part of a 4 MiB stack.
            fn deep(n: u32) -> u64 {
                let pad = [n as u8; 1024];
                if n == 0 {
                    pad[0] as u64
                } else {
                    deep(n - 1) + pad[512] as u64
                }
            }
            deep(2000)
        })
        .unwrap();
    println!("deep recursion on a 4 MiB stack: {}", big.join().unwrap());
    // The machine's, the same for both runs.
    println!(
        "available_parallelism: {:?}",
        thread::available_parallelism().map(|n| n.get())
    );
}

fn mutex() {
    println!("== mutex");
    let counter = Arc::new(Mutex::new(0u64));
    let log = Arc::new(Mutex::new(Vec::new()));
    let hs: Vec<_> = (0..8)
        .map(|t| {
            let counter = Arc::clone(&counter);
            let log = Arc::clone(&log);
            thread::spawn(move || {
                for _ in 0..10_000 {
                    *counter.lock().unwrap() += 1;
                }
                log.lock().unwrap().push(t);
            })
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    let mut log = log.lock().unwrap().clone();
    log.sort();
    println!("counter {} log {:?}", *counter.lock().unwrap(), log);
    let m = Mutex::new(1);
    let g = m.lock().unwrap();
    println!("try_lock while held: {}", m.try_lock().is_err());
    drop(g);
    println!("try_lock when free: {}", m.try_lock().is_ok());
    // A poisoned mutex.
    let p = Arc::new(Mutex::new(5));
    let p2 = Arc::clone(&p);
    let r = thread::spawn(move || {
        let _g = p2.lock().unwrap();
        std::panic::resume_unwind(Box::new("quiet panic"));
    })
    .join();
    println!(
        "holder panicked: {}, poisoned: {}, value still {}",
        r.is_err(),
        p.is_poisoned(),
        p.lock().unwrap_or_else(|e| e.into_inner())
    );
}

fn condvar() {
    println!("== condvar");
    // A bounded queue of 4 with one producer and three consumers.
    struct Queue {
        items: Mutex<(Vec<u32>, bool)>,
        not_empty: Condvar,
        not_full: Condvar,
    }
    let q = Arc::new(Queue {
        items: Mutex::new((Vec::new(), false)),
        not_empty: Condvar::new(),
        not_full: Condvar::new(),
    });
    let consumers: Vec<_> = (0..3)
        .map(|_| {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    let mut g = q.items.lock().unwrap();
                    while g.0.is_empty() && !g.1 {
                        g = q.not_empty.wait(g).unwrap();
                    }
                    match g.0.pop() {
                        Some(v) => {
                            got.push(v);
                            q.not_full.notify_one();
                        }
                        None => return got,
                    }
                }
            })
        })
        .collect();
    for v in 0..500 {
        let mut g = q
            .not_full
            .wait_while(q.items.lock().unwrap(), |g| g.0.len() >= 4)
            .unwrap();
        g.0.push(v);
        q.not_empty.notify_one();
    }
    q.items.lock().unwrap().1 = true;
    q.not_empty.notify_all();
    let mut all: Vec<u32> = consumers
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    all.sort();
    println!(
        "consumed {} items, all distinct and complete: {}",
        all.len(),
        all == (0..500).collect::<Vec<_>>()
    );
    let m = Mutex::new(());
    let c = Condvar::new();
    let (_g, t) = c
        .wait_timeout(m.lock().unwrap(), Duration::from_millis(20))
        .unwrap();
    println!("wait_timeout with no notify timed out: {}", t.timed_out());
}

fn rwlock() {
    println!("== rwlock");
    let data = Arc::new(RwLock::new(BTreeMap::new()));
    let max_readers = Arc::new(AtomicUsize::new(0));
    let readers_now = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4u32)
        .map(|w| {
            let data = Arc::clone(&data);
            thread::spawn(move || {
                for i in 0..50 {
                    data.write().unwrap().insert(w * 100 + i, w);
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..4)
        .map(|_| {
            let data = Arc::clone(&data);
            let max_readers = Arc::clone(&max_readers);
            let readers_now = Arc::clone(&readers_now);
            thread::spawn(move || {
                let mut last = 0;
                for _ in 0..200 {
                    let g = data.read().unwrap();
                    let n = readers_now.fetch_add(1, Ordering::SeqCst) + 1;
                    max_readers.fetch_max(n, Ordering::SeqCst);
                    assert!(g.len() >= last, "a map only grows");
                    last = g.len();
                    readers_now.fetch_sub(1, Ordering::SeqCst);
                }
            })
        })
        .collect();
    for h in writers.into_iter().chain(readers) {
        h.join().unwrap();
    }
    let g = data.read().unwrap();
    println!(
        "map has {} entries, per writer {:?}",
        g.len(),
        (0..4)
            .map(|w| g.values().filter(|&&v| v == w).count())
            .collect::<Vec<_>>()
    );
    let g2 = data.read().unwrap();
    println!(
        "two read guards at once: {}, try_write while reading: {}",
        g2.len() == g.len(),
        data.try_write().is_err()
    );
}

fn barrier() {
    println!("== barrier");
    let b = Arc::new(Barrier::new(8));
    let arrived = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..8)
        .map(|_| {
            let b = Arc::clone(&b);
            let arrived = Arc::clone(&arrived);
            thread::spawn(move || {
                let mut seen = Vec::new();
                let mut leaders = 0;
                for round in 1..=3 {
                    arrived.fetch_add(1, Ordering::SeqCst);
                    if b.wait().is_leader() {
                        leaders += 1;
                    }
                    // Everyone has arrived for this round.
                    seen.push(arrived.load(Ordering::SeqCst) >= round * 8);
                    b.wait();
                }
                (seen, leaders)
            })
        })
        .collect();
    let rs: Vec<_> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    println!(
        "every thread saw every round complete: {}",
        rs.iter().all(|(s, _)| s.iter().all(|&x| x))
    );
    println!(
        "leaders over 3 rounds: {}",
        rs.iter().map(|(_, l)| l).sum::<i32>()
    );
}

fn channels() {
    println!("== channels");
    let (tx, rx) = mpsc::channel();
    for p in 0..4 {
        let tx = tx.clone();
        thread::spawn(move || {
            for i in 0..250 {
                tx.send((p, i)).unwrap();
            }
        });
    }
    drop(tx);
    let mut per: BTreeMap<i32, Vec<i32>> = BTreeMap::new();
    for (p, i) in rx {
        per.entry(p).or_default().push(i);
    }
    println!(
        "unbounded: {} producers, each in order: {}",
        per.len(),
        per.values().all(|v| *v == (0..250).collect::<Vec<_>>())
    );

    let (tx, rx) = mpsc::sync_channel::<u32>(2);
    let h = thread::spawn(move || (0..100).map(|i| tx.send(i).unwrap()).count());
    let got: Vec<u32> = rx.iter().collect();
    println!(
        "bounded(2): sent {}, received {} in order: {}",
        h.join().unwrap(),
        got.len(),
        got == (0..100).collect::<Vec<_>>()
    );

    // Rendezvous: send blocks until the receiver takes it.
    let (tx, rx) = mpsc::sync_channel::<&str>(0);
    let taken = Arc::new(AtomicBool::new(false));
    let taken2 = Arc::clone(&taken);
    let h = thread::spawn(move || {
        tx.send("hand-over").unwrap();
        taken2.load(Ordering::SeqCst)
    });
    thread::sleep(Duration::from_millis(30));
    taken.store(true, Ordering::SeqCst);
    println!("rendezvous got {:?}", rx.recv().unwrap());
    println!("sender resumed after the receive: {}", h.join().unwrap());
    println!(
        "recv on a closed channel: {:?}",
        rx.recv().map_err(|e| e.to_string())
    );
    let (tx, rx) = mpsc::channel::<u8>();
    println!(
        "recv_timeout with nothing sent: {:?}",
        rx.recv_timeout(Duration::from_millis(20))
    );
    println!("try_recv: {:?}", rx.try_recv());
    drop(rx);
    println!(
        "send to a dropped receiver: {:?}",
        tx.send(1).map_err(|e| e.to_string())
    );
}

fn park() {
    println!("== park");
    let flag = Arc::new(AtomicBool::new(false));
    let f2 = Arc::clone(&flag);
    let parked = thread::spawn(move || {
        let mut parks = 0;
        while !f2.load(Ordering::SeqCst) {
            thread::park();
            parks += 1;
        }
        parks >= 1
    });
    thread::sleep(Duration::from_millis(30));
    flag.store(true, Ordering::SeqCst);
    parked.thread().unpark();
    println!(
        "parked thread woke and saw the flag: {}",
        parked.join().unwrap()
    );
    // An unpark before the park makes the park return at once.
    thread::current().unpark();
    thread::park();
    println!("unpark then park: returned");
    thread::park_timeout(Duration::from_millis(10));
    println!("park_timeout: returned");
}

fn scoped() {
    println!("== scoped threads");
    let mut data: Vec<u64> = (1..=64).collect();
    let total = AtomicUsize::new(0);
    thread::scope(|s| {
        for chunk in data.chunks_mut(16) {
            let total = &total;
            s.spawn(move || {
                for x in chunk.iter_mut() {
                    *x *= 2;
                }
                total.fetch_add(chunk.iter().sum::<u64>() as usize, Ordering::SeqCst);
            });
        }
    });
    println!(
        "doubled in place: {}, total {}",
        data == (1..=64).map(|x| x * 2).collect::<Vec<_>>(),
        total.load(Ordering::SeqCst)
    );
    let lens = thread::scope(|s| {
        let a = s.spawn(|| data.len());
        let b = s.spawn(|| data.iter().filter(|&&x| x % 4 == 0).count());
        (a.join().unwrap(), b.join().unwrap())
    });
    println!("scoped results: {lens:?}");
}

static TLS_LOG: OnceLock<Mutex<Vec<String>>> = OnceLock::new();

struct Noisy(&'static str, RefCell<u32>);
impl Drop for Noisy {
    fn drop(&mut self) {
        let name = thread::current().name().unwrap_or("?").to_string();
        TLS_LOG
            .get_or_init(Default::default)
            .lock()
            .unwrap()
            .push(format!(
                "{} dropped on {name} after {} uses",
                self.0,
                self.1.borrow()
            ));
        if let Some(path) = DTOR_FILE.get() {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .unwrap();
            // One write, so that lines of threads ending together do not
            // interleave (O_APPEND makes each write land whole).
            f.write_all(format!("{} dropped on {name}\n", self.0).as_bytes())
                .unwrap();
        }
    }
}

thread_local! {
    static FIRST: Noisy = const { Noisy("first", RefCell::new(0)) };
    static SECOND: Noisy = const { Noisy("second", RefCell::new(0)) };
}
static DTOR_FILE: OnceLock<PathBuf> = OnceLock::new();

fn thread_locals() {
    println!("== thread-local destructors");
    let hs: Vec<_> = (0..3)
        .map(|i| {
            thread::Builder::new()
                .name(format!("tls-{i}"))
                .spawn(move || {
                    FIRST.with(|n| *n.1.borrow_mut() += i + 1);
                    if i != 1 {
                        SECOND.with(|n| *n.1.borrow_mut() += 10);
                    }
                })
                .unwrap()
        })
        .collect();
    for h in hs {
        h.join().unwrap();
    }
    // join returns after the thread's destructors have run.
    let mut log = TLS_LOG.get().unwrap().lock().unwrap().clone();
    log.sort();
    for l in log {
        println!("{l}");
    }
    let counter = thread::spawn(|| {
        thread_local!(static COUNT: RefCell<u32> = const { RefCell::new(0) });
        for _ in 0..5 {
            COUNT.with(|c| *c.borrow_mut() += 1);
        }
        COUNT.with(|c| *c.borrow())
    });
    println!("a thread's own counter: {}", counter.join().unwrap());
}

/// The process has as many tasks as the program has threads: the kernel
/// side adds none (an XSC kernel's threads are not the program's).
fn task_count() {
    println!("== tasks");
    let count = || std::fs::read_dir("/proc/self/task").unwrap().count();
    println!("tasks at start: {}", count());
    let started = Arc::new(Barrier::new(4));
    let counted = Arc::new(Barrier::new(4));
    let handles: Vec<_> = (0..3)
        .map(|_| {
            let (started, counted) = (started.clone(), counted.clone());
            thread::spawn(move || {
                started.wait();
                counted.wait();
            })
        })
        .collect();
    started.wait();
    println!("tasks with three more threads: {}", count());
    counted.wait();
    for h in handles {
        h.join().unwrap();
    }
}

fn main() {
    let Some(dir) = std::env::args_os().nth(1) else {
        eprintln!("usage: threads DIR");
        std::process::exit(2);
    };
    DTOR_FILE
        .set(PathBuf::from(dir).join("tls-destructors.txt"))
        .unwrap();
    // First, while no thread has ever ended (an ended thread may linger in
    // /proc/self/task for a moment after join, natively as well).
    task_count();
    spawn_and_join();
    mutex();
    condvar();
    rwlock();
    barrier();
    channels();
    park();
    scoped();
    thread_locals();
    let mut lines: Vec<String> = std::fs::read_to_string(DTOR_FILE.get().unwrap())
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    lines.sort();
    println!("destructor file: {lines:?}");
    // Leave the file sorted, so its content does not depend on the order
    // the threads ended in.
    std::fs::write(DTOR_FILE.get().unwrap(), lines.join("\n") + "\n").unwrap();
}
