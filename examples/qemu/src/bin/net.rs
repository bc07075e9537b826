//! The network on every virtual board, against the test's own services on the host's
//! loopback: the board's NIC driver (`ioto_board_qemu::net`) under embassy-net, TCP
//! through QEMU's user-mode network, the MQTT client to a real mosquitto, and the
//! `restrict=on` fence around it all.
//!
//! `cargo xtask hil-test` starts an echo server and mosquitto on ephemeral loopback
//! ports, forwards `10.0.2.100:<port>` to each (`guestfwd`), and passes the addresses
//! and a nonce on the command line (`-append`); after the run it checks that the
//! broker kept the message this suite published and that the echo server saw every
//! byte (see xtask/src/qemu_net.rs).
#![no_std]
#![no_main]

use core::cell::UnsafeCell;
use core::net::{SocketAddr, SocketAddrV4};
use embassy_futures::join::join;
use embassy_futures::select::{Either, select};
use embassy_net::tcp::TcpSocket;
use embassy_net::tcp::client::{TcpClient, TcpClientState, TcpConnection};
use embassy_net::{Config, Ipv4Address, Ipv4Cidr, Runner, Stack, StackResources, StaticConfigV4};
use embassy_time::{Delay, Duration, with_timeout};
use embedded_io::ErrorKind;
use embedded_io_async::Write;
use ioto_board_qemu::net::{self, Nic};
use ioto_board_qemu::{BOARD, QemuClock, args, block_on, entry, harness, tests};
use ioto_core::Entropy;
use ioto_core::outbox::{OfflineQueue, QueuePolicy, RamQueue};
use ioto_transport::mqtt::client::{Buffers, Client, ClientConfig, Event, PublishOptions};
use ioto_transport::mqtt::connector::Connector;
use ioto_transport::mqtt::{ProtocolVersion, QoS, ReasonCode, SubscribeOptions, Subscription};

/// Bytes sent through the echo server.
const ECHO_BYTES: usize = 64 * 1024;
/// How long a connection to the fenced-off gateway may hang before we call it refused
/// (virtual time: 1 ms = 10^6 instructions). Without the fence, slirp answers within
/// 1 ms on qemu-rv32 and about 60 ms on the mps2 boards, where nothing wakes QEMU's
/// main loop to see the host's connect complete before its next tick (README).
const FENCE_WAIT: Duration = Duration::from_millis(300);
/// smoltcp's neighbour-discovery rate limit (`NeighborCache::SILENT_TIME`).
const ARP_SILENCE: Duration = Duration::from_millis(1_000);
/// Generous ceiling for each network step (virtual time).
const STEP: Duration = Duration::from_secs(5);

/// A value made on first use, in a static (the firmware has one thread).
struct Once<T>(UnsafeCell<Option<T>>);

// SAFETY: the firmware runs on one core, without interrupts touching these.
unsafe impl<T> Sync for Once<T> {}

impl<T> Once<T> {
    const fn new() -> Self {
        Once(UnsafeCell::new(None))
    }

    /// The value, made by `init` on the first call.
    fn get_or_init(&'static self, init: impl FnOnce() -> T) -> &'static T {
        let slot = self.0.get();
        // SAFETY: single-threaded; the slot is written only while empty, when no
        // reference into it exists, and only read afterwards.
        unsafe {
            if (*slot).is_none() {
                *slot = Some(init());
            }
            match &*slot {
                Some(value) => value,
                None => unreachable!(),
            }
        }
    }

    /// The value, mutably, made by `init` on the first call. The caller must be done
    /// with the previous reference (each test is, before the next test runs).
    #[allow(clippy::mut_from_ref)]
    fn get_mut_or_init(&'static self, init: impl FnOnce() -> T) -> &'static mut T {
        // SAFETY: single-threaded, and no reference from an earlier call is still in use.
        let slot = unsafe { &mut *self.0.get() };
        slot.get_or_insert_with(init)
    }
}

/// The value of `key=` on the command line xtask passed.
fn arg(key: &str) -> &'static str {
    static LINE: Once<([u8; 512], usize)> = Once::new();
    let (buf, len) = LINE.get_or_init(|| {
        let mut buf = [0; 512];
        let len = match args::cmdline(&mut buf) {
            Ok(line) => line.len(),
            Err(e) => panic!("no command line from the host: {e}"),
        };
        (buf, len)
    });
    let line = core::str::from_utf8(&buf[..*len]).unwrap_or("");
    args::value(line, key)
        .unwrap_or_else(|| panic!("`{key}=` missing from the command line `{line}`"))
}

fn addr(key: &str) -> SocketAddrV4 {
    let text = arg(key);
    text.parse()
        .unwrap_or_else(|_| panic!("`{key}={text}` is not an address"))
}

struct Net {
    stack: Stack<'static>,
    runner: Runner<'static, Nic>,
}

fn net() -> &'static mut Net {
    static RESOURCES: Once<StackResources<4>> = Once::new();
    static NET: Once<Net> = Once::new();
    NET.get_mut_or_init(|| {
        let nic = net::nic().unwrap_or_else(|e| panic!("{e}"));
        let [a, b, c, d] = net::ADDRESS;
        let [ga, gb, gc, gd] = net::GATEWAY;
        let config = Config::ipv4_static(StaticConfigV4 {
            address: Ipv4Cidr::new(Ipv4Address::new(a, b, c, d), net::PREFIX_LEN),
            gateway: Some(Ipv4Address::new(ga, gb, gc, gd)),
            dns_servers: Default::default(),
        });
        let resources = RESOURCES.get_mut_or_init(StackResources::new);
        let seed = ioto_board_qemu::instructions() ^ 0x9e37_79b9_7f4a_7c15;
        let (stack, runner) = embassy_net::new(nic, config, resources, seed);
        Net { stack, runner }
    })
}

