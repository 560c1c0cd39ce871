//! Redis Cluster key → hash slot mapping (CRC16/XMODEM modulo 16384, with `{hash tags}`).
//!
//! The census counts scanned keys per slot with it; the lab routes keys to their owner and
//! builds keys that land in one chosen slot.

use crate::cluster::slots::{SLOT_COUNT, Slot};

/// CRC16/XMODEM (polynomial 0x1021, initial value 0, no reflection), the checksum Redis Cluster
/// uses for key hashing.
#[must_use]
pub fn crc16(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &byte in data {
        crc ^= u16::from(byte) << 8;
        for _ in 0..8 {
            crc = if crc & 0x8000 != 0 {
                (crc << 1) ^ 0x1021
            } else {
                crc << 1
            };
        }
    }
    crc
}

/// The part of a key that is hashed: the content of the first `{...}` if it is non-empty,
/// otherwise the whole key (the same rule as the server's `keyHashSlot`).
#[must_use]
pub fn hash_tag(key: &[u8]) -> &[u8] {
    if let Some(open) = key.iter().position(|&b| b == b'{') {
        let rest = &key[open + 1..];
        if let Some(close) = rest.iter().position(|&b| b == b'}')
            && close > 0
        {
            return &rest[..close];
        }
    }
    key
}

/// The hash slot of a key, as `CLUSTER KEYSLOT` computes it.
#[must_use]
pub fn key_slot(key: &[u8]) -> Slot {
    // SLOT_COUNT is a power of two, so the mask is the modulo.
    let mask = u16::try_from(SLOT_COUNT - 1).unwrap_or(u16::MAX);
    crc16(hash_tag(key)) & mask
}

/// A short hash tag (`t<i>`, without braces) whose keys all hash to `slot`.
///
/// Returns `None` only for a slot number outside `0..16384`.
#[must_use]
pub fn tag_for_slot(slot: Slot) -> Option<String> {
    if usize::from(slot) >= SLOT_COUNT {
        return None;
    }
    // Every slot is reached well before this bound (the tags are spread uniformly; the worst
    // slot needs about 150 000 candidates).
    (0..4_000_000u32)
        .map(|i| format!("t{i}"))
        .find(|tag| key_slot(tag.as_bytes()) == slot)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc16_reference_vector() {
        // The check value of CRC-16/XMODEM, also quoted in the Redis Cluster spec.
        assert_eq!(crc16(b"123456789"), 0x31C3);
    }

    #[test]
    fn known_slots() {
        // Values from `CLUSTER KEYSLOT` on a real server.
        assert_eq!(key_slot(b"foo"), 12182);
        assert_eq!(key_slot(b"bar"), 5061);
        assert_eq!(key_slot(b""), 0);
    }

    #[test]
    fn hash_tags_follow_the_server_rule() {
        assert_eq!(hash_tag(b"{user1000}.following"), b"user1000");
        assert_eq!(hash_tag(b"foo{}{bar}"), b"foo{}{bar}");
        assert_eq!(hash_tag(b"foo{{bar}}zap"), b"{bar");
        assert_eq!(hash_tag(b"foo{bar}{zap}"), b"bar");
        assert_eq!(hash_tag(b"{unclosed"), b"{unclosed");
        assert_eq!(
            key_slot(b"{user1000}.following"),
            key_slot(b"{user1000}.followers")
        );
    }

    #[test]
    fn tag_for_slot_hits_the_slot() {
        for slot in [0u16, 1, 5460, 5461, 12182, 16383] {
            let tag = tag_for_slot(slot).unwrap_or_default();
            assert_eq!(
                key_slot(format!("{{{tag}}}:k1").as_bytes()),
                slot,
                "slot {slot}"
            );
        }
        assert_eq!(tag_for_slot(16384), None);
    }
}
