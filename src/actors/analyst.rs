//! The analyst's database: one row per order message it consumed, in SQLite (the same library
//! the embedded broker's storage uses) or, with `--db postgres://…`, in PostgreSQL as the
//! fish-and-chips talk's homework does, and any SQL the learner runs on it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_postgres::config::SslMode;

use crate::error::{Error, Result};
use crate::outcome::{Record, Table};
use crate::shop::{Order, Placed};

/// Where an analyst keeps its rows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Store {
    Sqlite(PathBuf),
    /// tokio-postgres's configuration, password included; its Debug never shows the password.
    Postgres(Box<tokio_postgres::Config>),
}

impl Store {
    /// `--db`: a `postgres://` or `postgresql://` URL, or a SQLite file. A URL without a
    /// password takes `PGPASSWORD`, or asks `ask` (a prompt that does not echo).
    pub fn parse(raw: &str, ask: impl FnOnce(&str) -> Option<String>) -> Result<Store> {
        let url = raw.starts_with("postgres://") || raw.starts_with("postgresql://");
        if !url && !is_conninfo(raw) {
            return Ok(Store::Sqlite(PathBuf::from(raw)));
        }
        let mut config: tokio_postgres::Config = raw.parse().map_err(|e| {
            let what = if url { "a PostgreSQL URL" } else { "a PostgreSQL connection string" };
            Error::input(format!("'{}' is not {what}: {e}", crate::security::redact_text(raw)))
                .with_hint("postgres://USER@HOST:PORT/DATABASE?sslmode=require")
        })?;
        if config.get_user().is_none() {
            return Err(Error::input("the PostgreSQL URL names no user: postgres://USER@HOST:PORT/DATABASE"));
        }
        if config.get_password().is_none() {
            let password = std::env::var("PGPASSWORD").ok().filter(|p| !p.is_empty());
            let shown = Store::Postgres(Box::new(config.clone())).describe();
            if let Some(password) = password.or_else(|| ask(&format!("password for {shown} (Enter for none): "))) {
                config.password(password);
            }
        }
        Ok(Store::Postgres(Box::new(config)))
    }

    /// The file, or `postgres://USER@HOST:PORT/DATABASE` (never the password).
    pub fn describe(&self) -> String {
        match self {
            Store::Sqlite(path) => path.display().to_string(),
            Store::Postgres(config) => {
                let user = config.get_user().unwrap_or("?");
                let host = match config.get_hosts().first() {
                    Some(tokio_postgres::config::Host::Tcp(host)) => host.clone(),
                    #[cfg(unix)]
                    Some(tokio_postgres::config::Host::Unix(path)) => path.display().to_string(),
                    None => "localhost".into(),
                };
                let port = config.get_ports().first().copied().unwrap_or(5432);
                format!("postgres://{user}@{host}:{port}/{}", config.get_dbname().unwrap_or(user))
            }
        }
    }
}

