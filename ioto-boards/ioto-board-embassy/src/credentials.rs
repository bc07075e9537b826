//! Credentials (Wi-Fi, broker, API key) from the config partition or the build
//! environment — never from the source code, never into a log.
//!
//! Every [`Field`] is looked up first in the device's config partition (an
//! `ioto_transport` [`ConfigStore`], under [`Field::key`]), then in the environment
//! the firmware was built with ([`Field::env`], read by `option_env!` at compile
//! time). A factory tool or a first-boot provisioning step writes the partition with
//! [`Credentials::store`]; developers set the variables in their shell:
//!
//! ```text
//! IOTO_WIFI_SSID=lab IOTO_WIFI_PASSPHRASE=… IOTO_BROKER_HOST=192.168.1.10 \
//!     cargo xtask build --board rp2040 --example blinky_agent
//! ```
//!
//! Values built in from the environment end up in the firmware image: anyone holding
//! the image can read them. Use the partition for devices that leave the bench.
//!
//! Secrets ([`Secret`]: the Wi-Fi passphrase, the MQTT password, the API key) print as
//! `Secret(<n> bytes)` in `Debug` output and are overwritten when dropped;
//! [`Credentials::sources`] tells where each value came from without showing any.

use core::fmt;

use embedded_storage_async::nor_flash::MultiwriteNorFlash;
use heapless::String;
use ioto_transport::storage::config::ConfigStore;
use ioto_transport::storage::outbox::StorageError;

/// Longest Wi-Fi SSID (IEEE 802.11: 32 bytes).
pub const SSID_MAX: usize = 32;
/// Longest WPA2 passphrase (63 characters, or 64 hex digits).
pub const PASSPHRASE_MAX: usize = 64;
/// Longest broker host name or address.
pub const HOST_MAX: usize = 64;
/// Longest MQTT user name.
pub const USER_MAX: usize = 64;
/// Longest MQTT password or API key.
pub const SECRET_MAX: usize = 128;
/// The broker port when none is configured (MQTT over TCP).
pub const DEFAULT_BROKER_PORT: u16 = 1883;
/// A scratch buffer of this size holds any credential for a [`ConfigStore`] (key,
/// postcard length prefix and the longest value, rounded up to a flash word).
pub const SCRATCH_LEN: usize = 2 + 2 + SECRET_MAX + 4;

/// One credential.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The Wi-Fi network name.
    WifiSsid,
    /// The Wi-Fi WPA2 passphrase (secret).
    WifiPassphrase,
    /// The MQTT broker's host name or IP address.
    BrokerHost,
    /// The MQTT broker's TCP port.
    BrokerPort,
    /// The MQTT user name.
    MqttUsername,
    /// The MQTT password (secret).
    MqttPassword,
    /// The cloud model's API key (secret).
    ApiKey,
}

impl Field {
    /// Every field, in the order of [`Credentials::sources`].
    pub const ALL: [Field; 7] = [
        Field::WifiSsid,
        Field::WifiPassphrase,
        Field::BrokerHost,
        Field::BrokerPort,
        Field::MqttUsername,
        Field::MqttPassword,
        Field::ApiKey,
    ];

    /// Its key in the config partition (`0x0C01..=0x0C07`; other keys are free for
    /// the application).
    pub const fn key(self) -> u16 {
        0x0C01 + self as u16
    }

