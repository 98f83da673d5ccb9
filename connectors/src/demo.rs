//! `credence demo`: a first look at Credence in one command. A seeded synthetic Bao'an
//! population is loaded and a realistic event mix is streamed through decode → apply →
//! evaluate, in process, with a live progress line; then a summary and three sample reports.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use credence_engine::answer::Report;
use credence_engine::id::mask;
use credence_engine::synth::{Generator, Population};
use credence_engine::{Store, SubjectKey, Ts};
use credence_models::{Kind, Model};

/// What the demo is asked to do.
#[derive(Clone, Debug)]
pub struct DemoOptions {
    pub scale: f64,
    /// How long the live phase runs (`None`: until Ctrl-C).
    pub seconds: Option<u64>,
    pub seed: u64,
    /// Live events per second (0: as fast as one core goes).
    pub rate: u64,
    /// Where the API is served.
    pub http: std::net::SocketAddr,
    /// Join this NATS server instead of starting one.
    pub nats: Option<String>,
    /// Feed events in process even if a nats-server could be had.
    pub in_process: bool,
    /// The model directory given, if any.
    pub model_dir: Option<std::path::PathBuf>,
}

/// Microseconds since the epoch, from the system clock (the binary's one clock).
pub fn now_us() -> Ts {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_micros() as Ts)
        .unwrap_or(0)
}

/// Runs the demo: with NATS (joined, or a nats-server of its own) the real service on
/// `opts.http`, fed through JetStream; without one, the same API fed in process.
pub async fn run(opts: DemoOptions, model: Model) -> anyhow::Result<()> {
    let pop = Population::new(opts.scale, opts.seed);
    println!(
        "Credence demo: synthetic Bao'an at scale {} — {} legal + {} natural persons, model {} {}",
        opts.scale, pop.legal, pop.natural, model.name, model.version
    );
    let mut own_server = None;
    let nats_url = if opts.in_process {
        None
    } else if let Some(url) = &opts.nats {
        Some(url.clone())
    } else {
        match crate::natsd::NatsServer::try_start() {
            Ok(server) => {
                let url = server.url();
                println!("started a nats-server with JetStream on {url}");
                own_server = Some(server);
                Some(url)
            }
            Err(why) => {
                println!("no nats-server to be had ({why}); running in process: events are fed to the engine directly");
                None
            }
        }
    };
    let result = match nats_url {
        Some(url) => with_nats(&opts, model, pop, &url).await,
        None => in_process(&opts, model, pop).await,
    };
    drop(own_server);
    result
}

/// Tokens of the demo's session, and the auth file that holds them.
struct Session {
    dir: crate::natsd::TempDir,
    admin: String,
    department: String,
}

impl Session {
    fn new() -> anyhow::Result<Session> {
        let dir = crate::natsd::TempDir::new("demo");
        let admin = format!("{:032x}", rand::random::<u128>());
        let department = format!("{:032x}", rand::random::<u128>());
        let text = format!(
            "[[token]]\nname = \"demo-admin\"\nsha256 = \"{}\"\nrole = \"admin\"\n\n[[token]]\nname = \"demo-licensing-bureau\"\nsha256 = \"{}\"\nrole = \"department\"\n",
            crate::auth::token_digest(&admin),
            crate::auth::token_digest(&department)
        );
        std::fs::write(dir.path().join("auth.toml"), text)?;
        Ok(Session {
            dir,
            admin,
            department,
        })
    }

    fn auth(&self) -> crate::auth::Auth {
        crate::auth::Auth::load(&self.dir.path().join("auth.toml")).unwrap_or_default()
    }

    fn print(&self, http: std::net::SocketAddr, sample: &str) {
        println!("serving the API on http://{http}");
        println!("  admin token (this session): {}", self.admin);
        println!("  department token:           {}", self.department);
        println!("  try: curl -s http://{http}/v1/subjects/legal/{sample}");
        println!(
            "       curl -s -H 'Authorization: Bearer {}' -d '{{\"subject\":{{\"kind\":\"legal\",\"id\":\"{sample}\"}},\"context\":\"financial_loan\"}}' http://{http}/v1/check",
            self.department
        );
        println!(
            "       curl -s -H 'Authorization: Bearer {}' http://{http}/v1/stats",
            self.admin
        );
    }
}

