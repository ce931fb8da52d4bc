//! `bench-readsum FILE`: reads FILE from start to end in 64 KiB `read`s
//! on one thread and checksums it. Prints `bytes B`, `reads R` and
//! `checksum C` (the same natively and on XSC).

use std::io::Read;

const CHUNK: usize = 64 * 1024;

/// Folds `data` (a multiple of 8 bytes except at the end of the file)
/// into four independent lanes of 64-bit sums, cheap next to the read.
fn fold(lanes: &mut [u64; 4], data: &[u8]) {
    let mut words = data.chunks_exact(32);
    for block in &mut words {
        for (lane, w) in lanes.iter_mut().zip(block.chunks_exact(8)) {
            let w = u64::from_le_bytes(w.try_into().expect("8 bytes"));
            *lane = lane.wrapping_add(w) ^ (w >> 7);
        }
    }
    for (i, &b) in words.remainder().iter().enumerate() {
        lanes[i % 4] = lanes[i % 4].wrapping_mul(31).wrapping_add(b as u64);
    }
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: bench-readsum FILE");
        std::process::exit(2)
    };
    let mut file = std::fs::File::open(&path).unwrap_or_else(|e| {
        eprintln!("bench-readsum: cannot open {path}: {e}");
        std::process::exit(1)
    });
    let mut buf = vec![0u8; CHUNK];
    let mut lanes = [0u64; 4];
    let (mut bytes, mut reads) = (0u64, 0u64);
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("bench-readsum: read failed: {e}");
                std::process::exit(1)
            }
        };
        reads += 1;
        bytes += n as u64;
        fold(&mut lanes, &buf[..n]);
    }
    let checksum = lanes.iter().fold(bytes, |c, &l| {
        c.rotate_left(17) ^ l.wrapping_mul(0x9e37_79b9_7f4a_7c15)
    });
    println!("bytes {bytes}");
    println!("reads {reads}");
    println!("checksum {checksum:016x}");
}
