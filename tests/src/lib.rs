//! credence-tests: the harness of the end-to-end tests — a real `nats-server` per test on a
//! free loopback port with its own JetStream directory (killed on drop, restartable), the real
//! `credence` binary on a free port with its logs captured, and a small HTTP client.
//!
//! - [`NatsServer`]: start, kill, restart a nats-server
//! - [`Credence`]: start `credence serve`, wait for readiness, SIGTERM or kill -9, read logs
//! - [`http`]: a minimal HTTP/1.1 client for JSON requests
//! - [`wait_until`]: every wait has a timeout

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, Once};
use std::time::{Duration, Instant};

pub use credence_connectors::natsd::{NatsServer, TempDir};

/// The `credence` binary. `cargo test --workspace` (what `.ci/run` runs) builds it with the
/// connectors' own tests; it is built here only when missing or older than the sources, since
/// a `cargo build` of one package from inside the test run may resolve features differently
/// and rebuild for seconds in every test process.
pub fn credence_binary() -> PathBuf {
    static BUILD: Once = Once::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("workspace root")
        .to_path_buf();
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let bin = target.join("debug").join("credence");
    BUILD.call_once(|| {
        let built = std::fs::metadata(&bin).and_then(|m| m.modified()).ok();
        let newest = ["connectors", "engine", "models"]
            .iter()
            .filter_map(|d| newest_mtime(&root.join(d)))
            .max();
        let stale = match (built, newest) {
            (Some(b), Some(n)) => n > b,
            _ => true,
        };
        if stale {
            // Through rustup's proxy, which pins the toolchain for rustc.
            let status = Command::new("cargo")
                .args([
                    "build",
                    "-q",
                    "-p",
                    "credence-connectors",
                    "--bin",
                    "credence",
                ])
                .current_dir(&root)
                .status()
                .expect("cargo build");
            assert!(status.success(), "building credence failed");
        }
    });
    bin
}

