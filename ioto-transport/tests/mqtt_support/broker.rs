//! A real mosquitto broker per test: generated config, ephemeral loopback port,
//! persistence in a private directory, stopped (and cleaned up) on drop.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A running (or stopped, between restarts) mosquitto.
pub struct Broker {
    child: Option<Child>,
    /// Loopback port of the plain listener.
    pub port: u16,
    dir: PathBuf,
    conf: PathBuf,
}

fn mosquitto_binary() -> PathBuf {
    for p in [
        "/usr/sbin/mosquitto",
        "/usr/bin/mosquitto",
        "/usr/local/sbin/mosquitto",
    ] {
        if std::path::Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!(
        "mosquitto is not installed (apt-get install mosquitto); run `cargo xtask doctor --install`"
    );
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout.trim_ascii() == b"0")
        .unwrap_or(false)
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind ephemeral port");
    l.local_addr().expect("local addr").port()
}

impl Broker {
    /// Starts a broker with persistence on; `extra` lines are appended to the config.
    pub fn start(extra: &str) -> Broker {
        let dir = std::env::temp_dir().join(format!(
            "ioto-mqtt-{}-{}",
            std::process::id(),
            NEXT_DIR.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let port = free_port();
        let conf = dir.join("mosquitto.conf");
        // Started as root, mosquitto drops to user `mosquitto` and then cannot write
        // its database into our directory; keep the invoking user instead.
        let user = if running_as_root() { "user root\n" } else { "" };
        let config = format!(
            "{user}listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\n\
             max_queued_messages 0\nmax_inflight_messages 20\nlog_dest file {}/mosquitto.log\n{extra}\n",
            dir.display(),
            dir.display()
        );
        std::fs::write(&conf, config).expect("write config");
        let mut b = Broker {
            child: None,
            port,
            dir,
            conf,
        };
        b.launch();
        b
    }

    fn launch(&mut self) {
        let child = Command::new(mosquitto_binary())
            .arg("-c")
            .arg(&self.conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn mosquitto");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!("mosquitto exited at start ({status}); log: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "mosquitto did not listen on {}",
                self.port
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn signal(&self, sig: &str) {
        if let Some(c) = &self.child {
            let ok = Command::new("kill")
                .arg(sig)
                .arg(c.id().to_string())
                .status()
                .expect("kill")
                .success();
            assert!(ok, "kill {sig} failed");
        }
    }

    /// Stops the broker with SIGTERM (it writes its persistence database) and waits.
    pub fn stop(&mut self) {
        self.signal("-TERM");
        if let Some(mut c) = self.child.take() {
            c.wait().expect("wait mosquitto");
        }
    }

    /// Starts the stopped broker again on the same port with the same database.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "broker still running");
        self.launch();
    }

    /// Freezes the broker (SIGSTOP): connections stay open but nothing answers.
    pub fn freeze(&self) {
        self.signal("-STOP");
    }

    /// Resumes a frozen broker.
    pub fn thaw(&self) {
        self.signal("-CONT");
    }

    /// The broker's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("mosquitto.log")).unwrap_or_default()
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .arg("-CONT")
                .arg(c.id().to_string())
                .status();
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
