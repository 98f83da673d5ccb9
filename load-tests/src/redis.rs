//! The Redis baseline: `redis-server` on a free loopback port with no persistence, the
//! population's identifiers as keys with 300-byte values, GET at the same concurrency as the
//! checks, over a minimal RESP client. Skipped (with a note) when Redis is not installed.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::{Rng, SeedableRng};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::checks::Latency;

/// A redis-server of our own, killed on drop.
pub struct Redis {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts redis-server if it is installed.
pub async fn start() -> Option<Redis> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .ok()?
        .local_addr()
        .ok()?
        .port();
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().ok()?;
    let r = Redis { child, addr };
    for _ in 0..100 {
        if TcpStream::connect(addr).await.is_ok() {
            return Some(r);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

fn cmd(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", parts.len()).into_bytes();
    for p in parts {
        out.extend_from_slice(format!("${}\r\n", p.len()).as_bytes());
        out.extend_from_slice(p);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Reads one reply (simple, error, integer or bulk).
async fn reply(
    r: &mut BufReader<TcpStream>,
    line: &mut String,
    buf: &mut Vec<u8>,
) -> anyhow::Result<()> {
    line.clear();
    r.read_line(line).await?;
    if let Some(n) = line.strip_prefix('$') {
        let n: i64 = n.trim().parse()?;
        if n >= 0 {
            buf.resize(n as usize + 2, 0);
            r.read_exact(buf).await?;
        }
    }
    Ok(())
}

/// Loads every id with a 300-byte value, pipelined.
pub async fn load(addr: SocketAddr, ids: &[String]) -> anyhow::Result<()> {
    let s = TcpStream::connect(addr).await?;
    let mut r = BufReader::new(s);
    let value = vec![b'v'; 300];
    let (mut line, mut buf) = (String::new(), Vec::new());
    for chunk in ids.chunks(1000) {
        let mut out = Vec::new();
        for id in chunk {
            out.extend(cmd(&[b"SET", id.as_bytes(), &value]));
        }
        r.get_mut().write_all(&out).await?;
        for _ in chunk {
            reply(&mut r, &mut line, &mut buf).await?;
        }
    }
    Ok(())
}

/// `clients` connections each doing `per_client` GETs of random ids.
pub async fn get(
    addr: SocketAddr,
    ids: Arc<Vec<String>>,
    clients: usize,
    per_client: u64,
) -> anyhow::Result<Latency> {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let ids = ids.clone();
        tasks.push(tokio::spawn(async move {
            let s = TcpStream::connect(addr).await?;
            s.set_nodelay(true)?;
            let mut r = BufReader::new(s);
            let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
            let mut rng = rand::rngs::SmallRng::seed_from_u64(200 + c as u64);
            let (mut line, mut buf) = (String::new(), Vec::new());
            for _ in 0..per_client {
                let id = &ids[rng.gen_range(0..ids.len())];
                let t0 = Instant::now();
                r.get_mut()
                    .write_all(&cmd(&[b"GET", id.as_bytes()]))
                    .await?;
                reply(&mut r, &mut line, &mut buf).await?;
                let _ = h.record((t0.elapsed().as_micros() as u64).max(1));
            }
            anyhow::Ok(h)
        }));
    }
    let mut all = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3)?;
    for t in tasks {
        all.add(t.await??)?;
    }
    Ok(Latency::of(&all, started.elapsed(), 0))
}