/// Runs `body` with the network stack polled next to it.
fn on_net<F: Future>(body: impl FnOnce(Stack<'static>) -> F) -> F::Output {
    let net = net();
    let stack = net.stack;
    block_on(async {
        match select(net.runner.run(), body(stack)).await {
            Either::First(never) => never,
            Either::Second(out) => out,
        }
    })
}

fn interface_up() {
    let mac = on_net(|stack| async move {
        with_timeout(STEP, stack.wait_link_up())
            .await
            .expect("link did not come up");
        with_timeout(STEP, stack.wait_config_up())
            .await
            .expect("no IPv4 configuration");
        stack.hardware_address()
    });
    // xtask gives the NIC this address on QEMU's command line; the driver read it
    // from the device (LAN9118 EEPROM / virtio-net config space).
    let want = arg("mac");
    let embassy_net::HardwareAddress::Ethernet(got) = mac;
    let mut text = [0u8; 17];
    for (i, byte) in got.0.iter().enumerate() {
        let hex = b"0123456789abcdef";
        text[i * 3] = hex[usize::from(byte >> 4)];
        text[i * 3 + 1] = hex[usize::from(byte & 0xf)];
        if i < 5 {
            text[i * 3 + 2] = b':';
        }
    }
    assert_eq!(core::str::from_utf8(&text).ok(), Some(want), "MAC address");
}

/// The byte stream sent to the echo server: xorshift32 from the nonce.
struct Stream(u32);

impl Stream {
    fn next(&mut self) -> u8 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 17;
        self.0 ^= self.0 << 5;
        self.0 as u8
    }
}

fn nonce() -> u32 {
    let text = arg("nonce");
    text.parse()
        .unwrap_or_else(|_| panic!("nonce `{text}` is not a u32"))
}

/// FNV-1a, to report what went through.
fn fnv1a(hash: u32, byte: u8) -> u32 {
    (hash ^ u32::from(byte)).wrapping_mul(0x0100_0193)
}

fn tcp_echo_64k() {
    let (sent, received) = on_net(|stack| async move {
        let (mut rx, mut tx) = ([0u8; 4096], [0u8; 4096]);
        let mut socket = TcpSocket::new(stack, &mut rx, &mut tx);
        socket.set_timeout(Some(STEP));
        with_timeout(STEP, socket.connect(addr("echo")))
            .await
            .expect("connect to the echo server timed out")
            .expect("connect to the echo server");
        let (mut reader, mut writer) = socket.split();
        let write = async {
            let mut stream = Stream(nonce() | 1);
            let (mut chunk, mut hash) = ([0u8; 1024], 0x811c_9dc5u32);
            for _ in 0..ECHO_BYTES / chunk.len() {
                for b in chunk.iter_mut() {
                    *b = stream.next();
                    hash = fnv1a(hash, *b);
                }
                writer.write_all(&chunk).await.expect("write to echo");
            }
            writer.flush().await.expect("flush to echo");
            hash
        };
        let read = async {
            let mut expect = Stream(nonce() | 1);
            let (mut buf, mut total, mut hash) = ([0u8; 1024], 0usize, 0x811c_9dc5u32);
            while total < ECHO_BYTES {
                let n = reader.read(&mut buf).await.expect("read from echo");
                assert!(n > 0, "echo closed after {total} bytes");
                for &b in &buf[..n] {
                    assert_eq!(b, expect.next(), "byte {total} came back changed");
                    hash = fnv1a(hash, b);
                    total += 1;
                }
            }
            hash
        };
        let out = join(write, read).await;
        socket.abort();
        let _ = socket.flush().await;
        out
    });
    assert_eq!(sent, received, "FNV-1a of what was sent and what came back");
    ioto_board_qemu::print!("[{ECHO_BYTES} B, fnv1a {received:#010x}] ");
}

/// The broker by address (no name resolution on this network), over embassy-net's
/// TCP client.
struct Broker<'a> {
    tcp: &'a TcpClient<'a, 1, 2048, 2048>,
    addr: SocketAddrV4,
}

impl<'a> Connector for Broker<'a> {
    type Error = ErrorKind;
    type Connection<'c>
        = TcpConnection<'a, 1, 2048, 2048>
    where
        Self: 'c;