fn newest_mtime(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let t = if path.is_dir() {
            if path
                .file_name()
                .is_some_and(|n| n == "target" || n == "tests")
            {
                continue;
            }
            newest_mtime(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(t);
    }
    newest
}

/// Runs `credence serve` expecting it to exit before it listens: (exit code, output).
pub fn serve_expecting_exit(
    nats_url: &str,
    data: &Path,
    extra: &[&str],
    timeout: Duration,
) -> (Option<i32>, String) {
    let mut child = Command::new(credence_binary())
        .args([
            "serve",
            "--nats",
            nats_url,
            "--http",
            "127.0.0.1:0",
            "--data",
        ])
        .arg(data)
        .args(extra)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start credence");
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            let out = child.wait_with_output().expect("output");
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return (status.code(), text);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().expect("output");
            return (
                None,
                format!(
                    "{}{}",
                    String::from_utf8_lossy(&out.stdout),
                    String::from_utf8_lossy(&out.stderr)
                ),
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `credence serve`.
#[derive(Debug)]
pub struct Credence {
    child: Option<Child>,
    pub http: SocketAddr,
    logs: Arc<Mutex<String>>,
}

impl Credence {
    /// Starts `credence serve` against `nats_url` with `data`; `extra` are more flags.
    pub fn start(nats_url: &str, data: &Path, extra: &[&str]) -> Credence {
        Credence::start_binary(&credence_binary(), nats_url, data, extra)
    }

    /// The same with a given binary (the load tool runs the release build).
    pub fn start_binary(binary: &Path, nats_url: &str, data: &Path, extra: &[&str]) -> Credence {
        let mut child = Command::new(binary)
            .args([
                "serve",
                "--nats",
                nats_url,
                "--http",
                "127.0.0.1:0",
                "--data",
            ])
            .arg(data)
            .args(extra)
            .env("CREDENCE_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start credence");
        let logs = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = std::sync::mpsc::channel();
        for stream in [
            Box::new(child.stderr.take().expect("stderr")) as Box<dyn std::io::Read + Send>,
            Box::new(child.stdout.take().expect("stdout")),
        ] {
            let (logs, tx) = (logs.clone(), tx.clone());
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines().map_while(Result::ok) {
                    if let Some(i) = line.find("http listening on ") {
                        let addr = line[i + "http listening on ".len()..]
                            .split_whitespace()
                            .next()
                            .and_then(|a| a.parse::<SocketAddr>().ok());
                        if let Some(a) = addr {
                            let _ = tx.send(a);
                        }
                    }
                    let mut l = logs.lock().unwrap_or_else(|e| e.into_inner());
                    l.push_str(&line);
                    l.push('\n');
                }
            });
        }
        let http = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(a) => a,
            Err(_) => {
                let _ = child.kill();
                panic!(
                    "credence did not start listening; logs:\n{}",
                    logs.lock().unwrap_or_else(|e| e.into_inner())
                );
            }
        };
        Credence {
            child: Some(child),
            http,
            logs,
        }
    }

    /// Everything it has logged so far.
    pub fn logs(&self) -> String {
        self.logs.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Waits until `/readyz` answers 200.
    pub async fn wait_ready(&self, timeout: Duration) {
        let ok = wait_until(timeout, || async {
            http::get(self.http, "/readyz", None)
                .await
                .map(|r| r.status == 200)
                .unwrap_or(false)
        })
        .await;
        assert!(
            ok,
            "credence not ready within {timeout:?}; logs:\n{}",
            self.logs()
        );
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// SIGKILL.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// SIGTERM, then the exit code (waits up to `timeout`).
    pub fn terminate(&mut self, timeout: Duration) -> Option<i32> {
        let mut c = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &c.id().to_string()])
            .status();
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = c.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = c.kill();
        let _ = c.wait();
        None
    }

    /// SIGHUP.
    pub fn hangup(&self) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .args(["-HUP", &c.id().to_string()])
                .status();
        }
    }
}

impl Drop for Credence {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Polls `f` until it is true or `timeout` passes; returns whether it became true.
pub async fn wait_until<F, Fut>(timeout: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if f().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Hex SHA-256 of a token, for auth files.
pub fn token_sha256(token: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(token.as_bytes()))
}

/// A minimal HTTP/1.1 client (one request per connection).
pub mod http {
    use std::net::SocketAddr;
    use std::time::Duration;

    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// A response: status, headers (lower-cased names) and body.
    #[derive(Debug, Clone)]
    pub struct Response {
        pub status: u16,
        pub headers: Vec<(String, String)>,
        pub body: Vec<u8>,
    }

    impl Response {
        pub fn json(&self) -> serde_json::Value {
            serde_json::from_slice(&self.body).unwrap_or_else(|e| {
                panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body))
            })
        }
        pub fn text(&self) -> String {
            String::from_utf8_lossy(&self.body).into_owned()
        }
        /// The `error.code` of an error body.
        pub fn code(&self) -> String {
            self.json()["error"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        }
    }

