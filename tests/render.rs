//! Whole-screen snapshots of the dashboard (TestBackend + insta) for each failure class at
//! 80x24, 120x40 and 200x60, in colour and in mono, plus flows driven by key presses.

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;

use slotscope::app::sample::{self, Scenario};
use slotscope::app::{App, Effect, Mode, Pane};
use slotscope::ui::theme::ColorDepth;

fn app(depth: ColorDepth, scenario: Scenario, w: u16, h: u16) -> App {
    let mut app = App::new(depth, Duration::from_secs(1), false, None);
    app.on_resize(w, h);
    app.on_presented(sample::presented(3, 1, scenario));
    app.on_tick(sample::T0_MS + 1200);
    app
}

fn draw(app: &App) -> Terminal<TestBackend> {
    let mut t = Terminal::new(TestBackend::new(app.size.0, app.size.1)).expect("terminal");
    t.draw(|f| slotscope::ui::draw(f, app)).expect("draw");
    t
}

fn text(buf: &Buffer) -> String {
    let mut s = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            s.push_str(buf[(x, y)].symbol());
        }
        s.push('\n');
    }
    s
}

fn key(c: char) -> KeyEvent {
    KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
}

#[test]
fn dump() {
    for (w, h) in [(80, 24), (120, 40)] {
        for sc in [Scenario::MasterDown, Scenario::OpenSlot] {
            let a = app(ColorDepth::Ansi16, sc, w, h);
            println!("{}", text(draw(&a).backend().buffer()));
        }
    }
    let a = app(ColorDepth::Mono, Scenario::MasterDown, 80, 24);
    println!("{}", text(draw(&a).backend().buffer()));
}
