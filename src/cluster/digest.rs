//! Stable digests for ids that leave the process (finding ids, cluster ids in audit records
//! and file names): 64-bit FNV-1a, tiny, fixed forever and the same on every platform. Not a
//! defence against anyone choosing inputs; only a short name for a set of facts.

use super::types::NodeId;

/// An FNV-1a 64-bit digest being built.
pub(crate) struct Fnv(u64);

impl Fnv {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;

    pub(crate) fn new() -> Self {
        Self(Self::OFFSET)
    }

    pub(crate) fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(Self::PRIME);
        }
    }

    /// A field, followed by a separator that no field contains, so `ab`,`c` ≠ `a`,`bc`.
    pub(crate) fn field(&mut self, text: &str) {
        self.write(text.as_bytes());
        self.write(&[0]);
    }

    /// The digest as 16 lower-case hex digits.
    pub(crate) fn hex(&self) -> String {
        format!("{:016x}", self.0)
    }
}

/// A cluster's identity: the digest of its node ids, sorted (16 hex digits). The same set of
/// nodes gives the same id from any seed; adding or forgetting a node gives a new one.
#[must_use]
pub fn cluster_id<'a>(ids: impl IntoIterator<Item = &'a NodeId>) -> String {
    let mut ids: Vec<&str> = ids.into_iter().map(|i| &*i.0).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut h = Fnv::new();
    for id in ids {
        h.field(id);
    }
    h.hex()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cluster_id_ignores_order_and_repeats() {
        let a = NodeId("aaa".into());
        let b = NodeId("bbb".into());
        assert_eq!(cluster_id([&a, &b]), cluster_id([&b, &a, &b]));
        assert_ne!(cluster_id([&a, &b]), cluster_id([&a]));
        // Fixed forever: audit files are named after it.
        assert_eq!(cluster_id([&a, &b]), {
            let mut h = Fnv::new();
            h.field("aaa");
            h.field("bbb");
            h.hex()
        });
        assert_eq!(cluster_id(std::iter::empty()), "cbf29ce484222325");
    }
}
