//! The embedded broker: tansu 0.6.0 running in-process on its own tokio tasks.
//!
//! tansu's own `Broker::main` installs signal handlers and `Broker::new` draws progress spinners,
//! either of which would wreck the REPL, so this module runs tansu's request services behind an
//! accept loop of its own. That also gives the tool a clean `stop` (for teaching what happens when
//! the cluster goes away) and a place to run tansu's periodic storage maintenance.

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime};

use rama::{Context, Service};
use tansu_broker::coordinator::group::administrator::Controller;
use tansu_storage::{BrokerRegistrationRequest, Storage, StorageContainer};
use tokio::net::TcpListener;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{Error, Result};

mod api_versions;
mod groups;
mod routes;
mod storage;

use groups::GroupCoordinator;
use storage::CorrectedStorage;
pub use storage::BatchWriter;

pub const CLUSTER_ID: &str = "kafka-workshop";
pub const NODE_ID: i32 = 1;
/// The SQLite file inside `--data DIR`.
const DATABASE: &str = "tansu.db";
/// The schema folder inside `--data DIR`.
const SCHEMAS: &str = "schemas";
/// How long `stop` waits for SQLite storage to be released.
const RELEASE_WAIT: Duration = Duration::from_secs(10);
/// How often tansu prunes expired and compacted data unless the storage says otherwise.
const DEFAULT_MAINTENANCE: Duration = Duration::from_secs(1);

/// Where the broker keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrokerStorage {
    /// Gone when the process ends.
    Memory,
    /// SQLite database file inside this folder; topics survive a restart.
    Sqlite { dir: PathBuf, maintenance: Option<Duration> },
}

impl BrokerStorage {
    pub fn describe(&self) -> String {
        match self {
            BrokerStorage::Memory => "memory".into(),
            BrokerStorage::Sqlite { dir, .. } => format!("SQLite in {}", dir.display()),
        }
    }

    fn url(&self) -> Result<Url> {
        match self {
            BrokerStorage::Memory => Url::parse("memory://tansu/").map_err(|e| Error::broker(e.to_string())),
            BrokerStorage::Sqlite { dir, .. } => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| Error::io(format!("cannot create data folder {}", dir.display()), e))?;
                let cwd = std::env::current_dir()
                    .map_err(|e| Error::io("cannot read the working directory", e))?;
                sqlite_url(&cwd, &dir.join(DATABASE))
            }
        }
    }

    fn maintenance(&self) -> Duration {
        match self {
            BrokerStorage::Sqlite { maintenance: Some(every), .. } => *every,
            _ => DEFAULT_MAINTENANCE,
        }
    }
}

