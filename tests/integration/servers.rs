//! Real servers for the tests that need them, each on a free port in its own temporary folder,
//! stopped when dropped: PostgreSQL for the analyst, Redis for the hot cabinet. Debian's packages are installed by the
//! tests themselves (`apt-get`) on a machine that lacks them, once per run.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use tempfile::TempDir;

use crate::harness::{temp_dir, wait_until};

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

/// Install a Debian package unless `present` already holds. One apt-get at a time across the
/// whole test run (the browser test installs Chromium through here too), and each waits for
/// dpkg's lock rather than failing on it.
pub fn install(package: &str, present: impl Fn() -> bool) {
    static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = APT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if present() {
        return;
    }
    println!("installing Debian's {package} for the tests");
    let installed = Command::new("sh")
        .args([
            "-c",
            &format!(
                "apt-get -o DPkg::Lock::Timeout=300 update -qq && \
                 DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq {package} >/dev/null"
            ),
        ])
        .status()
        .is_ok_and(|s| s.success());
    assert!(installed && present(), "could not install {package} with apt-get");
}

/// PostgreSQL's server binaries (Debian keeps them under /usr/lib/postgresql/VERSION/bin).
fn postgres_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let find = || {
            let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                .into_iter()
                .flatten()
                .flatten()
                .map(|e| e.path().join("bin"))
                .filter(|bin| bin.join("initdb").exists() && bin.join("pg_ctl").exists())
                .collect();
            found.sort();
            found.pop()
        };
        install("postgresql", || find().is_some());
        find().expect("PostgreSQL's binaries")
    })
    .clone()
}

fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A program run as the `postgres` user when the tests run as root (PostgreSQL refuses root).
fn as_postgres(program: &Path) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A PostgreSQL server with one user, `kw`, whose password is `PASSWORD`, over TCP on
/// 127.0.0.1 with scram-sha-256.
pub struct Postgres {
    dir: TempDir,
    pub port: u16,
}

impl Postgres {
    pub const PASSWORD: &'static str = "fish-and-chips";

    pub fn start() -> Postgres {
        let bin = postgres_bin();
        let dir = temp_dir("postgres");
        let data = dir.path().join("data");
        std::fs::write(dir.path().join("password"), Self::PASSWORD).unwrap();
        if running_as_root() {
            let chowned = Command::new("chown").args(["-R", "postgres"]).arg(dir.path()).status().is_ok_and(|s| s.success());
            assert!(chowned, "cannot hand the folder to the postgres user");
        }
        let initdb = as_postgres(&bin.join("initdb"))
            .arg("-D")
            .arg(&data)
            .args(["-U", "kw", "--auth-host=scram-sha-256", "--auth-local=trust", "--no-sync"])
            .arg(format!("--pwfile={}", dir.path().join("password").display()))
            .output()
            .expect("initdb runs");
        assert!(initdb.status.success(), "initdb failed: {}", String::from_utf8_lossy(&initdb.stderr));
        let port = free_port();
        let options = format!("-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off", dir.path().display());
        let started = as_postgres(&bin.join("pg_ctl"))
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-l"])
            .arg(dir.path().join("log"))
            .args(["-w", "start"])
            .output()
            .expect("pg_ctl runs");
        let log = || std::fs::read_to_string(dir.path().join("log")).unwrap_or_default();
        assert!(started.status.success(), "PostgreSQL did not start: {}\n{}", String::from_utf8_lossy(&started.stderr), log());
        wait_until("PostgreSQL accepts connections", Duration::from_secs(30), || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        Postgres { dir, port }
    }

    /// The URL for the `postgres` database, without the password.
    pub fn url(&self) -> String {
        format!("postgres://kw@127.0.0.1:{}/postgres?sslmode=disable", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = as_postgres(&postgres_bin().join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

/// A Redis server with a password, keeping its data in an append-only file in its folder so it
/// comes back with its data after `stop` and `start`, as a real one restarted would.
pub struct Redis {
    dir: TempDir,
    pub port: u16,
    child: Option<std::process::Child>,
}

impl Redis {
    pub const PASSWORD: &'static str = "cod-and-chips";

    pub fn start() -> Redis {
        install("redis-server", || Path::new("/usr/bin/redis-server").exists());
        let mut redis = Redis { dir: temp_dir("redis"), port: free_port(), child: None };
        redis.resume();
        redis
    }

    /// `redis://:PASSWORD@127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("redis://:{}@127.0.0.1:{}", Self::PASSWORD, self.port)
    }

    /// Start it (again) on the same port, with the same data.
    pub fn resume(&mut self) {
        let child = Command::new("/usr/bin/redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "yes"])
            .args(["--appendfsync", "always", "--requirepass", Self::PASSWORD, "--dir"])
            .arg(self.dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let port = self.port;
        wait_until("Redis accepts connections", Duration::from_secs(30), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok());
    }

    /// Kill it, as a crash would.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}
