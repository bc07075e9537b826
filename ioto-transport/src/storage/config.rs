//! [`ConfigStore`]: configuration values in NOR flash, by `u16` key, encoded with postcard.
//!
//! A `sequential-storage` [`MapStorage`] on its own page-aligned flash range (at least
//! two pages). Storing a key appends a new item and retires the old one, so a power cut
//! during [`ConfigStore::store`] leaves either the old or the new value, never a mix:
//! every item carries a CRC and a torn one is ignored.
//!
//! The caller owns the scratch buffer: it must hold the key (2 bytes) and the largest
//! encoded value, rounded up to the flash word.
//!
//! ```
//! use ioto_transport::storage::{config::ConfigStore, nor_sim::NorSim};
//!
//! # embassy_futures::block_on(async {
//! const INTERVAL_S: u16 = 1;
//! let mut image = [0xFFu8; 2 * 4096];
//! let mut buf = [0u8; 64];
//! let mut config = ConfigStore::new(NorSim::<_>::new(&mut image[..]), 0..8192, &mut buf).unwrap();
//! config.store(INTERVAL_S, &30u32).await.unwrap();
//! config.store(INTERVAL_S, &60u32).await.unwrap();
//! assert_eq!(config.fetch::<u32>(INTERVAL_S).await.unwrap(), Some(60));
//! assert_eq!(config.fetch::<u32>(2).await.unwrap(), None);
//! # });
//! ```

use core::ops::Range;

use embedded_storage_async::nor_flash::{MultiwriteNorFlash, NorFlash};
use sequential_storage::cache::CacheImpl;
use sequential_storage::map::{MapConfig, MapStorage, SerializationError, Value};
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::outbox::{NoCache, StorageError};

/// Configuration values on a NOR flash range (see the [module docs](self)).
pub struct ConfigStore<'a, F: NorFlash, C: CacheImpl<u16> = NoCache<u16>> {
    map: MapStorage<u16, F, C>,
    buf: &'a mut [u8],
}

impl<'a, F: MultiwriteNorFlash> ConfigStore<'a, F> {
    /// The store on `range` of `flash` (page-aligned, at least two pages), with the
    /// scratch buffer `buf`. Nothing is read yet: a power cut's leftovers are repaired by
    /// the first operation.
    pub fn new(
        flash: F,
        range: Range<u32>,
        buf: &'a mut [u8],
    ) -> Result<Self, StorageError<F::Error>> {
        Self::with_cache(flash, range, NoCache::new_uncached(), buf)
    }
}

impl<'a, F: MultiwriteNorFlash, C: CacheImpl<u16>> ConfigStore<'a, F, C> {
    /// [`new`](ConfigStore::new) with a `sequential-storage` cache (new, or from
    /// [`into_parts`](Self::into_parts) with the flash untouched since).
    pub fn with_cache(
        flash: F,
        range: Range<u32>,
        cache: C,
        buf: &'a mut [u8],
    ) -> Result<Self, StorageError<F::Error>> {
        let config = MapConfig::<F>::try_new(range).map_err(|_| StorageError::BadRange)?;
        Ok(ConfigStore {
            map: MapStorage::new(flash, config, cache),
            buf,
        })
    }

    /// Stores `value` under `key`, replacing the previous value.
    pub async fn store<T: Serialize + ?Sized>(
        &mut self,
        key: u16,
        value: &T,
    ) -> Result<(), StorageError<F::Error>> {
        self.map
            .store_item(self.buf, &key, &Postcard(value))
            .await
            .map_err(StorageError::from)
    }

    /// The value stored under `key`, or `None`. A value that does not decode as `T`
    /// is [`StorageError::Serialization`].
    pub async fn fetch<T: DeserializeOwned>(
        &mut self,
        key: u16,
    ) -> Result<Option<T>, StorageError<F::Error>> {
        let Some(bytes) = self.map.fetch_item::<&[u8]>(self.buf, &key).await? else {
            return Ok(None);
        };
        postcard::from_bytes(bytes)
            .map(Some)
            .map_err(|_| StorageError::Serialization)
    }

    /// Removes the value under `key` (nothing happens when there is none).
    pub async fn remove(&mut self, key: u16) -> Result<(), StorageError<F::Error>> {
        self.map
            .remove_item(self.buf, &key)
            .await
            .map_err(StorageError::from)
    }

    /// Erases the whole range (every value is lost).
    pub async fn erase_all(&mut self) -> Result<(), StorageError<F::Error>> {
        self.map.erase_all().await.map_err(StorageError::from)
    }

    /// The flash and the cache back.
    pub fn into_parts(self) -> (F, C) {
        self.map.destroy()
    }
}

impl<F: NorFlash, C: CacheImpl<u16>> core::fmt::Debug for ConfigStore<'_, F, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ConfigStore")
            .field("range", &self.map.flash_range())
            .finish_non_exhaustive()
    }
}

/// A value on its way into the map, encoded with postcard (store only: values are read
/// back as bytes and decoded by [`ConfigStore::fetch`]).
struct Postcard<'t, T: ?Sized>(&'t T);

impl<T: Serialize + ?Sized> Value<'_> for Postcard<'_, T> {
    fn serialize_into(&self, buffer: &mut [u8]) -> Result<usize, SerializationError> {
        match postcard::to_slice(self.0, buffer) {
            Ok(used) => Ok(used.len()),
            Err(postcard::Error::SerializeBufferFull) => Err(SerializationError::BufferTooSmall),
            Err(_) => Err(SerializationError::InvalidData),
        }
    }

    fn deserialize_from(_buffer: &[u8]) -> Result<(Self, usize), SerializationError>
    where
        Self: Sized,
    {
        // Never read back as `Postcard`: `fetch` reads bytes.
        Err(SerializationError::InvalidFormat)
    }
}
