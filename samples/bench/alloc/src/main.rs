//! `bench-alloc THREADS OPS`: THREADS threads, started together, each
//! making OPS allocations through the global allocator (the libc's
//! `malloc` on both sides) of sizes from 8 bytes to 64 KiB, keeping a
//! window of 64 live blocks, growing some with `realloc`, and handing
//! every 16th block to the next thread to free (as parallel walkers and
//! channels do). Prints `ops N` (all allocations) and `checksum C` (a sum
//! over the bytes written, the same on every run and on both sides).

use std::sync::mpsc;
use std::sync::Barrier;

fn usage() -> ! {
    eprintln!("usage: bench-alloc THREADS OPS");
    std::process::exit(2)
}

/// A small deterministic generator (xorshift), so both sides allocate
/// the same sizes in the same order.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Mostly small sizes, some large, as real programs allocate.
    fn size(&mut self) -> usize {
        let r = self.next();
        match r % 16 {
            0 => 4096 + (r >> 8) as usize % 61440,
            1..=3 => 256 + (r >> 8) as usize % 3840,
            _ => 8 + (r >> 8) as usize % 248,
        }
    }
}

fn worker(
    id: u64,
    ops: u64,
    barrier: &Barrier,
    give: mpsc::Sender<Vec<u8>>,
    take: mpsc::Receiver<Vec<u8>>,
) -> u64 {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ (id + 1));
    let mut window: Vec<Vec<u8>> = Vec::with_capacity(64);
    let mut sum = 0u64;
    barrier.wait();
    for i in 0..ops {
        let mut block = vec![(i % 251) as u8; rng.size()];
        if i % 8 == 0 {
            block.resize(block.len() * 2, 1);
        }
        sum += block.len() as u64 + u64::from(block[block.len() / 2]);
        if window.len() == 64 {
            let old = window.swap_remove((rng.next() % 64) as usize);
            if i % 16 == 0 {
                // The receiver may have finished; then it is freed here.
                let _ = give.send(old);
            }
        }
        window.push(block);
        // Blocks from the previous thread are freed here; how many
        // arrive before the end depends on timing, so they do not count.
        while take.try_recv().is_ok() {}
    }
    drop(give);
    drop(window);
    sum
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or_else(|_| usage()))
        .collect();
    let [threads, ops] = args[..] else { usage() };
    if threads == 0 {
        usage()
    }
    let barrier = Barrier::new(threads as usize);
    // Thread t gives to thread t + 1 (mod THREADS).
    let (senders, receivers): (Vec<_>, Vec<_>) =
        (0..threads).map(|_| mpsc::channel::<Vec<u8>>()).unzip();
    let mut senders: Vec<Option<mpsc::Sender<Vec<u8>>>> = senders.into_iter().map(Some).collect();
    senders.rotate_left(1);
    let sum: u64 = std::thread::scope(|s| {
        let handles: Vec<_> = receivers
            .into_iter()
            .zip(senders.iter_mut())
            .enumerate()
            .map(|(t, (take, give))| {
                let give = give.take().expect("one sender per thread");
                let barrier = &barrier;
                s.spawn(move || worker(t as u64, ops, barrier, give, take))
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("worker")).sum()
    });
    println!("ops {}", threads * ops);
    println!("checksum {sum}");
}
