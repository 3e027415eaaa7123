//! TLS to PostgreSQL, configured the way libpq is: `sslmode` and
//! `sslrootcert` in the store URL. The `postgres` crate reads `sslmode` only
//! as disable/prefer/require and knows no `sslrootcert`, so both are taken
//! out of the URL here, before the rest goes to `postgres::Config`; what
//! they ask for becomes a rustls client configuration (ring, no OpenSSL)
//! handed to `tokio-postgres-rustls`, which does the TLS glue.
//!
//! What each mode does (libpq's meaning, so a URL copied from a managed
//! database's console means what it says there):
//!
//! | `sslmode` | encrypted | certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (default) | when the server offers TLS, else plaintext | no |
//! | `require` | always, or no connection | no; with `sslrootcert` as `verify-ca` |
//! | `verify-ca` | always | chain to `sslrootcert` (or the Mozilla roots) |
//! | `verify-full` | always | chain, and the URL's host name or IP in the certificate |
//!
//! Refusals are deliberate and name the parameter: an unknown mode, libpq's
//! `allow` (which the client cannot honour), an `sslrootcert` that cannot be
//! read or holds no certificate, and an `sslrootcert` with `disable` or
//! `prefer`, where it would check nothing while looking as if it did.

mod verify;

pub use verify::{Connector, connector};

use quorum_holds::HoldError;
use rustls::CertificateError;
use std::path::PathBuf;

/// libpq's `sslmode`, all five that the client can honour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> Result<Self, HoldError> {
        Ok(match value {
            "disable" => Self::Disable,
            "prefer" => Self::Prefer,
            "require" => Self::Require,
            "verify-ca" => Self::VerifyCa,
            "verify-full" => Self::VerifyFull,
            "allow" => {
                return Err(config_error(
                    "sslmode=allow in the store URL is not supported (the client tries TLS first, never plaintext first); use prefer, require, verify-ca or verify-full",
                ));
            }
            other => {
                return Err(config_error(format!(
                    "sslmode={other} in the store URL is not one of disable, prefer, require, verify-ca, verify-full"
                )));
            }
        })
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Disable => "disable",
            Self::Prefer => "prefer",
            Self::Require => "require",
            Self::VerifyCa => "verify-ca",
            Self::VerifyFull => "verify-full",
        }
    }
}

/// Where the trusted CA certificates come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Roots {
    /// The Mozilla root store compiled in (`webpki-roots`): no
    /// `sslrootcert`, or libpq 16's `sslrootcert=system`.
    Mozilla,
    /// A PEM file of CA certificates.
    File(PathBuf),
}

/// The TLS parameters of a store URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    /// `None`: no `sslrootcert` given.
    pub root_cert: Option<Roots>,
}

/// How far the server's certificate is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Check {
    /// Encrypt, but accept any certificate (libpq's `prefer`/`require`).
    Nothing,
    /// The chain up to a trusted CA, not the name.
    Chain,
    /// The chain and the host name.
    ChainAndName,
}

impl TlsSettings {
    pub(crate) fn check(&self) -> Check {
        match (self.mode, &self.root_cert) {
            (SslMode::Disable | SslMode::Prefer, _) | (SslMode::Require, None) => Check::Nothing,
            // libpq: "if a root CA file exists, the behavior of
            // sslmode=require will be the same as that of verify-ca".
            (SslMode::Require | SslMode::VerifyCa, Some(_)) | (SslMode::VerifyCa, None) => {
                Check::Chain
            }
            (SslMode::VerifyFull, _) => Check::ChainAndName,
        }
    }

    /// Where the trusted roots come from, for messages.
    pub fn roots_description(&self) -> String {
        match &self.root_cert {
            Some(Roots::File(path)) => format!("sslrootcert={}", path.display()),
            Some(Roots::Mozilla) | None => {
                "the Mozilla root store (no sslrootcert given)".to_owned()
            }
        }
    }

