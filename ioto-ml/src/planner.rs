//! Offline greedy memory planner, in the manner of TFLM's `GreedyMemoryPlanner`.
//!
//! Buffers are placed largest first; each one goes into the lowest gap (first fit)
//! among the already-placed buffers whose lifetimes overlap its own. Lifetimes are
//! inclusive operator-index ranges, so an operator's inputs never share memory with
//! its output.

use crate::error::{Error, Result};

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
        return Err(Error::Limit("planner scratch"));
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
        // First fit: walk the overlapping placed buffers in increasing offset order.
        let mut candidate: u64 = 0;
        let mut floor: Option<(u64, usize)> = None; // (offset, index) already visited
        loop {
            let mut lowest: Option<usize> = None;
            for j in 0..n {
                if !placed[j] || !overlaps(&reqs[j], &r) {
                    continue;
                }
                let key = (u64::from(offsets[j]), j);
                if floor.is_some_and(|f| key <= f) {
                    continue;
                }
                if lowest.is_none_or(|l| key < (u64::from(offsets[l]), l)) {
                    lowest = Some(j);
                }
            }
            let Some(l) = lowest else { break };
            let off = u64::from(offsets[l]);
            if candidate + u64::from(r.size) <= off {
                break;
            }
            candidate = candidate.max(off + u64::from(reqs[l].size));
            floor = Some((off, l));
        }
        offsets[cur] = u32::try_from(candidate).map_err(|_| Error::Limit("arena over 4 GiB"))?;
        placed[cur] = true;
        total = total.max(candidate + u64::from(r.size));
    }
    usize::try_from(total).map_err(|_| Error::Limit("arena size"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

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
