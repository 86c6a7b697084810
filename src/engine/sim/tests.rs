//! The scheduler and the run loop: tests.

use super::*;

/// Records the order in which events fire.
struct Recorder {
    log: Vec<(u64, u32, u32)>,
}
impl Model for Recorder {
    type Event = u32;
    fn handle(&mut self, s: &mut Scheduler<u32>, e: EntityId, ev: u32) {
        self.log.push((s.now().as_nanos(), e.0, ev));
    }
}

fn run(kind: FelKind, plan: &[(u64, u32, u32)]) -> Vec<(u64, u32, u32)> {
    let mut s = Scheduler::with_fel(kind);
    for &(t, e, v) in plan {
        s.schedule_at(SimTime(t), EntityId(e), v);
    }
    let mut m = Recorder { log: vec![] };
    s.run_until(&mut m, SimTime::MAX, &mut RunControl::none());
    m.log
}

#[test]
fn order_is_time_then_entity_then_sequence() {
    let plan = [
        (10, 2, 0),
        (5, 9, 1),
        (10, 1, 2),
        (10, 2, 3),
        (5, 3, 4),
        (10, 1, 5),
    ];
    let expect = vec![
        (5, 3, 4),
        (5, 9, 1),
        (10, 1, 2),
        (10, 1, 5),
        (10, 2, 0),
        (10, 2, 3),
    ];
    for kind in FelKind::ALL {
        assert_eq!(run(kind, &plan), expect, "{kind:?}");
    }
}

#[test]
fn simultaneous_order_does_not_depend_on_insertion_order_across_entities() {
    let a = [(7, 1, 10), (7, 2, 20), (7, 0, 30)];
    let b = [(7, 2, 20), (7, 0, 30), (7, 1, 10)];
    for kind in FelKind::ALL {
        assert_eq!(run(kind, &a), run(kind, &b));
    }
}

#[test]
fn cancel_and_post() {
    for kind in FelKind::ALL {
        let mut s = Scheduler::with_fel(kind);
        let a = s.schedule_at(SimTime(10), EntityId(0), 1);
        let b = s.schedule_at(SimTime(20), EntityId(0), 2);
        s.post_at(SimTime(5), EntityId(1), 3);
        assert_eq!(s.pending(), 3);
        assert!(s.cancel(b));
        assert!(!s.cancel(b), "double cancel is a no-op");
        assert!(!s.is_pending(b));
        let mut m = Recorder { log: vec![] };
        s.run_until(&mut m, SimTime(100), &mut RunControl::none());
        assert_eq!(m.log, vec![(5, 1, 3), (10, 0, 1)]);
        assert!(!s.is_pending(a));
        assert!(!s.cancel(a), "cancel after firing is a no-op");
        assert_eq!(s.pending(), 0);
        assert_eq!(s.now(), SimTime(100));
    }
}

#[test]
fn stale_handle_does_not_cancel_reused_slot() {
    let mut s: Scheduler<u32> = Scheduler::new();
    let a = s.schedule_at(SimTime(1), EntityId(0), 1);
    s.cancel(a);
    let b = s.schedule_at(SimTime(2), EntityId(0), 2); // reuses a's slot
    assert!(!s.cancel(a));
    assert!(s.is_pending(b));
}

#[test]
fn horizon_is_inclusive_and_later_events_wait() {
    let mut s = Scheduler::new();
    s.schedule_at(SimTime(10), EntityId(0), 1u32);
    s.schedule_at(SimTime(11), EntityId(0), 2);
    let mut m = Recorder { log: vec![] };
    let out = s.run_until(&mut m, SimTime(10), &mut RunControl::none());
    assert_eq!(out.events, 1);
    assert_eq!(s.pending(), 1);
    s.run_until(&mut m, SimTime(20), &mut RunControl::none());
    assert_eq!(m.log.len(), 2);
}