    pub async fn request(
        addr: SocketAddr,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&[u8]>,
    ) -> anyhow::Result<Response> {
        let fut = async {
            let mut s = tokio::net::TcpStream::connect(addr).await?;
            let mut req =
                format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
            if let Some(t) = token {
                req.push_str(&format!("Authorization: Bearer {t}\r\n"));
            }
            let body = body.unwrap_or(b"");
            if method != "GET" {
                req.push_str(&format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                ));
            }
            req.push_str("\r\n");
            s.write_all(req.as_bytes()).await?;
            s.write_all(body).await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            parse(&buf)
        };
        tokio::time::timeout(Duration::from_secs(30), fut)
            .await
            .map_err(|_| anyhow::anyhow!("HTTP request timed out"))?
    }

    fn parse(buf: &[u8]) -> anyhow::Result<Response> {
        let end = buf
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .ok_or_else(|| anyhow::anyhow!("no header end"))?;
        let head = String::from_utf8_lossy(&buf[..end]);
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| anyhow::anyhow!("bad status line"))?;
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| {
                l.split_once(':')
                    .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            })
            .collect();
        let mut body = buf[end + 4..].to_vec();
        if headers
            .iter()
            .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
        {
            body = dechunk(&body);
        }
        Ok(Response {
            status,
            headers,
            body,
        })
    }

    fn dechunk(mut b: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
            let size =
                usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
            if size == 0 {
                break;
            }
            out.extend_from_slice(&b[i + 2..(i + 2 + size).min(b.len())]);
            b = &b[(i + 2 + size + 2).min(b.len())..];
        }
        out
    }

    pub async fn get(
        addr: SocketAddr,
        path: &str,
        token: Option<&str>,
    ) -> anyhow::Result<Response> {
        request(addr, "GET", path, token, None).await
    }

    pub async fn post(
        addr: SocketAddr,
        path: &str,
        token: Option<&str>,
        body: &serde_json::Value,
    ) -> anyhow::Result<Response> {
        request(addr, "POST", path, token, Some(&serde_json::to_vec(body)?)).await
    }
}

/// The tokens of the standard auth file written by [`Fixture`].
pub mod tokens {
    pub const DEPARTMENT: &str = "dept-licensing-token";
    pub const ADMIN: &str = "admin-token";
    pub const SELF_NATURAL: &str = "self-0590-token";
    pub const PRODUCER: &str = "producer-safety-token";
    /// The subject of the self token.
    pub const SELF_ID: &str = "440306195606190590";
}

/// A nats-server, a running credence with the standard auth file, and a NATS client.
pub struct Fixture {
    pub nats: NatsServer,
    pub credence: Credence,
    pub client: async_nats::Client,
    pub js: async_nats::jetstream::Context,
    pub data: TempDir,
    pub auth_path: PathBuf,
    /// The extra flags credence runs with.
    pub extra: Vec<String>,
}

impl Fixture {
    /// Starts everything and waits for readiness.
    pub async fn start() -> Fixture {
        Fixture::start_with(&[]).await
    }

    /// The same, with more flags for `credence serve`.
    pub async fn start_with(extra: &[&str]) -> Fixture {
        let nats = NatsServer::start();
        let data = TempDir::new("data");
        let auth_path = data.path().join("auth.toml");
        write_auth(&auth_path);
        let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        let credence = start_credence(&nats.url(), data.path(), &auth_path, &extra);
        credence.wait_ready(Duration::from_secs(60)).await;
        let client = async_nats::connect(nats.url())
            .await
            .expect("connect to nats");
        let js = async_nats::jetstream::new(client.clone());
        Fixture {
            nats,
            credence,
            client,
            js,
            data,
            auth_path,
            extra,
        }
    }

    /// The state directory credence runs with.
    pub fn state_dir(&self) -> PathBuf {
        self.data.path().join("state")
    }

    /// Starts credence again (same data, same flags) after it was stopped or killed; does not
    /// wait for readiness.
    pub fn restart_credence(&mut self) {
        self.credence.kill9();
        self.credence = start_credence(
            &self.nats.url(),
            self.data.path(),
            &self.auth_path,
            &self.extra,
        );
    }

    /// Publishes an event to `credit.events.<route>` (no `Nats-Msg-Id`) and returns its sequence.
    pub async fn publish(&self, route: &str, event: &serde_json::Value) -> u64 {
        self.publish_raw(
            &format!("credit.events.{route}"),
            serde_json::to_vec(event).expect("json"),
        )
        .await
    }

    /// Publishes raw bytes to any subject the events stream takes.
    pub async fn publish_raw(&self, subject: &str, payload: Vec<u8>) -> u64 {
        self.js
            .publish(subject.to_owned(), payload.into())
            .await
            .expect("publish")
            .await
            .expect("publish ack")
            .sequence
    }