/// libpq's other way of naming a database, `host=db user=kw password=… dbname=shop`: words of
/// `key=value` where a key is one libpq knows. A SQLite file is never named like that.
fn is_conninfo(raw: &str) -> bool {
    const KEYS: [&str; 8] = ["host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "connect_timeout"];
    raw.split_whitespace().any(|word| word.split_once('=').is_some_and(|(key, _)| KEYS.contains(&key)))
}

/// The analyst's database: one row per order message it consumed.
pub enum AnalystDb {
    Sqlite { connection: libsql::Connection, _database: libsql::Database },
    Postgres(tokio_postgres::Client),
}

const PG_ORDERS_TABLE: &str = "CREATE TABLE IF NOT EXISTS orders (
    run TEXT NOT NULL, order_number BIGINT NOT NULL, till BIGINT NOT NULL, items TEXT NOT NULL,
    cod BIGINT NOT NULL, chips BIGINT NOT NULL, plaice BIGINT NOT NULL, ready BIGINT,
    topic TEXT NOT NULL, partition BIGINT NOT NULL, \"offset\" BIGINT NOT NULL, stored_at TIMESTAMPTZ NOT NULL)";

/// A PostgreSQL failure in one line, naming the server.
fn pg_error(store: &str, what: &str, err: &tokio_postgres::Error) -> Error {
    let why = err.as_db_error().map_or_else(|| err.to_string(), |db| db.message().to_string());
    let why = match std::error::Error::source(err) {
        Some(source) if err.as_db_error().is_none() => format!("{err}: {source}"),
        _ => why,
    };
    Error::Io { message: format!("{what} {store}: {why}"), source: None }
}

/// Connect as `sslmode` says, as libpq does: `disable` in the clear; `prefer` and `require`
/// encrypted, without checking the server's certificate (libpq's `require` does not either).
async fn connect_postgres(config: &tokio_postgres::Config) -> Result<tokio_postgres::Client> {
    let shown = Store::Postgres(Box::new(config.clone())).describe();
    let fail = |e: tokio_postgres::Error| pg_error(&shown, "cannot connect to PostgreSQL at", &e);
    let client = if config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await.map_err(fail)?;
        tokio::spawn(connection);
        client
    } else {
        let mut builder = openssl::ssl::SslConnector::builder(openssl::ssl::SslMethod::tls())
            .map_err(|e| Error::Io { message: format!("cannot set up TLS for {shown}: {e}"), source: None })?;
        builder.set_verify(openssl::ssl::SslVerifyMode::NONE);
        let tls = postgres_openssl::MakeTlsConnector::new(builder.build());
        let (client, connection) = config.connect(tls).await.map_err(fail)?;
        tokio::spawn(connection);
        client
    };
    client.batch_execute(PG_ORDERS_TABLE).await.map_err(|e| pg_error(&shown, "cannot create the orders table in", &e))?;
    Ok(client)
}

const ORDERS_TABLE: &str = "CREATE TABLE IF NOT EXISTS orders (
    run TEXT NOT NULL, order_number INTEGER NOT NULL, till INTEGER NOT NULL, items TEXT NOT NULL,
    cod INTEGER NOT NULL, chips INTEGER NOT NULL, plaice INTEGER NOT NULL, ready INTEGER,
    topic TEXT NOT NULL, partition INTEGER NOT NULL, \"offset\" INTEGER NOT NULL, stored_at TEXT NOT NULL)";

/// A database failure as a local-file error, with libsql's error as its source.
fn db_error(message: String, err: libsql::Error) -> Error {
    Error::Io { message: format!("{message}: {err}"), source: Some(Arc::new(err)) }
}

impl AnalystDb {
    pub async fn open(store: &Store) -> Result<Self> {
        match store {
            Store::Sqlite(path) => Self::open_sqlite(path).await,
            Store::Postgres(config) => Ok(AnalystDb::Postgres(connect_postgres(config).await?)),
        }
    }

    async fn open_sqlite(path: &Path) -> Result<Self> {
        let fail = |e| db_error(format!("cannot open the database {}", path.display()), e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        }
        let database = libsql::Builder::new_local(path).build().await.map_err(fail)?;
        let connection = database.connect().map_err(fail)?;
        connection.execute(ORDERS_TABLE, ()).await.map_err(fail)?;
        Ok(AnalystDb::Sqlite { connection, _database: database })
    }

    pub async fn insert(&self, run: &str, order: &Order, record: &Record) -> Result<()> {
        let needs = order.needs();
        let count = |item: &str| i64::from(needs.get(item).copied().unwrap_or(0));
        let number = i64::try_from(order.order).unwrap_or(i64::MAX);
        let connection = match self {
            AnalystDb::Sqlite { connection, .. } => connection,
            AnalystDb::Postgres(client) => {
                let (till, partition, ready) = (i64::from(order.till), i64::from(record.partition), order.ready.map(i64::from));
                let (cod, chips, plaice, items) = (count("cod"), count("chips"), count("plaice"), order.describe());
                return client
                    .execute(
                        "INSERT INTO orders VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, now())",
                        &[&run, &number, &till, &items, &cod, &chips, &plaice, &ready, &record.topic, &partition, &record.offset],
                    )
                    .await
                    .map(|_| ())
                    .map_err(|e| pg_error("PostgreSQL", &format!("could not store order {} in", order.order), &e));
            }
        };
        connection
            .execute(
                "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, datetime('now'))",
                libsql::params![
                    run,
                    number,
                    i64::from(order.till),
                    order.describe(),
                    count("cod"),
                    count("chips"),
                    count("plaice"),
                    order.ready.map(i64::from),
                    record.topic.as_str(),
                    i64::from(record.partition),
                    record.offset
                ],
            )
            .await
            .map(|_| ())
            .map_err(|e| db_error(format!("could not store order {}", order.order), e))
    }

