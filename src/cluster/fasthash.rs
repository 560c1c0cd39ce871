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
        // The multiply leaves a word's high bytes only in the high bits, and the maps pick
        // buckets from the low ones: ids that differ only in their last characters would
        // share buckets. A final mix (MurmurHash3's) spreads every bit over the result.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

pub(crate) type FxMap<K, V> = HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;

/// A node id as a map key, hashed on all its bytes in 8-byte words (a 40-character id is five
/// multiply-rotate rounds). The whole id counts: a node may announce ids that share a long
/// prefix (a simulator's `0000…0001`, or a hostile node), and hashing a prefix only made a
/// 1000-node build compare every id with every other (seconds of CPU instead of milliseconds).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct IdKey<'a>(pub(crate) &'a NodeId);

impl std::hash::Hash for IdKey<'_> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        let b = self.0.0.as_bytes();
        let mut chunks = b.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            state.write_u64(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        let mut w = [0u8; 8];
        w[..rest.len()].copy_from_slice(rest);
        state.write_u64(u64::from_le_bytes(w) ^ ((b.len() as u64) << 56));
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::hash::{BuildHasher, BuildHasherDefault};

    use super::{FxHasher, IdKey};
    use crate::cluster::types::NodeId;

    /// Ids that differ only in their last characters (as a simulator's or a hostile node's
    /// may) must land in different buckets: the maps index buckets by the hash's low bits.
    #[test]
    fn ids_sharing_a_long_prefix_spread_over_buckets() {
        let build = BuildHasherDefault::<FxHasher>::default();
        let ids: Vec<NodeId> = (1..=1024)
            .map(|i| NodeId(format!("{i:040}").into()))
            .collect();
        let low_bits: HashSet<u64> = ids
            .iter()
            .map(|id| build.hash_one(IdKey(id)) & 1023)
            .collect();
        // Random hashing fills about 63 % of 1024 buckets; a prefix-only hash fills one.
        assert!(low_bits.len() > 500, "{} buckets used", low_bits.len());
        let real: HashSet<u64> = [
            "07c37dfeb235213a872192d90877d0cd55635b91",
            "07c37dfeb235213a872192d90877d0cd55635b92",
        ]
        .iter()
        .map(|s| build.hash_one(IdKey(&NodeId((*s).into()))))
        .collect();
        assert_eq!(real.len(), 2);
    }
}