#[test]
fn mass_cancellation_compacts_the_heap() {
    let mut s: Scheduler<u32> = Scheduler::new();
    let hs: Vec<_> = (0..20_000)
        .map(|i| s.schedule_at(SimTime(1000 + i), EntityId(i as u32), 0))
        .collect();
    for h in &hs[..19_000] {
        s.cancel(*h);
    }
    assert_eq!(s.pending(), 1000);
    assert!(s.fel.len() < 10_000, "stale entries should be compacted");
    let mut m = Recorder { log: vec![] };
    s.run_until(&mut m, SimTime::MAX, &mut RunControl::none());
    assert_eq!(m.log.len(), 1000);
    assert_eq!(m.log[0].1, 19_000);
}

/// Every key an entity's model-kept counter gives is the key the scheduler's table would
/// have given: the same events scheduled through both, entity ranges of either kind
/// interleaved (so the table's index skips the model-kept ranges below it), same-instant
/// repeats (so the sequence numbers decide), cancellable and not. (The table itself:
/// `entities.rs`.)
#[test]
fn model_kept_sequences_give_the_keys_of_the_table() {
    // Ranges in allocation order: table, kept, table, kept, table.
    let sizes = [3u32, 5, 2, 4, 3];
    let kept = |r: usize| r % 2 == 1;
    let mut plain = Scheduler::<u32>::new();
    let mut mixed = Scheduler::<u32>::new();
    let mut ranges = Vec::new();
    for (r, &n) in sizes.iter().enumerate() {
        let a = plain.alloc_entities(n);
        let b = if kept(r) {
            mixed.alloc_entities_own_seq(n)
        } else {
            mixed.alloc_entities(n)
        };
        assert_eq!(a, b, "the same ids either way");
        ranges.push(b);
    }
    let mut seqs: Vec<Vec<Seq>> = sizes
        .iter()
        .map(|&n| vec![Seq::default(); n as usize])
        .collect();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    for ev in 0..600u32 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let r = (x % sizes.len() as u64) as usize;
        let i = ((x >> 8) % sizes[r] as u64) as u32;
        let at = SimTime((x >> 16) % 4); // four instants: many repeats per entity
        let e = ranges[r].get(i);
        let cancellable = (x >> 20).is_multiple_of(3);
        match (kept(r), cancellable) {
            (false, false) => mixed.post_at(at, e, ev),
            (false, true) => {
                mixed.schedule_at(at, e, ev);
            }
            (true, false) => mixed.post_at_seq(at, e, &mut seqs[r][i as usize], ev),
            (true, true) => {
                mixed.schedule_at_seq(at, e, &mut seqs[r][i as usize], ev);
            }
        }
        if cancellable {
            plain.schedule_at(at, e, ev);
        } else {
            plain.post_at(at, e, ev);
        }
    }
    let drain = |s: &mut Scheduler<u32>| {
        std::iter::from_fn(|| s.fel.pop().map(|e| (e.time, e.tie, e.payload))).collect::<Vec<_>>()
    };
    assert_eq!(drain(&mut mixed), drain(&mut plain));
}

#[test]
fn observer_can_stop_the_run() {
    struct Forever;
    impl Model for Forever {
        type Event = ();
        fn handle(&mut self, s: &mut Scheduler<()>, e: EntityId, _: ()) {
            s.schedule_in(SimDuration::from_secs(1), e, ());
        }
    }
    let mut s = Scheduler::new();
    s.schedule_at(SimTime::ZERO, EntityId(0), ());
    let mut seen = 0;
    let mut obs = |p: Progress| {
        seen = p.events;
        p.events < 100
    };
    let out = s.run_until(
        &mut Forever,
        SimTime::from_secs(1_000_000),
        &mut RunControl::every(10, &mut obs),
    );
    assert!(out.interrupted);
    assert_eq!(out.events, 100);
    assert_eq!(seen, 100);
}

