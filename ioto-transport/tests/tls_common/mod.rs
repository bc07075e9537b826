//! Shared support for the TLS suites: a test PKI made by the `openssl` CLI at run time,
//! real TLS servers (`openssl s_server`, `mosquitto`) on ephemeral loopback ports that
//! are killed on drop, and a blocking `std` TCP stream as an `embedded-io-async` stream.
#![allow(dead_code, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use embedded_io_async::{ErrorKind, ErrorType, Read, Write};

pub mod echo;

/// Seconds since the Unix epoch, from the host clock.
pub fn now_unix() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A blocking `std` TCP stream exposed as an `embedded-io-async` stream.
pub struct StdStream(pub TcpStream);

impl StdStream {
    /// Connects to `127.0.0.1:port` with a read timeout so a hung peer fails the test.
    pub fn connect(port: u16) -> Self {
        let s = TcpStream::connect(("127.0.0.1", port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.set_nodelay(true).unwrap();
        Self(s)
    }
}

impl ErrorType for StdStream {
    type Error = ErrorKind;
}

impl Read for StdStream {
    async fn read(&mut self, buf: &mut [u8]) -> Result<usize, ErrorKind> {
        self.0.read(buf).map_err(|e| {
            eprintln!("tcp read: {e}");
            ErrorKind::Other
        })
    }
}

impl Write for StdStream {
    async fn write(&mut self, buf: &[u8]) -> Result<usize, ErrorKind> {
        self.0.write(buf).map_err(|_| ErrorKind::Other)
    }

    async fn flush(&mut self) -> Result<(), ErrorKind> {
        self.0.flush().map_err(|_| ErrorKind::Other)
    }
}

fn run(cmd: &mut Command) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (is openssl installed?)"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

const OPENSSL_CNF: &str = r#"
[ req ]
distinguished_name = dn
prompt = no
[ dn ]
CN = unused
[ ca_ext ]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[ intermediate_ext ]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
[ not_a_ca_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
[ server_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[ other_host_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:broker.example.com,IP:10.9.8.7
[ critical_unknown_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
1.3.6.1.4.1.55555.1 = critical,ASN1:UTF8String:must be understood
[ client_only_ext ]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectAltName = DNS:localhost,IP:127.0.0.1
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $dir/index.txt
new_certs_dir = $dir
serial = $dir/serial
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
[ policy_any ]
commonName = supplied
"#;

/// A certificate authority on disk (key, certificate and `openssl ca` database).
pub struct Authority {
    pub dir: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    /// How it signs the certificates it issues.
    pub signing: Signing,
    /// The key type of the certificates it issues.
    pub issues: KeyType,
}

/// A key and the certificate issued for it.
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// The key algorithm of a generated key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    /// ECDSA on P-256 (`prime256v1`).
    P256,
    /// ECDSA on P-384 (`secp384r1`).
    P384,
    /// ECDSA on P-521 (`secp521r1`; not implemented by the verifier).
    P521,
    /// RSA with a modulus of this many bits.
    Rsa(u32),
}

/// How an authority signs what it issues: the digest (`-md`) and extra `-sigopt`s
/// (e.g. RSASSA-PSS padding).
#[derive(Clone, Debug)]
pub struct Signing {
    pub md: &'static str,
    pub sigopts: &'static [&'static str],
}

impl Signing {
    /// Plain signatures with `md` (`sha256`, `sha384`...).
    pub const fn digest(md: &'static str) -> Self {
        Self { md, sigopts: &[] }
    }
}

fn new_key(path: &Path, key: KeyType) {
    let mut cmd = Command::new("openssl");
    match key {
        KeyType::P256 | KeyType::P384 | KeyType::P521 => {
            let curve = match key {
                KeyType::P256 => "prime256v1",
                KeyType::P384 => "secp384r1",
                _ => "secp521r1",
            };
            cmd.args(["ecparam", "-name", curve, "-genkey", "-noout", "-out"])
        }
        KeyType::Rsa(bits) => cmd
            .args(["genpkey", "-algorithm", "RSA", "-pkeyopt"])
            .arg(format!("rsa_keygen_bits:{bits}"))
            .arg("-out"),
    };
    run(cmd.arg(path));
    // Throw-away test keys: readable by mosquitto, which drops root privileges to its
    // own user before loading them.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).unwrap();
}

fn write_cnf(dir: &Path) -> PathBuf {
    let cnf = dir.join("openssl.cnf");
    std::fs::write(&cnf, OPENSSL_CNF.replace("$dir", dir.to_str().unwrap())).unwrap();
    std::fs::write(dir.join("index.txt"), "").unwrap();
    std::fs::write(dir.join("serial"), "1000\n").unwrap();
    cnf
}

impl Authority {
    /// A self-signed P-256 root named `cn` (SHA-256, issues P-256 certificates).
    pub fn root(base: &Path, name: &str, cn: &str) -> Self {
        Self::root_with(base, name, cn, KeyType::P256, Signing::digest("sha256"))
    }

    /// A self-signed root of key type `key`, signing with `signing` (itself and what it
    /// issues); it issues P-256 certificates until [`Authority::issuing`] says otherwise.
    pub fn root_with(
        base: &Path,
        name: &str,
        cn: &str,
        key_type: KeyType,
        signing: Signing,
    ) -> Self {
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        let cnf = write_cnf(&dir);
        let key = dir.join("ca.key");
        let cert = dir.join("ca.pem");
        new_key(&key, key_type);
        let mut cmd = Command::new("openssl");
        cmd.args(["req", "-x509", "-new"])
            .arg(format!("-{}", signing.md));
        for opt in signing.sigopts {
            cmd.args(["-sigopt", opt]);
        }
        run(cmd
            .args(["-days", "3650", "-extensions", "ca_ext", "-subj"])
            .arg(format!("/CN={cn}"))
            .arg("-config")
            .arg(&cnf)
            .arg("-key")
            .arg(&key)
            .arg("-out")
            .arg(&cert));
        Self {
            dir,
            cert,
            key,
            signing,
            issues: KeyType::P256,
        }
    }

    /// This authority, issuing `key` certificates from now on.
    pub fn issuing(mut self, key: KeyType) -> Self {
        self.issues = key;
        self
    }

    /// Issues a certificate for `cn` with the extension section `ext` of the config,
    /// valid from `start` to `end` (`YYYYMMDDHHMMSSZ`), or for 30 days from now.
    pub fn issue(&self, name: &str, cn: &str, ext: &str, dates: Option<(&str, &str)>) -> Leaf {
        let key = self.dir.join(format!("{name}.key"));
        let csr = self.dir.join(format!("{name}.csr"));
        let cert = self.dir.join(format!("{name}.pem"));
        new_key(&key, self.issues);
        run(Command::new("openssl")
            .args(["req", "-new", "-sha256", "-subj"])
            .arg(format!("/CN={cn}"))
            .arg("-config")
            .arg(self.dir.join("openssl.cnf"))
            .arg("-key")
            .arg(&key)
            .arg("-out")
            .arg(&csr));
        let mut cmd = Command::new("openssl");
        cmd.args([
            "ca",
            "-batch",
            "-notext",
            "-extensions",
            ext,
            "-md",
            self.signing.md,
        ]);
        for opt in self.signing.sigopts {
            cmd.args(["-sigopt", opt]);
        }
        cmd.arg("-config")
            .arg(self.dir.join("openssl.cnf"))
            .arg("-extfile")
            .arg(self.dir.join("openssl.cnf"))
            .arg("-cert")
            .arg(&self.cert)
            .arg("-keyfile")
            .arg(&self.key)
            .arg("-in")
            .arg(&csr)
            .arg("-out")
            .arg(&cert);
        match dates {
            Some((start, end)) => cmd.args(["-startdate", start, "-enddate", end]),
            None => cmd.args(["-days", "30"]),
        };
        run(&mut cmd);
        Leaf { cert, key }
    }

    /// Makes an intermediate CA below this one (its own `openssl ca` database), with
    /// this authority's key type for issued certificates and its signing.
    pub fn intermediate(&self, base: &Path, name: &str, cn: &str, ext: &str) -> Authority {
        let issued = self.issue(name, cn, ext, None);
        let dir = base.join(name);
        std::fs::create_dir_all(&dir).unwrap();
        write_cnf(&dir);
        std::fs::copy(&issued.cert, dir.join("ca.pem")).unwrap();
        std::fs::copy(&issued.key, dir.join("ca.key")).unwrap();
        Authority {
            cert: dir.join("ca.pem"),
            key: dir.join("ca.key"),
            dir,
            signing: self.signing.clone(),
            issues: self.issues,
        }
    }

    /// The CA certificate as PEM text.
    pub fn pem(&self) -> Vec<u8> {
        std::fs::read(&self.cert).unwrap()
    }

    /// The CA certificate as DER.
    pub fn der(&self) -> Vec<u8> {
        pem_to_der(&self.cert)
    }
}

impl Leaf {
    /// The certificate as DER.
    pub fn der(&self) -> Vec<u8> {
        pem_to_der(&self.cert)
    }
}

/// Converts the PEM certificate at `path` to DER with `openssl x509`.
pub fn pem_to_der(path: &Path) -> Vec<u8> {
    let out = Command::new("openssl")
        .args(["x509", "-outform", "DER", "-in"])
        .arg(path)
        .output()
        .unwrap();
    assert!(out.status.success());
    out.stdout
}

/// Every certificate the suites need, generated fresh in `dir`.
pub struct Pki {
    pub dir: PathBuf,
    pub ca: Authority,
    pub other_ca: Authority,
    pub impostor_ca: Authority,
    pub good: Leaf,
    pub expired: Leaf,
    pub not_yet_valid: Leaf,
    pub other_host: Leaf,
    pub from_other_ca: Leaf,
    pub from_impostor: Leaf,
    pub intermediate: Authority,
    pub via_intermediate: Leaf,
    pub not_a_ca: Authority,
    pub via_not_a_ca: Leaf,
    pub critical_unknown: Leaf,
    pub client_only: Leaf,
}

impl Pki {
    /// Generates the PKI under `dir` (wiped first).
    pub fn generate(dir: PathBuf) -> Self {
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca = Authority::root(&dir, "ca", "Ioto Test CA");
        let other_ca = Authority::root(&dir, "other_ca", "Some Other CA");
        // Same name as the trusted CA, different key: must fail on the signature.
        let impostor_ca = Authority::root(&dir, "impostor_ca", "Ioto Test CA");
        let good = ca.issue("good", "localhost", "server_ext", None);
        let expired = ca.issue(
            "expired",
            "localhost",
            "server_ext",
            Some(("20200101000000Z", "20210101000000Z")),
        );
        let not_yet_valid = ca.issue(
            "future",
            "localhost",
            "server_ext",
            Some(("20450101000000Z", "20460101000000Z")),
        );
        let other_host = ca.issue("other_host", "broker.example.com", "other_host_ext", None);
        let from_other_ca = other_ca.issue("from_other", "localhost", "server_ext", None);
        let from_impostor = impostor_ca.issue("from_impostor", "localhost", "server_ext", None);
        let intermediate = ca.intermediate(
            &dir,
            "intermediate",
            "Ioto Test Intermediate",
            "intermediate_ext",
        );
        let via_intermediate =
            intermediate.issue("via_intermediate", "localhost", "server_ext", None);
        let not_a_ca = ca.intermediate(&dir, "not_a_ca", "Not A CA", "not_a_ca_ext");
        let via_not_a_ca = not_a_ca.issue("via_not_a_ca", "localhost", "server_ext", None);
        let critical_unknown = ca.issue(
            "critical_unknown",
            "localhost",
            "critical_unknown_ext",
            None,
        );
        let client_only = ca.issue("client_only", "localhost", "client_only_ext", None);
        Self {
            dir,
            ca,
            other_ca,
            impostor_ca,
            good,
            expired,
            not_yet_valid,
            other_host,
            from_other_ca,
            from_impostor,
            intermediate,
            via_intermediate,
            not_a_ca,
            via_not_a_ca,
            critical_unknown,
            client_only,
        }
    }
}

/// A child process killed (and reaped) on drop.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `openssl s_server -tls1_3 -rev` on `127.0.0.1`, an ephemeral port: it sends back
/// every line it receives, reversed. `chain` is sent after the certificate.
pub fn openssl_server(leaf: &Leaf, chain: Option<&Path>) -> Server {
    openssl_server_with(leaf, chain, &[])
}

/// [`openssl_server`] with `extra` `s_server` options (e.g. `-stateless`, `-groups`).
pub fn openssl_server_with(leaf: &Leaf, chain: Option<&Path>, extra: &[&str]) -> Server {
    let mut cmd = Command::new("openssl");
    cmd.args([
        "s_server",
        "-tls1_3",
        "-rev",
        "-accept",
        "127.0.0.1:0",
        "-cert",
    ])
    .arg(&leaf.cert)
    .arg("-key")
    .arg(&leaf.key)
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::null());
    if let Some(chain) = chain {
        cmd.arg("-cert_chain").arg(chain);
    }
    cmd.args(extra);
    let mut child = cmd
        .spawn()
        .expect("cannot start `openssl s_server` (apt install openssl)");
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let port = loop {
        let line = lines
            .next()
            .expect("openssl s_server exited before listening")
            .unwrap();
        if let Some(addr) = line.strip_prefix("ACCEPT ") {
            break addr.rsplit(':').next().unwrap().parse().unwrap();
        }
    };
    // Keep draining its output so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, port }
}

/// Finds a free loopback port (for servers that cannot report an ephemeral one).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `mosquitto` with one TLS 1.3 listener on `127.0.0.1`, anonymous access.
pub fn mosquitto_tls(dir: &Path, leaf: &Leaf) -> Server {
    let port = free_port();
    let conf = dir.join(format!("mosquitto-{port}.conf"));
    std::fs::write(
        &conf,
        format!(
            "listener {port} 127.0.0.1\nallow_anonymous true\ncertfile {}\nkeyfile {}\ntls_version tlsv1.3\npersistence false\n",
            leaf.cert.display(),
            leaf.key.display()
        ),
    )
    .unwrap();
    let child = Command::new("mosquitto")
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start `mosquitto` (apt install mosquitto)");
    let server = Server { child, port };
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "mosquitto did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    server
}