    /// The build-time environment variable that supplies it.
    pub const fn env(self) -> &'static str {
        match self {
            Field::WifiSsid => "IOTO_WIFI_SSID",
            Field::WifiPassphrase => "IOTO_WIFI_PASSPHRASE",
            Field::BrokerHost => "IOTO_BROKER_HOST",
            Field::BrokerPort => "IOTO_BROKER_PORT",
            Field::MqttUsername => "IOTO_MQTT_USERNAME",
            Field::MqttPassword => "IOTO_MQTT_PASSWORD",
            Field::ApiKey => "IOTO_API_KEY",
        }
    }

    /// The value the firmware was built with, if the variable was set.
    fn built_in(self) -> Option<&'static str> {
        match self {
            Field::WifiSsid => option_env!("IOTO_WIFI_SSID"),
            Field::WifiPassphrase => option_env!("IOTO_WIFI_PASSPHRASE"),
            Field::BrokerHost => option_env!("IOTO_BROKER_HOST"),
            Field::BrokerPort => option_env!("IOTO_BROKER_PORT"),
            Field::MqttUsername => option_env!("IOTO_MQTT_USERNAME"),
            Field::MqttPassword => option_env!("IOTO_MQTT_PASSWORD"),
            Field::ApiKey => option_env!("IOTO_API_KEY"),
        }
    }

    const fn is_secret(self) -> bool {
        matches!(
            self,
            Field::WifiPassphrase | Field::MqttPassword | Field::ApiKey
        )
    }
}

/// Where a credential came from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// Not configured.
    #[default]
    Unset,
    /// The config partition.
    Partition,
    /// The build environment.
    BuildEnv,
    /// Set by the application ([`Credentials::set`]).
    Application,
}

/// Why credentials could not be had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialsError<E> {
    /// A value is longer than its field holds.
    TooLong(Field),
    /// The broker port is not a number in 1..=65535.
    BadPort,
    /// A value the caller needs is not configured anywhere.
    Missing(Field),
    /// The config partition could not be read or written.
    Storage(StorageError<E>),
}

impl<E: fmt::Debug> fmt::Display for CredentialsError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialsError::TooLong(field) => write!(f, "{} is too long", field.env()),
            CredentialsError::BadPort => f.write_str("the broker port is not in 1..=65535"),
            CredentialsError::Missing(field) => write!(
                f,
                "{} is set neither in the config partition (key {:#06x}) nor at build time",
                field.env(),
                field.key()
            ),
            CredentialsError::Storage(e) => write!(f, "config partition: {e}"),
        }
    }
}

impl<E: fmt::Debug> core::error::Error for CredentialsError<E> {}

/// A secret of at most `N` bytes: `Debug` shows only its length, and the bytes are
/// overwritten when it is dropped or replaced.
#[derive(Default)]
pub struct Secret<const N: usize>(String<N>);

impl<const N: usize> Secret<N> {
    /// The secret, for the one place that needs it (the Wi-Fi join, the MQTT CONNECT,
    /// the `Authorization` header).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is empty (not configured).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn set(&mut self, value: &str) -> Result<(), ()> {
        self.wipe();
        self.0.push_str(value).map_err(|_| ())
    }

    fn wipe(&mut self) {
        // SAFETY: only zero bytes are written (valid UTF-8), then the string is emptied.
        let bytes = unsafe { self.0.as_mut_vec() };
        for b in bytes.iter_mut() {
            // SAFETY: `b` is a valid, aligned `&mut u8`; volatile so the write stays.
            unsafe { core::ptr::write_volatile(b, 0) };
        }
        bytes.clear();
    }
}

impl<const N: usize> Drop for Secret<N> {
    fn drop(&mut self) {
        self.wipe();
    }
}

impl<const N: usize> fmt::Debug for Secret<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

/// The device's credentials. `Debug` shows the public ones and only the length of the
/// secrets; log [`Credentials::sources`] to say where they came from.
#[derive(Debug, Default)]
pub struct Credentials {
    wifi_ssid: String<SSID_MAX>,
    wifi_passphrase: Secret<PASSPHRASE_MAX>,
    broker_host: String<HOST_MAX>,
    broker_port: Option<u16>,
    mqtt_username: String<USER_MAX>,
    mqtt_password: Secret<SECRET_MAX>,
    api_key: Secret<SECRET_MAX>,
    sources: [Source; 7],
}

impl Credentials {
    /// No credentials at all.
    pub fn new() -> Self {
        Self::default()
    }