#[test]
#[should_panic(expected = "event scheduled in the past (t=1s < t=2s)")]
fn scheduling_in_the_past_is_a_model_bug() {
    let mut s: Scheduler<u32> = Scheduler::new();
    s.schedule_at(SimTime(2_000_000_000), EntityId(0), 0);
    s.pop_due(SimTime::MAX);
    s.post_at(SimTime(1_000_000_000), EntityId(0), 1);
}

#[test]
#[should_panic(expected = "event scheduled in the past")]
fn model_kept_sequences_check_the_past_too() {
    let mut s: Scheduler<u32> = Scheduler::new();
    let ids = s.alloc_entities_own_seq(1);
    let mut seq = Seq::default();
    s.post_at_seq(SimTime(5), ids.get(0), &mut seq, 0);
    s.pop_due(SimTime::MAX);
    s.post_at_seq(SimTime(4), ids.get(0), &mut seq, 1);
}

/// A ticker on a part of the event list, every second from t = 0, and two looks at it
/// from the main list (at 5.5 s and at 7 s, where a tick is due at the same instant: the
/// main event's entity comes first). Each look runs the part's ticks before it, each at
/// its own time; the run's end runs the rest.
struct Lazy {
    ticker: EntityId,
    seq: Seq,
    /// (clock, what) as things ran: 0 a tick, 1 a look.
    log: Vec<(u64, u32)>,
}
impl Lazy {
    fn tick(&mut self, s: &mut Scheduler<u32>) {
        self.log.push((s.now().as_nanos(), 0));
        let next = s.now() + SimDuration::from_secs(1);
        s.post_at_seq_in(0, next, self.ticker, &mut self.seq, 0);
    }
}
impl Model for Lazy {
    type Event = u32;
    fn handle(&mut self, s: &mut Scheduler<u32>, _: EntityId, _: u32) {
        s.run_part(0, |s, e, _, next| {
            assert_eq!(e, self.ticker);
            assert!(next.is_none_or(|(n, _)| n == self.ticker));
            self.tick(s);
        });
        self.log.push((s.now().as_nanos(), 1));
    }
    fn settle_parts(&mut self, s: &mut Scheduler<u32>, until: SimTime) {
        s.run_part_through(0, until, |s, _, _, _| self.tick(s));
    }
}

#[test]
fn a_part_runs_behind_the_main_list_in_its_own_order() {
    let mut s: Scheduler<u32> = Scheduler::new();
    let looker = s.alloc_entities(1).get(0);
    let ticker = s.alloc_entities_own_seq(1).get(0);
    assert_eq!(s.add_parts(1), 0);
    let mut m = Lazy {
        ticker,
        seq: Seq::default(),
        log: Vec::new(),
    };
    s.post_at_seq_in(0, SimTime::ZERO, ticker, &mut m.seq, 0);
    s.post_at(SimTime(5_500_000_000), looker, 1);
    s.post_at(SimTime::from_secs(7), looker, 1);
    assert_eq!(s.pending(), 3);
    assert_eq!(s.next_time(), Some(SimTime::ZERO), "a part's events count");
    let out = s.run_until(&mut m, SimTime::from_secs(10), &mut RunControl::none());
    let sec = |t: u64| t * 1_000_000_000;
    let mut expected: Vec<(u64, u32)> = (0..=5).map(|t| (sec(t), 0)).collect();
    expected.push((5_500_000_000, 1));
    expected.push((sec(6), 0));
    // The look at 7 s comes before the tick at 7 s (the looker's id is lower).
    expected.push((sec(7), 1));
    expected.extend((7..=10).map(|t| (sec(t), 0)));
    assert_eq!(m.log, expected);
    assert_eq!(out.events, 13, "the part's events count as the run's");
    assert_eq!(s.stats().processed, 13);
    assert_eq!(s.pending(), 1, "the tick at 11 s");
    assert_eq!(s.now(), SimTime::from_secs(10));
}
