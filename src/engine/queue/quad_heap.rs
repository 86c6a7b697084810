//! A 4-ary min-heap of event-list entries ([`super::FelKind::QuadHeap`]): half the depth of a
//! binary heap, the children of a node in one or two cache lines, a bottom-up pop.

use super::Entry;

/// A 4-ary min-heap of entries (keys are unique, so any correct heap pops the same order).
#[derive(Clone, Debug)]
pub(crate) struct QuadHeap<E> {
    pub(super) v: Vec<Entry<E>>,
}

impl<E> Default for QuadHeap<E> {
    fn default() -> Self {
        QuadHeap { v: Vec::new() }
    }
}

impl<E: Copy> QuadHeap<E> {
    #[inline]
    pub(super) fn push(&mut self, e: Entry<E>) {
        let mut i = self.v.len();
        self.v.push(e);
        while i > 0 {
            let parent = (i - 1) / 4;
            if !e.lt(&self.v[parent]) {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = e;
    }

    #[inline]
    pub(super) fn peek(&self) -> Option<&Entry<E>> {
        self.v.first()
    }

    pub(super) fn len(&self) -> usize {
        self.v.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.v.is_empty()
    }

    /// Bottom-up pop (as std's BinaryHeap does): move the hole from the root down to a leaf
    /// along the smallest children, then sift the last entry up from there. The last entry
    /// usually belongs near the bottom, so this saves a comparison per level.
    #[inline]
    pub(super) fn pop(&mut self) -> Option<Entry<E>> {
        let last = self.v.pop()?;
        if self.v.is_empty() {
            return Some(last);
        }
        let top = self.v[0];
        let n = self.v.len();
        let mut i = 0;
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let mut m = first;
            if first + 3 < n {
                let a = if self.v[first + 1].lt(&self.v[first]) {
                    first + 1
                } else {
                    first
                };
                let b = if self.v[first + 3].lt(&self.v[first + 2]) {
                    first + 3
                } else {
                    first + 2
                };
                m = if self.v[b].lt(&self.v[a]) { b } else { a };
            } else {
                for c in first + 1..n {
                    if self.v[c].lt(&self.v[m]) {
                        m = c;
                    }
                }
            }
            self.v[i] = self.v[m];
            i = m;
        }
        while i > 0 {
            let parent = (i - 1) / 4;
            if !last.lt(&self.v[parent]) {
                break;
            }
            self.v[i] = self.v[parent];
            i = parent;
        }
        self.v[i] = last;
        Some(top)
    }

    /// Places `e` at `i` or below, moving smaller children up.
    pub(super) fn sift_down(&mut self, mut i: usize, e: Entry<E>) {
        let n = self.v.len();
        loop {
            let first = 4 * i + 1;
            if first >= n {
                break;
            }
            let end = (first + 4).min(n);
            let mut m = first;
            for c in first + 1..end {
                if self.v[c].lt(&self.v[m]) {
                    m = c;
                }
            }
            if !self.v[m].lt(&e) {
                break;
            }
            self.v[i] = self.v[m];
            i = m;
        }
        self.v[i] = e;
    }

    pub(super) fn heapify(&mut self) {
        for i in (0..self.v.len().div_ceil(4)).rev() {
            let e = self.v[i];
            self.sift_down(i, e);
        }
    }

    pub(super) fn retain(&mut self, mut keep: impl FnMut(&Entry<E>) -> bool) {
        self.v.retain(|e| keep(e));
        self.heapify();
    }

    /// Every entry's time and payload, to rewrite the payload (keys stay, so the order does).
    pub(super) fn payloads_mut(&mut self, f: &mut impl FnMut(u64, &mut E)) {
        for e in &mut self.v {
            f(e.time, &mut e.payload);
        }
    }
}
