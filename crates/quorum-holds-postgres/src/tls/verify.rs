//! From TLS settings to a rustls client configuration: the trusted roots
//! (an `sslrootcert` PEM file, or the Mozilla roots compiled in), and the
//! certificate verifier each mode needs. rustls's own WebPKI verifier does
//! `verify-full`; `verify-ca` and the unchecked modes wrap or replace it,
//! because rustls has no switch for either.

use super::{Check, Roots, SslMode, TlsSettings, config_error};
use quorum_holds::HoldError;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::sync::Arc;
use tokio_postgres_rustls::MakeRustlsConnect;

/// What the pool connects with.
#[derive(Clone)]
pub enum Connector {
    Plain,
    Rustls(MakeRustlsConnect),
}

/// The connector and the `sslmode` the `postgres` crate should use.
pub fn connector(
    settings: &TlsSettings,
) -> Result<(Connector, postgres::config::SslMode), HoldError> {
    use postgres::config::SslMode as Pg;
    let pg_mode = match settings.mode {
        SslMode::Disable => return Ok((Connector::Plain, Pg::Disable)),
        SslMode::Prefer => Pg::Prefer,
        // `Require` in the postgres crate never falls back to plaintext,
        // whatever the handshake does.
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Pg::Require,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| config_error(format!("TLS to PostgreSQL cannot be set up: {e}")))?;
    let verifier: Arc<dyn ServerCertVerifier> = match settings.check() {
        Check::Nothing => Arc::new(AnyCertificate {
            algorithms: provider.signature_verification_algorithms,
        }),
        Check::Chain => Arc::new(ChainOnly(webpki_verifier(settings, &provider)?)),
        Check::ChainAndName => webpki_verifier(settings, &provider)?,
    };
    let config = builder
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((Connector::Rustls(MakeRustlsConnect::new(config)), pg_mode))
}

fn webpki_verifier(
    settings: &TlsSettings,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<WebPkiServerVerifier>, HoldError> {
    let roots = match &settings.root_cert {
        Some(Roots::File(path)) => roots_from_file(path)?,
        Some(Roots::Mozilla) | None => RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
    };
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| config_error(format!("{}: {e}", settings.roots_description())))
}

/// The CA certificates of a PEM file.
fn roots_from_file(path: &std::path::Path) -> Result<RootCertStore, HoldError> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| {
        config_error(format!(
            "sslrootcert={shown} in the store URL cannot be read: {e}"
        ))
    })?;
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&pem) {
        let cert = cert.map_err(|e| {
            config_error(format!(
                "sslrootcert={shown} is not a PEM file of certificates: {e}"
            ))
        })?;
        roots.add(cert).map_err(|e| {
            config_error(format!(
                "sslrootcert={shown} holds a certificate that cannot be a CA: {e}"
            ))
        })?;
    }
    if roots.is_empty() {
        return Err(config_error(format!(
            "sslrootcert={shown} holds no certificate (no -----BEGIN CERTIFICATE----- block)"
        )));
    }
    Ok(roots)
}

/// `verify-ca`: the chain must lead to a trusted CA, the name may be any.
/// rustls checks the chain before the name, so a name error means the
/// chain passed; every other error stands.
#[derive(Debug)]
struct ChainOnly(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

/// `prefer` and `require` without `sslrootcert`: libpq encrypts but takes
/// any certificate. The handshake's signatures are still checked, so the
/// session is at least bound to the certificate the server sent.
#[derive(Debug)]
struct AnyCertificate {
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::split_url;

    #[test]
    fn an_unreadable_or_empty_root_file_is_refused_naming_it() {
        let missing = "postgres://h/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem";
        let (_, settings) = split_url(missing).expect("parses");
        let error = connector(&settings).err().expect("refused").to_string();
        assert!(error.contains("sslrootcert=/nonexistent/ca.pem"), "{error}");
        assert!(error.contains("cannot be read"), "{error}");

        let dir = std::env::temp_dir().join(format!("quorum-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let settings = TlsSettings {
            mode: SslMode::VerifyFull,
            root_cert: Some(Roots::File(empty.clone())),
        };
        let error = connector(&settings).err().expect("refused").to_string();
        let _ = std::fs::remove_dir_all(&dir);
        assert!(
            error.contains(&format!("sslrootcert={}", empty.display())),
            "{error}"
        );
        assert!(error.contains("holds no certificate"), "{error}");
    }
}
