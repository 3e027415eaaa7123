//! Pooled connections, each with its own prepared statements: r2d2 hands out
//! a connection and drops one that closed or was found dead, so a pool
//! reconnects once the database is back. There is no test query on checkout
//! (a round trip per call); `PostgresStorage::run` finds a dead connection
//! at BEGIN, before anything is decided, and takes another. Each
//! connection is made with the store URL's TLS settings (see [`crate::tls`]),
//! and a failure TLS explains carries a sentence saying what to change.

use crate::tls::{self, Connector, TlsSettings};
use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;
use std::fmt;

pub struct Connection {
    pub client: Client,
    /// Prepared on this session, by SQL text.
    pub statements: HashMap<String, Statement>,
    /// Found dead (a transaction could not begin on it): the pool drops it
    /// rather than hand it out again.
    pub broken: bool,
}

#[derive(Clone)]
pub struct Manager {
    config: postgres::Config,
    connector: Connector,
    /// Kept to explain a failed handshake in the URL's own terms.
    tls: TlsSettings,
}

impl Manager {
    pub fn new(config: postgres::Config, connector: Connector, tls: TlsSettings) -> Self {
        Self {
            config,
            connector,
            tls,
        }
    }
}

/// A connection that could not be made, with what to do about it when TLS
/// was the reason (r2d2 reports the last one's text when a call times out
/// waiting for a connection, so the advice reaches the caller and the log).
#[derive(Debug)]
pub struct ConnectError {
    error: postgres::Error,
    advice: Option<String>,
}

impl ConnectError {
    /// Whether TLS refused the connection (advice is attached).
    pub fn is_tls(&self) -> bool {
        self.advice.is_some()
    }
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let error = tls::full_text(&self.error);
        match &self.advice {
            Some(advice) => write!(f, "{error}; {advice}"),
            None => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for ConnectError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = ConnectError;

    fn connect(&self) -> Result<Connection, ConnectError> {
        let connected = match &self.connector {
            Connector::Plain => self.config.connect(NoTls),
            Connector::Rustls(tls) => self.config.connect(tls.clone()),
        };
        let client = connected.map_err(|error| ConnectError {
            advice: tls::explain(&error, &self.tls),
            error,
        })?;
        Ok(Connection {
            client,
            statements: HashMap::new(),
            broken: false,
        })
    }

    fn is_valid(&self, connection: &mut Connection) -> Result<(), ConnectError> {
        connection
            .client
            .simple_query("")
            .map(|_| ())
            .map_err(|error| ConnectError {
                error,
                advice: None,
            })
    }

    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.broken || connection.client.is_closed()
    }
}
