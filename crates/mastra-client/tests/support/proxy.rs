//! A TCP proxy between client and server that cuts connections at random points: each
//! accepted connection gets a budget of server-to-client bytes (drawn from a seeded
//! generator), after which both sides are dropped; some are dropped before anything is
//! forwarded. After `max_cuts` cuts it forwards everything, so every test terminates.
//! (Also included by `mastra-cli`'s tests, which use only part of it.)

#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
pub(crate) struct CuttingProxy {
    pub(crate) addr: SocketAddr,
    cuts: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl CuttingProxy {
    /// Proxies to `upstream`, cutting up to `max_cuts` connections, each after a random
    /// number of bytes below `max_budget`.
    pub(crate) async fn start(
        upstream: SocketAddr,
        seed: u64,
        max_cuts: usize,
        max_budget: u64,
    ) -> Self {
        Self::with_script(upstream, seed, max_cuts, max_budget, Vec::new()).await
    }

    /// Plays `script` for the first connections (`None`: closed at once; `Some(n)`: cut
    /// after `n` bytes from the server), then forwards everything.
    pub(crate) async fn scripted(upstream: SocketAddr, script: Vec<Option<u64>>) -> Self {
        Self::with_script(upstream, 1, 0, 1, script).await
    }

    async fn with_script(
        upstream: SocketAddr,
        seed: u64,
        max_cuts: usize,
        max_budget: u64,
        script: Vec<Option<u64>>,
    ) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let cuts = Arc::new(AtomicUsize::new(0));
        let rng = Arc::new(Mutex::new(XorShift(seed.max(1))));
        let counter = cuts.clone();
        let mut script = script.into_iter();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let scripted = script.next().map(|step| match step {
                    None => Plan::Refuse,
                    Some(bytes) => Plan::CutAfter(bytes),
                });
                let plan = if let Some(plan) = scripted {
                    plan
                } else {
                    let cut = counter.load(Ordering::SeqCst) < max_cuts;
                    let mut rng = rng.lock().unwrap();
                    match (cut, rng.next() % 8) {
                        (false, _) => Plan::Forward,
                        (true, 0) => Plan::Refuse,
                        (true, _) => Plan::CutAfter(rng.next() % max_budget),
                    }
                };
                if plan != Plan::Forward {
                    counter.fetch_add(1, Ordering::SeqCst);
                }
                tokio::spawn(relay(client, upstream, plan));
            }
        });
        Self { addr, cuts, task }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were cut (or refused).
    pub(crate) fn cuts(&self) -> usize {
        self.cuts.load(Ordering::SeqCst)
    }
}

impl Drop for CuttingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    Forward,
    Refuse,
    CutAfter(u64),
}

async fn relay(client: TcpStream, upstream: SocketAddr, plan: Plan) {
    let budget = match plan {
        Plan::Refuse => return,
        Plan::Forward => u64::MAX,
        Plan::CutAfter(bytes) => bytes,
    };
    let Ok(server) = TcpStream::connect(upstream).await else {
        return;
    };
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream_copy = async {
        let _ = tokio::io::copy(&mut client_read, &mut server_write).await;
    };
    let downstream = async {
        let mut left = budget;
        let mut buffer = vec![0u8; 4096];
        loop {
            let read = match server_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => read,
            };
            let pass = (read as u64).min(left) as usize;
            if client_write.write_all(&buffer[..pass]).await.is_err() {
                break;
            }
            left -= pass as u64;
            if left == 0 {
                break;
            }
        }
    };
    // Whichever direction ends first drops both sockets: the client sees a cut.
    tokio::select! {
        () = upstream_copy => {}
        () = downstream => {}
    }
}

/// A small deterministic generator (xorshift64).
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
