//! Pooled connections, each with its own prepared statements: r2d2 hands out
//! a connection and drops one that closed or was found dead, so a pool
//! reconnects once the database is back. There is no test query on checkout
//! (a round trip per call); `PostgresStorage::run` finds a dead connection
//! at BEGIN, before anything is decided, and takes another.

use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;

pub struct Connection {
    pub client: Client,
    /// Prepared on this session, by SQL text.
    pub statements: HashMap<String, Statement>,
    /// Found dead (a transaction could not begin on it): the pool drops it
    /// rather than hand it out again.
    pub broken: bool,
}

pub struct Manager {
    config: postgres::Config,
}

impl Manager {
    pub fn new(config: postgres::Config) -> Self {
        Self { config }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Connection;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Connection, postgres::Error> {
        Ok(Connection {
            client: self.config.connect(NoTls)?,
            statements: HashMap::new(),
            broken: false,
        })
    }

    fn is_valid(&self, connection: &mut Connection) -> Result<(), postgres::Error> {
        connection.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.broken || connection.client.is_closed()
    }
}
