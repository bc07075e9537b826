//! What the physical boards add to keyword-to-cloud (`keyword_to_cloud.rs`, included
//! beside this file as `kw`): the model's URL and name from the build environment, its
//! API key from the board's credentials (config partition or `IOTO_API_KEY`), the
//! roots its certificate must chain to, the wall clock certificates are checked
//! against, and the loop that runs for ever.
//!
//! ```text
//! IOTO_API_KEY=sk-… IOTO_UNIX_TIME=$(date +%s) \
//!     cargo xtask build --board nrf52840 --example keyword_to_cloud
//! ```
//!
//! | variable | default | what |
//! |---|---|---|
//! | `IOTO_AI_ENDPOINT` | `https://api.openai.com/v1` | base URL of an OpenAI-compatible API; `http://` only for a server on the LAN |
//! | `IOTO_AI_MODEL` | `gpt-4.1-mini` | model name |
//! | `IOTO_AI_CA_PEM` | GTS Root R4, ISRG Root X2 | the CA(s) the endpoint's chain must end in (PEM text) |
//! | `IOTO_API_KEY` | — | API key, unless the config partition holds one |
//! | `IOTO_UNIX_TIME` | — | the build time (`date +%s`): the boards have no wall clock, so certificates are checked against build time + uptime; without it every TLS connect fails with `ClockNotSet` |

use embassy_net::dns::DnsSocket;
use embassy_time::{Duration, Instant};
use ioto_board_embassy::{Credentials, EmbassyClock, Net};
use ioto_core::Entropy;
use ioto_core::features::audio::AudioFrontend;
use rand_chacha::ChaCha20Rng;
use rand_chacha::rand_core::SeedableRng;
use static_cell::ConstStaticCell;

use crate::kw;

/// Base URL of the model's API.
pub const ENDPOINT: &str = match option_env!("IOTO_AI_ENDPOINT") {
    Some(url) => url,
    None => "https://api.openai.com/v1",
};

/// The model.
pub const MODEL: &str = match option_env!("IOTO_AI_MODEL") {
    Some(model) => model,
    None => "gpt-4.1-mini",
};

/// The roots an `https://` endpoint's chain may end in: `IOTO_AI_CA_PEM` (PEM text)
/// at build time, else Google Trust Services' GTS Root R4 and Let's Encrypt's ISRG
/// Root X2 (`keyword_to_cloud-ca.pem`; ECDSA P-384 roots — the verifier has no RSA
/// unless `tls-rsa` is on, and P-384 needs `tls-p384`, which the physical examples
/// enable), which api.openai.com's chain ended in when this was written
/// (`openssl s_client -showcerts -connect host:443` shows where a chain ends).
pub static TRUST: &[u8] = match option_env!("IOTO_AI_CA_PEM") {
    Some(pem) => pem.as_bytes(),
    None => include_bytes!("keyword_to_cloud-ca.pem"),
};

/// Seconds since the Unix epoch: the build time (`IOTO_UNIX_TIME`) plus the uptime,
/// or 0 (TLS then refuses: clock not set) when the build did not say.
pub fn unix_time() -> u64 {
    let built = option_env!("IOTO_UNIX_TIME").and_then(|t| t.trim().parse::<u64>().ok());
    built.map_or(0, |t| t + Instant::now().as_secs())
}

/// The spotter's front end and model arena, in RAM once.
static SPOTTER: ConstStaticCell<(AudioFrontend, [u8; kw::ARENA_BYTES])> =
    ConstStaticCell::new((AudioFrontend::new(), [0; kw::ARENA_BYTES]));

/// Listens on `mic` and sends each keyword to the model over `net` for ever (the TLS
/// handshakes' ChaCha20 and the retry jitter seeded from `rng`, the board's hardware
/// RNG); stops the firmware (after logging why) if the spotter, the endpoint or the
/// microphone fails.
pub async fn run<M: kw::Microphone>(
    mut mic: M,
    net: &Net,
    credentials: &Credentials,
    mut rng: impl Entropy,
    device: &str,
    mut light: impl FnMut(f32),
) -> ! {
    let (mut seed, mut jitter) = ([0u8; 32], [0u8; 8]);
    rng.fill_bytes(&mut seed);
    rng.fill_bytes(&mut jitter);
    let (frontend, arena) = SPOTTER.take();
    let mut spotter = match kw::Spotter::new(frontend, arena) {
        Ok(spotter) => spotter,
        Err(e) => halt(format_args!("spotter: {e:?}")).await,
    };
    let key = match credentials.api_key::<()>() {
        Ok(key) => ioto_cloud::Secret::new(key.expose()),
        Err(_) => {
            log::warn!("no API key configured (IOTO_API_KEY or the config partition)");
            ioto_cloud::Secret::new("")
        }
    };
    if unix_time() == 0 && !ENDPOINT.starts_with("http://") {
        log::warn!("built without IOTO_UNIX_TIME: certificates cannot be checked");
    }
    match net.wait_up(Duration::from_secs(30)).await {
        Ok(ip) => log::info!("network up: {}", ip.address),
        Err(e) => log::warn!("{e}; the model client keeps trying"),
    }
    log::info!("listening; keywords go to {MODEL} at {ENDPOINT}");
    let dns = DnsSocket::new(net.stack());
    let link = kw::ModelLink {
        url: ENDPOINT,
        model: MODEL,
        key,
        trust: TRUST,
    };
    let parts = kw::NetParts {
        stack: net.stack(),
        dns: &dns,
        tls_rng: ChaCha20Rng::from_seed(seed),
        unix_time,
        clock: EmbassyClock,
        jitter_seed: u64::from_le_bytes(jitter),
    };
    let served = kw::serve(
        &mut mic,
        &mut spotter,
        &link,
        parts,
        device,
        &mut light,
        None,
    );
    match served.await {
        Ok(report) => halt(format_args!("stopped after {} keywords", report.keywords)).await,
        Err(e) => halt(format_args!("{e}")).await,
    }
}

/// Logs why and sleeps for ever (a reset or the watchdog starts over).
async fn halt(why: core::fmt::Arguments<'_>) -> ! {
    log::error!("keyword_to_cloud stopped: {why}");
    loop {
        core::future::pending::<()>().await;
    }
}
