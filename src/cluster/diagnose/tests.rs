//! Unit tests of the diagnosis on hand-built models.
use super::*;