/// Waits for the live phase to end: `--seconds`, or Ctrl-C.
async fn live_for(seconds: Option<u64>) {
    match seconds {
        Some(s) => tokio::time::sleep(Duration::from_secs(s)).await,
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

async fn with_nats(
    opts: &DemoOptions,
    model: Model,
    pop: Population,
    url: &str,
) -> anyhow::Result<()> {
    use clap::Parser as _;
    let session = Session::new()?;
    #[derive(clap::Parser)]
    struct Wrap {
        #[command(flatten)]
        args: crate::serve::ServeArgs,
    }
    let data = session.dir.path().join("state");
    let auth = session.dir.path().join("auth.toml");
    let mut argv = vec![
        "credence".to_owned(),
        "--nats".into(),
        url.to_owned(),
        "--http".into(),
        opts.http.to_string(),
        "--data".into(),
        data.display().to_string(),
        "--auth".into(),
        auth.display().to_string(),
    ];
    if let Some(dir) = &opts.model_dir {
        argv.push("--model".into());
        argv.push(dir.display().to_string());
    }
    let args = Wrap::try_parse_from(argv)?.args;
    let running = crate::serve::start(args).await?;
    session.print(running.http, &crate::synth_sample());
    let store = running.app.store.clone();
    let client = async_nats::connect(url).await?;
    let js = async_nats::jetstream::new(client.clone());
    let tty = std::io::stderr().is_terminal();

    // Preload: the population's history, through JetStream.
    let started = Instant::now();
    let mut gen = Generator::new(pop, &model, now_us());
    let mut inflight = futures::stream::FuturesUnordered::new();
    let mut published = 0u64;
    let mut last_print = Instant::now();
    use futures::StreamExt as _;
    for i in 0..pop.len() {
        // Ctrl-C during the preload stops the service (its own signal handler): stop too.
        if running.root.is_cancelled() {
            break;
        }
        for e in gen.history(i) {
            let ack = js.publish(e.subject, e.payload.into()).await?;
            inflight.push(std::future::IntoFuture::into_future(ack));
            published += 1;
            while inflight.len() >= 2048 {
                inflight.next().await.transpose()?;
            }
        }
        if last_print.elapsed() >= Duration::from_millis(500) {
            progress_store(tty, "preload", &store, started.elapsed());
            last_print = Instant::now();
        }
    }
    while let Some(r) = inflight.next().await {
        r?;
    }
    // Wait until the engine has applied it all.
    let target = js
        .get_stream(crate::nats::EVENTS_STREAM)
        .await?
        .get_info()
        .await?
        .state
        .last_sequence;
    while store.last_seq() < target && !running.root.is_cancelled() {
        tokio::time::sleep(Duration::from_millis(200)).await;
        progress_store(tty, "preload", &store, started.elapsed());
    }
    finish_line(tty);
    println!("preloaded {published} events in {:.1} s (published to CREDIT_EVENTS and applied by the engine)", started.elapsed().as_secs_f64());

    // Live: the event mix at --rate.
    let live_start = Instant::now();
    let stop = live_for(opts.seconds);
    tokio::pin!(stop);
    let mut sent = 0u64;
    let rate = opts.rate.max(1);
    let root = running.root.clone();
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = root.cancelled() => break,
            _ = tokio::time::sleep(Duration::from_millis(10)) => {}
        }
        let due = (live_start.elapsed().as_secs_f64() * rate as f64) as u64;
        while sent < due {
            let e = gen.live(now_us());
            let ack = js.publish(e.subject, e.payload.into()).await?;
            inflight.push(std::future::IntoFuture::into_future(ack));
            sent += 1;
            while inflight.len() >= 2048 {
                inflight.next().await.transpose()?;
            }
        }
        if last_print.elapsed() >= Duration::from_millis(500) {
            progress_store(tty, "live", &store, started.elapsed());
            last_print = Instant::now();
        }
    }
    while let Some(r) = inflight.next().await {
        r?;
    }
    finish_line(tty);
    summary(&store, pop, sent, live_start.elapsed());
    running.root.cancel();
    running.wait().await?;
    Ok(())
}

