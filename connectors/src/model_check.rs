//! `credence model check <dir>`: loads and validates a model directory and prints a summary,
//! or every problem found.

use std::fmt::Write as _;
use std::path::Path;

use credence_models::{Category, Context, Kind, Model};

/// Loads the model in `dir`: `Ok(summary)` or `Err(every problem, one a line)`.
pub fn check(dir: &Path) -> Result<String, String> {
    match credence_models::load_dir(dir) {
        Ok(model) => Ok(summary(&model)),
        Err(e) => {
            let mut out = format!("{}: {e}\n", dir.display());
            for p in e.problems() {
                let _ = writeln!(out, "  - {p}");
            }
            Err(out)
        }
    }
}

/// A human summary of a valid model.
pub fn summary(m: &Model) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "model {} version {}: valid", m.name, m.version);
    let _ = writeln!(out, "content_hash {}", m.content_hash);
    let _ = writeln!(
        out,
        "items {} ({} retired)",
        m.items.len(),
        m.items.iter().filter(|i| i.retired).count()
    );
    let _ = write!(out, "  {:<10}", "");
    for c in Category::ALL {
        let _ = write!(out, "{:>12}", c.as_str());
    }
    let _ = writeln!(out, "{:>8}", "total");
    for k in Kind::ALL {
        let _ = write!(out, "  {:<10}", k.as_str());
        for c in Category::ALL {
            let n = m
                .items
                .iter()
                .filter(|i| i.kind == *k && i.category == *c)
                .count();
            let _ = write!(out, "{n:>12}");
        }
        let _ = writeln!(
            out,
            "{:>8}",
            m.items.iter().filter(|i| i.kind == *k).count()
        );
    }
    let s = &m.scoring;
    let _ = writeln!(
        out,
        "scoring base {} in [{}, {}]; grades A >= {}, B >= {}, C >= {}, D below",
        s.base, s.min, s.max, s.grade_min[0], s.grade_min[1], s.grade_min[2]
    );
    for (i, l) in m.lists.iter().enumerate() {
        let triggers = m.items.iter().filter(|it| it.lists & (1 << i) != 0).count();
        let _ = writeln!(
            out,
            "list {} ({}, {}): {} triggering items",
            l.name, l.name_zh, l.name_en, triggers
        );
    }
    let contexts: Vec<&str> = Context::ALL.iter().map(|c| c.as_str()).collect();
    let _ = writeln!(out, "contexts {}", contexts.join(", "));
    out
}
