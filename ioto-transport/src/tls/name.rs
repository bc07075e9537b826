//! Matching the configured server name against a certificate's subjectAltName
//! (RFC 6125 / RFC 9525). The subject Common Name is never used: like browsers, Go and
//! rustls, a certificate must carry the name in subjectAltName.

use core::net::IpAddr;
use core::str::FromStr;

use super::error::TlsError;
use super::x509::{AltName, AltNames};

/// The longest DNS name accepted (RFC 1035: 253 characters in text form).
const MAX_DNS_NAME: usize = 253;

/// The identity the server must prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ServerName<'a> {
    /// A DNS name; also sent as SNI.
    Dns(&'a str),
    /// An IP literal; matched against `iPAddress` entries and never sent as SNI.
    Ip(IpAddr),
}

impl<'a> ServerName<'a> {
    /// Classifies and validates `name`.
    pub(crate) fn parse(name: &'a str) -> Result<Self, TlsError> {
        if let Ok(ip) = IpAddr::from_str(name) {
            return Ok(Self::Ip(ip));
        }
        let valid_label = |label: &str| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if name.is_empty() || name.len() > MAX_DNS_NAME || !name.split('.').all(valid_label) {
            return Err(TlsError::InvalidServerName);
        }
        Ok(Self::Dns(name))
    }
}

/// Does the presented DNS identifier (possibly `*.rest`) match `host`?
fn dns_matches(presented: &[u8], host: &[u8]) -> bool {
    if let Some(suffix) = presented.strip_prefix(b"*.") {
        // The wildcard stands for exactly one whole, non-empty, left-most label, and
        // the rest must have at least two labels (no `*.com`).
        let Some(dot) = host.iter().position(|&b| b == b'.') else {
            return false;
        };
        dot > 0
            && suffix.contains(&b'.')
            && !suffix.contains(&b'*')
            && host[dot + 1..].eq_ignore_ascii_case(suffix)
    } else {
        !presented.contains(&b'*') && presented.eq_ignore_ascii_case(host)
    }
}

fn ip_matches(presented: &[u8], ip: &IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => presented == v4.octets(),
        IpAddr::V6(v6) => presented == v6.octets(),
    }
}

/// Checks that the end-entity certificate's subjectAltName covers `name`.
pub(crate) fn verify_name(
    subject_alt_names: Option<&[u8]>,
    name: &ServerName<'_>,
) -> Result<(), TlsError> {
    let sans = subject_alt_names.ok_or(TlsError::NameMismatch)?;
    for entry in AltNames::new(sans) {
        let found = match (entry?, name) {
            (AltName::Dns(presented), ServerName::Dns(host)) => {
                dns_matches(presented, host.as_bytes())
            }
            (AltName::Ip(presented), ServerName::Ip(ip)) => ip_matches(presented, ip),
            _ => false,
        };
        if found {
            return Ok(());
        }
    }
    Err(TlsError::NameMismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_and_case_insensitive() {
        assert!(dns_matches(b"Broker.Example.com", b"broker.example.COM"));
        assert!(!dns_matches(b"broker.example.com", b"broker.example.org"));
        assert!(!dns_matches(b"example.com", b"a.example.com"));
    }

    #[test]
    fn wildcards_cover_one_left_label_only() {
        assert!(dns_matches(b"*.example.com", b"api.example.com"));
        assert!(!dns_matches(b"*.example.com", b"a.b.example.com"));
        assert!(!dns_matches(b"*.example.com", b"example.com"));
        assert!(!dns_matches(b"*.com", b"example.com"));
        assert!(!dns_matches(b"a*.example.com", b"ab.example.com"));
        assert!(!dns_matches(b"*.*.example.com", b"a.b.example.com"));
        assert!(!dns_matches(b"api.*.com", b"api.example.com"));
    }

    #[test]
    fn server_names_are_classified_and_validated() {
        assert_eq!(
            ServerName::parse("localhost"),
            Ok(ServerName::Dns("localhost"))
        );
        assert!(matches!(
            ServerName::parse("127.0.0.1"),
            Ok(ServerName::Ip(_))
        ));
        assert!(matches!(ServerName::parse("::1"), Ok(ServerName::Ip(_))));
        assert_eq!(ServerName::parse(""), Err(TlsError::InvalidServerName));
        assert_eq!(ServerName::parse("a..b"), Err(TlsError::InvalidServerName));
        assert_eq!(
            ServerName::parse("bad host"),
            Err(TlsError::InvalidServerName)
        );
        assert_eq!(
            ServerName::parse("-a.com"),
            Err(TlsError::InvalidServerName)
        );
    }
}
