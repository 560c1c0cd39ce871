//! Frame build time at 200x60 for a synthetic 1000-node, 16384-slot cluster (target ≤ 1 ms).

use std::hint::black_box;
use std::sync::Arc;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use slotscope::app::{App, Presented};
use slotscope::cluster::synthetic::synthetic_cluster;
use slotscope::ui::heatmap::HeatMode;
use slotscope::ui::theme::ColorDepth;

fn app(depth: ColorDepth, w: u16, h: u16) -> App {
    let snap = synthetic_cluster(500, 1);
    let at = snap.finished_at_ms;
    let mut app = App::new(depth, Duration::from_secs(1), false, None);
    app.on_resize(w, h);
    app.on_presented(Presented::from_snapshot(Arc::new(snap)));
    app.on_tick(at + 500);
    app
}

fn bench(c: &mut Criterion) {
    let area = Rect::new(0, 0, 200, 60);
    let mut g = c.benchmark_group("frame_200x60_1000_nodes");
    for (name, depth, mode) in [
        ("health_16", ColorDepth::Ansi16, HeatMode::Health),
        ("owner_256", ColorDepth::Ansi256, HeatMode::Owner),
        ("keys_16", ColorDepth::Ansi16, HeatMode::Keys),
        ("health_mono", ColorDepth::Mono, HeatMode::Health),
    ] {
        let mut a = app(depth, area.width, area.height);
        assert_eq!(a.model().map(|m| m.nodes.len()), Some(1000));
        a.heat_mode = mode;
        let mut buf = Buffer::empty(area);
        g.bench_function(name, |b| {
            b.iter(|| {
                buf.reset();
                slotscope::ui::render(&mut buf, area, black_box(&a));
                black_box(&buf);
            });
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