    /// One line for the startup log: what this connection is protected by.
    pub fn describe(&self) -> String {
        let mode = self.mode.as_str();
        match self.check() {
            Check::Nothing if self.mode == SslMode::Disable => {
                format!("sslmode={mode}: no TLS, the database traffic is plaintext")
            }
            Check::Nothing => format!(
                "sslmode={mode}: TLS without checking the server's certificate (encrypts, but does not stop an impostor; use verify-full)"
            ),
            Check::Chain => format!(
                "sslmode={mode}: TLS, certificate chain checked against {}, host name not checked",
                self.roots_description()
            ),
            Check::ChainAndName => format!(
                "sslmode={mode}: TLS, certificate chain checked against {} and host name checked",
                self.roots_description()
            ),
        }
    }
}

pub(crate) fn config_error(detail: impl Into<String>) -> HoldError {
    HoldError::Storage {
        detail: detail.into(),
    }
}

/// Splits `url` into the URL `postgres::Config` can read (without
/// `sslmode` and `sslrootcert`) and the TLS settings those asked for.
pub fn split_url(url: &str) -> Result<(String, TlsSettings), HoldError> {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, query),
        None => (url, ""),
    };
    let mut mode = SslMode::Prefer;
    let mut root_cert = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        match key {
            "sslmode" => mode = SslMode::parse(&percent_decode(value, key)?)?,
            "sslrootcert" => {
                let value = percent_decode(value, key)?;
                root_cert = Some(match value.as_str() {
                    "" => {
                        return Err(config_error(
                            "sslrootcert= in the store URL is empty; give the path of a PEM file of CA certificates",
                        ));
                    }
                    "system" => Roots::Mozilla,
                    path => Roots::File(PathBuf::from(path)),
                });
            }
            _ => kept.push(pair),
        }
    }
    if root_cert.is_some() && matches!(mode, SslMode::Disable | SslMode::Prefer) {
        return Err(config_error(format!(
            "sslrootcert in the store URL has no effect with sslmode={}: the server's certificate would not be checked; use sslmode=verify-full (or verify-ca)",
            mode.as_str()
        )));
    }
    if root_cert == Some(Roots::Mozilla) && mode != SslMode::VerifyFull {
        // libpq 16 refuses the same: the public roots vouch for names, so
        // without the name check any certificate they signed would pass.
        return Err(config_error(format!(
            "sslrootcert=system in the store URL needs sslmode=verify-full, not {}",
            mode.as_str()
        )));
    }
    let rest = if kept.is_empty() {
        base.to_owned()
    } else {
        format!("{base}?{}", kept.join("&"))
    };
    Ok((rest, TlsSettings { mode, root_cert }))
}

/// Decodes `%XX` escapes (a path with spaces, say) in the value of `key`.
fn percent_decode(value: &str, key: &str) -> Result<String, HoldError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| {
                    config_error(format!(
                        "{key} in the store URL has a bad %-escape: {value}"
                    ))
                })?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out)
        .map_err(|_| config_error(format!("{key} in the store URL is not UTF-8 once decoded")))
}

/// A sentence saying what to do about a connection that failed for a TLS
/// reason, or `None` when TLS was not the problem.
pub fn explain(error: &postgres::Error, settings: &TlsSettings) -> Option<String> {
    let mode = settings.mode.as_str();
    if let Some(tls) = rustls_error(error) {
        return Some(match tls {
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => format!(
                "the server's certificate is not signed by a CA in {}: set sslrootcert to the PEM file of the CA that signed it (a managed database's provider publishes its CA bundle)",
                settings.roots_description()
            ),
            rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            ) => "the server's certificate does not name the host in the store URL: connect by a host name (or IP) the certificate carries, or use sslmode=verify-ca to check the CA only".to_owned(),
            rustls::Error::InvalidCertificate(_) => format!(
                "the server's certificate was refused under sslmode={mode} ({tls})"
            ),
            other => format!("the TLS handshake with PostgreSQL failed under sslmode={mode} ({other})"),
        });
    }
    if full_text(error).contains("server does not support TLS") {
        return Some(format!(
            "sslmode={mode} needs TLS but the server does not offer it: turn ssl on in the server, or use sslmode=disable on a network you trust"
        ));
    }
    None
}

