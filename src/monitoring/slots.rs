//! Where each agent's state lives: its slot in the per-agent tables of both sides, the agents'
//! (`agents.rs`) and the collecting side's (`topics.rs`, the rounds' marks). Slots start in id
//! order; a layout (`Agents::lay_out`) moves every table to the order the agents' reports
//! arrive in, so consecutive reports touch neighbouring entries, and every table follows the
//! same move. What an agent is does not depend on its slot: ids, streams and sequences stay.

/// Moves every entry `i` to `new_slot[i]` in place, cycle by cycle, through `swap(i, j)`
/// (which swaps entries `i` and `j` of every table being moved): no second copy of the
/// tables (the agents alone are 640 MB at ten million). `new_slot` must be a permutation.
pub(super) fn permute(new_slot: &[u32], mut swap: impl FnMut(usize, usize)) {
    let mut to = new_slot.to_vec();
    for i in 0..to.len() {
        while to[i] as usize != i {
            let j = to[i] as usize;
            swap(i, j);
            to.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::permute;

    #[test]
    fn every_entry_lands_on_its_new_slot() {
        let new_slot = [3u32, 0, 4, 1, 2, 5];
        let mut a: Vec<char> = "abcdef".chars().collect();
        let mut b: Vec<u32> = (0..6).collect();
        permute(&new_slot, |i, j| {
            a.swap(i, j);
            b.swap(i, j);
        });
        for (old, &new) in new_slot.iter().enumerate() {
            assert_eq!(b[new as usize], old as u32);
        }
        assert_eq!(a.iter().collect::<String>(), "bdeacf");
    }
}
