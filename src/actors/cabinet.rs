//! The hot cabinet in Redis (`--cabinet redis://HOST:PORT`), as the fish-and-chips talk's
//! homework keeps it: every session that names the same Redis shares one cabinet, so preparers
//! and cooks in separate REPLs, on separate machines, serve from the same stock.
//!
//! Three hashes hold it, keyed by item: `kafka-workshop:cabinet:stock`, `…:cooked` and
//! `…:taken`. Taking an order's portions and stocking for an order are each one Lua script,
//! which Redis runs atomically: two preparers can never take the same last portion.

use std::collections::BTreeMap;
use std::time::Duration;

use redis::aio::ConnectionManager;

use crate::error::{Error, Result};
use crate::shop::{Order, BATCH_EXTRA};

const STOCK: &str = "kafka-workshop:cabinet:stock";
const COOKED: &str = "kafka-workshop:cabinet:cooked";
const TAKEN: &str = "kafka-workshop:cabinet:taken";

/// Everything the order needs, or nothing: ARGV is item, count, item, count…
const TAKE: &str = r"
for i = 1, #ARGV, 2 do
  if tonumber(redis.call('HGET', KEYS[1], ARGV[i]) or '0') < tonumber(ARGV[i + 1]) then return 0 end
end
for i = 1, #ARGV, 2 do
  redis.call('HINCRBY', KEYS[1], ARGV[i], -tonumber(ARGV[i + 1]))
  redis.call('HINCRBY', KEYS[2], ARGV[i], tonumber(ARGV[i + 1]))
end
return 1";

/// Cook what the order lacks: plaice exactly, cod and chips with BATCH_EXTRA over. ARGV is
/// the extra, then item, count…; returns item, cooked… for what was cooked.
const STOCK_FOR: &str = r"
local cooked = {}
for i = 2, #ARGV, 2 do
  local item, need = ARGV[i], tonumber(ARGV[i + 1])
  local have = tonumber(redis.call('HGET', KEYS[1], item) or '0')
  if have < need then
    local make = need - have
    if item ~= 'plaice' then make = make + tonumber(ARGV[1]) end
    redis.call('HINCRBY', KEYS[1], item, make)
    redis.call('HINCRBY', KEYS[2], item, make)
    table.insert(cooked, item)
    table.insert(cooked, make)
  end
end
return cooked";

/// One Redis cabinet, shared by every participant that uses it.
#[derive(Clone)]
pub struct RedisCabinet {
    connection: ConnectionManager,
    /// `redis://HOST:PORT` with any password masked.
    pub shown: String,
    /// As given, password and all: never shown, only compared.
    url: String,
}

impl std::fmt::Debug for RedisCabinet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RedisCabinet({})", self.shown)
    }
}

impl PartialEq for RedisCabinet {
    fn eq(&self, other: &Self) -> bool {
        self.url == other.url
    }
}

impl Eq for RedisCabinet {}

/// What the cabinet's three hashes hold now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    pub stock: BTreeMap<String, i64>,
    pub cooked: BTreeMap<String, i64>,
    pub taken: BTreeMap<String, i64>,
}

impl RedisCabinet {
    /// Connect and check with a PING, so a wrong address or password is said at once.
    pub async fn connect(url: &str) -> Result<RedisCabinet> {
        let shown = crate::security::mask_url_password(url);
        let fail = |e: redis::RedisError| Error::Io { message: format!("cannot use the cabinet at {shown}: {}", one_line(&e)), source: None };
        let client = redis::Client::open(url).map_err(fail)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Duration::from_secs(3))
            .set_response_timeout(Duration::from_secs(3))
            .set_number_of_retries(2)
            .set_max_delay(500);
        let mut connection = tokio::time::timeout(Duration::from_secs(10), ConnectionManager::new_with_config(client, config))
            .await
            .map_err(|_| Error::Io { message: format!("cannot use the cabinet at {shown}: no answer within 10 s"), source: None })?
            .map_err(fail)?;
        redis::cmd("PING").query_async::<String>(&mut connection).await.map_err(fail)?;
        Ok(RedisCabinet { connection, shown, url: url.to_string() })
    }

    /// Whether this is the cabinet at `url`.
    pub fn is_at(&self, url: &str) -> bool {
        self.url == url
    }

    /// Take everything `order` needs if all of it is there; otherwise take nothing.
    pub async fn take(&self, order: &Order) -> std::result::Result<bool, String> {
        let take = redis::Script::new(TAKE);
        let mut script = take.prepare_invoke();
        script.key(STOCK).key(TAKEN);
        for (item, n) in order.needs() {
            script.arg(item).arg(n);
        }
        let taken: i64 = script.invoke_async(&mut self.connection.clone()).await.map_err(|e| one_line(&e))?;
        Ok(taken == 1)
    }

    /// Stock the cabinet so `order` can be made up; returns what was cooked.
    pub async fn stock_for(&self, order: &Order) -> std::result::Result<BTreeMap<String, u32>, String> {
        let stock = redis::Script::new(STOCK_FOR);
        let mut script = stock.prepare_invoke();
        script.key(STOCK).key(COOKED).arg(BATCH_EXTRA);
        for (item, n) in order.needs() {
            script.arg(item).arg(n);
        }
        let cooked: Vec<(String, u32)> = script.invoke_async(&mut self.connection.clone()).await.map_err(|e| one_line(&e))?;
        Ok(cooked.into_iter().collect())
    }

    pub async fn counts(&self) -> std::result::Result<Counts, String> {
        let mut connection = self.connection.clone();
        let (stock, cooked, taken): (BTreeMap<String, i64>, BTreeMap<String, i64>, BTreeMap<String, i64>) = redis::pipe()
            .hgetall(STOCK)
            .hgetall(COOKED)
            .hgetall(TAKEN)
            .query_async(&mut connection)
            .await
            .map_err(|e| one_line(&e))?;
        Ok(Counts { stock, cooked, taken })
    }

    /// `chips 3 · cod 1 · plaice 0`, from Redis.
    pub async fn describe(&self) -> String {
        match self.counts().await {
            Ok(counts) => ["cod", "chips", "plaice"]
                .iter()
                .map(|i| format!("{i} {}", counts.stock.get(*i).copied().unwrap_or(0)))
                .collect::<Vec<_>>()
                .join(" · "),
            Err(why) => format!("unknown ({why})"),
        }
    }
}

/// A Redis error in one line, without its internals.
fn one_line(err: &redis::RedisError) -> String {
    match err.kind() {
        redis::ErrorKind::AuthenticationFailed => "Redis refused the password".into(),
        _ if err.is_connection_refusal() => "connection refused: is Redis running there?".into(),
        _ => err.to_string().lines().next().unwrap_or_default().trim().to_string(),
    }
}
