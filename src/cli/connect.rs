//! Reaching a running server from the CLI: `--server` takes a URL or a bare
//! `host:port`, and a server that is not there is reported as such, with the
//! command to start it, instead of tonic's bare "transport error".

use std::error::Error as _;
use tonic::transport::{Channel, ClientTlsConfig, Endpoint};

/// Where the CLI looks for a server when `--server` is given without a value.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:50051";

#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{server:?} is not a server address; write host:port or http://host:port")]
    Address { server: String },
    #[error(
        "connection refused by {url} — is `quorum serve` running there? (start it with `cargo run --release -- serve`)"
    )]
    Refused { url: String },
    #[error("cannot reach {url}: {detail}")]
    Unreachable { url: String, detail: String },
}

/// `127.0.0.1:50051` → `http://127.0.0.1:50051`; URLs are kept as they are.
pub fn server_url(server: &str) -> String {
    let server = server.trim();
    if server.contains("://") {
        server.to_owned()
    } else {
        format!("http://{server}")
    }
}

/// Adds the caller's credentials to every call: a bearer token from the
/// server's token file, or (development mode) the claimed identity.
pub fn credentials(
    token: Option<&str>,
    identity: Option<&str>,
) -> impl FnMut(tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> + Clone {
    use tonic::metadata::MetadataValue;
    let bearer = token.and_then(|t| MetadataValue::try_from(format!("Bearer {t}")).ok());
    let identity = identity.and_then(|i| MetadataValue::try_from(i).ok());
    move |mut call| {
        if let Some(value) = &bearer {
            call.metadata_mut().insert("authorization", value.clone());
        }
        if let Some(value) = &identity {
            call.metadata_mut()
                .insert(crate::auth::IDENTITY_HEADER, value.clone());
        }
        Ok(call)
    }
}

/// Connects to `server`, saying plainly what went wrong when it cannot.
pub async fn connect(server: &str) -> Result<Channel, ConnectError> {
    connect_with_tls(server, None).await
}

/// As [`connect`], over TLS when `tls` is given.
pub async fn connect_with_tls(
    server: &str,
    tls: Option<ClientTlsConfig>,
) -> Result<Channel, ConnectError> {
    let url = server_url(server);
    let mut endpoint = Endpoint::from_shared(url.clone()).map_err(|_| ConnectError::Address {
        server: server.to_owned(),
    })?;
    if let Some(tls) = tls {
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|error| ConnectError::Unreachable {
                url: url.clone(),
                detail: error.to_string(),
            })?;
    }
    endpoint.connect().await.map_err(|error| {
        // tonic wraps the io::Error a few levels down; the kind says it all.
        let mut deepest = error.to_string();
        let mut source = error.source();
        while let Some(cause) = source {
            if let Some(io) = cause.downcast_ref::<std::io::Error>()
                && io.kind() == std::io::ErrorKind::ConnectionRefused
            {
                return ConnectError::Refused { url: url.clone() };
            }
            deepest = cause.to_string();
            source = cause.source();
        }
        ConnectError::Unreachable {
            url,
            detail: deepest,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_host_and_port_become_a_url() {
        assert_eq!(server_url("127.0.0.1:50051"), "http://127.0.0.1:50051");
        assert_eq!(server_url("localhost:1"), "http://localhost:1");
        assert_eq!(server_url("https://q.example:443"), "https://q.example:443");
    }

    #[tokio::test]
    async fn a_server_that_is_not_there_is_named_with_the_fix() {
        // Bind then drop, so the port is (almost certainly) closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let error = connect(&format!("127.0.0.1:{port}"))
            .await
            .expect_err("refused");
        let text = error.to_string();
        assert!(matches!(error, ConnectError::Refused { .. }), "{text}");
        assert!(text.contains("is `quorum serve` running"), "{text}");
    }
}
