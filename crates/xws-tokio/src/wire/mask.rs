//! Unmasking client payloads (RFC 6455 §5.3), a word at a time.

/// Copies `masked` to the end of `out`, unmasked with `mask` from byte
/// `offset` of the frame's payload on.
pub(crate) fn append_unmasked(out: &mut Vec<u8>, masked: &[u8], mask: [u8; 4], offset: u64) {
    let start = out.len();
    out.extend_from_slice(masked);
    unmask(&mut out[start..], mask, offset);
}

fn unmask(bytes: &mut [u8], mask: [u8; 4], offset: u64) {
    let shift = (offset % 4) as usize;
    let key: [u8; 4] = std::array::from_fn(|i| mask[(shift + i) % 4]);
    let word = u64::from_ne_bytes([
        key[0], key[1], key[2], key[3], key[0], key[1], key[2], key[3],
    ]);
    let mut words = bytes.chunks_exact_mut(8);
    for chunk in &mut words {
        let value = u64::from_ne_bytes((&*chunk).try_into().expect("8 bytes")) ^ word;
        chunk.copy_from_slice(&value.to_ne_bytes());
    }
    // The remainder starts 8·n bytes in: the key lines up again.
    for (i, byte) in words.into_remainder().iter_mut().enumerate() {
        *byte ^= key[i % 4];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unmasks_from_any_offset_like_the_bytewise_rule() {
        let mask = [0x12, 0x34, 0x56, 0x78];
        let plain: Vec<u8> = (0..=255).collect();
        let masked: Vec<u8> = plain
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % 4])
            .collect();
        for split in [0, 1, 3, 7, 8, 13, 100] {
            let mut out = Vec::new();
            append_unmasked(&mut out, &masked[..split], mask, 0);
            append_unmasked(&mut out, &masked[split..], mask, split as u64);
            assert_eq!(out, plain, "split at {split}");
        }
    }
}
