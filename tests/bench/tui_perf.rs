//! Dashboard performance figures for issue 3 that criterion does not cover:
//!
//! - `memory`: resident memory (`VmRSS` / `VmHWM` from `/proc/self/status`) of a process that builds
//!   a synthetic 1000-node snapshot, feeds it to the `App` the way the run loop does
//!   (`tui::run::on_outcome`), renders frames at 200x60 into a ratatui `Buffer`, then goes
//!   through further refresh cycles the way the live dashboard does (the previous outcome stays
//!   alive in the watch channel while the next snapshot is built).
//! - `bytes`: bytes written to the terminal per redraw through the real draw path
//!   (`Terminal<CrosstermBackend<_>>`, synchronized update, `ui::draw`) over a counting writer:
//!   the first full frame, a redraw after an identical snapshot (same content, new generation and
//!   times), a redraw where only the age label changed, and a redraw with nothing changed; plus
//!   which cells differ between the frames.
//! - `frame`: frame build time at 200x60 for 1000 nodes as both wall time and this thread's CPU
//!   time (`/proc/thread-self/stat`), so the figure can be read on a loaded machine, where
//!   criterion's wall-clock figure (`benches/render.rs`) grows with the load.
//! - `refresh`: time the UI spends per refresh cycle (`on_outcome`: model, diagnosis, timeline
//!   diff, plus one frame) for a 6-node and a 1000-node snapshot.
//!
//! Each part runs in a fresh child process so one part's allocations never inflate another's
//! resident memory.
//!
//! Run: `cargo bench --bench tui_perf` (all parts), or one part with
//! `TUI_PERF_PART=memory cargo bench --bench tui_perf`. `TUI_PERF_VARIANT=single` makes the
//! memory part use a 1000-node snapshot in which only one node answered (one view instead of
//! 1000), to separate the cost of the raw views from the cost of the model and the app.
//! `TUI_PERF_MASTERS=M` sizes the memory part's cluster (M masters, M replicas; default 500).
//! `TUI_PERF_REPEAT=N` repeats the memory part N times (default 3) and reports the median.

use std::cell::RefCell;
use std::io::{self, Write};
use std::process::Command;
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ratatui::backend::CrosstermBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use slotscope::app::App;
use slotscope::cluster::model::PeerOpinion;
use slotscope::cluster::synthetic::{
    synthetic_cluster, synthetic_cluster_folded, synthetic_single_view,
};
use slotscope::cluster::{
    ClusterModel, ClusterSnapshot, NodeId, NodeLine, NodeObservation, NodeSummary, diagnose,
};
use slotscope::refresh::RefreshOutcome;
use slotscope::tui::run::on_outcome;
use slotscope::ui::theme::ColorDepth;

const PART_ENV: &str = "TUI_PERF_PART";
const W: u16 = 200;
const H: u16 = 60;

fn main() {
    match std::env::var(PART_ENV).ok().as_deref() {
        Some("memory") => memory(),
        Some("bytes") => bytes(),
        Some("refresh") => refresh(),
        Some("frame") => frame(),
        Some(other) => {
            eprintln!("tui_perf: unknown part {other:?} (memory, bytes, refresh, frame)");
        }
        None => {
            for part in ["memory", "bytes", "refresh", "frame"] {
                run_child(part, &[]);
            }
            run_child("memory", &[("TUI_PERF_VARIANT", "single")]);
        }
    }
}

/// Run one part in a fresh process (its own resident memory) and pass its output through.
fn run_child(part: &str, env: &[(&str, &str)]) {
    let Ok(exe) = std::env::current_exe() else {
        eprintln!("tui_perf: cannot find my own executable");
        return;
    };
    let mut cmd = Command::new(exe);
    cmd.env(PART_ENV, part);
    for (k, v) in env {
        cmd.env(k, v);
    }
    match cmd.status() {
        Ok(s) if s.success() => {}
        Ok(s) => eprintln!("tui_perf: part {part} failed: {s}"),
        Err(e) => eprintln!("tui_perf: part {part} did not start: {e}"),
    }
}

// ---------------------------------------------------------------------------------------------
// memory

