//! A small, allocation-free URL parser for `http`, `https`, `ws` and `wss` URLs.
//!
//! Only what a device client needs: scheme, host (name, IPv4 or bracketed IPv6),
//! optional port and the request target (path plus query). User info and
//! fragments are rejected / dropped respectively.

/// The URL schemes the HTTP and WebSocket clients understand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`: plain TCP, default port 80.
    Http,
    /// `https://`: TLS, default port 443.
    Https,
    /// `ws://`: WebSocket over plain TCP, default port 80.
    Ws,
    /// `wss://`: WebSocket over TLS, default port 443.
    Wss,
}

impl Scheme {
    /// Whether the scheme needs a TLS connection.
    pub const fn is_secure(self) -> bool {
        matches!(self, Scheme::Https | Scheme::Wss)
    }

    /// The port used when the URL names none.
    pub const fn default_port(self) -> u16 {
        if self.is_secure() { 443 } else { 80 }
    }

    /// The scheme as written in a URL, without `://`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }
}

/// Why a URL was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UrlError {
    /// No `scheme://` prefix, or a scheme other than http/https/ws/wss.
    UnsupportedScheme,
    /// Empty host, `user@host` form, or an unterminated `[ipv6` literal.
    InvalidHost,
    /// The port is not a number in 1..=65535.
    InvalidPort,
    /// The URL contains whitespace or control characters.
    InvalidCharacter,
}

/// A parsed URL borrowing from the original string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Url<'a> {
    /// The scheme.
    pub scheme: Scheme,
    /// The host as written, without brackets for IPv6 literals.
    pub host: &'a str,
    /// The explicit port, or the scheme's default.
    pub port: u16,
    /// Whether the URL named the port explicitly.
    pub explicit_port: bool,
    /// The request target: path plus query, `/` when the URL has none.
    pub target: &'a str,
}

impl<'a> Url<'a> {
    /// Parses `http://host[:port][/path][?query]` (and https, ws, wss).
    pub fn parse(url: &'a str) -> Result<Self, UrlError> {
        if url.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(UrlError::InvalidCharacter);
        }
        let (scheme, rest) = split_scheme(url)?;
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, tail) = rest.split_at(authority_end);
        let target = match tail.find('#') {
            Some(hash) => &tail[..hash],
            None => tail,
        };
        let target = if target.is_empty() { "/" } else { target };
        if target.starts_with('?') {
            // `http://host?x` has an empty path; the caller must write `/?x`.
            return Err(UrlError::InvalidHost);
        }
        let (host, port) = split_host_port(authority)?;
        Ok(Url {
            scheme,
            host,
            port: port.unwrap_or(scheme.default_port()),
            explicit_port: port.is_some(),
            target,
        })
    }

    /// Whether the `Host` header needs the port (it is not the scheme default).
    pub fn host_needs_port(&self) -> bool {
        self.port != self.scheme.default_port()
    }
}

fn split_scheme(url: &str) -> Result<(Scheme, &str), UrlError> {
    let sep = url.find("://").ok_or(UrlError::UnsupportedScheme)?;
    let (name, rest) = (&url[..sep], &url[sep + 3..]);
    let scheme = [Scheme::Http, Scheme::Https, Scheme::Ws, Scheme::Wss]
        .into_iter()
        .find(|s| s.as_str().eq_ignore_ascii_case(name))
        .ok_or(UrlError::UnsupportedScheme)?;
    Ok((scheme, rest))
}

fn split_host_port(authority: &str) -> Result<(&str, Option<u16>), UrlError> {
    if authority.contains('@') {
        return Err(UrlError::InvalidHost);
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']').ok_or(UrlError::InvalidHost)?;
        let after = &v6[close + 1..];
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':').ok_or(UrlError::InvalidHost)?),
        };
        (&v6[..close], port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        }
    };
    if host.is_empty() || (!authority.starts_with('[') && host.contains(['[', ']', ':'])) {
        return Err(UrlError::InvalidHost);
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return Err(UrlError::InvalidPort),
            Ok(n) => Some(n),
        },
    };
    Ok((host, port))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_common_forms() {
        let u = Url::parse("http://example.com").ok();
        assert_eq!(
            u,
            Some(Url {
                scheme: Scheme::Http,
                host: "example.com",
                port: 80,
                explicit_port: false,
                target: "/"
            })
        );
        let u = Url::parse("wss://[::1]:8443/chat?x=1#frag").ok();
        assert_eq!(
            u,
            Some(Url {
                scheme: Scheme::Wss,
                host: "::1",
                port: 8443,
                explicit_port: true,
                target: "/chat?x=1"
            })
        );
        assert_eq!(
            Url::parse("HTTPS://h/p").map(|u| (u.port, u.target)),
            Ok((443, "/p"))
        );
    }

    #[test]
    fn rejects_bad_urls() {
        assert_eq!(Url::parse("ftp://h/"), Err(UrlError::UnsupportedScheme));
        assert_eq!(Url::parse("h/"), Err(UrlError::UnsupportedScheme));
        assert_eq!(Url::parse("http:///x"), Err(UrlError::InvalidHost));
        assert_eq!(Url::parse("http://u:p@h/"), Err(UrlError::InvalidHost));
        assert_eq!(Url::parse("http://h:0/"), Err(UrlError::InvalidPort));
        assert_eq!(Url::parse("http://h:99999/"), Err(UrlError::InvalidPort));
        assert_eq!(Url::parse("http://h:/"), Err(UrlError::InvalidPort));
        assert_eq!(Url::parse("http://[::1/"), Err(UrlError::InvalidHost));
        assert_eq!(Url::parse("http://h/a b"), Err(UrlError::InvalidCharacter));
    }
}