    /// Waits until the engine has applied the stream up to `seq` (via `/v1/stats`).
    pub async fn wait_applied(&self, seq: u64) {
        let ok = wait_until(Duration::from_secs(30), || async {
            match http::get(self.credence.http, "/v1/stats", Some(tokens::ADMIN)).await {
                Ok(r) if r.status == 200 => r.json()["last_seq"].as_u64().unwrap_or(0) >= seq,
                _ => false,
            }
        })
        .await;
        assert!(ok, "seq {seq} not applied; logs:\n{}", self.credence.logs());
    }

    pub async fn stats(&self) -> serde_json::Value {
        http::get(self.credence.http, "/v1/stats", Some(tokens::ADMIN))
            .await
            .expect("stats")
            .json()
    }

    /// Every message of a stream's subject filter so far: (subject, headers, payload).
    pub async fn read_stream(
        &self,
        stream: &str,
        filter: &str,
    ) -> Vec<(String, Option<async_nats::HeaderMap>, Vec<u8>)> {
        use futures::StreamExt;
        let s = self.js.get_stream(stream).await.expect("stream");
        let info = s.get_info().await.expect("info");
        let mut out = Vec::new();
        if info.state.messages == 0 {
            return out;
        }
        let consumer = s
            .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig {
                filter_subject: filter.to_owned(),
                ..Default::default()
            })
            .await
            .expect("consumer");
        let mut msgs = consumer.messages().await.expect("messages");
        while let Ok(Some(Ok(m))) =
            tokio::time::timeout(Duration::from_millis(500), msgs.next()).await
        {
            out.push((m.subject.to_string(), m.headers.clone(), m.payload.to_vec()));
        }
        out
    }
}

fn start_credence(nats_url: &str, data: &Path, auth: &Path, extra: &[String]) -> Credence {
    let mut args: Vec<&str> = vec!["--auth", auth.to_str().unwrap_or("")];
    args.extend(extra.iter().map(String::as_str));
    Credence::start(nats_url, &data.join("state"), &args)
}

/// Writes the standard auth file: one token of each role.
pub fn write_auth(path: &Path) {
    let text = format!(
        r#"
[[token]]
name = "licensing-bureau"
sha256 = "{}"
role = "department"

[[token]]
name = "ops-admin"
sha256 = "{}"
role = "admin"

[[token]]
name = "resident-0590"
sha256 = "{}"
role = "self"
subject = {{ kind = "natural", id = "{}" }}

[[token]]
name = "safety-bureau"
sha256 = "{}"
role = "producer"
channel = "gov"
source = "safety"
"#,
        token_sha256(tokens::DEPARTMENT),
        token_sha256(tokens::ADMIN),
        token_sha256(tokens::SELF_NATURAL),
        tokens::SELF_ID,
        token_sha256(tokens::PRODUCER)
    );
    std::fs::write(path, text).expect("write auth file");
}

/// Builds a `record.add` event.
pub fn add_event(
    id: &str,
    kind: &str,
    subject: &str,
    item: &str,
    occurred_at: &str,
) -> serde_json::Value {
    serde_json::json!({
        "id": id, "type": "record.add", "subject": {"kind": kind, "id": subject},
        "record": id, "item": item, "occurred_at": occurred_at,
        "authority": "Bao'an District Emergency Management Bureau",
        "document": format!("深宝应急罚〔2024〕{id}号"), "basis": "Work Safety Law art. 88"
    })
}

/// Builds a revoke or repair event.
pub fn op_event(
    ty: &str,
    id: &str,
    record: &str,
    kind: &str,
    subject: &str,
    occurred_at: &str,
) -> serde_json::Value {
    serde_json::json!({"id": id, "type": ty, "subject": {"kind": kind, "id": subject}, "record": record, "occurred_at": occurred_at})
}
