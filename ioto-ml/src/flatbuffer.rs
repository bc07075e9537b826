//! A small, bounds-checked flatbuffer reader.
//!
//! Only what the TFLite schema needs: tables with scalar, offset and union fields,
//! vectors of scalars and vectors of tables. Every offset and length is checked
//! against the buffer; nothing here can read out of bounds or panic.

use crate::error::{Error, Result};

/// Reads a little-endian scalar at `pos`.
fn read<const N: usize>(buf: &[u8], pos: usize) -> Result<[u8; N]> {
    let end = pos.checked_add(N).ok_or(Error::OutOfBounds)?;
    let bytes = buf.get(pos..end).ok_or(Error::OutOfBounds)?;
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

/// Follows the `uoffset_t` stored at `pos` to the position it points at.
fn follow(buf: &[u8], pos: usize) -> Result<usize> {
    let off = read_u32(buf, pos)? as usize;
    let target = pos.checked_add(off).ok_or(Error::OutOfBounds)?;
    if target >= buf.len() {
        return Err(Error::OutOfBounds);
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
            .ok_or(Error::OutOfBounds)? as usize;
        let vtable_len = usize::from(read_u16(buf, vtable)?);
        if vtable_len < 4 || vtable_len % 2 != 0 {
            return Err(Error::Malformed("vtable size"));
        }
        let end = vtable.checked_add(vtable_len).ok_or(Error::OutOfBounds)?;
        if end > buf.len() {
            return Err(Error::OutOfBounds);
        }
        let table_len = usize::from(read_u16(buf, vtable + 2)?);
        if pos.checked_add(table_len).is_none_or(|e| e > buf.len()) {
            return Err(Error::OutOfBounds);
        }
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

    /// An `int8`/`byte` field.
    pub(crate) fn i8(&self, id: usize, default: i8) -> Result<i8> {
        Ok(self.scalar::<1>(id)?.map_or(default, i8::from_le_bytes))
    }

    /// A `uint8`/`ubyte`/`bool` field.
    pub(crate) fn u8(&self, id: usize, default: u8) -> Result<u8> {
        Ok(self.scalar::<1>(id)?.map_or(default, u8::from_le_bytes))
    }

    /// An `int32` field.
    pub(crate) fn i32(&self, id: usize, default: i32) -> Result<i32> {
        Ok(self.scalar::<4>(id)?.map_or(default, i32::from_le_bytes))
    }

    /// A `uint32` field.
    pub(crate) fn u32(&self, id: usize, default: u32) -> Result<u32> {
        Ok(self.scalar::<4>(id)?.map_or(default, u32::from_le_bytes))
    }

    /// A `uint64` field.
    pub(crate) fn u64(&self, id: usize, default: u64) -> Result<u64> {
        Ok(self.scalar::<8>(id)?.map_or(default, u64::from_le_bytes))
    }

    /// A `float` field.
    pub(crate) fn f32(&self, id: usize, default: f32) -> Result<f32> {
        Ok(self.scalar::<4>(id)?.map_or(default, f32::from_le_bytes))
    }

    /// A sub-table field.
    pub(crate) fn table(&self, id: usize) -> Result<Option<Table<'a>>> {
        match self.field(id)? {
            Some(p) => Ok(Some(Table::at(self.buf, follow(self.buf, p)?)?)),
            None => Ok(None),
        }
    }

    /// A vector field (`None` when absent).
    pub(crate) fn vector<T: Elem<'a>>(&self, id: usize) -> Result<Option<Vector<'a, T>>> {
        match self.field(id)? {
            Some(p) => Vector::at(self.buf, follow(self.buf, p)?).map(Some),
            None => Ok(None),
        }
    }

    /// A vector field, empty when absent.
    pub(crate) fn vector_or_empty<T: Elem<'a>>(&self, id: usize) -> Result<Vector<'a, T>> {
        Ok(self.vector(id)?.unwrap_or(Vector::empty(self.buf)))
    }
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
    fn empty(buf: &'a [u8]) -> Self {
        Vector {
            buf,
            start: 0,
            len: 0,
            _elem: core::marker::PhantomData,
        }
    }

    fn at(buf: &'a [u8], pos: usize) -> Result<Self> {
        let len = read_u32(buf, pos)? as usize;
        let start = pos + 4;
        let bytes = len.checked_mul(T::SIZE).ok_or(Error::OutOfBounds)?;
        if start.checked_add(bytes).is_none_or(|e| e > buf.len()) {
            return Err(Error::OutOfBounds);
        }
        Ok(Vector {
            buf,
            start,
            len,
            _elem: core::marker::PhantomData,
        })
    }

    /// Number of elements.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Element `i`, or an error when out of range or unreadable.
    pub(crate) fn get(&self, i: usize) -> Result<T> {
        if i >= self.len {
            return Err(Error::OutOfBounds);
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
