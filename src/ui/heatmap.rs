//! The slot heatmap: 16384 slots bucketed into half-block pixels.
//!
//! ```text
//!  slot  ▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀▀
//!     0  each cell = 2 pixels (fg = upper bucket, bg = lower bucket) in colour,
//!  4608  1 pixel with a state letter per cell in mono (NO_COLOR)
//! ```
//!
//! Bucketing is a pure function ([`bucket_worst`]): a bucket is a power-of-two run of slots and
//! shows the WORST value in it, so one uncovered slot is never averaged away.

use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier, Style};

use crate::cluster::slot_stats::{ClusterSlotStats, Metric};
use crate::cluster::slots::{SLOT_COUNT, Slot};
use crate::cluster::{ClusterModel, SlotState};

pub use crate::app::heat::{AXIS_WIDTH, HeatGrid, HeatMode, bucket_size};

use super::theme::Theme;

/// Bucket `values` into runs of `bucket` and keep the greatest (worst) value of each run.
/// The last bucket may be shorter. `bucket == 0` is treated as 1.
#[must_use]
pub fn bucket_worst<T: Ord + Copy>(values: &[T], bucket: usize) -> Vec<T> {
    values
        .chunks(bucket.max(1))
        .filter_map(|c| c.iter().copied().max())
        .collect()
}

/// Owner-mode value of a bucket. Ordered so that the worst wins: any unowned slot makes the
/// bucket unowned, two owners make it mixed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum OwnerCell {
    /// Every slot bound to this master (index into the master list of [`owner_legend`]).
    Owner(usize),
    /// Slots of several masters.
    Mixed,
    /// At least one slot bound to nobody.
    Unowned,
}

/// Owner buckets: the owner when every slot agrees, else `Mixed`, `Unowned` when any slot is.
#[must_use]
pub fn bucket_owners(owners: &[Option<usize>], bucket: usize) -> Vec<OwnerCell> {
    owners
        .chunks(bucket.max(1))
        .map(|c| {
            let mut acc: Option<OwnerCell> = None;
            for o in c {
                let v = match o {
                    None => OwnerCell::Unowned,
                    Some(i) => OwnerCell::Owner(*i),
                };
                acc = Some(match (acc, v) {
                    (None, v) => v,
                    (Some(OwnerCell::Unowned), _) | (_, OwnerCell::Unowned) => OwnerCell::Unowned,
                    (Some(OwnerCell::Owner(a)), OwnerCell::Owner(b)) if a == b => {
                        OwnerCell::Owner(a)
                    }
                    _ => OwnerCell::Mixed,
                });
            }
            acc.unwrap_or(OwnerCell::Unowned)
        })
        .collect()
}

/// Masters that own at least one slot in the consensus map, in model order: `(node index,
/// slot count)`. Their position in this list is their owner colour and letter.
#[must_use]
pub fn owner_legend(model: &ClusterModel) -> Vec<(usize, usize)> {
    let mut counts = vec![0usize; model.nodes.len()];
    for e in &model.slots {
        if let Some(i) = e.owner.and_then(|i| counts.get_mut(i as usize)) {
            *i += 1;
        }
    }
    counts
        .into_iter()
        .enumerate()
        .filter(|(_, c)| *c > 0)
        .collect()
}

/// Letter for owner number `i` in mono mode and the legend: `A`..`Z`, `a`..`z`, then `#`.
#[must_use]
pub fn owner_letter(i: usize) -> char {
    const L: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    L.get(i).map_or('#', |b| char::from(*b))
}

/// Keys per slot: exact counts where the model has them (open and uncovered slots), else the
/// owner's `keys / slots` average. `None` when nothing is known.
#[must_use]
pub fn slot_key_estimates(model: &ClusterModel) -> Vec<Option<u64>> {
    let mut owned = vec![0u64; model.nodes.len()];
    for e in &model.slots {
        if let Some(c) = e.owner.and_then(|i| owned.get_mut(i as usize)) {
            *c += 1;
        }
    }
    let avg: Vec<Option<u64>> = model
        .nodes
        .iter()
        .zip(&owned)
        .map(|(n, &c)| {
            let keys = n.info.as_ref().and_then(|i| i.keys)?;
            (c > 0).then(|| keys.div_ceil(c))
        })
        .collect();
    let mut out: Vec<Option<u64>> = model
        .slots
        .iter()
        .map(|e| e.owner.and_then(|i| avg.get(i as usize).copied().flatten()))
        .collect();
    for o in &model.open_slots {
        if let Some(v) = out.get_mut(usize::from(o.slot)) {
            *v = Some(o.keys.values().sum());
        }
    }
    for (slot, per) in &model.uncovered_keys {
        if let Some(v) = out.get_mut(usize::from(*slot)) {
            *v = Some(per.values().sum());
        }
    }
    out
}

