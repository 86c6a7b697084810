//! One draw's generator ([`super::rng::StreamFamily::draw`]): the ChaCha8 words of an entity's
//! stream from a block position, computed one 64-byte block at a time.
//!
//! The lifecycle takes a fresh generator for every draw (a VM keeps only a draw counter).
//! Through `rand_chacha` that meant setting up its whole state and computing four blocks (256
//! bytes, its buffer) for a draw that reads one or two words: in the creation phase of
//! scale-10m that setup and refill were 13% of the engine's thread. This is the same keystream
//! (D. J. Bernstein, "ChaCha, a variant of Salsa20", 2008, with 8 rounds, a 64-bit block counter
//! and a 64-bit stream number, as `rand_chacha::ChaCha8Rng` lays them out) and the same order of
//! words for 32-bit, 64-bit and byte draws: the tests compare it with `rand_chacha` word for
//! word, so results do not change.

/// ChaCha's constant, "expand 32-byte k".
const SIGMA: [u32; 4] = [0x6170_7865, 0x3320_646e, 0x7962_2d32, 0x6b20_6574];

/// The words of one ChaCha8 stream from a block position.
#[derive(Clone, Debug)]
pub struct DrawRng {
    /// Constants, key, block counter (words 12-13), stream number (words 14-15).
    input: [u32; 16],
    /// The current block's words, and the next one to hand out (16: none left).
    block: [u32; 16],
    next: usize,
}

impl DrawRng {
    /// The stream `stream` under `key` (read as eight little-endian words, as `rand_chacha`
    /// does), from block `block`.
    pub(super) fn new(key: &[u8; 32], stream: u64, block: u64) -> Self {
        let mut input = [0u32; 16];
        input[..4].copy_from_slice(&SIGMA);
        for (w, b) in input[4..12].iter_mut().zip(key.chunks_exact(4)) {
            *w = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
        input[12] = block as u32;
        input[13] = (block >> 32) as u32;
        input[14] = stream as u32;
        input[15] = (stream >> 32) as u32;
        DrawRng {
            input,
            block: [0; 16],
            next: 16,
        }
    }

    /// Computes the block at the counter and moves the counter on.
    fn refill(&mut self) {
        chacha8_block(&self.input, &mut self.block);
        let counter = (u64::from(self.input[13]) << 32 | u64::from(self.input[12])).wrapping_add(1);
        self.input[12] = counter as u32;
        self.input[13] = (counter >> 32) as u32;
        self.next = 0;
    }

    #[inline]
    fn word(&mut self) -> u32 {
        if self.next == 16 {
            self.refill();
        }
        let w = self.block[self.next];
        self.next += 1;
        w
    }
}

#[inline(always)]
fn quarter_round(x: &mut [u32; 16], a: usize, b: usize, c: usize, d: usize) {
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(16);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(12);
    x[a] = x[a].wrapping_add(x[b]);
    x[d] = (x[d] ^ x[a]).rotate_left(8);
    x[c] = x[c].wrapping_add(x[d]);
    x[b] = (x[b] ^ x[c]).rotate_left(7);
}

/// The ChaCha block function with 8 rounds (4 double rounds).
fn chacha8_block(input: &[u32; 16], out: &mut [u32; 16]) {
    let mut x = *input;
    for _ in 0..4 {
        quarter_round(&mut x, 0, 4, 8, 12);
        quarter_round(&mut x, 1, 5, 9, 13);
        quarter_round(&mut x, 2, 6, 10, 14);
        quarter_round(&mut x, 3, 7, 11, 15);
        quarter_round(&mut x, 0, 5, 10, 15);
        quarter_round(&mut x, 1, 6, 11, 12);
        quarter_round(&mut x, 2, 7, 8, 13);
        quarter_round(&mut x, 3, 4, 9, 14);
    }
    for ((o, x), i) in out.iter_mut().zip(x).zip(input) {
        *o = x.wrapping_add(*i);
    }
}

impl rand::TryRng for DrawRng {
    type Error = std::convert::Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.word())
    }
    /// Two consecutive words, the first in the low half (as `rand_chacha`).
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let lo = self.word();
        let hi = self.word();
        Ok(u64::from(hi) << 32 | u64::from(lo))
    }
    /// Consecutive words, little-endian; a partial last word is used up (as `rand_chacha`).
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(4) {
            let w = self.word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn pair(key: [u8; 32], stream: u64, word_pos: u128) -> (DrawRng, ChaCha8Rng) {
        let mut reference = ChaCha8Rng::from_seed(key);
        reference.set_stream(stream);
        reference.set_word_pos(word_pos);
        let ours = DrawRng::new(&key, stream, (word_pos / 16) as u64);
        (ours, reference)
    }

    #[test]
    fn the_same_words_as_rand_chacha_however_they_are_drawn() {
        // Mixed 32-bit, 64-bit and byte draws of odd lengths cross the 16-word blocks of ours
        // and the 64-word buffer of rand_chacha at every offset.
        let mut pick = ChaCha8Rng::seed_from_u64(7);
        for case in 0..200u64 {
            let mut key = [0u8; 32];
            pick.fill_bytes(&mut key);
            let stream = if case % 3 == 0 { case } else { pick.next_u64() };
            let word_pos = u128::from(pick.next_u64() >> 8) * 64;
            let (mut ours, mut reference) = pair(key, stream, word_pos);
            for step in 0..300 {
                match pick.next_u32() % 3 {
                    0 => assert_eq!(ours.next_u32(), reference.next_u32(), "{case}/{step}"),
                    1 => assert_eq!(ours.next_u64(), reference.next_u64(), "{case}/{step}"),
                    _ => {
                        let n = (pick.next_u32() % 23) as usize;
                        let (mut a, mut b) = (vec![0u8; n], vec![0u8; n]);
                        ours.fill_bytes(&mut a);
                        reference.fill_bytes(&mut b);
                        assert_eq!(a, b, "{case}/{step}: {n} bytes");
                    }
                }
            }
        }
    }

    #[test]
    fn the_block_counter_carries_into_its_high_word() {
        let key = [3u8; 32];
        let (mut ours, mut reference) = pair(key, 9, (u128::from(u32::MAX) - 1) * 16);
        for _ in 0..64 {
            assert_eq!(ours.next_u64(), reference.next_u64());
        }
    }
}
