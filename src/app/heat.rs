//! The heatmap's window and geometry: what it colours by ([`HeatMode`]) and how a window of
//! slots maps onto the cells of an area ([`HeatGrid`]). Pure; cursor movement and drawing
//! share it, so a key moves the cursor by exactly one drawn pixel.

use ratatui::layout::Rect;

use crate::cluster::slots::SLOT_COUNT;

/// What the heatmap colours by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HeatMode {
    /// Slot state (served / migrating / disputed / owner failing / uncovered).
    #[default]
    Health,
    /// Consensus owner (one colour per master, with a legend).
    Owner,
    /// Keys per slot (exact where counted, else the owner's average).
    Keys,
    /// CPU time per slot (`CLUSTER SLOT-STATS`, Valkey 8+ / Redis 8.2+).
    Cpu,
    /// Network bytes in and out per slot (`CLUSTER SLOT-STATS`).
    Net,
}

impl HeatMode {
    /// The next mode in the `m` cycle.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::Health => Self::Owner,
            Self::Owner => Self::Keys,
            Self::Keys => Self::Cpu,
            Self::Cpu => Self::Net,
            Self::Net => Self::Health,
        }
    }

    /// Name shown in the pane title.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::Health => "health",
            Self::Owner => "owner",
            Self::Keys => "keys",
            Self::Cpu => "cpu",
            Self::Net => "net",
        }
    }
}

/// Smallest power-of-two bucket size such that `len` slots fit in `pixels` buckets.
#[must_use]
pub fn bucket_size(len: usize, pixels: usize) -> usize {
    let mut b = 1usize;
    while pixels > 0 && len.div_ceil(b) > pixels {
        b *= 2;
    }
    if pixels == 0 { len.max(1) } else { b }
}

/// The geometry of the heatmap inside its area, shared by drawing and cursor movement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeatGrid {
    /// Where the pixels are drawn (the axis, if any, is left of it).
    pub map: Rect,
    /// Pixels per cell: 2 with colour (half blocks), 1 in mono.
    pub pixels_per_cell: u16,
    /// First slot of the window.
    pub start: usize,
    /// Slots in the window (a power of two).
    pub len: usize,
    /// Slots per pixel (a power of two).
    pub bucket: usize,
    /// Whether a slot axis is drawn on the left.
    pub axis: bool,
}

/// Width of the slot axis left of the map.
pub const AXIS_WIDTH: u16 = 6;

impl HeatGrid {
    /// Compute the grid for an area and a window. `mono` selects one pixel per cell.
    #[must_use]
    pub fn new(area: Rect, start: usize, len: usize, mono: bool) -> Self {
        let axis = area.width >= 40;
        let map = if axis {
            Rect {
                x: area.x + AXIS_WIDTH,
                width: area.width - AXIS_WIDTH,
                ..area
            }
        } else {
            area
        };
        let pixels_per_cell = if mono { 1 } else { 2 };
        let pixels =
            usize::from(map.width) * usize::from(map.height) * usize::from(pixels_per_cell);
        let len = len.clamp(1, SLOT_COUNT);
        let start = start.min(SLOT_COUNT - len);
        let bucket = bucket_size(len, pixels);
        Self {
            map,
            pixels_per_cell,
            start,
            len,
            bucket,
            axis,
        }
    }

    /// Number of buckets (pixels in use).
    #[must_use]
    pub fn buckets(&self) -> usize {
        self.len.div_ceil(self.bucket)
    }

    /// Pixels per pixel-row.
    #[must_use]
    pub fn cols(&self) -> usize {
        usize::from(self.map.width).max(1)
    }

    /// Bucket index of a slot, if it is inside the window.
    #[must_use]
    pub fn bucket_of(&self, slot: usize) -> Option<usize> {
        (slot >= self.start && slot < self.start + self.len)
            .then(|| (slot - self.start) / self.bucket)
    }

    /// Slot range `[first, last]` of a bucket.
    #[must_use]
    pub fn bucket_range(&self, b: usize) -> (usize, usize) {
        let first = self.start + b * self.bucket;
        let last = (first + self.bucket - 1).min(self.start + self.len - 1);
        (first, last)
    }

    /// The first slot of the bucket drawn in cell `(x, y)` (its upper half, in colour),
    /// if a bucket is drawn there.
    #[must_use]
    pub fn slot_at(&self, x: u16, y: u16) -> Option<usize> {
        if !self.map.contains(ratatui::layout::Position::new(x, y)) {
            return None;
        }
        let px = usize::from(x - self.map.x);
        let py = usize::from(y - self.map.y) * usize::from(self.pixels_per_cell);
        let b = py * self.cols() + px;
        (b < self.buckets()).then(|| self.bucket_range(b).0)
    }

    /// Cell position and half (true = upper) of a bucket.
    #[must_use]
    pub fn cell_of(&self, b: usize) -> Option<(u16, u16, bool)> {
        let cols = self.cols();
        let px = b % cols;
        let py = b / cols;
        let ppc = usize::from(self.pixels_per_cell);
        let row = py / ppc;
        let upper = py.is_multiple_of(ppc);
        let x = u16::try_from(px).ok()?;
        let y = u16::try_from(row).ok()?;
        (y < self.map.height).then_some((self.map.x + x, self.map.y + y, upper))
    }
}
