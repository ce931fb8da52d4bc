//! `bench-tcp-echo CONNECTIONS REQUESTS SIZE`: a TCP echo server on
//! 127.0.0.1 and CONNECTIONS clients in one program, on tokio's
//! multi-threaded runtime (its default worker count: one per CPU). Each
//! client sends REQUESTS messages of SIZE bytes one after the other, each
//! after the echo of the previous one came back (ping-pong), and times
//! every round trip.
//!
//! Prints `requests N` (all echoed correctly), `requests_per_s X` (over
//! the timed phase, all clients together), and `p50_us`, `p99_us` (round
//! trip latency percentiles). A short untimed warm-up comes first.

use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Barrier;

const WARM_UP: usize = 100;

fn usage() -> ! {
    eprintln!("usage: bench-tcp-echo CONNECTIONS REQUESTS SIZE");
    std::process::exit(2)
}

async fn serve(mut sock: TcpStream) {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match sock.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if sock.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

/// Sends `msg` (its first byte set to `i`) and reads its echo into `back`.
async fn round_trip(s: &mut TcpStream, msg: &mut [u8], back: &mut [u8], i: usize, id: usize) {
    msg[0] = i as u8;
    s.write_all(msg).await.expect("write");
    s.read_exact(back).await.expect("read");
    assert!(
        back == msg,
        "client {id}: the echo differs from the request"
    );
}

/// One client: connects, warms up, waits for the others, then makes
/// `requests` timed round trips; returns their latencies in nanoseconds.
async fn client(
    addr: std::net::SocketAddr,
    id: usize,
    requests: usize,
    size: usize,
    start: std::sync::Arc<Barrier>,
) -> Vec<u64> {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    s.set_nodelay(true).expect("TCP_NODELAY");
    let mut msg: Vec<u8> = (0..size).map(|i| (i * 7 + id) as u8).collect();
    let mut back = vec![0u8; size];
    for i in 0..WARM_UP {
        round_trip(&mut s, &mut msg, &mut back, i, id).await;
    }
    start.wait().await;
    let mut latencies = Vec::with_capacity(requests);
    for i in 0..requests {
        let t = Instant::now();
        round_trip(&mut s, &mut msg, &mut back, i, id).await;
        latencies.push(t.elapsed().as_nanos() as u64);
    }
    latencies
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i] as f64 / 1000.0
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap_or_else(|_| usage()))
        .collect();
    let [connections, requests, size] = <[usize; 3]>::try_from(args).unwrap_or_else(|_| usage());
    if connections == 0 || requests == 0 || size == 0 {
        usage();
    }
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move {
        loop {
            let (sock, _) = listener.accept().await.expect("accept");
            sock.set_nodelay(true).expect("TCP_NODELAY");
            tokio::spawn(serve(sock));
        }
    });
    let start = std::sync::Arc::new(Barrier::new(connections + 1));
    let clients: Vec<_> = (0..connections)
        .map(|id| tokio::spawn(client(addr, id, requests, size, start.clone())))
        .collect();
    start.wait().await;
    let t = Instant::now();
    let mut latencies = Vec::with_capacity(connections * requests);
    for c in clients {
        latencies.extend(c.await.expect("client"));
    }
    let elapsed = t.elapsed().max(Duration::from_nanos(1));
    latencies.sort_unstable();
    println!("requests {}", latencies.len());
    println!(
        "requests_per_s {:.1}",
        latencies.len() as f64 / elapsed.as_secs_f64()
    );
    println!("p50_us {:.2}", percentile(&latencies, 0.50));
    println!("p99_us {:.2}", percentile(&latencies, 0.99));
}
