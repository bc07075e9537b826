//! The per-layer cache of the host kernels (with `std`): what a CONV_2D or
//! FULLY_CONNECTED layer derives from its constant operands — the re-laid-out
//! weights, the biases with the weight sums folded in, the requantization — worked
//! out on the layer's first run and kept by the [`Interpreter`](crate::Interpreter)
//! that runs it, so later inferences go straight to the dot products (and a
//! convolution keeps its weights on the heap, not in a 60 KB stack frame).
//!
//! The interpreter lends its [`Cache`] to the kernels for the length of an invoke
//! ([`Scope`]: a thread-local, as the kernels' signature has no room for it) and
//! names the operator about to run ([`set_op`]); an entry is found by operator
//! index. The model bytes and the prepared records are borrowed by the interpreter,
//! so they cannot change under its cache; each entry still checks the operands and
//! level it was made for and is made again when they differ (e.g. after
//! [`set_level`](super::set_level)). Without a scope (compiled models, tests) the
//! kernels work out everything per call, as without `std`.

use std::cell::RefCell;
use std::vec::Vec;

/// What a layer's entry was made from: the filter and the bias (address and
/// length each) and four numbers of the kernel's (shape, level, kind).
pub(super) type Key = [usize; 8];

/// The [`Key`] of a layer with `filter`, `bias` and the kernel's `more`.
pub(super) fn key(filter: &[i8], bias: &[u8], more: [usize; 4]) -> Key {
    let (f, b) = (filter.as_ptr() as usize, bias.as_ptr() as usize);
    let [m0, m1, m2, m3] = more;
    [f, filter.len(), b, bias.len(), m0, m1, m2, m3]
}

/// One layer's cached data.
pub(super) enum Data {
    /// A convolution's (see `conv`).
    Conv(super::conv::Packed),
    /// A depthwise convolution's (see `depthwise`).
    Depthwise(super::depthwise::Packed),
    /// A fully-connected layer's (see `fc`).
    Fc(super::fc::Packed),
}

impl Data {
    /// A convolution's data.
    pub(super) fn conv(&mut self) -> Option<&mut super::conv::Packed> {
        if let Data::Conv(p) = self {
            Some(p)
        } else {
            None
        }
    }

    /// A depthwise convolution's data.
    pub(super) fn depthwise(&mut self) -> Option<&mut super::depthwise::Packed> {
        if let Data::Depthwise(p) = self {
            Some(p)
        } else {
            None
        }
    }

    /// A fully-connected layer's data.
    pub(super) fn fc(&mut self) -> Option<&mut super::fc::Packed> {
        if let Data::Fc(p) = self {
            Some(p)
        } else {
            None
        }
    }
}

/// One layer's entry: its data and what it was made from.
struct Entry {
    key: Key,
    data: Data,
}

/// The cached data of one interpreter's layers, by operator index.
#[derive(Default)]
pub struct Cache {
    entries: Vec<Option<Entry>>,
    op: usize,
}

impl Cache {
    /// How many layers have an entry.
    pub(crate) fn layers(&self) -> usize {
        self.entries.iter().filter(|e| e.is_some()).count()
    }
}

impl core::fmt::Debug for Cache {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Cache({} layers)", self.layers())
    }
}

std::thread_local! {
    /// The cache of the interpreter running on this thread, if any.
    static CURRENT: RefCell<Option<Cache>> = const { RefCell::new(None) };
}

/// Lends a [`Cache`] to the kernels running on this thread until dropped.
pub struct Scope<'c> {
    cache: &'c mut Cache,
    /// The cache this scope displaced (an enclosing one), put back on drop.
    outer: Option<Cache>,
}

impl<'c> Scope<'c> {
    /// Lends `cache` to the kernels until the scope is dropped.
    pub fn enter(cache: &'c mut Cache) -> Self {
        let lent = core::mem::take(cache);
        let outer = CURRENT.with(|c| c.replace(Some(lent)));
        Scope { cache, outer }
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        let outer = self.outer.take();
        if let Some(back) = CURRENT.with(|c| c.replace(outer)) {
            *self.cache = back;
        }
    }
}

/// Names the operator the next kernel call belongs to (its index in the model).
pub fn set_op(index: usize) {
    CURRENT.with(|c| {
        if let Ok(mut c) = c.try_borrow_mut()
            && let Some(c) = c.as_mut()
        {
            c.op = index;
        }
    });
}

/// `f` on the current operator's data (`pick` finds it in an entry), which `make`
/// makes first unless the entry was made for `key`; `None` without a [`Scope`].
pub(super) fn with<T, R>(
    key: Key,
    pick: fn(&mut Data) -> Option<&mut T>,
    make: impl FnOnce() -> Data,
    f: impl FnOnce(&mut T) -> R,
) -> Option<R> {
    CURRENT.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        let c = c.as_mut()?;
        let op = c.op;
        if c.entries.len() <= op {
            c.entries.resize_with(op + 1, || None);
        }
        let e = &mut c.entries[op];
        let made = e
            .as_mut()
            .is_some_and(|e| e.key == key && pick(&mut e.data).is_some());
        if !made {
            *e = Some(Entry { key, data: make() });
        }
        let data = pick(&mut e.as_mut()?.data)?;
        Some(f(data))
    })
}
