//! `tokio-echo`: an echo server on 127.0.0.1 (port chosen by the OS) and
//! eight concurrent clients, on tokio's multi-threaded runtime (epoll,
//! eventfd, worker threads: all through the XSC rings).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        for _ in 0..8 {
            let (mut sock, _) = listener.accept().await.expect("accept");
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                loop {
                    let n = sock.read(&mut buf).await.expect("read");
                    if n == 0 {
                        break;
                    }
                    sock.write_all(&buf[..n]).await.expect("write");
                }
            });
        }
    });
    let mut clients = Vec::new();
    for i in 0..8u32 {
        clients.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            let msg: Vec<u8> = format!("client {i}: ")
                .bytes()
                .chain((0..10_000u32).map(|j| (j % 26) as u8 + b'a'))
                .collect();
            s.write_all(&msg).await.unwrap();
            s.shutdown().await.unwrap();
            let mut back = Vec::new();
            s.read_to_end(&mut back).await.unwrap();
            (i, back == msg, back.len())
        }));
    }
    let mut results = Vec::new();
    for c in clients {
        results.push(c.await.unwrap());
    }
    results.sort();
    for (i, ok, len) in results {
        println!("client {i}: echoed {len} bytes, equal: {ok}");
    }
    server.await.unwrap();
    let t = std::time::Instant::now();
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    println!(
        "tokio timer slept at least 50 ms: {}",
        t.elapsed() >= std::time::Duration::from_millis(50)
    );
}
