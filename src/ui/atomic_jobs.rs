//! The atomic slot migrations (Valkey 9+) of the migration view: one line per job that runs or
//! ended in the last hour, newest first — slots, source → target, state, progress, age.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use crate::cluster::ClusterModel;
use crate::cluster::slot_migrations::{AtomicMigration, JobHealth, JobPhase};
use crate::cluster::slots::format_ranges;

use super::text::truncate_end;
use super::theme::Theme;

/// The jobs worth a line: running, or finished in the last hour.
#[must_use]
pub fn shown_jobs(model: &ClusterModel) -> Vec<&AtomicMigration> {
    model
        .slot_migrations
        .iter()
        .filter(|j| j.phase() == JobPhase::Running || j.finished_recently())
        .collect()
}

/// `, 2 atomic` for the pane's title when jobs are shown; empty otherwise.
#[must_use]
pub fn title_suffix(model: &ClusterModel) -> String {
    match shown_jobs(model).len() {
        0 => String::new(),
        n => format!(", {n} atomic"),
    }
}

/// Draw the job lines below the `above` lines already drawn in `body`, within the upper half
/// of the pane; returns the lines used.
pub fn render_below(
    buf: &mut Buffer,
    body: Rect,
    above: u16,
    model: &ClusterModel,
    t: &Theme,
) -> u16 {
    let area = Rect {
        y: body.y + above,
        height: body.height.saturating_sub(above),
        ..body
    };
    let room = (body.height / 2).max(1).saturating_sub(above);
    render_jobs(buf, area, model, t, room)
}

/// Draw up to `room` job lines at the top of `body`; returns the lines used.
pub fn render_jobs(
    buf: &mut Buffer,
    body: Rect,
    model: &ClusterModel,
    t: &Theme,
    room: u16,
) -> u16 {
    let jobs = shown_jobs(model);
    let shown = u16::try_from(jobs.len()).unwrap_or(u16::MAX).min(room);
    for (row, job) in (0..shown).zip(jobs) {
        let health = job.health_in(model);
        let style = match (job.phase(), &health) {
            (JobPhase::Running, Some(JobHealth::Progressing)) => t.severity_info,
            (JobPhase::Running | JobPhase::Failed, _) => t.severity_warning,
            _ => t.text_dim,
        };
        let line = truncate_end(
            &job_line(model, job, health.as_ref()),
            usize::from(body.width.saturating_sub(1)),
        );
        buf.set_string(body.x + 1, body.y + row, line, style);
    }
    shown
}

/// `atomic 0-99 127.0.0.1:7000 → 127.0.0.1:7001  running · snapshotting · 3 s old`.
#[must_use]
pub fn job_line(model: &ClusterModel, job: &AtomicMigration, health: Option<&JobHealth>) -> String {
    let addr = |id: Option<&crate::cluster::NodeId>| {
        id.map_or_else(
            || "?".to_owned(),
            |id| {
                model
                    .node(id)
                    .map_or_else(|| id.short().to_owned(), |n| n.addr.to_string())
            },
        )
    };
    let what = match (job.phase(), health) {
        (JobPhase::Running, Some(JobHealth::Progressing)) => "running".to_owned(),
        (JobPhase::Running, Some(JobHealth::Stalled { silent_s })) => {
            format!("STALLED: no ack for {silent_s} s")
        }
        (JobPhase::Running, Some(JobHealth::PeerDown { role, why, .. })) => {
            format!("STALLED: {role} {why}")
        }
        (phase, _) => phase.label().to_owned(),
    };
    let age = job
        .age_s()
        .map_or_else(String::new, |a| format!(" · {a} s old"));
    let mut line = format!(
        "atomic {} {} → {}  {what} · {}{age}",
        format_ranges(&job.slots),
        addr(job.source.as_ref()),
        addr(job.target.as_ref()),
        job.state(),
    );
    if let Some(m) = job.message().filter(|_| job.phase() == JobPhase::Failed) {
        line.push_str(": ");
        line.push_str(m);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::slot_migrations::sample_migration;
    use crate::cluster::slots::SlotRange;
    use crate::cluster::testkit::{ModelBuilder, id};

    #[test]
    fn a_line_per_job_with_slots_ends_state_and_age() {
        let mut m = ModelBuilder::healthy(3, 0).build();
        m.slot_migrations = vec![
            sample_migration(
                &id(0u16),
                &id(1u16),
                SlotRange::new(0, 99),
                "snapshotting",
                (1000, 1000, 1030),
            ),
            sample_migration(
                &id(0u16),
                &id(2u16),
                SlotRange::new(200, 210),
                "failed",
                (900, 901, 1030),
            ),
        ];
        let jobs = shown_jobs(&m);
        assert_eq!(jobs.len(), 2);
        let l = job_line(&m, jobs[0], jobs[0].health_in(&m).as_ref());
        assert_eq!(
            l,
            "atomic 0-99 127.0.0.1:7000 → 127.0.0.1:7001  STALLED: no ack for 30 s · snapshotting \
             · 30 s old"
        );
        let l = job_line(&m, jobs[1], None);
        assert!(
            l.starts_with(
                "atomic 200-210 127.0.0.1:7000 → 127.0.0.1:7002  failed · failed · 130 s old"
            ),
            "{l}"
        );
    }
}
