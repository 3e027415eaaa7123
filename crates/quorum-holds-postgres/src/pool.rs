//! Pooled connections, each with its own prepared statements: r2d2 hands out
//! a connection, checks on checkout that it still answers (so a pool
//! reconnects once the database is back), and drops one that closed.

use postgres::{Client, NoTls, Statement};
use std::collections::HashMap;

pub struct Connection {
    pub client: Client,
    /// Prepared on this session, by SQL text.
    pub statements: HashMap<String, Statement>,
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
        })
    }

    fn is_valid(&self, connection: &mut Connection) -> Result<(), postgres::Error> {
        connection.client.simple_query("").map(|_| ())
    }

    fn has_broken(&self, connection: &mut Connection) -> bool {
        connection.client.is_closed()
    }
}
