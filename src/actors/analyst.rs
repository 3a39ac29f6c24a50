//! The analyst's database: one row per order message it consumed, in SQLite (the same library
//! the embedded broker's storage uses), and any SQL the learner runs on it.

use std::path::Path;
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::outcome::{Record, Table};
use crate::shop::{Order, Placed};

/// The analyst's SQLite database: one row per order message it consumed.
pub struct AnalystDb {
    connection: libsql::Connection,
    _database: libsql::Database,
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
    pub async fn open(path: &Path) -> Result<Self> {
        let fail = |e| db_error(format!("cannot open the database {}", path.display()), e);
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        }
        let database = libsql::Builder::new_local(path).build().await.map_err(fail)?;
        let connection = database.connect().map_err(fail)?;
        connection.execute(ORDERS_TABLE, ()).await.map_err(fail)?;
        Ok(AnalystDb { connection, _database: database })
    }

    pub async fn insert(&self, run: &str, order: &Order, record: &Record) -> Result<()> {
        let needs = order.needs();
        let count = |item: &str| i64::from(needs.get(item).copied().unwrap_or(0));
        self.connection
            .execute(
                "INSERT INTO orders VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, datetime('now'))",
                libsql::params![
                    run,
                    i64::try_from(order.order).unwrap_or(i64::MAX),
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
        let failed = |e: libsql::Error| Error::input(format!("the query failed: {e}"));
        let mut rows = self.connection.query(sql, ()).await.map_err(failed)?;
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
        let failed = |e| db_error("cannot read the analyst's rows".into(), e);
        let mut rows = self
            .connection
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
