//! Where requests go: scheme, host, port and base path, HTTPS unless marked local.

use crate::error::Error;
use alloc::string::{String, ToString};

/// URL scheme of an endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// Plain HTTP (only for endpoints marked local).
    Http,
    /// HTTP over TLS with the server certificate verified.
    Https,
}

/// A parsed base URL such as `https://api.openai.com/v1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// `http` or `https`.
    pub scheme: Scheme,
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// Base path without a trailing slash (`/v1`, or empty).
    pub base_path: String,
}

impl Endpoint {
    /// An HTTPS endpoint; `http://` is rejected with [`Error::InsecureEndpoint`].
    pub fn new(url: &str) -> Result<Self, Error> {
        let ep = Self::parse(url)?;
        if ep.scheme == Scheme::Http {
            return Err(Error::InsecureEndpoint);
        }
        Ok(ep)
    }

    /// An endpoint explicitly marked local (a LAN/loopback server): `http://` allowed.
    pub fn local(url: &str) -> Result<Self, Error> {
        Self::parse(url)
    }

    /// `https://api.openai.com/v1`.
    pub fn openai() -> Self {
        Self {
            scheme: Scheme::Https,
            host: "api.openai.com".into(),
            port: 443,
            base_path: "/v1".into(),
        }
    }

    /// `https://api.anthropic.com` (paths add `/v1/messages`).
    pub fn anthropic() -> Self {
        Self {
            scheme: Scheme::Https,
            host: "api.anthropic.com".into(),
            port: 443,
            base_path: String::new(),
        }
    }

    /// The request path for `suffix` (e.g. `/chat/completions`).
    pub fn path(&self, suffix: &str) -> String {
        let mut p = self.base_path.clone();
        p.push_str(suffix);
        p
    }

    /// The `Host` header value.
    pub fn host_header(&self) -> String {
        let default = match self.scheme {
            Scheme::Http => 80,
            Scheme::Https => 443,
        };
        if self.port == default {
            self.host.clone()
        } else {
            alloc::format!("{}:{}", self.host, self.port)
        }
    }

    fn parse(url: &str) -> Result<Self, Error> {
        let (scheme, rest) = if let Some(r) = url.strip_prefix("https://") {
            (Scheme::Https, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (Scheme::Http, r)
        } else {
            return Err(Error::InvalidEndpoint);
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        if authority.is_empty() || authority.contains('@') || path.contains(['?', '#', ' ']) {
            return Err(Error::InvalidEndpoint);
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => {
                (h, p.parse::<u16>().map_err(|_| Error::InvalidEndpoint)?)
            }
            _ => (authority, if scheme == Scheme::Https { 443 } else { 80 }),
        };
        if host.is_empty() || port == 0 {
            return Err(Error::InvalidEndpoint);
        }
        Ok(Self {
            scheme,
            host: host.to_string(),
            port,
            base_path: path.trim_end_matches('/').to_string(),
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn https_by_default_http_only_when_local() {
        assert_eq!(
            Endpoint::new("http://127.0.0.1:8080/v1"),
            Err(Error::InsecureEndpoint)
        );
        let ep = Endpoint::local("http://127.0.0.1:8080/v1/").unwrap();
        assert_eq!(
            (ep.host.as_str(), ep.port, ep.base_path.as_str()),
            ("127.0.0.1", 8080, "/v1")
        );
        assert_eq!(ep.path("/chat/completions"), "/v1/chat/completions");
        let ep = Endpoint::new("https://api.mistral.ai/v1").unwrap();
        assert_eq!(
            (ep.port, ep.host_header().as_str()),
            (443, "api.mistral.ai")
        );
        assert_eq!(Endpoint::new("ftp://x"), Err(Error::InvalidEndpoint));
        assert_eq!(
            Endpoint::new("https://user:pw@host/"),
            Err(Error::InvalidEndpoint)
        );
        assert_eq!(
            Endpoint::new("https://host:99999/"),
            Err(Error::InvalidEndpoint)
        );
    }
}