    /// The values the firmware was built with ([`Field::env`]); unset variables stay
    /// unset.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::TooLong`] or [`CredentialsError::BadPort`] for a value
    /// that does not fit.
    pub fn from_build_env() -> Result<Self, CredentialsError<core::convert::Infallible>> {
        let mut c = Self::new();
        c.fill_from_build_env()?;
        Ok(c)
    }

    /// Each field from the config partition, or else from the build environment.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Storage`] if the partition cannot be read (a value too long
    /// for its field does not decode: `Storage(Serialization)`), and the errors of
    /// [`Credentials::from_build_env`].
    pub async fn load<F: MultiwriteNorFlash>(
        store: &mut ConfigStore<'_, F>,
    ) -> Result<Self, CredentialsError<F::Error>> {
        let mut c = Self::new();
        for field in Field::ALL {
            let key = field.key();
            let found = if field == Field::BrokerPort {
                match store.fetch::<u16>(key).await {
                    Ok(Some(0)) => return Err(CredentialsError::BadPort),
                    Ok(Some(port)) => {
                        c.broker_port = Some(port);
                        true
                    }
                    Ok(None) => false,
                    Err(e) => return Err(CredentialsError::Storage(e)),
                }
            } else {
                match store.fetch::<String<SECRET_MAX>>(key).await {
                    Ok(Some(value)) => {
                        // Wiped when it goes out of scope, like the field it fills.
                        let value = Secret(value);
                        c.put(field, value.expose())
                            .map_err(|()| CredentialsError::TooLong(field))?;
                        !value.is_empty()
                    }
                    Ok(None) => false,
                    Err(e) => return Err(CredentialsError::Storage(e)),
                }
            };
            if found {
                c.sources[field as usize] = Source::Partition;
            }
        }
        c.fill_from_build_env()?;
        Ok(c)
    }

    /// Writes every configured field into the config partition (provisioning); the
    /// fields that are unset are removed from it.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Storage`] if the partition cannot be written.
    pub async fn store<F: MultiwriteNorFlash>(
        &self,
        store: &mut ConfigStore<'_, F>,
    ) -> Result<(), CredentialsError<F::Error>> {
        for field in Field::ALL {
            let key = field.key();
            let result = match (field, self.get(field)) {
                (Field::BrokerPort, _) => match self.broker_port {
                    Some(port) => store.store(key, &port).await,
                    None => store.remove(key).await,
                },
                (_, "") => store.remove(key).await,
                (_, value) => store.store(key, value).await,
            };
            result.map_err(CredentialsError::Storage)?;
        }
        Ok(())
    }

    /// Sets `field` to `value` (the broker port as decimal digits).
    ///
    /// # Errors
    ///
    /// [`CredentialsError::TooLong`] or [`CredentialsError::BadPort`]; the field is
    /// then unset.
    pub fn set<E>(&mut self, field: Field, value: &str) -> Result<(), CredentialsError<E>> {
        self.set_from(field, value, Source::Application)
    }

