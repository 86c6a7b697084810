//! Counter-based random streams (Philox2x32-10) for entities so numerous that their stream
//! state must be tiny: a million monitoring agents each drawing on every report.
//!
//! A ChaCha stream ([`super::rng::SimRng`]) has to keep its current 64-byte block, or
//! recompute a whole block per draw; a compact ChaCha cursor (the block and its position, 72
//! bytes) was most of a monitoring agent's state and the reason an agent took two cache lines. Philox is built to be evaluated at any counter:
//! word `i` of entity `e`'s stream is one application of the keyed bijection to the 64-bit
//! counter `(i, e)`, so an entity keeps only its position (and, to keep the evaluation off the
//! critical path, its next word): 16 bytes.
//!
//! Sources: J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers: as
//! easy as 1, 2, 3", SC 2011 (Philox2x32-10 passes TestU01's BigCrush; the Philox family is the
//! generator of cuRAND, NumPy's `Philox`, JAX and TensorFlow); the constants and the
//! known-answer vectors are those of the authors' Random123 library (`kat_vectors`), tested
//! below.

use super::rng::RngFactory;

const M: u32 = 0xD256_D193;
const W: u32 = 0x9E37_79B9;

/// Philox2x32 with 10 rounds: the 64-bit `counter` under the 32-bit `key`.
#[inline]
pub fn philox2x32_10(counter: [u32; 2], key: u32) -> [u32; 2] {
    let mut c = counter;
    let mut k = key;
    for round in 0..10 {
        if round > 0 {
            k = k.wrapping_add(W);
        }
        let p = M as u64 * c[0] as u64;
        c = [(p >> 32) as u32 ^ k ^ c[1], p as u32];
    }
    c
}

/// All counter-based streams of one purpose: a key derived from the run seed and the
/// purpose's name, as [`RngFactory::family`] derives ChaCha keys. Philox2x32's key is 32 bits:
/// two run seeds give one purpose the same streams with probability 2^-32.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterFamily {
    key: u32,
}

impl RngFactory {
    /// The counter-based streams of `purpose` (see [`CounterFamily`]).
    pub fn counter_family(&self, purpose: &str) -> CounterFamily {
        let k = self.key(purpose);
        CounterFamily {
            key: u32::from_le_bytes([k[0], k[1], k[2], k[3]]),
        }
    }
}

impl CounterFamily {
    /// A cursor at the start of `entity`'s stream.
    pub fn cursor(&self, entity: u32) -> CounterCursor {
        self.cursor_at(entity, 0)
    }

    /// A cursor at word `index` of `entity`'s stream (any word, in constant time).
    pub fn cursor_at(&self, entity: u32, index: u64) -> CounterCursor {
        CounterCursor {
            next: index,
            ahead: self.word(entity, index),
        }
    }

    /// Binds `entity`'s cursor (made by [`Self::cursor`]) to its stream, for drawing.
    #[inline]
    pub fn at<'a>(&'a self, entity: u32, cursor: &'a mut CounterCursor) -> CounterRng<'a> {
        CounterRng {
            fam: *self,
            entity,
            cursor,
        }
    }

    /// Word `index` of `entity`'s stream: Philox2x32-10 of the counter (index mod 2^32,
    /// entity) under the family's key with the index's upper 32 bits XORed in (so a stream
    /// runs on past 2^32 words without repeating).
    #[inline]
    fn word(&self, entity: u32, index: u64) -> u64 {
        let key = self.key ^ (index >> 32) as u32;
        let [w0, w1] = philox2x32_10([index as u32, entity], key);
        w0 as u64 | (w1 as u64) << 32
    }
}

/// One entity's position in its counter-based stream, 16 bytes: the index of its next word
/// and that word, computed one draw ahead. A draw returns the word at once and computes the
/// following one, whose result is not waited for until the entity's next draw: the ten
/// dependent multiplications of a Philox evaluation stay off the draw's critical path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterCursor {
    /// Index of the next 64-bit word of the stream.
    next: u64,
    /// Word `next` of the stream.
    ahead: u64,
}

/// A [`CounterCursor`] bound to its stream: a generator for `rand`'s distributions. The
/// stream is a sequence of 64-bit words; a 32-bit draw takes the low half of one.
pub struct CounterRng<'a> {
    fam: CounterFamily,
    entity: u32,
    cursor: &'a mut CounterCursor,
}

