use proptest::prelude::*;

use super::*;
use crate::cluster::diagnose;
use crate::cluster::generate::GenCluster;
use crate::cluster::model::ClusterModel;
use crate::cluster::parse::parse_cluster_nodes;
use crate::cluster::synthetic::synthetic_cluster;
use crate::cluster::types::ClusterSnapshot;

/// The snapshot with every view folded into one table, in observation order.
fn folded(snapshot: &ClusterSnapshot) -> ClusterSnapshot {
    let mut s = snapshot.clone();
    let mut folder = Folder::new();
    for o in &mut s.observations {
        if let Ok(r) = o.result.as_mut() {
            r.nodes = folder.fold(std::mem::take(&mut r.nodes));
            assert!(r.nodes.is_folded());
        }
    }
    folder.finish();
    s
}

/// Perturb the views the way real nodes differ: each view in its own order, each line with
/// its own `pong_recv` (some with a `ping_sent`), and now and then a line printed twice.
fn perturb(snapshot: &mut ClusterSnapshot, bytes: &[u8]) {
    let mut k = 0usize;
    let mut next = || {
        k += 1;
        bytes.get(k % bytes.len().max(1)).copied().unwrap_or(0) as usize ^ k
    };
    for o in &mut snapshot.observations {
        let Ok(r) = o.result.as_mut() else { continue };
        let Some(lines) = r.nodes.lines_mut() else {
            continue;
        };
        let n = lines.len();
        for i in (1..n).rev() {
            if next() % 3 == 0 {
                lines.swap(i, next() % (i + 1));
            }
        }
        for l in lines.iter_mut() {
            match next() % 4 {
                0 => l.pong_recv_ms = l.pong_recv_ms.saturating_sub(next() as u64 * 37),
                1 => l.ping_sent_ms = 1_700_000_000_000 + next() as u64,
                _ => {}
            }
        }
        if n > 0 && next() % 5 == 0 {
            let dup = lines[next() % n].clone();
            lines.push(dup);
        }
    }
}

fn assert_same_model(full: &ClusterSnapshot) {
    let fold = folded(full);
    assert_eq!(&fold, full, "folded views read back as parsed");
    for (a, b) in fold.observations.iter().zip(&full.observations) {
        if let (Some(a), Some(b)) = (a.report(), b.report()) {
            assert_eq!(a.nodes.to_lines(), b.nodes.to_lines());
            assert_eq!(a.nodes.len(), b.nodes.len());
            assert_eq!(
                a.nodes.myself_at().map(|(p, l)| (p, l.id.clone())),
                b.nodes.myself_at().map(|(p, l)| (p, l.id.clone()))
            );
        }
    }
    let m_full = ClusterModel::build(full);
    let m_fold = ClusterModel::build(&fold);
    assert_eq!(m_fold, m_full);
    assert_eq!(diagnose(&m_fold), diagnose(&m_full));
}

#[test]
fn a_healthy_cluster_folds_to_one_line_per_node_and_a_few_runs_per_view() {
    let full = synthetic_cluster(100, 1);
    let mut folder = Folder::new();
    let mut views = Vec::new();
    for o in &full.observations {
        let r = o.report().expect("answered");
        views.push(folder.fold(r.nodes.clone()));
    }
    // 200 peer lines and 200 `myself` lines.
    assert_eq!(folder.distinct_lines(), 400);
    folder.finish();
    for (v, o) in views.iter().zip(&full.observations) {
        let Repr::Folded(f) = &v.repr else {
            panic!("not folded")
        };
        assert!(f.seq.len() <= 6, "{} entries", f.seq.len());
        assert!(f.times.is_empty());
        assert_eq!(v, &o.report().expect("answered").nodes);
    }
    assert_same_model(&full);
}

#[test]
fn folded_views_read_back_as_written_by_to_text() {
    let mut full = synthetic_cluster(4, 2);
    perturb(&mut full, &[7, 1, 200, 33, 9]);
    let fold = folded(&full);
    for o in &fold.observations {
        let nodes = &o.report().expect("answered").nodes;
        let back = parse_cluster_nodes(&to_text(nodes)).expect("parses");
        assert_eq!(&back, nodes);
    }
}

#[test]
fn a_view_already_folded_and_an_empty_view_stay_as_they_are() {
    let mut folder = Folder::new();
    let empty = folder.fold(ClusterNodes::default());
    assert!(empty.is_folded() && empty.is_empty());
    let full = synthetic_cluster(2, 0);
    let v = folder.fold(
        full.observations[0]
            .report()
            .expect("answered")
            .nodes
            .clone(),
    );
    let again = folder.fold(v.clone());
    folder.finish();
    assert_eq!(v, again);
    assert_eq!(v.len(), 2);
}

proptest! {
    #![proptest_config(crate::cluster::proptest_config(200, "tests/proptest-regressions/cluster-fold.txt"))]

    /// Model and diagnosis from folded views equal those from the parsed views, for
    /// generated clusters in every state the generator makes.
    #[test]
    fn model_from_folded_views_equals_model_from_full_views(
        bytes in prop::collection::vec(any::<u8>(), 0..400)
    ) {
        let g = GenCluster::from_bytes(&bytes);
        assert_same_model(&g.snapshot());
    }

    /// The same with views in their own orders, their own timestamps and repeated lines.
    #[test]
    fn model_from_folded_perturbed_views_equals_model_from_full_views(
        bytes in prop::collection::vec(any::<u8>(), 1..400)
    ) {
        let g = GenCluster::from_bytes(&bytes);
        let mut s = g.snapshot();
        perturb(&mut s, &bytes);
        assert_same_model(&s);
        for o in &folded(&s).observations {
            if let Some(r) = o.report() {
                let back = parse_cluster_nodes(&to_text(&r.nodes)).expect("parses");
                prop_assert_eq!(&back, &r.nodes);
            }
        }
    }
}
