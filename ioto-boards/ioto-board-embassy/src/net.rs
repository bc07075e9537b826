//! The `embassy-net` stack over a board's network driver, and the TCP connector the
//! MQTT client opens its connections with.
//!
//! A board crate passes its driver (W5500 Ethernet, CYW43 or ESP32-C3 Wi-Fi, a PPP
//! modem) to [`stack`], spawns the returned [`Runner`] in an `embassy-executor` task
//! of its own (task functions cannot be generic), and hands the [`Stack`] to
//! [`Net::new`]. The stack takes its address, gateway and DNS servers by DHCPv4.
//!
//! ```text
//! driver ──▶ embassy_net::Stack ──▶ TcpClient (1 connection) ─┐
//!                               └─▶ DnsSocket ────────────────┴─▶ Net::mqtt(host, port)
//!                                                                 = ioto_transport TcpConnector
//! ```

use embassy_net::dns::DnsSocket;
use embassy_net::driver::Driver;
use embassy_net::tcp::client::{TcpClient, TcpClientState};
use embassy_net::{Config, Runner, Stack, StackResources, StaticConfigV4};
use embassy_time::{Duration, with_timeout};
use ioto_transport::mqtt::connector::TcpConnector;
use static_cell::StaticCell;

/// Sockets the stack has room for: DHCP, DNS and two TCP connections.
pub const SOCKETS: usize = 4;
/// TCP connections open at once through [`Net`] (the MQTT client uses one).
pub const CONNECTIONS: usize = 1;
/// Bytes of TCP send and receive buffer per connection.
pub const TCP_BUFFER: usize = 1024;

/// The TCP client [`Net`] opens connections with.
pub type Tcp = TcpClient<'static, CONNECTIONS, TCP_BUFFER, TCP_BUFFER>;
/// The MQTT client's connector: TCP through [`Net`], host names resolved by DNS.
pub type MqttConnector<'n> = TcpConnector<'n, Tcp, DnsSocket<'static>>;

/// Why the network did not come up.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetError {
    /// The stack (or the driver's state) was already started: there is one per
    /// firmware.
    AlreadyStarted,
    /// The executor had no room for the driver's or the stack's task.
    Spawn,
    /// The network driver failed to start (the board's documentation says why).
    Driver,
    /// The driver needs firmware that was not built in (the CYW43 blobs).
    NoFirmware,
    /// Joining the Wi-Fi network failed (wrong passphrase, network out of reach).
    Join,
    /// A credential the network needs is missing or does not fit.
    Credentials,
    /// No link, or no DHCP lease, within the time allowed.
    Timeout,
}

impl core::fmt::Display for NetError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            NetError::AlreadyStarted => "the network is already started",
            NetError::Spawn => "no room in the executor for the network tasks",
            NetError::Driver => "the network driver failed to start",
            NetError::NoFirmware => "the radio firmware was not built in",
            NetError::Join => "joining the Wi-Fi network failed",
            NetError::Credentials => "network credentials missing or too long",
            NetError::Timeout => "no link or no DHCP lease in time",
        })
    }
}

impl core::error::Error for NetError {}

static RESOURCES: StaticCell<StackResources<SOCKETS>> = StaticCell::new();
static TCP_STATE: StaticCell<TcpClientState<CONNECTIONS, TCP_BUFFER, TCP_BUFFER>> =
    StaticCell::new();

/// The stack over `driver`, configured by DHCPv4, with `seed` (from the board's
/// hardware RNG) for its TCP sequence numbers and ports. Spawn the [`Runner`]'s
/// `run()` in a task before waiting on the stack.
///
/// # Errors
///
/// [`NetError::AlreadyStarted`] on a second call.
pub fn stack<D: Driver>(
    driver: D,
    seed: u64,
) -> Result<(Stack<'static>, Runner<'static, D>), NetError> {
    let resources = RESOURCES
        .try_init(StackResources::new())
        .ok_or(NetError::AlreadyStarted)?;
    Ok(embassy_net::new(
        driver,
        Config::dhcpv4(Default::default()),
        resources,
        seed,
    ))
}

/// The running stack with what the agent's clients need from it.
pub struct Net {
    stack: Stack<'static>,
    tcp: Tcp,
    dns: DnsSocket<'static>,
}

impl Net {
    /// Wraps a stack from [`stack`] (its runner already spawned).
    ///
    /// # Errors
    ///
    /// [`NetError::AlreadyStarted`] on a second call.
    pub fn new(stack: Stack<'static>) -> Result<Self, NetError> {
        let state = TCP_STATE
            .try_init(TcpClientState::new())
            .ok_or(NetError::AlreadyStarted)?;
        Ok(Self {
            stack,
            tcp: TcpClient::new(stack, state),
            dns: DnsSocket::new(stack),
        })
    }

    /// The stack (for sockets of your own).
    pub fn stack(&self) -> Stack<'static> {
        self.stack
    }

    /// Waits for the link and a DHCP lease, at most `timeout`, and returns the
    /// address configuration.
    ///
    /// # Errors
    ///
    /// [`NetError::Timeout`].
    pub async fn wait_up(&self, timeout: Duration) -> Result<StaticConfigV4, NetError> {
        with_timeout(timeout, self.stack.wait_config_up())
            .await
            .map_err(|_| NetError::Timeout)?;
        self.stack.config_v4().ok_or(NetError::Timeout)
    }

    /// The MQTT client's connector to `host` (a name, resolved on every connect, or
    /// an IP address) and `port`.
    pub fn mqtt<'n>(&'n self, host: &'n str, port: u16) -> MqttConnector<'n> {
        TcpConnector::new(&self.tcp, &self.dns, host, port)
    }
}

impl core::fmt::Debug for Net {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Net")
            .field("link_up", &self.stack.is_link_up())
            .field("address", &self.stack.config_v4().map(|c| c.address))
            .finish_non_exhaustive()
    }
}
