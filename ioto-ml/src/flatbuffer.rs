//! A small, bounds-checked flatbuffer reader.
//!
//! Only what the TFLite schema needs: tables with scalar, offset and union fields,
//! vectors of scalars and vectors of tables. Every offset and length is checked
//! against the buffer; nothing here can read out of bounds or panic.

use crate::error::{Load as Result, fault};

/// Reads a little-endian scalar at `pos`.
fn read<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N]> {
    let end = pos.checked_add(N).ok_or(fault!(OutOfBounds))?;
    let bytes = buf.get(pos..end).ok_or(fault!(OutOfBounds))?;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

/// Reads a `u32` at `pos`.
pub(crate) fn read_u32(buf: &[u8], pos: usize) -> Result<u32> {
    read::<4>(buf, pos).map(u32::from_le_bytes)
}

fn read_u16(buf: &[u8], pos: usize) -> Result<u16> {
    read::<2>(buf, pos).map(u16::from_le_bytes)
}

/// Requires the `len` bytes from `start` to lie inside `buf`.
fn span(buf: &[u8], start: usize, len: usize) -> Result<()> {
    match start.checked_add(len) {
        Some(end) if end <= buf.len() => Ok(()),
        _ => Err(fault!(OutOfBounds)),
    }
}

/// Follows the `uoffset_t` stored at `pos` to the position it points at.
fn follow(buf: &[u8], pos: usize) -> Result<usize> {
    let off = read_u32(buf, pos)? as usize;
    let target = pos.checked_add(off).ok_or(fault!(OutOfBounds))?;
    if target >= buf.len() {
        return Err(fault!(OutOfBounds));
    }
    Ok(target)
}

/// A flatbuffer table: a position in the buffer plus its vtable.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Table<'a> {
    buf: &'a [u8],
    pos: usize,
    vtable: usize,
    vtable_len: usize,
}

impl<'a> Table<'a> {
    /// The root table of a flatbuffer.
    pub(crate) fn root(buf: &'a [u8]) -> Result<Self> {
        let pos = follow(buf, 0)?;
        Self::at(buf, pos)
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Self> {
        let soff = read::<4>(buf, pos).map(i32::from_le_bytes)?;
        let vtable = (pos as i64)
            .checked_sub(i64::from(soff))
            .filter(|&v| v >= 0)
            .ok_or(fault!(OutOfBounds))? as usize;
        let vtable_len = usize::from(read_u16(buf, vtable)?);
        if vtable_len < 4 || vtable_len % 2 != 0 {
            return Err(fault!(Malformed("vtable size")));
        }
        span(buf, vtable, vtable_len)?;
        span(buf, pos, usize::from(read_u16(buf, vtable + 2)?))?;
        Ok(Table {
            buf,
            pos,
            vtable,
            vtable_len,
        })
    }

    /// Absolute position of field `id`, or `None` when the field is absent.
    fn field(&self, id: usize) -> Result<Option<usize>> {
        let slot = 4 + 2 * id;
        if slot + 2 > self.vtable_len {
            return Ok(None);
        }
        let off = usize::from(read_u16(self.buf, self.vtable + slot)?);
        if off == 0 {
            return Ok(None);
        }
        Ok(Some(self.pos + off))
    }

    fn scalar<const N: usize>(&self, id: usize) -> Result<Option<[u8; N]>> {
        match self.field(id)? {
            Some(p) => read::<N>(self.buf, p).map(Some),
            None => Ok(None),
        }
    }

    /// A sub-table field.
    pub(crate) fn table(&self, id: usize) -> Result<Option<Table<'a>>> {
        match self.field(id)? {
            Some(p) => Ok(Some(Table::at(self.buf, follow(self.buf, p)?)?)),
            None => Ok(None),
        }
    }

