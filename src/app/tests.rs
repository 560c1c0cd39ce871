//! App-only flows: state and update with no drawing (the flows that draw the screen are tested
//! with the terminal shell).

use std::sync::Arc;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::sample::{self, SampleCase};
use super::*;

fn press(app: &mut App, c: char) -> Option<Effect> {
    app.on_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE))
}

#[test]
fn the_timeline_baseline_shares_the_model_instead_of_copying_it() {
    let mut a = sample::app(SampleCase::MasterDown, 120, 40);
    let shown = Arc::clone(&a.shown.as_ref().expect("shown").model);
    let base = a.last_model.as_ref().expect("a baseline");
    assert!(
        Arc::ptr_eq(&shown, base),
        "the baseline is the model on screen"
    );
    // shown + baseline + this test's handle: no copy anywhere.
    assert_eq!(Arc::strong_count(&shown), 3);
    drop(shown);
    // A new refresh replaces both; the previous model is released.
    let old = Arc::downgrade(&a.shown.as_ref().expect("shown").model);
    a.on_presented(sample::presented(3, 1, SampleCase::Healthy));
    // Handed over to be freed off the event loop's thread, then gone.
    drop(a.take_retired());
    assert!(old.upgrade().is_none(), "the previous model is freed");
    let m = &a.shown.as_ref().expect("shown").model;
    assert!(Arc::ptr_eq(m, a.last_model.as_ref().expect("baseline")));
    // Frozen: the pending model is the baseline; the frozen one stays on screen.
    press(&mut a, 'f');
    a.on_presented(sample::presented(3, 1, SampleCase::MasterDown));
    let pending = &a.pending.as_ref().expect("pending").model;
    assert!(Arc::ptr_eq(
        pending,
        a.last_model.as_ref().expect("baseline")
    ));
    assert!(!Arc::ptr_eq(
        pending,
        &a.shown.as_ref().expect("shown").model
    ));
}

#[test]
fn the_node_detail_follows_its_node_when_a_refresh_reorders_the_nodes() {
    let mut a = sample::app(SampleCase::Healthy, 120, 40);
    press(&mut a, '2');
    press(&mut a, 'j');
    let picked = a
        .selected_node()
        .and_then(|i| a.model().and_then(|m| m.nodes.get(i)))
        .map(|n| (n.id.clone(), n.addr.clone()))
        .expect("a node under the cursor");
    a.on_key(KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    assert!(matches!(a.mode, Mode::NodeDetail(_)));
    let before = a.detail_node().expect("the detail shows a node");
    // A failover reorders the model's nodes: the same node now sits elsewhere.
    let (s, mut m, f) = sample::model(3, 1, SampleCase::Healthy);
    m.nodes.reverse();
    a.on_presented(Presented::from_parts(Arc::new(s), m, f));
    let after = a.detail_node().expect("the detail still shows a node");
    assert_ne!(before, after, "the node moved in the model");
    let shown = a
        .model()
        .and_then(|m| m.nodes.get(after))
        .expect("the node");
    assert_eq!((shown.id.clone(), shown.addr.clone()), picked);
    assert_eq!(
        a.fix_target(),
        FixTarget::Node(after),
        "x acts on the same node"
    );
}

/// A new picture hands the one it replaces (model and snapshot) to whoever takes it, so the
/// terminal loop can free a large model off its thread; at most one of each is held.
#[test]
fn a_new_picture_retires_the_previous_one() {
    use super::sample::{SampleCase, presented};
    let mut app = super::sample::app(SampleCase::Healthy, 100, 30);
    let first = std::sync::Arc::clone(&app.shown.as_ref().expect("shown").model);
    assert!(
        app.take_retired().is_empty(),
        "the first picture replaced nothing"
    );
    app.on_presented(presented(3, 1, SampleCase::Healthy));
    // `first` is held by the test and by the retired picture (and its model) only.
    assert_eq!(std::sync::Arc::strong_count(&first), 3);
    let retired = app.take_retired();
    assert!(!retired.is_empty());
    assert!(app.take_retired().is_empty());
    drop(retired);
    assert_eq!(std::sync::Arc::strong_count(&first), 1);
    // Not taken: the next picture frees the older one itself, so nothing accumulates.
    app.on_presented(presented(3, 1, SampleCase::Healthy));
    app.on_presented(presented(3, 1, SampleCase::Healthy));
    let kept = app.take_retired();
    assert!(!kept.is_empty());
}
