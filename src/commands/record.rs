//! `slotscope record`: observe the cluster on an interval, as the dashboard does, and write
//! every refresh to a recording (`docs/recording.md`) until a count, a duration or Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::{DashboardSettings, ExitCode};
use crate::record::{Header, RecordedRefresh, Writer};
use crate::refresh::capture::Capture;
use crate::refresh::{ConnectOptions, Connector, now_ms, observe_once};

/// What `slotscope record` was asked to do.
#[derive(Clone, Debug, PartialEq)]
pub struct RecordOptions {
    /// The file to write.
    pub out: PathBuf,
    /// Stop after this many refreshes.
    pub count: Option<u64>,
    /// Stop after this many seconds.
    pub duration_secs: Option<f64>,
}

/// Record until done; prints one line per refresh (its size) and a summary on stderr.
pub async fn run(
    opts: ConnectOptions,
    args: &RecordOptions,
    settings: &DashboardSettings,
) -> ExitCode {
    let interval = match settings.interval() {
        Ok(i) => i,
        Err(e) => {
            eprintln!("slotscope: {e}");
            return ExitCode::UNOBSERVABLE;
        }
    };
    let duration = match args.duration_secs {
        None => None,
        Some(s) if s.is_finite() && s > 0.0 && s < 1e9 => Some(Duration::from_secs_f64(s)),
        Some(s) => {
            eprintln!("slotscope: --duration {s} is not a number of seconds above 0");
            return ExitCode::UNOBSERVABLE;
        }
    };
    if args.count == Some(0) {
        eprintln!("slotscope: --count 0 records nothing: give 1 or more");
        return ExitCode::UNOBSERVABLE;
    }
    let capture = Capture::shared();
    let connector = Connector::new(opts).with_capture(Arc::clone(&capture));
    let mut writer = match Writer::create(&args.out, &Header::new(now_ms(), "record")) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("slotscope: cannot write {}: {e}", args.out.display());
            return ExitCode::UNOBSERVABLE;
        }
    };
    let deadline = duration.map(|d| tokio::time::Instant::now() + d);
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut previous = None;
    let mut stop = std::pin::pin!(tokio::signal::ctrl_c());
    let mut code = ExitCode::OK;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            () = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => break,
            _ = ticker.tick() => {}
        }
        let (snapshot, error) = match observe_once(&connector, previous.as_ref()).await {
            Ok(s) => (s, None),
            Err(e) => (e.snapshot.clone(), Some(e)),
        };
        if let Some(e) = &error
            && writer.refreshes() == 0
            && (e.is_auth() || e.clusters.len() > 1)
        {
            eprintln!("slotscope: {e}");
            code = ExitCode::UNOBSERVABLE;
            break;
        }
        let r = RecordedRefresh::from_snapshot(&snapshot, |o| capture.raw_of(o));
        match writer.write(&r) {
            Ok(w) => eprintln!(
                "refresh {}: {} node(s), {} bytes in the file ({} uncompressed){}",
                writer.refreshes(),
                r.nodes.len(),
                w.file_bytes,
                w.line_bytes,
                error.map_or_else(String::new, |e| format!("; {e}"))
            ),
            Err(e) => {
                eprintln!("slotscope: cannot write {}: {e}", args.out.display());
                return ExitCode::UNOBSERVABLE;
            }
        }
        previous = Some(snapshot);
        if args.count.is_some_and(|n| writer.refreshes() >= n) {
            break;
        }
    }
    let n = writer.refreshes();
    match writer.finish() {
        Ok(out) => {
            let bytes = out.get_ref().metadata().map_or(0, |m| m.len());
            eprintln!(
                "slotscope: recorded {n} refresh(es) to {} ({bytes} bytes, {} per refresh)",
                args.out.display(),
                bytes.checked_div(n).unwrap_or(0)
            );
            code
        }
        Err(e) => {
            eprintln!("slotscope: cannot finish {}: {e}", args.out.display());
            ExitCode::UNOBSERVABLE
        }
    }
}