/// Map a key count to a level `0..=4` against the maximum (log-ish).
#[must_use]
pub fn key_level(keys: Option<u64>, max: u64) -> u8 {
    match keys {
        None | Some(0) => 0,
        Some(k) if max == 0 => u8::from(k > 0),
        Some(k) => {
            let q = k.saturating_mul(4).div_ceil(max.max(1));
            u8::try_from(q.clamp(1, 4)).unwrap_or(4)
        }
    }
}

/// Shade glyphs for key levels in mono: ` ░▒▓█`.
pub const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

/// One pixel: its colour (colour modes), its glyph, and whether the glyph must be drawn in
/// colour modes too.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pixel {
    /// Colour in colour modes.
    pub color: Color,
    /// Glyph in mono mode (and in colour modes when `rank > 0`).
    pub glyph: char,
    /// 0 for a plain pixel (served, an owner, a key level: colour alone is enough); above 0
    /// for a state that keeps its glyph in every colour mode, higher is worse. Of the two
    /// pixels of a half-block cell, the one with the higher rank is drawn.
    pub rank: u8,
}

/// The rank of a slot state (see [`Pixel::rank`]): 0 for served, then by severity.
#[must_use]
pub fn state_rank(s: SlotState) -> u8 {
    match s {
        SlotState::Served => 0,
        SlotState::Migrating => 1,
        SlotState::Disputed => 2,
        SlotState::OwnerFailing => 3,
        SlotState::Uncovered => 4,
    }
}

/// Style of a cell that shows a state glyph in colour modes: the glyph in bold black on the
/// state's colour, so the block still reads as a colour and the letter reads without it.
#[must_use]
pub fn glyph_cell_style(color: Color, theme: &Theme) -> Style {
    if theme.is_mono() {
        Style::new().add_modifier(Modifier::BOLD)
    } else {
        Style::new()
            .fg(Color::Black)
            .bg(color)
            .add_modifier(Modifier::BOLD)
    }
}

/// Glyph for a slot state (mono and cursor): `.` served, letters otherwise.
#[must_use]
pub fn state_glyph(s: SlotState) -> char {
    s.letter()
}

/// Compute the pixels of a window in a mode.
#[must_use]
pub fn pixels(model: &ClusterModel, grid: &HeatGrid, mode: HeatMode, theme: &Theme) -> Vec<Pixel> {
    let end = (grid.start + grid.len).min(model.slots.len());
    let window = model.slots.get(grid.start..end).unwrap_or(&[]);
    match mode {
        HeatMode::Health => {
            let states: Vec<SlotState> = window.iter().map(|e| e.state).collect();
            bucket_worst(&states, grid.bucket)
                .into_iter()
                .map(|s| Pixel {
                    color: theme.heat_state(s),
                    glyph: state_glyph(s),
                    rank: state_rank(s),
                })
                .collect()
        }
        HeatMode::Owner => {
            let legend = owner_legend(model);
            let mut pos = vec![None; model.nodes.len()];
            for (k, (i, _)) in legend.iter().enumerate() {
                if let Some(p) = pos.get_mut(*i) {
                    *p = Some(k);
                }
            }
            let owners: Vec<Option<usize>> = window
                .iter()
                .map(|e| e.owner.and_then(|i| pos.get(i as usize).copied().flatten()))
                .collect();
            bucket_owners(&owners, grid.bucket)
                .into_iter()
                .map(|o| match o {
                    OwnerCell::Owner(k) => Pixel {
                        color: theme.heat_owner(k),
                        glyph: owner_letter(k),
                        rank: 0,
                    },
                    OwnerCell::Mixed => Pixel {
                        color: theme.heat_mixed(),
                        glyph: '+',
                        rank: 0,
                    },
                    OwnerCell::Unowned => Pixel {
                        color: theme.heat_state(SlotState::Uncovered),
                        glyph: state_glyph(SlotState::Uncovered),
                        rank: state_rank(SlotState::Uncovered),
                    },
                })
                .collect()
        }
        HeatMode::Keys | HeatMode::Cpu | HeatMode::Net => {
            let (all, max) = match per_slot(model, mode) {
                Some(Ok(t)) => (t.values, t.max),
                // Unavailable: an empty map (the legend says why).
                Some(Err(_)) => (vec![None; model.slots.len()], 0),
                None => {
                    let all = slot_key_estimates(model);
                    let max = all.iter().flatten().copied().max().unwrap_or(0);
                    (all, max)
                }
            };
            let win = all.get(grid.start..end).unwrap_or(&[]);
            let levels: Vec<u8> = win.iter().map(|k| key_level(*k, max)).collect();
            bucket_worst(&levels, grid.bucket)
                .into_iter()
                .map(|l| Pixel {
                    color: theme.heat_keys(l),
                    glyph: SHADES[usize::from(l.min(4))],
                    rank: 0,
                })
                .collect()
        }
    }
}

