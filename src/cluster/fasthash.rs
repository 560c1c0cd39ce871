//! Fast hashing for the model and the diagnosis: node ids and addresses are not chosen by an
//! attacker who could exploit collisions, and `SipHash` showed up first in their profiles.

use std::collections::HashMap;

use super::types::NodeId;

/// A small fast hasher (`FxHash`) for the id and address maps: keys are random hex ids and
/// addresses, not attacker-chosen, and `SipHash` dominated the build time.
#[derive(Default, Clone, Copy)]
pub(crate) struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut buf = [0u8; 8];
            buf[..chunk.len()].copy_from_slice(chunk);
            self.add(u64::from_le_bytes(buf));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// A node id as a map key, hashed on its first 16 bytes and length only: ids are random
/// hex (16 hex characters carry 64 bits), and a worst-case build looks up a million of
/// them. Equality still compares the whole id, so equal prefixes only cost speed.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdKey<'a>(pub(crate) &'a NodeId);

impl std::hash::Hash for IdKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let b = self.0.0.as_bytes();
        let mut buf = [0u8; 16];
        let n = b.len().min(16);
        buf[..n].copy_from_slice(&b[..n]);
        let (lo, hi) = buf.split_at(8);
        let word = |x: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(x);
            u64::from_le_bytes(w)
        };
        state.write_u64(word(lo));
        state.write_u64(word(hi) ^ b.len() as u64);
    }
}
