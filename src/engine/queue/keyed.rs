//! The `priority-queue` crate's keyed queue as an event list ([`super::FelKind::PriorityQueue`]):
//! keyed by a unique id, payloads in a side table; kept to be measured against.

use super::Entry;
use priority_queue::PriorityQueue;
use std::cmp::Reverse;

/// The `priority-queue` variant: keyed by a unique id, payloads in a side table.
pub(crate) struct KeyedQueue<E> {
    pq: PriorityQueue<u32, Reverse<(u64, u64)>>,
    entries: Vec<Option<Entry<E>>>,
    free: Vec<u32>,
}

impl<E: Copy> KeyedQueue<E> {
    pub(super) fn new() -> Self {
        KeyedQueue {
            pq: PriorityQueue::new(),
            entries: Vec::new(),
            free: Vec::new(),
        }
    }
    pub(super) fn len(&self) -> usize {
        self.pq.len()
    }
    pub(super) fn push(&mut self, e: Entry<E>) {
        let id = match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = Some(e);
                id
            }
            None => {
                self.entries.push(Some(e));
                (self.entries.len() - 1) as u32
            }
        };
        self.pq.push(id, Reverse(e.key()));
    }
    pub(super) fn peek(&self) -> Option<&Entry<E>> {
        let (id, _) = self.pq.peek()?;
        self.entries[*id as usize].as_ref()
    }
    pub(super) fn pop(&mut self) -> Option<Entry<E>> {
        let (id, _) = self.pq.pop()?;
        self.free.push(id);
        self.entries[id as usize].take()
    }
    pub(super) fn payloads_mut(&mut self, f: &mut impl FnMut(u64, &mut E)) {
        for e in self.entries.iter_mut().flatten() {
            f(e.time, &mut e.payload);
        }
    }
    pub(super) fn retain(&mut self, mut keep: impl FnMut(&Entry<E>) -> bool) {
        let entries = &mut self.entries;
        let free = &mut self.free;
        self.pq.retain(|id, _| {
            let k = entries[*id as usize].as_ref().is_some_and(&mut keep);
            if !k {
                entries[*id as usize] = None;
                free.push(*id);
            }
            k
        });
    }
}