/// (`VmRSS`, `VmHWM`) in KiB.
fn rss_kib() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The same cluster content, as the next refresh cycle would publish it: new generation, times
/// moved on by `dt_ms`. With `gossip`, every view's ping/pong times move on too (a cluster whose
/// gossip is current), so every derived age stays the same; without it, only our own clock
/// moves and the pong ages grow by `dt_ms`.
fn next_cycle(s: &ClusterSnapshot, dt_ms: u64, gossip: bool) -> ClusterSnapshot {
    let mut n = s.clone();
    n.generation += 1;
    n.started_at_ms += dt_ms;
    n.finished_at_ms += dt_ms;
    for o in &mut n.observations {
        o.observed_at_ms += dt_ms;
        if gossip && let Ok(r) = &mut o.result {
            for l in r.nodes.lines_mut().into_iter().flatten() {
                if l.ping_sent_ms > 0 {
                    l.ping_sent_ms += dt_ms;
                }
                if l.pong_recv_ms > 0 {
                    l.pong_recv_ms += dt_ms;
                }
            }
        }
    }
    n
}

fn outcome(s: ClusterSnapshot) -> Arc<RefreshOutcome> {
    Arc::new(RefreshOutcome {
        snapshot: Arc::new(s),
        error: None,
    })
}

/// Masters in the memory part's cluster (each with one replica): `TUI_PERF_MASTERS`, default
/// 500 (1000 nodes).
fn masters() -> usize {
    std::env::var("TUI_PERF_MASTERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500usize)
        .max(3)
}

fn build_snapshot(single: bool) -> ClusterSnapshot {
    if single {
        synthetic_single_view(masters(), 1, 0)
    } else {
        // Folded as the refresher folds every view it reads.
        synthetic_cluster_folded(masters(), 1)
    }
}

/// One memory run; returns the stage table and the final (rss, hwm).
fn memory_once(single: bool, verbose: bool) -> (u64, u64) {
    let stage = |name: &str| {
        let (rss, hwm) = rss_kib();
        if verbose {
            println!(
                "  {name:<44} VmRSS {:>7.1} MiB  VmHWM {:>7.1} MiB",
                mib(rss),
                mib(hwm)
            );
        }
    };
    stage("start");
    let snap = build_snapshot(single);
    let views: usize = snap
        .observations
        .iter()
        .filter_map(|o| o.report())
        .map(|r| r.nodes.len())
        .sum();
    if verbose {
        println!(
            "  snapshot: {} observations, {views} CLUSTER NODES lines in all views",
            snap.observations.len()
        );
    }
    stage("snapshot built");
    if verbose {
        // Model and diagnosis on their own (then dropped; the app builds its own below and
        // reuses the freed memory).
        let model = ClusterModel::build(&snap);
        stage("+ one ClusterModel (held)");
        let findings = diagnose(&model);
        stage("+ its findings");
        drop(findings);
        drop(model);
    }
    let mut app = App::new(ColorDepth::Ansi16, Duration::from_secs(1), false, None);
    app.on_resize(W, H);
    // The watch channel keeps the latest outcome alive, as in the run loop.
    let mut latest = outcome(snap);
    on_outcome(&mut app, &latest);
    app.on_tick(latest.snapshot.finished_at_ms + 500);
    stage("app fed (model, diagnosis)");
    let area = Rect::new(0, 0, W, H);
    let mut buf = Buffer::empty(area);
    for _ in 0..10 {
        buf.reset();
        slotscope::ui::render(&mut buf, area, &app);
    }
    std::hint::black_box(&buf);
    stage("10 frames rendered at 200x60");
    for cycle in 1..=5 {
        // The refresher builds the next snapshot while the previous one is still published.
        let next = if single {
            next_cycle(&latest.snapshot, 1000, true)
        } else {
            // A real cycle parses fresh replies, so the new snapshot shares nothing.
            let mut fresh = build_snapshot(single);
            fresh.generation = latest.snapshot.generation + 1;
            fresh
        };
        latest = outcome(next);
        on_outcome(&mut app, &latest);
        app.on_tick(latest.snapshot.finished_at_ms + 500);
        buf.reset();
        slotscope::ui::render(&mut buf, area, &app);
        std::hint::black_box(&buf);
        if cycle == 5 {
            stage("after 5 more refresh cycles (+ frames)");
        }
    }
    drop(latest);
    drop(app);
    rss_kib()
}

fn median_u64(v: &mut [u64]) -> u64 {
    v.sort_unstable();
    v.get(v.len() / 2).copied().unwrap_or(0)
}

fn memory() {
    let single = std::env::var("TUI_PERF_VARIANT").is_ok_and(|v| v == "single");
    let repeat: usize = std::env::var("TUI_PERF_REPEAT")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let m = masters();
    let n = 2 * m;
    let label = if single {
        format!("{n} nodes ({m} masters x 1 replica), one node answered (1 view)")
    } else {
        format!("{n} nodes ({m} masters x 1 replica), every node answered ({n} views)")
    };
    if std::env::var("TUI_PERF_CHILD").is_ok() {
        let (rss, hwm) = memory_once(single, false);
        println!("{rss} {hwm}");
        return;
    }
    println!("memory: {label}, frames at {W}x{H}, release build");
    println!(
        "  sizes: NodeLine {} B, NodeId {} B (+ 40 B heap), NodeObservation {} B, NodeSummary {} B, PeerOpinion {} B (inline parts only)",
        size_of::<NodeLine>(),
        size_of::<NodeId>(),
        size_of::<NodeObservation>(),
        size_of::<NodeSummary>(),
        size_of::<PeerOpinion>()
    );
    // First run in this process, with the stage table.
    let (_, hwm0) = memory_once(single, true);
    let mut hwms = vec![hwm0];
    // Repeats, each in a fresh process.
    for _ in 1..repeat {
        let Ok(exe) = std::env::current_exe() else {
            break;
        };
        let out = Command::new(exe)
            .env(PART_ENV, "memory")
            .env("TUI_PERF_CHILD", "1")
            .output();
        if let Ok(out) = out {
            let text = String::from_utf8_lossy(&out.stdout);
            if let Some(h) = text
                .split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<u64>().ok())
            {
                hwms.push(h);
            }
        }
    }
    let runs = hwms.len();
    let min = hwms.iter().copied().min().unwrap_or(0);
    let max = hwms.iter().copied().max().unwrap_or(0);
    let med = median_u64(&mut hwms);
    println!(
        "memory: peak VmHWM over {runs} fresh processes: median {:.1} MiB (min {:.1}, max {:.1}); target <= 30 MB",
        mib(med),
        mib(min),
        mib(max)
    );
}

