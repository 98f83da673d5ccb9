//! `credence demo` as a user runs it, both with NATS (a nats-server of its own) and in
//! process: it serves the API while it runs, prints where and a session token, then a summary
//! and three sample reports, with natural persons' identifiers masked.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};

fn get(addr: &str, path: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn run_demo(extra: &[&str]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args([
            "demo",
            "--scale",
            "0.002",
            "--seconds",
            "3",
            "--rate",
            "2000",
            "--http",
            "127.0.0.1:0",
        ])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let mut seen = Vec::new();
    let mut addr = None;
    let mut token = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(a) = line.strip_prefix("serving the API on http://") {
            addr = Some(a.trim().to_owned());
        }
        if let Some(t) = line.split("admin token (this session): ").nth(1) {
            token = Some(t.trim().to_owned());
        }
        seen.push(line);
        if addr.is_some() && token.is_some() {
            break;
        }
    }
    let addr = addr.unwrap_or_else(|| panic!("no URL printed: {seen:?}"));
    assert_eq!(token.unwrap().len(), 32);
    // The API answers while the demo runs.
    assert!(get(&addr, "/healthz").starts_with("HTTP/1.1 200"));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(status.success(), "{stderr}");
    let stdout = rest.join("\n");
    assert!(stdout.contains("== summary"), "{stdout}");
    assert!(stdout.contains("records in effect"), "{stdout}");
    assert_eq!(
        stdout.matches("== report").count() + stdout.matches(": none in this population").count(),
        3,
        "{stdout}"
    );
    assert!(
        stderr.contains("[live]") && stderr.contains("events/s"),
        "{stderr}"
    );
    for line in stdout.lines().filter(|l| l.contains("(natural ")) {
        assert!(line.contains("********"), "{line}");
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn demo_with_its_own_nats_server_serves_and_reports() {
    run_demo(&[]);
}

#[test]
fn demo_in_process_serves_and_reports() {
    run_demo(&["--in-process"]);
}