/// The error with its causes, `: `-joined: the `postgres` crate's own text
/// for a TLS failure is only "error performing TLS handshake", and the
/// reason is in its source.
pub fn full_text(error: &postgres::Error) -> String {
    let mut text = error.to_string();
    let mut next = std::error::Error::source(error);
    while let Some(cause) = next {
        let shown = cause.to_string();
        if !text.contains(&shown) {
            text = format!("{text}: {shown}");
        }
        next = cause.source();
    }
    text
}

/// The rustls error behind a failed connection, if there is one. The chain
/// passes through an `io::Error`, whose `source()` skips the error it
/// wraps, so that one is looked at with `get_ref`.
fn rustls_error(error: &postgres::Error) -> Option<&rustls::Error> {
    let mut next: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = next {
        if let Some(tls) = current.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && let Some(tls) = io.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>())
        {
            return Some(tls);
        }
        next = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> String {
        split_url(url).expect_err("refused").to_string()
    }

    #[test]
    fn tls_parameters_are_taken_out_and_the_rest_kept() {
        let (rest, tls) = split_url(
            "postgres://u@db:5432/q?application_name=x&sslmode=verify-full&sslrootcert=/etc/ca%20bundle.pem&connect_timeout=3",
        )
        .expect("parses");
        assert_eq!(
            rest,
            "postgres://u@db:5432/q?application_name=x&connect_timeout=3"
        );
        assert_eq!(tls.mode, SslMode::VerifyFull);
        assert_eq!(
            tls.root_cert,
            Some(Roots::File("/etc/ca bundle.pem".into()))
        );
        let (rest, tls) = split_url("postgres://u@db/q").expect("parses");
        assert_eq!(rest, "postgres://u@db/q");
        assert_eq!(
            tls,
            TlsSettings {
                mode: SslMode::Prefer,
                root_cert: None
            }
        );
        let (rest, _) = split_url("postgres://u@db/q?sslmode=require").expect("parses");
        assert_eq!(rest, "postgres://u@db/q");
    }

    #[test]
    fn what_each_mode_checks_follows_libpq() {
        let check = |url: &str| split_url(url).expect("parses").1.check();
        assert_eq!(check("postgres://h/d?sslmode=disable"), Check::Nothing);
        assert_eq!(check("postgres://h/d"), Check::Nothing);
        assert_eq!(check("postgres://h/d?sslmode=require"), Check::Nothing);
        assert_eq!(
            check("postgres://h/d?sslmode=require&sslrootcert=/ca.pem"),
            Check::Chain
        );
        assert_eq!(check("postgres://h/d?sslmode=verify-ca"), Check::Chain);
        assert_eq!(
            check("postgres://h/d?sslmode=verify-full"),
            Check::ChainAndName
        );
        assert_eq!(
            check("postgres://h/d?sslmode=verify-full&sslrootcert=system"),
            Check::ChainAndName
        );
    }

    #[test]
    fn bad_tls_parameters_are_refused_naming_the_parameter() {
        assert!(refused("postgres://h/d?sslmode=verify_full").contains("sslmode=verify_full"));
        assert!(refused("postgres://h/d?sslmode=allow").contains("sslmode=allow"));
        assert!(refused("postgres://h/d?sslmode=verify-full&sslrootcert=").contains("sslrootcert"));
        assert!(refused("postgres://h/d?sslrootcert=/ca.pem").contains("sslmode=prefer"));
        assert!(
            refused("postgres://h/d?sslmode=disable&sslrootcert=/ca.pem").contains("sslrootcert")
        );
        assert!(
            refused("postgres://h/d?sslmode=verify-ca&sslrootcert=system")
                .contains("sslrootcert=system")
        );
        assert!(refused("postgres://h/d?sslmode=verify-full&sslrootcert=%zz").contains("%-escape"));
    }
}
