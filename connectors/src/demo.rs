//! `credence demo`: a first look at Credence in one command. A seeded synthetic Bao'an
//! population is loaded and a realistic event mix is streamed through decode → apply →
//! evaluate, in process, with a live progress line; then a summary and three sample reports.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credence_engine::answer::Report;
use credence_engine::id::mask;
use credence_engine::synth::{Generator, Population};
use credence_engine::{Outcome, Store, SubjectKey, Ts};
use credence_models::{Kind, Model};

/// What the demo is asked to do.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub scale: f64,
    pub seconds: u64,
    pub seed: u64,
    /// Live events per second (0: as fast as one core goes).
    pub rate: u64,
}

/// Microseconds since the epoch, from the system clock (the binary's one clock).
pub fn now_us() -> Ts {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as Ts)
        .unwrap_or(0)
}

/// Live list sizes, kept from the list changes.
#[derive(Default)]
struct ListSizes {
    black: i64,
    red: i64,
}

impl ListSizes {
    fn account(&mut self, changes: &[credence_engine::ListChange]) {
        for c in changes {
            let d = if c.added { 1 } else { -1 };
            match c.list.as_str() {
                "black" => self.black += d,
                "red" => self.red += d,
                _ => {}
            }
        }
    }
}

/// Runs the in-process demo, writing to `out`.
pub fn run(opts: &DemoOptions, model: Model, out: &mut impl Write) -> std::io::Result<()> {
    let model = Arc::new(model);
    let pop = Population::new(opts.scale, opts.seed);
    writeln!(
        out,
        "Credence demo (in process): synthetic Bao'an at scale {} — {} legal + {} natural persons, model {} {}",
        opts.scale, pop.legal, pop.natural, model.name, model.version
    )?;
    let store = Store::with_capacity(model.clone(), pop.len() as usize);
    let mut gen = Generator::new(pop, &model, now_us());
    let mut sizes = ListSizes::default();
    let mut seq = 0u64;
    let tty = std::io::stderr().is_terminal();

    // Preload: every subject's five-year history.
    let started = Instant::now();
    let mut events = 0u64;
    let mut last_print = Instant::now();
    for i in 0..pop.len() {
        let now = now_us();
        for e in gen.history(i) {
            seq += 1;
            events += 1;
            let applied = store.apply(&e.subject, &e.payload, seq, now);
            sizes.account(&applied.changes);
        }
        if last_print.elapsed() >= Duration::from_millis(500) {
            progress(tty, "preload", events, started.elapsed(), &store, &sizes);
            last_print = Instant::now();
        }
    }
    progress(tty, "preload", events, started.elapsed(), &store, &sizes);
    finish_line(tty);
    writeln!(
        out,
        "preloaded {} events in {:.2} s ({:.0} events/s)",
        events,
        started.elapsed().as_secs_f64(),
        events as f64 / started.elapsed().as_secs_f64()
    )?;

    // Live: the event mix for --seconds, with the passage of time checked as it goes.
    let live_start = Instant::now();
    let mut live = 0u64;
    let (mut dup, mut rej) = (0u64, 0u64);
    let batch = if opts.rate == 0 {
        1000
    } else {
        (opts.rate / 100).clamp(1, 1000)
    };
    while live_start.elapsed() < Duration::from_secs(opts.seconds) {
        if opts.rate > 0 {
            // Pace to the rate: wait until this batch is due.
            let due = Duration::from_secs_f64(live as f64 / opts.rate as f64);
            if let Some(wait) = due.checked_sub(live_start.elapsed()) {
                std::thread::sleep(wait.min(Duration::from_millis(50)));
                continue;
            }
        }
        let now = now_us();
        for _ in 0..batch {
            let e = gen.live(now);
            seq += 1;
            live += 1;
            let applied = store.apply(&e.subject, &e.payload, seq, now);
            match applied.outcome {
                Outcome::Duplicate | Outcome::Conflict => dup += 1,
                Outcome::Rejected(_) => rej += 1,
                _ => {}
            }
            sizes.account(&applied.changes);
        }
        sizes.account(&store.tick(now, 10_000));
        if last_print.elapsed() >= Duration::from_millis(500) {
            progress(tty, "live", live, live_start.elapsed(), &store, &sizes);
            last_print = Instant::now();
        }
    }
    progress(tty, "live", live, live_start.elapsed(), &store, &sizes);
    finish_line(tty);

    let c = store.counters();
    let mem = store.memory();
    writeln!(out, "\n== summary")?;
    writeln!(
        out,
        "live events        {live} in {:.1} s ({:.0} events/s), {dup} duplicates, {rej} rejected",
        live_start.elapsed().as_secs_f64(),
        live as f64 / live_start.elapsed().as_secs_f64()
    )?;
    writeln!(
        out,
        "events             applied {}, duplicate {}, rejected {}",
        c.events_applied, c.events_duplicate, c.events_rejected
    )?;
    writeln!(
        out,
        "subjects           {} with records; records in effect {}",
        store.subject_count(),
        store.records_in_effect()
    )?;
    writeln!(
        out,
        "lists              black {}, red {}",
        sizes.black, sizes.red
    )?;
    writeln!(
        out,
        "memory (estimate)  {:.1} MiB: {:.0} bytes/subject, {:.0} bytes/record on file",
        mem.total() as f64 / 1048576.0,
        mem.total() as f64 / mem.subjects.max(1) as f64,
        mem.subject_heap as f64 / mem.records.max(1) as f64
    )?;

    // Three sample reports: a black-listed firm, a red-listed firm, a resident.
    let now = now_us();
    let judge = store.judge();
    let black = judge.model.list_id("black").unwrap_or(0);
    let red = judge.model.list_id("red").unwrap_or(1);
    let samples = [
        (
            "a black-listed legal person",
            store.members(black, Some(Kind::Legal)).first().copied(),
        ),
        (
            "a red-listed legal person",
            store.members(red, Some(Kind::Legal)).first().copied(),
        ),
        (
            "a natural person",
            (pop.legal..pop.len())
                .map(|i| key_of(&pop, i))
                .find(|k| store.with_subject(*k, |s| s.is_some_and(|s| s.len() > 2))),
        ),
    ];
    for (what, key) in samples {
        match key {
            Some(key) => print_report(out, what, &store.report(key, now, true))?,
            None => writeln!(out, "\n== {what}: none in this population")?,
        }
    }
    Ok(())
}

