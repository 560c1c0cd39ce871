//! The two sides of a slot migration, as one marker kind: the source holds a migrating marker
//! towards the target (`[S->-ID]`), the target an importing marker from the source
//! (`[S-<-ID]`). The words, the `CLUSTER SETSLOT` arguments and the [`Condition`] for a marker
//! are written once here and serve either side.

use crate::cluster::slots::Slot;
use crate::cluster::types::{MarkerKind, NodeId};

use super::Condition;

/// Words and commands for one side of a migration.
pub(crate) trait MarkerSide: Copy {
    /// `migrating` or `importing`.
    fn verb(self) -> &'static str;
    /// The word before the peer: `to` (the target) or `from` (the source).
    fn preposition(self) -> &'static str;
    /// The node holding the marker: `source` or `target`.
    fn role(self) -> &'static str;
    /// The `CLUSTER SETSLOT` sub-command that sets the marker: `MIGRATING` or `IMPORTING`.
    fn setslot_word(self) -> &'static str;
}

impl MarkerSide for MarkerKind {
    fn verb(self) -> &'static str {
        match self {
            Self::Migrating => "migrating",
            Self::Importing => "importing",
        }
    }

    fn preposition(self) -> &'static str {
        match self {
            Self::Migrating => "to",
            Self::Importing => "from",
        }
    }

    fn role(self) -> &'static str {
        match self {
            Self::Migrating => "source",
            Self::Importing => "target",
        }
    }

    fn setslot_word(self) -> &'static str {
        match self {
            Self::Migrating => "MIGRATING",
            Self::Importing => "IMPORTING",
        }
    }
}

/// `CLUSTER SETSLOT <slot> <sub-command…>`, e.g. `&["STABLE"]`.
pub(crate) fn setslot_args(slot: Slot, tail: &[&str]) -> Vec<String> {
    let mut args = vec!["CLUSTER".to_owned(), "SETSLOT".to_owned(), slot.to_string()];
    args.extend(tail.iter().map(|a| (*a).to_owned()));
    args
}

/// `CLUSTER SETSLOT <slot> MIGRATING|IMPORTING <peer>`: set a marker of `kind` with `peer`.
pub(crate) fn set_marker_args(kind: MarkerKind, slot: Slot, peer: &NodeId) -> Vec<String> {
    setslot_args(slot, &[kind.setslot_word(), peer.0.as_ref()])
}

impl Condition {
    /// `node` holds a marker of `kind` for `slot` with `peer` (its target or its source).
    #[must_use]
    pub(crate) fn slot_marked(kind: MarkerKind, slot: Slot, node: NodeId, peer: NodeId) -> Self {
        match kind {
            MarkerKind::Migrating => Self::SlotMigrating {
                slot,
                node,
                to: peer,
            },
            MarkerKind::Importing => Self::SlotImporting {
                slot,
                node,
                from: peer,
            },
        }
    }
}