impl CounterRng<'_> {
    #[inline]
    fn word(&mut self) -> u64 {
        let w = self.cursor.ahead;
        let next = self.cursor.next.wrapping_add(1);
        self.cursor.next = next;
        self.cursor.ahead = self.fam.word(self.entity, next);
        w
    }
}

impl rand::TryRng for CounterRng<'_> {
    type Error = std::convert::Infallible;
    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        Ok(self.word() as u32)
    }
    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        Ok(self.word())
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        for chunk in dst.chunks_mut(8) {
            let w = self.word().to_le_bytes();
            chunk.copy_from_slice(&w[..chunk.len()]);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};

    /// Random123's `kat_vectors` with 10 rounds: counter, key, output.
    #[test]
    fn philox_known_answers() {
        let kat: [([u32; 2], u32, [u32; 2]); 3] = [
            ([0; 2], 0, [0xff1d_ae59, 0x6cd1_0df2]),
            ([u32::MAX; 2], u32::MAX, [0x2c3f_628b, 0xab4f_d7ad]),
            (
                [0x243f_6a88, 0x85a3_08d3],
                0x1319_8a2e,
                [0xdd7c_e038, 0xf62a_4c12],
            ),
        ];
        for (ctr, key, out) in kat {
            assert_eq!(philox2x32_10(ctr, key), out, "counter {ctr:08x?}");
        }
    }

    #[test]
    fn a_stream_is_its_counters_in_order_whatever_the_draw_sizes() {
        let fam = RngFactory::new(5).counter_family("monitoring.agent");
        let entity = 123_456;
        let mut cursor = fam.cursor(entity);
        let words: Vec<u64> = (0..5)
            .map(|_| fam.at(entity, &mut cursor).next_u64())
            .collect();
        for (i, w) in words.iter().enumerate() {
            let o = philox2x32_10([i as u32, entity], fam.key);
            assert_eq!(*w, o[0] as u64 | (o[1] as u64) << 32, "word {i}");
        }
        // A 32-bit draw uses one word: the same position as a 64-bit one.
        let mut c2 = fam.cursor(entity);
        assert_eq!(fam.at(entity, &mut c2).next_u32(), words[0] as u32);
        assert_eq!(fam.at(entity, &mut c2).next_u64(), words[1]);
        // Past 2^32 words the stream goes on under another key instead of repeating.
        let mut far = fam.cursor_at(entity, 1 << 32);
        assert_ne!(fam.at(entity, &mut far).next_u64(), words[0]);
    }

    #[test]
    fn streams_differ_by_entity_purpose_and_seed_and_look_uniform() {
        let draw = |f: CounterFamily, e: u32| {
            let mut c = f.cursor(e);
            (0..4)
                .map(|_| f.at(e, &mut c).next_u64())
                .collect::<Vec<_>>()
        };
        let f = RngFactory::new(1).counter_family("a");
        assert_ne!(draw(f, 1), draw(f, 2));
        assert_ne!(draw(f, 1), draw(RngFactory::new(1).counter_family("b"), 1));
        assert_ne!(draw(f, 1), draw(RngFactory::new(2).counter_family("a"), 1));
        assert_eq!(draw(f, 1), draw(f, 1));
        // 200,000 uniforms, across entities and along streams: their mean, the share below
        // one half, and the serial correlation of consecutive draws of one entity.
        let n = 200_000u32;
        let (mut sum, mut low, mut lag) = (0.0, 0u32, 0.0);
        for i in 0..n {
            let (e, k) = (i % 1000, (i / 1000) as u64);
            let u: f64 = f.at(e, &mut f.cursor_at(e, k)).random();
            let v: f64 = f.at(e, &mut f.cursor_at(e, k + 1)).random();
            sum += u;
            low += (u < 0.5) as u32;
            lag += (u - 0.5) * (v - 0.5);
        }
        let n = n as f64;
        let mean = sum / n;
        assert!((mean - 0.5).abs() < 0.003, "mean {mean}");
        let frac = low as f64 / n;
        assert!((frac - 0.5).abs() < 0.005, "below one half: {frac}");
        let corr = lag / n * 12.0;
        assert!(corr.abs() < 0.01, "lag-1 correlation {corr}");
    }
}