/// The per-slot stats of a level mode: `None` for keys without `CLUSTER SLOT-STATS` (the
/// census estimate is used), the table, or why the mode is unavailable.
#[must_use]
pub fn per_slot(model: &ClusterModel, mode: HeatMode) -> Option<Result<ClusterSlotStats, String>> {
    let metric = match mode {
        HeatMode::Keys => Metric::Keys,
        HeatMode::Cpu => Metric::Cpu,
        HeatMode::Net => Metric::Net,
        HeatMode::Health | HeatMode::Owner => return None,
    };
    match ClusterSlotStats::of(model, metric) {
        Err(_) if metric == Metric::Keys => None,
        r => Some(r),
    }
}

/// Paint pixels into the buffer: half blocks in colour, glyphs in mono. In colour, a cell
/// whose pixels include a state that is not plain (see [`Pixel::rank`]) shows the glyph of the
/// worse of its two pixels on that pixel's colour, so colour adds to the glyph and never
/// replaces it. The cursor bucket is drawn as its glyph, reversed and bold, in every mode.
pub fn paint(
    buf: &mut Buffer,
    grid: &HeatGrid,
    px: &[Pixel],
    cursor: Option<usize>,
    theme: &Theme,
) {
    let mono = theme.is_mono();
    let cols = grid.cols();
    for (b, p) in px.iter().enumerate() {
        let Some((x, y, upper)) = grid.cell_of(b) else {
            break;
        };
        let Some(cell) = buf.cell_mut((x, y)) else {
            continue;
        };
        if mono {
            cell.set_char(p.glyph).set_style(Style::new());
            continue;
        }
        if !upper {
            // Drawn with its upper pixel below.
            continue;
        }
        let lower = (grid.pixels_per_cell > 1)
            .then(|| px.get(b + cols))
            .flatten();
        let marked = match lower {
            Some(l) if l.rank > p.rank => Some(l),
            _ => (p.rank > 0).then_some(p),
        };
        if let Some(m) = marked {
            cell.set_char(m.glyph)
                .set_style(glyph_cell_style(m.color, theme));
        } else {
            // Without a lower bucket the lower half stays "empty" (reset).
            let bg = lower.map_or(Color::Reset, |l| l.color);
            cell.set_char('▀').set_fg(p.color).set_bg(bg);
        }
    }
    if let Some(c) = cursor
        && let (Some(p), Some((x, y, _))) = (px.get(c), grid.cell_of(c))
        && let Some(cell) = buf.cell_mut((x, y))
    {
        let glyph = if p.glyph == ' ' || p.glyph == '.' {
            '◆'
        } else {
            p.glyph
        };
        let fg = if mono { Color::Reset } else { p.color };
        cell.set_char(glyph).set_style(
            Style::new()
                .fg(fg)
                .bg(Color::Reset)
                .add_modifier(Modifier::REVERSED | Modifier::BOLD),
        );
    }
    if grid.axis {
        let cols = grid.cols();
        let ppc = usize::from(grid.pixels_per_cell);
        for row in 0..grid.map.height {
            let first_bucket = usize::from(row) * cols * ppc;
            if first_bucket >= px.len() {
                break;
            }
            let (slot, _) = grid.bucket_range(first_bucket);
            let label = format!("{slot:>5} ");
            buf.set_string(
                grid.map.x - AXIS_WIDTH,
                grid.map.y + row,
                label,
                theme.text_dim,
            );
        }
    }
}