    /// Any query, as a table of text cells. A query that fails is the learner's SQL to fix.
    pub async fn query(&self, sql: &str) -> Result<Table> {
        let connection = match self {
            AnalystDb::Sqlite { connection, .. } => connection,
            AnalystDb::Postgres(client) => return pg_query(client, sql).await,
        };
        let failed = |e: libsql::Error| Error::input(format!("the query failed: {e}"));
        let mut rows = connection.query(sql, ()).await.map_err(failed)?;
        let columns: Vec<String> = (0..rows.column_count()).map(|i| rows.column_name(i).unwrap_or("?").to_string()).collect();
        let mut table = Table::new(columns).all_verbatim();
        while let Some(row) = rows.next().await.map_err(failed)? {
            let cells = (0..row.column_count())
                .map(|i| match row.get_value(i) {
                    Ok(libsql::Value::Null) => "NULL".to_string(),
                    Ok(libsql::Value::Integer(n)) => n.to_string(),
                    Ok(libsql::Value::Real(x)) => format!("{x}"),
                    Ok(libsql::Value::Text(t)) => t,
                    Ok(libsql::Value::Blob(b)) => format!("({} bytes)", b.len()),
                    Err(e) => format!("({e})"),
                })
                .collect::<Vec<_>>();
            table.push(cells);
        }
        Ok(table)
    }

    /// The (order, topic, partition, offset) of every row one run stored.
    pub async fn stored(&self, run: &str) -> Result<Vec<Placed>> {
        let connection = match self {
            AnalystDb::Sqlite { connection, .. } => connection,
            AnalystDb::Postgres(client) => {
                let rows = client
                    .query("SELECT order_number, topic, partition, \"offset\" FROM orders WHERE run = $1", &[&run])
                    .await
                    .map_err(|e| pg_error("PostgreSQL", "cannot read the analyst's rows from", &e))?;
                return Ok(rows
                    .iter()
                    .map(|row| Placed {
                        order: u64::try_from(row.get::<_, i64>(0)).unwrap_or(0),
                        topic: row.get(1),
                        partition: i32::try_from(row.get::<_, i64>(2)).unwrap_or(-1),
                        offset: row.get(3),
                    })
                    .collect());
            }
        };
        let failed = |e| db_error("cannot read the analyst's rows".into(), e);
        let mut rows = connection
            .query("SELECT order_number, topic, partition, \"offset\" FROM orders WHERE run = ?1", libsql::params![run])
            .await
            .map_err(failed)?;
        let mut placed = Vec::new();
        while let Some(row) = rows.next().await.map_err(failed)? {
            let order: i64 = row.get(0).map_err(failed)?;
            let topic: String = row.get(1).map_err(failed)?;
            let partition: i64 = row.get(2).map_err(failed)?;
            let offset: i64 = row.get(3).map_err(failed)?;
            placed.push(Placed {
                order: u64::try_from(order).unwrap_or(0),
                topic,
                partition: i32::try_from(partition).unwrap_or(-1),
                offset,
            });
        }
        Ok(placed)
    }
}

/// Any SQL on PostgreSQL, every cell as the server writes it as text.
async fn pg_query(client: &tokio_postgres::Client, sql: &str) -> Result<Table> {
    use tokio_postgres::SimpleQueryMessage;
    let messages = client.simple_query(sql).await.map_err(|e| {
        let why = e.as_db_error().map_or_else(|| e.to_string(), |db| db.message().to_string());
        Error::input(format!("the query failed: {why}"))
    })?;
    let mut table: Option<Table> = None;
    for message in messages {
        match message {
            SimpleQueryMessage::RowDescription(columns) if table.is_none() => {
                table = Some(Table::new(columns.iter().map(|c| c.name().to_string())).all_verbatim());
            }
            SimpleQueryMessage::Row(row) => {
                let table = table.get_or_insert_with(|| Table::new(row.columns().iter().map(|c| c.name().to_string())).all_verbatim());
                table.push((0..row.len()).map(|i| row.get(i).unwrap_or("NULL").to_string()));
            }
            _ => {}
        }
    }
    Ok(table.unwrap_or_default())
}