async fn in_process(opts: &DemoOptions, model: Model, pop: Population) -> anyhow::Result<()> {
    let session = Session::new()?;
    let model = Arc::new(model);
    let store = Arc::new(Store::with_capacity(model.clone(), pop.len() as usize));
    let app = crate::state::App::in_process(store.clone(), session.auth());
    let listener = tokio::net::TcpListener::bind(opts.http).await?;
    let http = listener.local_addr()?;
    let router = crate::http::router(app.clone());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    println!("credence: http listening on {http}");
    session.print(http, &crate::synth_sample());
    let opts2 = opts.clone();
    let app_ready = app.clone();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop2 = stop.clone();
    let feeder = tokio::task::spawn_blocking(move || {
        feed_in_process(&opts2, &model, pop, &store, &app, &stop2)
    });
    // --seconds counts the live phase: wait for the preload first.
    while !app_ready.ready.load(std::sync::atomic::Ordering::Acquire) && !feeder.is_finished() {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    live_for(opts.seconds).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let out = feeder.await?;
    server.abort();
    out
}

/// The in-process feeder: the population's history, then the live mix at `--rate`, through
/// decode → apply → evaluate, with the passage of time checked as it goes.
fn feed_in_process(
    opts: &DemoOptions,
    model: &Model,
    pop: Population,
    store: &Store,
    app: &crate::state::App,
    stop: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<()> {
    use std::sync::atomic::Ordering;
    let tty = std::io::stderr().is_terminal();
    let mut gen = Generator::new(pop, model, now_us());
    let mut seq = 0u64;
    let started = Instant::now();
    let mut last_print = Instant::now();
    for i in 0..pop.len() {
        let now = now_us();
        for e in gen.history(i) {
            seq += 1;
            store.apply(&e.subject, &e.payload, seq, now);
        }
        if last_print.elapsed() >= Duration::from_millis(500) {
            progress_store(tty, "preload", store, started.elapsed());
            last_print = Instant::now();
        }
    }
    app.ready.store(true, Ordering::Release);
    finish_line(tty);
    println!(
        "preloaded {seq} events in {:.2} s ({:.0} events/s)",
        started.elapsed().as_secs_f64(),
        seq as f64 / started.elapsed().as_secs_f64()
    );
    let live_start = Instant::now();
    let mut live = 0u64;
    let batch = if opts.rate == 0 {
        1000
    } else {
        (opts.rate / 100).clamp(1, 1000)
    };
    while !stop.load(Ordering::Relaxed) {
        if opts.rate > 0 {
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
            store.apply(&e.subject, &e.payload, seq, now);
        }
        store.tick(now, 10_000);
        if last_print.elapsed() >= Duration::from_millis(500) {
            progress_store(tty, "live", store, started.elapsed());
            last_print = Instant::now();
        }
    }
    finish_line(tty);
    summary(store, pop, live, live_start.elapsed());
    Ok(())
}

/// The summary and three sample reports.
fn summary(store: &Store, pop: Population, live: u64, live_elapsed: Duration) {
    let out = &mut std::io::stdout().lock();
    let c = store.counters();
    let mem = store.memory();
    let lists = store
        .list_sizes()
        .iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    let _ = writeln!(out, "\n== summary");
    let _ = writeln!(
        out,
        "live events        {live} in {:.1} s ({:.0} events/s)",
        live_elapsed.as_secs_f64(),
        live as f64 / live_elapsed.as_secs_f64().max(1e-9)
    );
    let _ = writeln!(
        out,
        "events             applied {}, duplicate {}, rejected {}",
        c.events_applied, c.events_duplicate, c.events_rejected
    );
    let _ = writeln!(
        out,
        "subjects           {} with records; records in effect {}",
        store.subject_count(),
        store.records_in_effect()
    );
    let _ = writeln!(out, "lists              {lists}");
    let _ = writeln!(
        out,
        "memory (estimate)  {:.1} MiB: {:.0} bytes/subject, {:.0} bytes/record on file",
        mem.total() as f64 / 1048576.0,
        mem.total() as f64 / mem.subjects.max(1) as f64,
        mem.subject_heap as f64 / mem.records.max(1) as f64
    );
    let now = now_us();
    let first = |list: &str, kind: Kind| {
        store
            .list_page(list, Some(kind), None, 1)
            .0
            .first()
            .copied()
    };
    let samples = [
        ("a black-listed legal person", first("black", Kind::Legal)),
        ("a red-listed legal person", first("red", Kind::Legal)),
        (
            "a natural person",
            (pop.legal..pop.len())
                .map(|i| key_of(&pop, i))
                .find(|k| store.with_subject(*k, |s| s.is_some_and(|s| s.len() > 2))),
        ),
    ];
    for (what, key) in samples {
        let _ = match key {
            Some(key) => print_report(out, what, &store.report(key, now, true)),
            None => writeln!(out, "\n== {what}: none in this population"),
        };
    }
}

fn progress_store(tty: bool, phase: &str, store: &Store, elapsed: Duration) {
    let c = store.counters();
    let events = c.events_applied + c.events_duplicate + c.events_rejected;
    let lists = store
        .list_sizes()
        .iter()
        .map(|(l, n)| format!("{l} {n}"))
        .collect::<Vec<_>>()
        .join(" | ");
    let line = format!(
        "[{phase}] {events} events, {:.0} events/s | subjects {} | in effect {} | {lists}",
        events as f64 / elapsed.as_secs_f64().max(1e-9),
        store.subject_count(),
        store.records_in_effect(),
    );
    if tty {
        eprint!("\r{line:<110}");
    } else {
        eprintln!("{line}");
    }
}

fn key_of(pop: &Population, i: u64) -> SubjectKey {
    let (kind, id) = pop.subject(i);
    SubjectKey::parse(kind, &id)
        .unwrap_or_else(|_| SubjectKey::parse(Kind::Legal, "91440306AY4CL12TH9").expect("valid"))
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