/// SQLite removes a database's write-ahead log when the last connection to it closes. tansu's
/// SQLite engine closes its connections on a task of its own a moment after the broker stops,
/// and until then a new engine finds the database locked. Wait (bounded) for the log to go.
async fn sqlite_released(database: &Path) {
    let log = database.with_file_name(format!("{DATABASE}-wal"));
    let deadline = std::time::Instant::now() + RELEASE_WAIT;
    while log.exists() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// tansu 0.6.0 joins whatever path a `sqlite:` URL holds onto the working directory, even an
/// absolute one (`sqlite:///tmp/x.db` opens `./tmp/x.db`). So the URL gets a path relative to the
/// working directory: an opaque `sqlite:../../tmp/x.db`, which the URL parser leaves untouched.
pub fn sqlite_url(cwd: &Path, db: &Path) -> Result<Url> {
    let target = if db.is_absolute() { db.to_path_buf() } else { cwd.join(db) };
    let depth = cwd.components().filter(|c| matches!(c, Component::Normal(_))).count();
    let mut relative = PathBuf::new();
    for _ in 0..depth {
        relative.push("..");
    }
    for component in target.components() {
        if let Component::Normal(part) = component {
            relative.push(part);
        }
    }
    let text = relative
        .to_str()
        .ok_or_else(|| Error::input(format!("the data path {} is not valid UTF-8", db.display())))?;
    if text.contains(['?', '#', '%']) {
        return Err(Error::input(format!("the data path {} may not contain ?, # or %", db.display())));
    }
    Url::parse(&format!("sqlite:{text}")).map_err(|e| Error::input(format!("bad data path {}: {e}", db.display())))
}

/// Where the broker's schema registry reads `TOPIC.json`: beside the SQLite database, or for
/// memory storage a temporary folder that goes with the broker.
enum SchemaFolder {
    Temporary(tempfile::TempDir),
    Kept(PathBuf),
}

impl SchemaFolder {
    fn for_storage(storage: &BrokerStorage) -> Result<Self> {
        match storage {
            BrokerStorage::Memory => tempfile::Builder::new()
                .prefix("kafka-workshop-schemas-")
                .tempdir()
                .map(SchemaFolder::Temporary)
                .map_err(|e| Error::io("cannot make the broker's schema folder", e)),
            BrokerStorage::Sqlite { dir, .. } => {
                let folder = dir.join(SCHEMAS);
                std::fs::create_dir_all(&folder)
                    .map_err(|e| Error::io(format!("cannot create the schema folder {}", folder.display()), e))?;
                Ok(SchemaFolder::Kept(folder))
            }
        }
    }

    fn path(&self) -> &Path {
        match self {
            SchemaFolder::Temporary(dir) => dir.path(),
            SchemaFolder::Kept(dir) => dir,
        }
    }

    fn registry(&self) -> Result<tansu_schema::Registry> {
        let store = object_store::local::LocalFileSystem::new_with_prefix(self.path())
            .map_err(|e| Error::broker(format!("cannot open the schema folder {}: {e}", self.path().display())))?;
        Ok(tansu_schema::Registry::new(store))
    }
}

/// A running embedded broker.
pub struct EmbeddedBroker {
    addr: SocketAddr,
    advertised: String,
    storage: BrokerStorage,
    schemas: SchemaFolder,
    store: CorrectedStorage,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl EmbeddedBroker {
    /// Bind `listen` (port 0 picks a free one), open the storage and start answering requests.
    /// `advertise` is the host:port clients are told to use; it defaults to the bound address.
    /// With `authentication`, clients must log in with SASL (tansu's PLAIN or SCRAM).
    pub async fn start(listen: SocketAddr, advertise: Option<String>, storage: BrokerStorage, authentication: bool) -> Result<Self> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| Error::broker(format!("cannot listen on {listen}: {e}")))?;
        let addr = listener.local_addr().map_err(|e| Error::broker(e.to_string()))?;
        let advertised = advertise.unwrap_or_else(|| addr.to_string());
        let advertised_url = Url::parse(&format!("tcp://{advertised}"))
            .map_err(|e| Error::input(format!("bad advertised address '{advertised}': {e}")))?;

        let stop = CancellationToken::new();
        let schemas = SchemaFolder::for_storage(&storage)?;
        let store = StorageContainer::builder()
            .cluster_id(CLUSTER_ID)
            .node_id(NODE_ID)
            .advertised_listener(advertised_url)
            .storage(storage.url()?)
            .schema_registry(Some(schemas.registry()?))
            .cancellation(stop.clone())
            .silent(true)
            .build()
            .await
            .map_err(|e| Error::broker(format!("cannot open the broker's storage ({}): {e}", storage.describe())))?;
        store
            .register_broker(BrokerRegistrationRequest {
                broker_id: NODE_ID,
                cluster_id: CLUSTER_ID.into(),
                incarnation_id: uuid::Uuid::new_v4(),
                rack: None,
            })
            .await
            .map_err(|e| Error::broker(format!("cannot register the broker: {e}")))?;
        let store = CorrectedStorage::new(store, matches!(storage, BrokerStorage::Memory));
        let groups = Controller::with_storage(store.clone())
            .map(GroupCoordinator::new)
            .map_err(|e| Error::broker(format!("cannot start the group coordinator: {e}")))?;

        let sasl = if authentication {
            Some(tansu_auth::configuration(store.clone()).map_err(|e| Error::broker(format!("cannot set up SASL: {e}")))?)
        } else {
            None
        };
        let task = tokio::spawn(serve(listener, store.clone(), groups, sasl, stop.clone(), storage.maintenance()));
        Ok(EmbeddedBroker { addr, advertised, storage, schemas, store, stop, task })
    }

    /// The address clients should bootstrap from.
    pub fn bootstrap(&self) -> &str {
        &self.advertised
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn storage(&self) -> &BrokerStorage {
        &self.storage
    }

    /// The folder whose `TOPIC.json` the broker validates each record of TOPIC against.
    pub fn schema_folder(&self) -> &Path {
        self.schemas.path()
    }

    /// Who wrote each batch stored in one partition, read from the broker's storage: the
    /// producer id and sequence number no client API shows.
    pub async fn writers(&self, topic: &str, partition: i32) -> Result<Vec<BatchWriter>> {
        if let BrokerStorage::Sqlite { .. } = self.storage {
            return Err(Error::unsupported(
                "tansu 0.6.0's SQLite storage keeps a batch's producer id only inside a transaction",
                "run without --data: the memory storage keeps every batch as it was produced",
            ));
        }
        self.store
            .writers(&tansu_storage::Topition::new(topic.to_string(), partition))
            .await
            .map_err(|e| Error::broker(format!("cannot read {topic}[{partition}] from the broker's storage: {e}")))
    }

    /// Stop listening and drop every open connection, as a crashed broker would. Returns once
    /// the storage is released, so a broker can open it again at once.
    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
        if let BrokerStorage::Sqlite { dir, .. } = &self.storage {
            sqlite_released(&dir.join(DATABASE)).await;
        }
    }
}

async fn serve<C>(
    listener: TcpListener,
    storage: CorrectedStorage,
    groups: GroupCoordinator<C>,
    sasl: Option<std::sync::Arc<rsasl::config::SASLConfig>>,
    stop: CancellationToken,
    maintenance: Duration,
) where
    C: tansu_broker::coordinator::group::Coordinator,
{
    let records = groups.records();
    let mut connections = JoinSet::new();
    let mut maintain = tokio::time::interval(maintenance);
    maintain.tick().await;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let routes = routes::routes(CLUSTER_ID, groups.for_peer(peer), storage.clone(), records.clone(), sasl.clone());
                let Ok(service) = routes else { continue };
                connections.spawn(async move {
                    // Clients hang up all the time; nothing here is worth printing.
                    let _ = service.serve(Context::default(), stream).await;
                });
            }
            _ = maintain.tick() => {
                let storage = storage.clone();
                connections.spawn(async move {
                    let _ = storage.maintain(SystemTime::now()).await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
            _ = stop.cancelled() => break,
        }
    }
    connections.abort_all();
    while connections.join_next().await.is_some() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_sqlite_path_becomes_relative_to_the_working_directory() {
        let url = sqlite_url(Path::new("/work/main"), Path::new("/tmp/data/tansu.db")).unwrap();
        assert_eq!(url.as_str(), "sqlite:../../tmp/data/tansu.db");
        assert_eq!(url.path(), "../../tmp/data/tansu.db");
        assert_eq!(url.domain(), None);
    }

    #[test]
    fn relative_sqlite_path_is_anchored_at_the_working_directory() {
        let url = sqlite_url(Path::new("/home/me"), Path::new("data/tansu.db")).unwrap();
        assert_eq!(url.path(), "../../home/me/data/tansu.db");
    }
}