/// The slot under the cursor clamped into a grid's window.
#[must_use]
pub fn clamp_slot(slot: usize) -> Slot {
    Slot::try_from(slot.min(SLOT_COUNT - 1)).unwrap_or(Slot::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ratatui::layout::Rect;

    const ALL: [SlotState; 5] = [
        SlotState::Served,
        SlotState::Migrating,
        SlotState::Disputed,
        SlotState::OwnerFailing,
        SlotState::Uncovered,
    ];

    #[test]
    fn severity_order_is_the_contract() {
        // uncovered > owner failing > disputed > migrating > served
        for w in ALL.windows(2) {
            assert!(w[0] < w[1], "{:?} !< {:?}", w[0], w[1]);
        }
    }

    #[test]
    fn worst_state_wins_for_every_pair_and_position() {
        for &a in &ALL {
            for &b in &ALL {
                for pos in 0..8 {
                    let mut v = vec![a; 8];
                    v[pos] = b;
                    assert_eq!(bucket_worst(&v, 8), vec![a.max(b)]);
                    assert_eq!(bucket_worst(&v, 4)[pos / 4], a.max(b));
                }
            }
        }
    }

    #[test]
    fn one_bad_slot_survives_the_full_map() {
        let mut v = vec![SlotState::Served; SLOT_COUNT];
        v[12_345] = SlotState::Uncovered;
        let b = bucket_size(SLOT_COUNT, 78 * 10);
        assert!(b.is_power_of_two());
        let out = bucket_worst(&v, b);
        assert_eq!(
            out.iter().filter(|s| **s == SlotState::Uncovered).count(),
            1
        );
        assert_eq!(out[12_345 / b], SlotState::Uncovered);
    }

    #[test]
    fn bucket_size_is_smallest_power_of_two() {
        assert_eq!(bucket_size(16_384, 16_384), 1);
        assert_eq!(bucket_size(16_384, 16_383), 2);
        assert_eq!(bucket_size(16_384, 780), 32);
        assert_eq!(bucket_size(256, 780), 1);
        assert_eq!(bucket_size(16_384, 0), 16_384);
    }

    #[test]
    fn owners_mixed_and_unowned() {
        let o = [
            Some(0),
            Some(0),
            Some(1),
            Some(1),
            Some(1),
            None,
            Some(2),
            Some(2),
        ];
        assert_eq!(
            bucket_owners(&o, 2),
            vec![
                OwnerCell::Owner(0),
                OwnerCell::Owner(1),
                OwnerCell::Unowned,
                OwnerCell::Owner(2)
            ]
        );
        assert_eq!(
            bucket_owners(&o, 4),
            vec![OwnerCell::Mixed, OwnerCell::Unowned]
        );
    }

    #[test]
    fn key_levels() {
        assert_eq!(key_level(None, 100), 0);
        assert_eq!(key_level(Some(0), 100), 0);
        assert_eq!(key_level(Some(1), 100), 1);
        assert_eq!(key_level(Some(100), 100), 4);
        assert_eq!(key_level(Some(50), 100), 2);
    }

    #[test]
    fn grid_geometry_roundtrip() {
        let g = HeatGrid::new(Rect::new(0, 0, 80, 5), 0, SLOT_COUNT, false);
        assert!(g.axis);
        assert_eq!(g.map.width, 74);
        assert!(g.buckets() <= 74 * 10);
        assert_eq!(g.bucket_of(0), Some(0));
        let (a, b) = g.bucket_range(1);
        assert_eq!((a, b), (g.bucket, 2 * g.bucket - 1));
        assert_eq!(g.cell_of(0), Some((6, 0, true)));
        assert_eq!(g.cell_of(74), Some((6, 0, false)));
        assert_eq!(g.cell_of(148), Some((6, 1, true)));
    }

    proptest! {
        #![proptest_config(crate::cluster::proptest_config(256, "tests/proptest-regressions/ui-heatmap.txt"))]
        #[test]
        fn bucket_worst_equals_max_of_chunk(v in proptest::collection::vec(0u8..5, 1..300), b in 1usize..64) {
            let out = bucket_worst(&v, b);
            prop_assert_eq!(out.len(), v.len().div_ceil(b));
            for (i, w) in out.iter().enumerate() {
                let chunk = &v[i * b..((i + 1) * b).min(v.len())];
                prop_assert_eq!(Some(*w), chunk.iter().copied().max());
            }
        }
    }
}