    /// The Wi-Fi network name and passphrase (empty for an open network).
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Missing`] without an SSID.
    pub fn wifi<E>(&self) -> Result<(&str, &str), CredentialsError<E>> {
        if self.wifi_ssid.is_empty() {
            return Err(CredentialsError::Missing(Field::WifiSsid));
        }
        Ok((&self.wifi_ssid, self.wifi_passphrase.expose()))
    }

    /// The broker's host and port ([`DEFAULT_BROKER_PORT`] unless configured).
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Missing`] without a host.
    pub fn broker<E>(&self) -> Result<(&str, u16), CredentialsError<E>> {
        if self.broker_host.is_empty() {
            return Err(CredentialsError::Missing(Field::BrokerHost));
        }
        Ok((
            &self.broker_host,
            self.broker_port.unwrap_or(DEFAULT_BROKER_PORT),
        ))
    }

    /// The MQTT user name and password, each `None` when not configured (for
    /// `ioto_transport`'s `ClientConfig::username` / `password`).
    pub fn mqtt_login(&self) -> (Option<&str>, Option<&[u8]>) {
        let user = (!self.mqtt_username.is_empty()).then_some(self.mqtt_username.as_str());
        let pass =
            (!self.mqtt_password.is_empty()).then_some(self.mqtt_password.expose().as_bytes());
        (user, pass)
    }

    /// The cloud model's API key.
    ///
    /// # Errors
    ///
    /// [`CredentialsError::Missing`] when not configured.
    pub fn api_key<E>(&self) -> Result<&Secret<SECRET_MAX>, CredentialsError<E>> {
        if self.api_key.is_empty() {
            return Err(CredentialsError::Missing(Field::ApiKey));
        }
        Ok(&self.api_key)
    }

    /// Where each field came from: safe to log (`Display` names the variables and
    /// sources, never a value).
    pub fn sources(&self) -> Sources {
        Sources(self.sources)
    }

    fn fill_from_build_env<E>(&mut self) -> Result<(), CredentialsError<E>> {
        for field in Field::ALL {
            if self.sources[field as usize] != Source::Unset {
                continue;
            }
            if let Some(value) = field.built_in().filter(|v| !v.is_empty()) {
                self.set_from(field, value, Source::BuildEnv)?;
            }
        }
        Ok(())
    }

    fn set_from<E>(
        &mut self,
        field: Field,
        value: &str,
        source: Source,
    ) -> Result<(), CredentialsError<E>> {
        let result = if field == Field::BrokerPort {
            match value.parse::<u16>() {
                Ok(port) if port > 0 => {
                    self.broker_port = Some(port);
                    Ok(())
                }
                _ => {
                    self.broker_port = None;
                    self.sources[field as usize] = Source::Unset;
                    return Err(CredentialsError::BadPort);
                }
            }
        } else {
            self.put(field, value)
        };
        match result {
            Ok(()) => {
                self.sources[field as usize] = if value.is_empty() {
                    Source::Unset
                } else {
                    source
                };
                Ok(())
            }
            Err(()) => {
                let _ = self.put(field, "");
                self.sources[field as usize] = Source::Unset;
                Err(CredentialsError::TooLong(field))
            }
        }
    }

    /// Stores a text field (not the port).
    fn put(&mut self, field: Field, value: &str) -> Result<(), ()> {
        fn text<const N: usize>(s: &mut String<N>, value: &str) -> Result<(), ()> {
            s.clear();
            s.push_str(value).map_err(|_| ())
        }
        match field {
            Field::WifiSsid => text(&mut self.wifi_ssid, value),
            Field::WifiPassphrase => self.wifi_passphrase.set(value),
            Field::BrokerHost => text(&mut self.broker_host, value),
            Field::BrokerPort => Err(()),
            Field::MqttUsername => text(&mut self.mqtt_username, value),
            Field::MqttPassword => self.mqtt_password.set(value),
            Field::ApiKey => self.api_key.set(value),
        }
    }

    /// A text field's value ("" when unset; the port is not text).
    fn get(&self, field: Field) -> &str {
        match field {
            Field::WifiSsid => &self.wifi_ssid,
            Field::WifiPassphrase => self.wifi_passphrase.expose(),
            Field::BrokerHost => &self.broker_host,
            Field::BrokerPort => "",
            Field::MqttUsername => &self.mqtt_username,
            Field::MqttPassword => self.mqtt_password.expose(),
            Field::ApiKey => self.api_key.expose(),
        }
    }
}

/// Where each credential came from, in [`Field::ALL`] order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sources(pub [Source; 7]);

impl Sources {
    /// The source of `field`.
    pub fn of(&self, field: Field) -> Source {
        self.0[field as usize]
    }
}

impl fmt::Display for Sources {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, field) in Field::ALL.iter().enumerate() {
            let source = match self.0[i] {
                Source::Unset => "unset",
                Source::Partition => "partition",
                Source::BuildEnv => "build env",
                Source::Application => "application",
            };
            let sep = if i == 0 { "" } else { ", " };
            let kind = if field.is_secret() { " (secret)" } else { "" };
            write!(f, "{sep}{}{kind}: {source}", field.env())?;
        }
        Ok(())
    }
}
