//! `credence demo` as a user runs it: a small population, a short live phase, a summary and
//! three sample reports, with natural persons' identifiers masked.

use std::process::Command;

#[test]
fn demo_runs_and_reports() {
    let out = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args([
            "demo",
            "--scale",
            "0.002",
            "--seconds",
            "1",
            "--rate",
            "5000",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
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
    // Every natural person shown is masked: 6 digits, 8 stars, 4 characters.
    for line in stdout.lines().filter(|l| l.contains("(natural ")) {
        assert!(line.contains("********"), "{line}");
    }
}