fn key_of(pop: &Population, i: u64) -> SubjectKey {
    let (kind, id) = pop.subject(i);
    SubjectKey::parse(kind, &id)
        .unwrap_or_else(|_| SubjectKey::parse(Kind::Legal, "91440306AY4CL12TH9").expect("valid"))
}

fn progress(
    tty: bool,
    phase: &str,
    events: u64,
    elapsed: Duration,
    store: &Store,
    sizes: &ListSizes,
) {
    let line = format!(
        "[{phase}] {events} events, {:.0} events/s | subjects {} | in effect {} | black {} | red {}",
        events as f64 / elapsed.as_secs_f64().max(1e-9),
        store.subject_count(),
        store.records_in_effect(),
        sizes.black,
        sizes.red
    );
    if tty {
        eprint!("\r{line:<110}");
    } else {
        eprintln!("{line}");
    }
}

fn finish_line(tty: bool) {
    if tty {
        eprintln!();
    }
}

fn print_report(out: &mut impl Write, what: &str, r: &Report) -> std::io::Result<()> {
    // A natural person's identifier is personal data: masked even in the demo's output.
    let id = match r.subject.kind {
        Kind::Natural => mask(&r.subject.id),
        Kind::Legal => r.subject.id.clone(),
    };
    writeln!(out, "\n== report: {what} ({} {id})", r.subject.kind)?;
    let lists: Vec<String> = r
        .lists
        .iter()
        .map(|l| {
            format!(
                "{} since {} until {}",
                l.list,
                l.since,
                l.until.as_deref().unwrap_or("revoked")
            )
        })
        .collect();
    writeln!(
        out,
        "score {} grade {} (inspection rate {:.0}%) lists [{}]",
        r.score,
        r.grade,
        r.supervision.inspection_rate * 100.0,
        lists.join("; ")
    )?;
    for rec in &r.records {
        writeln!(
            out,
            "  {:<10} {:<10} {:>5} {:<22} {} → {}  {}",
            rec.status,
            rec.item,
            rec.points,
            rec.occurred_at,
            rec.category,
            rec.effective_until.as_deref().unwrap_or("until revoked"),
            rec.item_name
        )?;
    }
    Ok(())
}
