//! `credence model check` as a user runs it: the bundled model passes; a copy with a duplicate
//! code and a broken relation fails, listing both, with exit code 1.

use std::path::{Path, PathBuf};
use std::process::Command;

fn baoan() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/baoan")
}

fn run(dir: &Path) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_credence"))
        .args(["model", "check"])
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn bundled_model_passes_with_its_summary() {
    let (ok, out, err) = run(&baoan());
    assert!(ok, "{err}");
    assert!(out.contains("items 453"), "{out}");
    assert!(out.contains("legal") && out.contains("300"), "{out}");
    assert!(out.contains("natural") && out.contains("153"), "{out}");
    for cat in [
        "basic",
        "license",
        "penalty",
        "judicial",
        "supervision",
        "honor",
        "other",
    ] {
        assert!(out.contains(cat), "{cat} missing from {out}");
    }
    assert!(out.contains("content_hash "), "{out}");
}

#[test]
fn broken_copy_fails_listing_every_problem() {
    let dir = std::env::temp_dir().join(format!("credence-model-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::copy(baoan().join("model.toml"), dir.join("model.toml")).unwrap();
    let items = std::fs::read_to_string(baoan().join("items.toml")).unwrap();
    // A second item with an existing code, and a general penalty so light it keeps grade A.
    let items = items.replace("code = \"L-PEN-004\"", "code = \"L-PEN-003\"");
    let items = items.replacen(
        "name_en = \"Administrative penalty, general\"\npoints = -80",
        "name_en = \"Administrative penalty, general\"\npoints = -5",
        1,
    );
    std::fs::write(dir.join("items.toml"), items).unwrap();
    let (ok, _, err) = run(&dir);
    std::fs::remove_dir_all(&dir).ok();
    assert!(!ok);
    assert!(
        err.contains("L-PEN-003") && err.contains("duplicate code"),
        "{err}"
    );
    assert!(
        err.contains("L-PEN-001") && err.contains("relation broken"),
        "{err}"
    );
}

#[test]
fn missing_directory_fails_cleanly() {
    let (ok, _, err) = run(Path::new("/nonexistent/model"));
    assert!(!ok);
    assert!(err.contains("reading"), "{err}");
}