// ---------------------------------------------------------------------------------------------
// bytes

/// A writer that keeps everything written (the terminal stand-in).
#[derive(Clone, Default)]
struct Sink(Rc<RefCell<Vec<u8>>>);

impl Write for Sink {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.borrow_mut().extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Sink {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.borrow_mut())
    }
}

/// The dashboard's draw path (`tui::terminal::TerminalGuard::draw`) over a fixed viewport, so no
/// TTY is needed.
struct Screen {
    term: Terminal<CrosstermBackend<Sink>>,
    sink: Sink,
}

impl Screen {
    fn new(w: u16, h: u16) -> io::Result<Self> {
        let sink = Sink::default();
        let term = Terminal::with_options(
            CrosstermBackend::new(sink.clone()),
            TerminalOptions {
                viewport: Viewport::Fixed(Rect::new(0, 0, w, h)),
            },
        )?;
        Ok(Self { term, sink })
    }

    /// Draw one frame exactly as the dashboard does; return the bytes written.
    fn draw(&mut self, app: &App) -> io::Result<Vec<u8>> {
        execute!(self.term.backend_mut(), BeginSynchronizedUpdate)?;
        self.term.draw(|f| slotscope::ui::draw(f, app))?;
        execute!(self.term.backend_mut(), EndSynchronizedUpdate)?;
        self.term.backend_mut().flush()?;
        Ok(self.sink.take())
    }
}

fn render_buf(app: &App, w: u16, h: u16) -> Buffer {
    let area = Rect::new(0, 0, w, h);
    let mut buf = Buffer::empty(area);
    slotscope::ui::render(&mut buf, area, app);
    buf
}

/// Describe the cells that differ: one entry per run of adjacent changed cells on a row.
fn changed_cells(prev: &Buffer, next: &Buffer) -> (usize, Vec<String>) {
    let diff = prev.diff(next);
    let n = diff.len();
    let mut runs: Vec<(u16, u16, u16, String, String)> = Vec::new();
    for (x, y, cell) in diff {
        let old = prev.cell((x, y)).map_or("", |c| c.symbol()).to_owned();
        match runs.last_mut() {
            Some((ry, _, rx1, o, s)) if *ry == y && *rx1 + 1 == x => {
                *rx1 = x;
                o.push_str(&old);
                s.push_str(cell.symbol());
            }
            _ => runs.push((y, x, x, old, cell.symbol().to_owned())),
        }
    }
    let desc = runs
        .into_iter()
        .map(|(y, x0, x1, o, s)| format!("row {y} cols {x0}-{x1}: {o:?} -> {s:?}"))
        .collect();
    (n, desc)
}

