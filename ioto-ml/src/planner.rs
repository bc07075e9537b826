//! Offline greedy memory planner, in the manner of TFLM's `GreedyMemoryPlanner`.
//!
//! Buffers are placed largest first; each one goes into the lowest gap (first fit)
//! among the already-placed buffers whose lifetimes overlap its own. Lifetimes are
//! inclusive operator-index ranges, so an operator's inputs never share memory with
//! its output.

use crate::error::{Load as Result, fault};

/// Byte alignment of every planned buffer.
pub const ALIGN: usize = 16;

/// One buffer to place.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Request {
    /// Bytes (already aligned); 0 means "not planned".
    pub size: u32,
    /// First operator index that uses the buffer.
    pub first: u16,
    /// Last operator index that uses the buffer.
    pub last: u16,
}

fn overlaps(a: &Request, b: &Request) -> bool {
    a.first <= b.last && b.first <= a.last
}

/// Rounds `n` up to [`ALIGN`].
pub(crate) fn align(n: usize) -> Option<usize> {
    n.checked_add(ALIGN - 1).map(|v| v & !(ALIGN - 1))
}

/// Places every request with non-zero size; writes each offset into `offsets` and
/// returns the total bytes. `placed` is scratch of the same length.
pub(crate) fn plan(reqs: &[Request], offsets: &mut [u32], placed: &mut [bool]) -> Result<usize> {
    let n = reqs.len();
    if offsets.len() < n || placed.len() < n {
        return Err(fault!(Limit("planner scratch")));
    }
    placed[..n].fill(false);
    let mut total: u64 = 0;
    loop {
        // Next unplaced buffer: largest size first, lower index first on ties.
        let mut next: Option<usize> = None;
        for i in 0..n {
            if placed[i] || reqs[i].size == 0 {
                continue;
            }
            if next.is_none_or(|j| reqs[i].size > reqs[j].size) {
                next = Some(i);
            }
        }
        let Some(cur) = next else { break };
        let r = reqs[cur];
        // First fit: the lowest offset clear of every placed buffer whose lifetime
        // overlaps. Moving past each conflict in turn never skips it (a buffer
        // that overlaps a position below it ends at or below it), so this is the
        // lowest gap that an offset-ordered walk finds.
        let mut candidate: u64 = 0;
        let mut moved = true;
        while moved {
            moved = false;
            for j in 0..n {
                if !placed[j] || !overlaps(&reqs[j], &r) {
                    continue;
                }
                let (off, end) = (
                    u64::from(offsets[j]),
                    u64::from(offsets[j]) + u64::from(reqs[j].size),
                );
                if off < candidate + u64::from(r.size) && candidate < end {
                    candidate = end;
                    moved = true;
                }
            }
        }
        offsets[cur] = u32::try_from(candidate).map_err(|_| fault!(Limit("arena over 4 GiB")))?;
        placed[cur] = true;
        total = total.max(candidate + u64::from(r.size));
    }
    usize::try_from(total).map_err(|_| fault!(Limit("arena size")))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The first-fit step as TFLM's planner writes it: walk the overlapping placed
    /// buffers in increasing offset order, stop at the first gap that fits.
    fn walk_first_fit(reqs: &[Request], offsets: &[u32], placed: &[bool], r: &Request) -> u64 {
        let mut order: std::vec::Vec<usize> = (0..reqs.len())
            .filter(|&j| placed[j] && overlaps(&reqs[j], r))
            .collect();
        order.sort_by_key(|&j| (offsets[j], j));
        let mut candidate = 0u64;
        for j in order {
            let off = u64::from(offsets[j]);
            if candidate + u64::from(r.size) <= off {
                break;
            }
            candidate = candidate.max(off + u64::from(reqs[j].size));
        }
        candidate
    }

    #[test]
    fn first_fit_equals_the_offset_ordered_walk() {
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9);
        for round in 0..300 {
            let n = 2 + round % 40;
            let reqs: std::vec::Vec<Request> = (0..n)
                .map(|_| {
                    let first = (rng.next_u32() % 20) as u16;
                    Request {
                        size: 16 * (rng.next_u32() % 9),
                        first,
                        last: first + (rng.next_u32() % 6) as u16,
                    }
                })
                .collect();
            let mut offsets = std::vec![0u32; n as usize];
            let mut placed = std::vec![false; n as usize];
            plan(&reqs, &mut offsets, &mut placed).unwrap();
            // Replay the placements in the planner's order, checking each offset.
            let mut order: std::vec::Vec<usize> =
                (0..n as usize).filter(|&i| reqs[i].size > 0).collect();
            order.sort_by_key(|&i| (std::cmp::Reverse(reqs[i].size), i));
            let mut done = std::vec![false; n as usize];
            for i in order {
                let want = walk_first_fit(&reqs, &offsets, &done, &reqs[i]);
                assert_eq!(u64::from(offsets[i]), want, "round {round} buffer {i}");
                done[i] = true;
            }
        }
    }

    #[test]
    fn disjoint_lifetimes_share_memory() {
        let reqs = [
            Request {
                size: 32,
                first: 0,
                last: 1,
            },
            Request {
                size: 16,
                first: 1,
                last: 2,
            },
            Request {
                size: 32,
                first: 2,
                last: 3,
            },
        ];
        let mut off = [0u32; 3];
        let mut placed = [false; 3];
        let total = plan(&reqs, &mut off, &mut placed).unwrap();
        assert_eq!(total, 48);
        assert_eq!(off, [0, 32, 0]);
    }
}
