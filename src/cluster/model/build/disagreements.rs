//! Step 7 of the build: per view, the ranges where it names another owner than the
//! consensus. Computed once per distinct claim list, then stated for every view holding it.

use std::collections::BTreeMap;

use super::segments::{ClaimLists, Segments};
use super::{Claim, View};
use crate::cluster::model::{NodeSummary, ViewDisagreement};
use crate::cluster::slots::{SlotRange, push_range};
use crate::cluster::types::NodeId;

/// (owner a view names, consensus owner), internal indices.
type OwnerPair = (Option<usize>, Option<usize>);

/// Every member view's disagreements with the consensus owners `seg_owner`.
pub(super) fn disagreements(
    lists: &ClaimLists,
    segs: &Segments,
    seg_owner: &[Option<usize>],
    views: &[View<'_>],
    summaries: &[NodeSummary],
) -> Vec<ViewDisagreement> {
    let mut per_list: Vec<Option<Vec<ViewDisagreement>>> = vec![None; lists.lists.len()];
    let mut disagreements = Vec::new();
    for (vi, &d) in lists.of_view.iter().enumerate() {
        // An isolated node's empty table disagrees everywhere; `isolated` says it all.
        let viewer = &summaries[views[vi].node];
        let Some(node) = viewer.id.as_ref().filter(|_| !viewer.isolated) else {
            continue;
        };
        let list = per_list[d].get_or_insert_with(|| {
            disagreements_of(&lists.lists[d], seg_owner, segs)
                .into_iter()
                .map(|((its, cons), (ranges, its_epoch))| ViewDisagreement {
                    node: NodeId::from(""),
                    slots: ranges,
                    its_owner: its.and_then(|i| summaries[i].id.clone()),
                    consensus_owner: cons.and_then(|i| summaries[i].id.clone()),
                    its_owner_epoch: its_epoch,
                    consensus_owner_epoch: cons.map(|i| summaries[i].config_epoch),
                })
                .collect()
        });
        disagreements.extend(list.iter().map(|x| ViewDisagreement {
            node: node.clone(),
            ..x.clone()
        }));
    }
    disagreements
}

/// Ranges (merged) where one claim list names another owner than the consensus, grouped
/// by (its owner, consensus owner), with the epoch the list gives its owner.
fn disagreements_of(
    claims: &[Claim],
    seg_owner: &[Option<usize>],
    segs: &Segments,
) -> BTreeMap<OwnerPair, (Vec<SlotRange>, Option<u64>)> {
    let mut groups: BTreeMap<OwnerPair, (Vec<SlotRange>, Option<u64>)> = BTreeMap::new();
    segs.walk(claims, &mut |k, claim| {
        let its = claim.map(|c| c.owner);
        let cons = seg_owner[k];
        if its == cons {
            return;
        }
        let g = groups.entry((its, cons)).or_default();
        push_range(&mut g.0, segs.range(k));
        if g.1.is_none() {
            g.1 = claim.map(|c| c.epoch);
        }
    });
    groups
}

#[cfg(test)]
mod tests {
    use crate::cluster::model::testkit::*;

    #[test]
    fn identical_views_vote_with_their_weight_and_each_states_its_disagreement() {
        // Three replicas share one stale table (C claims 0-99), two masters another: the three
        // identical claim lists are kept once but still count three votes, and each of the
        // three viewers gets its own disagreement.
        let c_claims = "cccc 127.0.0.1:7002@17002 master - 0 100 9 connected 0-99 10923-16383";
        let a_short = "aaaa 127.0.0.1:7000@17000 master - 0 100 1 connected 100-5460";
        let stale = |me: &str| {
            table(
                "",
                &[&format!("{me} myself,slave aaaa 0 100 1 connected")],
                &[("c", c_claims), ("a", a_short)],
            )
        };
        let (x, y, z) = (
            stale("xxxx 127.0.0.1:7010@17010"),
            stale("yyyy 127.0.0.1:7011@17011"),
            stale("zzzz 127.0.0.1:7012@17012"),
        );
        let (a, b) = (table("a", &[], &[]), table("b", &[], &[]));
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7010", Ok(&x)),
            ("127.0.0.1:7011", Ok(&y)),
            ("127.0.0.1:7012", Ok(&z)),
        ]));
        // 3 votes for C against 2 for A: C wins 0-99, disputed.
        assert_eq!(owner_id(&m, 0), Some("cccc"));
        assert_eq!(ranges_in(&m, SlotState::Disputed), "0-99");
        let mut who: Vec<&str> = m.disagreements.iter().map(|d| d.node.as_str()).collect();
        who.sort_unstable();
        assert_eq!(who, ["aaaa", "bbbb"]);
        // One more fresh view tips the vote back to A; the three stale ones each disagree.
        let d = table(
            "",
            &["dddd 127.0.0.1:7003@17003 myself,slave aaaa 0 100 1 connected"],
            &[],
        );
        let e = table(
            "",
            &["eeee 127.0.0.1:7004@17004 myself,slave bbbb 0 100 2 connected"],
            &[],
        );
        let m = ClusterModel::build(&snapshot_from_texts(&[
            ("127.0.0.1:7000", Ok(&a)),
            ("127.0.0.1:7001", Ok(&b)),
            ("127.0.0.1:7003", Ok(&d)),
            ("127.0.0.1:7004", Ok(&e)),
            ("127.0.0.1:7010", Ok(&x)),
            ("127.0.0.1:7011", Ok(&y)),
            ("127.0.0.1:7012", Ok(&z)),
        ]));
        assert_eq!(owner_id(&m, 0), Some("aaaa"));
        let mut who: Vec<(&str, String)> = m
            .disagreements
            .iter()
            .map(|d| (d.node.as_str(), format_ranges(&d.slots)))
            .collect();
        who.sort_unstable();
        assert_eq!(
            who,
            [
                ("xxxx", "0-99".to_owned()),
                ("yyyy", "0-99".to_owned()),
                ("zzzz", "0-99".to_owned())
            ]
        );
        assert!(
            m.disagreements
                .iter()
                .all(|d| d.its_owner == Some(id("cccc"))
                    && d.its_owner_epoch == Some(9)
                    && d.consensus_owner == Some(id("aaaa")))
        );
    }
}