fn escaped(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes).escape_debug().to_string();
    if s.chars().count() > 400 {
        let head: String = s.chars().take(400).collect();
        format!("{head}...")
    } else {
        s
    }
}

fn print_changes(desc: &[String]) {
    const SHOWN: usize = 8;
    for d in desc.iter().take(SHOWN) {
        println!("      {d}");
    }
    if desc.len() > SHOWN {
        println!(
            "      ... and {} more runs of changed cells",
            desc.len() - SHOWN
        );
    }
}

fn bytes_case(label: &str, masters: usize, w: u16, h: u16) -> io::Result<()> {
    let first = synthetic_cluster(masters, 1);
    let nodes = first.observations.len();
    let mut app = App::new(ColorDepth::Ansi16, Duration::from_secs(1), false, None);
    app.on_resize(w, h);
    let mut screen = Screen::new(w, h)?;
    let o1 = outcome(first);
    on_outcome(&mut app, &o1);
    app.on_tick(o1.snapshot.finished_at_ms + 1500);
    let b0 = render_buf(&app, w, h);
    let full = screen.draw(&app)?;
    println!("bytes: {label}: {nodes} nodes at {w}x{h}, 16 colours");
    println!(
        "  A first frame (full screen):                     {:>6} bytes",
        full.len()
    );

    // Nothing changed at all (e.g. a key that changes no state).
    let same = screen.draw(&app)?;
    println!(
        "  B redraw, nothing changed:                       {:>6} bytes: {}",
        same.len(),
        escaped(&same)
    );

    // Only the age label: the clock ticked, 1s old -> 2s old.
    app.on_tick(o1.snapshot.finished_at_ms + 2500);
    let b1 = render_buf(&app, w, h);
    let tick = screen.draw(&app)?;
    let (n, desc) = changed_cells(&b0, &b1);
    println!(
        "  C redraw, only the age label changed:            {:>6} bytes, {n} cells changed",
        tick.len()
    );
    print_changes(&desc);
    println!("      bytes: {}", escaped(&tick));

    // An identical snapshot from the next cycle: same content (gossip times moved on with the
    // clock), generation + 1, times + 1 s, and the clock at the same data age as before.
    let o2 = outcome(next_cycle(&o1.snapshot, 1000, true));
    on_outcome(&mut app, &o2);
    app.on_tick(o2.snapshot.finished_at_ms + 2500);
    let b2 = render_buf(&app, w, h);
    let refresh = screen.draw(&app)?;
    let (n, desc) = changed_cells(&b1, &b2);
    println!(
        "  D redraw, identical snapshot (new generation):   {:>6} bytes, {n} cells changed",
        refresh.len()
    );
    print_changes(&desc);
    println!("      bytes: {}", escaped(&refresh));

    // What the live loop draws on a typical refresh of an unchanged cluster: new generation and
    // the age label reset (2s old -> <1s old).
    let o3 = outcome(next_cycle(&o2.snapshot, 1000, true));
    on_outcome(&mut app, &o3);
    app.on_tick(o3.snapshot.finished_at_ms + 300);
    let b3 = render_buf(&app, w, h);
    let live = screen.draw(&app)?;
    let (n, desc) = changed_cells(&b2, &b3);
    println!(
        "  E redraw, identical snapshot + age label reset:  {:>6} bytes, {n} cells changed",
        live.len()
    );
    print_changes(&desc);

    // Same content, but the views' pong times did not move (the pong age column grows).
    let o4 = outcome(next_cycle(&o3.snapshot, 1000, false));
    on_outcome(&mut app, &o4);
    app.on_tick(o4.snapshot.finished_at_ms + 300);
    let b4 = render_buf(&app, w, h);
    let pong = screen.draw(&app)?;
    let (n, desc) = changed_cells(&b3, &b4);
    println!(
        "  F redraw, new generation, pong ages grew by 1 s: {:>6} bytes, {n} cells changed",
        pong.len()
    );
    print_changes(&desc);
    Ok(())
}