    /// Start and length of a vector field of `size`-byte elements, checked against
    /// the buffer (`None` when absent); one copy for every element type.
    fn vector_span(&self, id: usize, size: usize) -> Result<Option<(usize, usize)>> {
        let Some(p) = self.field(id)? else {
            return Ok(None);
        };
        let pos = follow(self.buf, p)?;
        let len = read_u32(self.buf, pos)? as usize;
        let start = pos + 4;
        span(
            self.buf,
            start,
            len.checked_mul(size).ok_or(fault!(OutOfBounds))?,
        )?;
        Ok(Some((start, len)))
    }

    /// A vector field (`None` when absent).
    pub(crate) fn vector<T: Elem<'a>>(&self, id: usize) -> Result<Option<Vector<'a, T>>> {
        Ok(self
            .vector_span(id, T::SIZE)?
            .map(|(start, len)| Vector::new(self.buf, start, len)))
    }

    /// A vector field, empty when absent.
    pub(crate) fn vector_or_empty<T: Elem<'a>>(&self, id: usize) -> Result<Vector<'a, T>> {
        let (start, len) = self.vector_span(id, T::SIZE)?.unwrap_or((0, 0));
        Ok(Vector::new(self.buf, start, len))
    }
}

/// Declares [`Table`]'s getters of little-endian scalar fields (the default when the
/// field is absent), one per type.
macro_rules! scalar_fields {
    ($($(#[$m:meta])* $name:ident: $ty:ty;)*) => {
        impl Table<'_> {
            $(
                $(#[$m])*
                pub(crate) fn $name(&self, id: usize, default: $ty) -> Result<$ty> {
                    const N: usize = core::mem::size_of::<$ty>();
                    Ok(self.scalar::<N>(id)?.map_or(default, <$ty>::from_le_bytes))
                }
            )*
        }
    };
}

scalar_fields! {
    /// An `int8`/`byte` field.
    i8: i8;
    /// A `uint8`/`ubyte`/`bool` field.
    u8: u8;
    /// An `int32` field.
    i32: i32;
    /// A `uint32` field.
    u32: u32;
    /// A `uint64` field.
    u64: u64;
    /// A `float` field.
    f32: f32;
}

/// An element type that can live in a flatbuffer vector.
pub(crate) trait Elem<'a>: Sized {
    /// Bytes per element in the vector.
    const SIZE: usize;
    /// Reads the element stored at `pos`.
    fn read(buf: &'a [u8], pos: usize) -> Result<Self>;
}

macro_rules! scalar_elem {
    ($($t:ty),*) => {$(
        impl<'a> Elem<'a> for $t {
            const SIZE: usize = core::mem::size_of::<$t>();
            fn read(buf: &'a [u8], pos: usize) -> Result<Self> {
                read::<{ core::mem::size_of::<$t>() }>(buf, pos).map(<$t>::from_le_bytes)
            }
        }
    )*};
}
scalar_elem!(u8, i32, u32, i64, f32);

impl<'a> Elem<'a> for Table<'a> {
    const SIZE: usize = 4;
    fn read(buf: &'a [u8], pos: usize) -> Result<Self> {
        Table::at(buf, follow(buf, pos)?)
    }
}

/// A bounds-checked flatbuffer vector.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Vector<'a, T> {
    buf: &'a [u8],
    start: usize,
    len: usize,
    _elem: core::marker::PhantomData<T>,
}

impl<'a, T: Elem<'a>> Vector<'a, T> {
    fn new(buf: &'a [u8], start: usize, len: usize) -> Self {
        Vector {
            buf,
            start,
            len,
            _elem: core::marker::PhantomData,
        }
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Element `i`, or an error when out of range or unreadable.
    pub(crate) fn get(&self, i: usize) -> Result<T> {
        if i >= self.len {
            return Err(fault!(OutOfBounds));
        }
        T::read(self.buf, self.start + i * T::SIZE)
    }
}

impl<'a> Vector<'a, u8> {
    /// The vector's bytes, borrowed from the buffer.
    pub(crate) fn bytes(&self) -> &'a [u8] {
        self.buf
            .get(self.start..self.start + self.len)
            .unwrap_or(&[])
    }

    /// Position of the first byte in the buffer.
    pub(crate) fn offset(&self) -> usize {
        self.start
    }
}
