//! Entity ids and the sequence numbers that end every event key.
//!
//! Models reserve ranges of entity ids from the scheduler, so ids never collide. An event's key
//! is (time, entity, sequence), the sequence being the count of the entity's events scheduled
//! before it: the explicit tie-breaker that makes simultaneous events of one entity fire in the
//! order they were scheduled. The scheduler keeps the counters in a table indexed by entity,
//! except for ranges whose model keeps them itself ([`Seq`]) in state its events touch anyway:
//! at ten million agents the table is 40 MB, and every report would read it at a random place.
//! The keys are the same either way.

use super::queue::EntityId;

/// A range of entity ids reserved with [`super::Scheduler::alloc_entities`].
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EntityRange {
    pub start: u32,
    pub len: u32,
}

impl EntityRange {
    /// The `i`-th entity of the range.
    pub fn get(&self, i: u32) -> EntityId {
        assert!(
            i < self.len,
            "entity index {i} outside range of {}",
            self.len
        );
        EntityId(self.start + i)
    }
    pub fn contains(&self, e: EntityId) -> bool {
        e.0 >= self.start && e.0 - self.start < self.len
    }
    /// Index of `e` within the range, if it belongs to it.
    pub fn index_of(&self, e: EntityId) -> Option<u32> {
        self.contains(e).then(|| e.0 - self.start)
    }
}

/// The sequence counter of one entity, kept in its model's state instead of the scheduler's
/// table (entities from [`super::Scheduler::alloc_entities_own_seq`], scheduled with
/// [`super::Scheduler::post_at_seq`] and [`super::Scheduler::schedule_at_seq`]). A model whose
/// every event touches its entity's state anyway (an agent's report) saves the table's random
/// access per event.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Seq(u32);

impl Seq {
    /// The next sequence number.
    #[inline]
    pub(super) fn take(&mut self) -> u64 {
        let s = self.0;
        self.0 = s.wrapping_add(1);
        s as u64
    }
}

/// The entity ids handed out so far and the scheduler's table of sequence counters.
#[derive(Default)]
pub(super) struct Sequences {
    next_entity: u32,
    /// Counter per entity, except the entities of `own`: entity `e`'s is at `e` less the size
    /// of the `own` ranges below it (see [`Self::table_index`]). It grows to an entity's place
    /// the first time the entity schedules, within room reserved when its range is allocated.
    table: Vec<u32>,
    /// How many entities the table is for: those allocated so far without their own counters.
    table_entities: usize,
    /// Ranges whose models keep their counters, in allocation order.
    own: Vec<EntityRange>,
}

impl Sequences {
    /// Reserves `n` consecutive entity ids; their counters are the model's when `own`.
    pub(super) fn alloc(&mut self, n: u32, own: bool) -> EntityRange {
        let start = self.next_entity;
        self.next_entity = start
            .checked_add(n)
            .expect("more than 2^32 entities allocated");
        let r = EntityRange { start, len: n };
        if own {
            if n > 0 {
                self.own.push(r);
            }
        } else {
            // Room for the whole range now, while models are still being built and the table
            // holds little. Grown from each model's first event on instead, at ten million VMs
            // the lifecycle's events filled it to 40 MB, and the monitoring model's first
            // events copied those live counters into a block twice the size. Reserving touches
            // no memory, so an entity that never schedules still costs none; it doubles like
            // any `Vec` (ranges of one entity at a time stay cheap), and entities scheduled
            // without a range (tests do) only make the table longer.
            self.table_entities += n as usize;
            self.table
                .reserve(self.table_entities.saturating_sub(self.table.len()));
        }
        r
    }

    /// Where entity `e`'s counter is in the table; `None` if its model keeps it.
    #[inline]
    fn table_index(&self, e: EntityId) -> Option<usize> {
        let mut i = e.0;
        for r in &self.own {
            if e.0 < r.start {
                break;
            }
            if e.0 - r.start < r.len {
                return None;
            }
            i -= r.len;
        }
        Some(i as usize)
    }

    /// The next sequence number of `entity` from the table. Panics if its model keeps it.
    #[inline]
    pub(super) fn take(&mut self, entity: EntityId) -> u64 {
        let Some(e) = self.table_index(entity) else {
            panic!(
                "{entity:?} keeps its own sequence numbers: schedule with post_at_seq or schedule_at_seq"
            );
        };
        if e >= self.table.len() {
            self.table.resize(e + 1, 0);
        }
        let seq = self.table[e];
        self.table[e] = seq.wrapping_add(1);
        seq as u64
    }

    /// Whether `entity`'s model keeps its counter.
    pub(super) fn is_own(&self, entity: EntityId) -> bool {
        self.table_index(entity).is_none()
    }

    /// Starts loading `entity`'s counter in the table, if it has one there (a cache hint:
    /// a periodic timer's entity will schedule again when it fires).
    #[inline]
    pub(super) fn prefetch(&self, entity: EntityId) {
        if let Some(q) = self.table_index(entity).and_then(|i| self.table.get(i)) {
            super::hint::prefetch(q);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ranges of either kind interleaved: the table holds the others' entities only, each
    /// counting from 0.
    #[test]
    fn kept_ranges_take_no_room_in_the_table() {
        let mut s = Sequences::default();
        let ranges: Vec<_> = [(3, false), (5, true), (2, false), (4, true), (3, false)]
            .into_iter()
            .map(|(n, own)| (s.alloc(n, own), own))
            .collect();
        // The allocations reserved the table's room: taking never moves it.
        assert!(s.table.is_empty() && s.table.capacity() >= 3 + 2 + 3);
        let room = s.table.as_ptr();
        for round in 0..2 {
            for &(r, own) in &ranges {
                for i in 0..r.len {
                    assert_eq!(s.is_own(r.get(i)), own);
                    if !own {
                        assert_eq!(s.take(r.get(i)), round);
                    }
                }
            }
        }
        assert_eq!(s.table.len(), 3 + 2 + 3);
        assert_eq!(s.table.as_ptr(), room);
        let mut kept = Seq::default();
        assert_eq!((kept.take(), kept.take()), (0, 1));
    }

    #[test]
    #[should_panic(expected = "keeps its own sequence numbers")]
    fn a_model_kept_entity_cannot_use_the_table() {
        let mut s = Sequences::default();
        s.alloc(2, false);
        let kept = s.alloc(3, true);
        s.take(kept.get(1));
    }
}