fn bytes() {
    for (label, masters, w, h) in [
        ("healthy", 3, 120, 40),
        ("healthy", 3, 200, 60),
        ("healthy", 500, 200, 60),
    ] {
        if let Err(e) = bytes_case(label, masters, w, h) {
            eprintln!("tui_perf: bytes {label} {w}x{h}: {e}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// refresh

fn median_f(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// Time `on_outcome` (model, diagnosis, timeline diff) and one frame per refresh cycle.
fn refresh() {
    for (masters, runs) in [(3usize, 2001usize), (500, 21)] {
        let base = synthetic_cluster(masters, 1);
        let nodes = base.observations.len();
        let mut app = App::new(ColorDepth::Ansi16, Duration::from_secs(1), false, None);
        app.on_resize(W, H);
        let mut latest = outcome(base);
        on_outcome(&mut app, &latest);
        let area = Rect::new(0, 0, W, H);
        let mut buf = Buffer::empty(area);
        let mut feed = Vec::with_capacity(runs);
        let mut frame = Vec::with_capacity(runs);
        for _ in 0..runs {
            let next = outcome(next_cycle(&latest.snapshot, 1000, true));
            let t = Instant::now();
            on_outcome(&mut app, &next);
            feed.push(t.elapsed().as_secs_f64() * 1e6);
            app.on_tick(next.snapshot.finished_at_ms + 300);
            let t = Instant::now();
            buf.reset();
            slotscope::ui::render(&mut buf, area, &app);
            std::hint::black_box(&buf);
            frame.push(t.elapsed().as_secs_f64() * 1e6);
            latest = next;
        }
        let spread = |v: &mut Vec<f64>| {
            let m = median_f(v);
            let lo = v.get(v.len() / 10).copied().unwrap_or(0.0);
            let hi = v.get(v.len() * 9 / 10).copied().unwrap_or(0.0);
            (m, lo, hi)
        };
        let (fm, flo, fhi) = spread(&mut feed);
        let (rm, rlo, rhi) = spread(&mut frame);
        println!(
            "refresh: {nodes} nodes, {runs} cycles: on_outcome median {fm:.0} us (p10 {flo:.0}, p90 {fhi:.0}); frame {W}x{H} median {rm:.0} us (p10 {rlo:.0}, p90 {rhi:.0})"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// frame

/// This thread's CPU time (user + system) in clock ticks.
fn thread_cpu_ticks() -> u64 {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap_or_default();
    // Fields after the parenthesised command: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|v| v.parse().unwrap_or(0))
        .collect();
    f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0)
}

fn clk_tck() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Frame build time at 200x60 for 1000 nodes: batches of frames, wall and CPU time per frame.
fn frame() {
    use slotscope::ui::heatmap::HeatMode;
    const BATCH: usize = 400;
    const BATCHES: usize = 7;
    let tck = clk_tck();
    let area = Rect::new(0, 0, W, H);
    for (name, depth, mode) in [
        ("health_16", ColorDepth::Ansi16, HeatMode::Health),
        ("owner_256", ColorDepth::Ansi256, HeatMode::Owner),
        ("keys_16", ColorDepth::Ansi16, HeatMode::Keys),
        ("health_mono", ColorDepth::Mono, HeatMode::Health),
    ] {
        let snap = synthetic_cluster(500, 1);
        let at = snap.finished_at_ms;
        let mut app = App::new(depth, Duration::from_secs(1), false, None);
        app.on_resize(W, H);
        on_outcome(&mut app, &outcome(snap));
        app.on_tick(at + 500);
        app.heat_mode = mode;
        let mut buf = Buffer::empty(area);
        // Warm up.
        for _ in 0..50 {
            buf.reset();
            slotscope::ui::render(&mut buf, area, &app);
        }
        let mut wall = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..BATCHES {
            let c0 = thread_cpu_ticks();
            let t0 = Instant::now();
            for _ in 0..BATCH {
                buf.reset();
                slotscope::ui::render(&mut buf, area, std::hint::black_box(&app));
                std::hint::black_box(&buf);
            }
            let n = BATCH as f64;
            wall.push(t0.elapsed().as_secs_f64() * 1e6 / n);
            let ticks = thread_cpu_ticks().saturating_sub(c0) as f64;
            cpu.push(ticks / tck * 1e6 / n);
        }
        let wm = median_f(&mut wall);
        let cm = median_f(&mut cpu);
        let range = |v: &[f64]| {
            (
                v.first().copied().unwrap_or(0.0),
                v.last().copied().unwrap_or(0.0),
            )
        };
        let (wlo, whi) = range(&wall);
        let (clo, chi) = range(&cpu);
        println!(
            "frame: {name} 1000 nodes {W}x{H}, {BATCHES} batches of {BATCH}: wall median {wm:.0} us/frame (range {wlo:.0}-{whi:.0}); CPU median {cm:.0} us/frame (range {clo:.0}-{chi:.0}); target <= 1000 us"
        );
    }
}