    async fn connect(&self) -> Result<Self::Connection<'_>, ErrorKind> {
        let connecting =
            embedded_nal_async::TcpConnect::connect(self.tcp, SocketAddr::V4(self.addr));
        connecting.await.map_err(|e| embedded_io::Error::kind(&e))
    }
}

struct Jitter(u32);

impl Entropy for Jitter {
    fn fill_bytes(&mut self, buf: &mut [u8]) {
        let mut s = Stream(self.0 | 1);
        buf.iter_mut().for_each(|b| *b = s.next());
        self.0 = s.0;
    }
}

/// The payload xtask expects the broker to hold: `<board> <nonce>`.
fn payload(out: &mut [u8; 48]) -> &[u8] {
    let mut len = 0;
    for part in [BOARD, " ", arg("nonce")] {
        out[len..len + part.len()].copy_from_slice(part.as_bytes());
        len += part.len();
    }
    &out[..len]
}

fn mqtt_publish_qos1() {
    on_net(|stack| async move {
        let state: TcpClientState<1, 2048, 2048> = TcpClientState::new();
        let mut tcp = TcpClient::new(stack, &state);
        tcp.set_timeout(Some(STEP));
        let connector = Broker {
            tcp: &tcp,
            addr: addr("mqtt"),
        };
        let (mut rx, mut tx, mut inflight, mut ids, mut queue_mem) =
            ([0u8; 512], [0u8; 512], [0u8; 512], [0u16; 4], [0u8; 256]);
        let buffers = Buffers {
            rx: &mut rx,
            tx: &mut tx,
            inflight: &mut inflight,
            incoming_qos2: &mut ids,
        };
        let queue = OfflineQueue::new(RamQueue::new(&mut queue_mem, 4), QueuePolicy::DropNewest);
        let mut cfg = ClientConfig::new(ProtocolVersion::V5, "ioto-net-suite");
        cfg.connect_timeout_ms = 5_000;
        let mut client = Client::new(
            cfg,
            &connector,
            buffers,
            queue,
            Delay,
            QemuClock,
            Jitter(nonce()),
        );
        let topic = arg("topic");
        let mut body = [0u8; 48];
        let body = payload(&mut body);
        // CONNECT / CONNACK.
        match with_timeout(STEP, client.poll()).await {
            Ok(Ok(Event::Connected { .. })) => {}
            other => panic!("no CONNACK: {:?}", other.map(|r| r.map(|_| ()))),
        }
        // Subscribe to our own topic, so the broker sends the message back.
        let filter = [Subscription {
            filter: topic,
            options: SubscribeOptions::qos(QoS::AtLeastOnce),
        }];
        client
            .subscribe(&filter, Default::default())
            .await
            .expect("SUBSCRIBE");
        match with_timeout(STEP, client.poll()).await {
            Ok(Ok(Event::Subscribed(_))) => {}
            other => panic!("no SUBACK: {:?}", other.map(|r| r.map(|_| ()))),
        }
        let options = PublishOptions {
            retain: true,
            ..PublishOptions::default()
        };
        client
            .publish(topic, body, QoS::AtLeastOnce, &options)
            .await
            .expect("PUBLISH");
        let (mut acked, mut echoed) = (false, false);
        while !(acked && echoed) {
            match with_timeout(STEP, client.poll()).await {
                Ok(Ok(Event::Published { reason, .. })) => {
                    assert_eq!(reason, ReasonCode::SUCCESS, "PUBACK reason");
                    acked = true;
                }
                Ok(Ok(Event::Message(m))) => {
                    assert_eq!(m.topic, topic);
                    assert_eq!(m.payload, body, "the broker sent back another payload");
                    echoed = true;
                }
                Ok(Ok(_)) => {}
                Ok(Err(e)) => panic!("MQTT client: {e:?}"),
                Err(_) => panic!("timed out: PUBACK {acked}, message back {echoed}"),
            }
        }
        client.disconnect().await;
    });
}

/// `restrict=on`: the gateway — which slirp would map to the host's loopback — is
/// fenced off, even on a port where a host service listens (`fenced=`: without
/// `restrict=on` this connect succeeds, and the test fails; checked by hand).
///
/// smoltcp sends at most one ARP request per second: the one for the services'
/// address went out when the suite started, so the gateway's may wait up to
/// [`ARP_SILENCE`] before its SYN leaves; [`FENCE_WAIT`] more is then conclusive. No
/// address off the host is tried: were the fence broken, that would send traffic off
/// the machine.
fn restricted_to_forwards() {
    on_net(|stack| async move {
        let target = addr("fenced");
        let (mut rx, mut tx) = ([0u8; 256], [0u8; 256]);
        let mut socket = TcpSocket::new(stack, &mut rx, &mut tx);
        if let Ok(Ok(())) = with_timeout(ARP_SILENCE + FENCE_WAIT, socket.connect(target)).await {
            panic!("{target} is reachable despite restrict=on");
        }
        socket.abort();
    });
}

#[entry]
fn main() -> ! {
    let suite = tests![
        interface_up,
        tcp_echo_64k,
        mqtt_publish_qos1,
        restricted_to_forwards
    ];
    harness::run("net", suite)
}
