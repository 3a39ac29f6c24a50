//! Java and Kafka's jars: which `java` runs Kafka, where its jars are, and running one of
//! Kafka's own command-line tools from them.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::DOWNLOAD;
use crate::error::{Error, Result};

/// The oldest Java Apache Kafka 4 runs on.
const JAVA_NEEDED: u32 = 17;

/// Kafka's jars, found in a folder.
#[derive(Debug, Clone)]
pub struct KafkaJars {
    /// `DIR/*`: Java's wildcard class path.
    pub(super) classpath: String,
    pub version: String,
}

impl KafkaJars {
    /// `DIR/libs/` of a release, or `DIR` itself holding `kafka_2.13-VERSION.jar`.
    pub fn find(home: &Path) -> Result<KafkaJars> {
        if !home.is_dir() {
            return Err(Error::input_with_hint(
                format!("{} is not a folder: give an unpacked Apache Kafka release (or set KAFKA_HOME)", home.display()),
                format!("download it from {DOWNLOAD} and unpack it"),
            ));
        }
        for dir in [home.join("libs"), home.to_path_buf()] {
            let Ok(entries) = std::fs::read_dir(&dir) else { continue };
            let version = entries.flatten().find_map(|entry| {
                let name = entry.file_name().to_string_lossy().into_owned();
                let rest = name.strip_prefix("kafka_2.13-")?.strip_suffix(".jar")?;
                (!rest.contains("-test") && !rest.contains("-sources") && !rest.contains("-javadoc")).then(|| rest.to_string())
            });
            if let Some(version) = version {
                return Ok(KafkaJars { classpath: format!("{}/*", dir.display()), version });
            }
        }
        Err(Error::input_with_hint(
            format!("{} holds no Apache Kafka jars (no libs/kafka_2.13-*.jar)", home.display()),
            format!("download Apache Kafka from {DOWNLOAD}, unpack it, and give its folder"),
        ))
    }
}

/// Run one of Kafka's own command-line tools (`main`, a class in its jars, such as
/// `org.apache.kafka.tools.TransactionsCommand`) and return what it printed; a failure is its
/// last line.
pub fn run_tool(home: &Path, main: &str, args: &[String]) -> Result<String> {
    let output = tool_command(home, main)?
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::io(format!("cannot run Kafka's {main}"), e))?;
    let out = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        let err = String::from_utf8_lossy(&output.stderr);
        let line = err.lines().chain(out.lines()).rev().find(|l| !l.trim().is_empty()).unwrap_or("no reason given");
        return Err(Error::kafka(format!("Kafka's {main} failed: {}", crate::paths::clip_line(line.trim(), 200))));
    }
    Ok(out)
}

/// `java … main` from Kafka's jars, small and quiet (a client tool, not a broker), for the
/// caller to add arguments to and run; Kafka's own clients in the tests start this way.
pub fn tool_command(home: &Path, main: &str) -> Result<Command> {
    let java = java()?;
    let jars = KafkaJars::find(home)?;
    let mut command = Command::new(java);
    command
        .args(["-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Dlog4j2.level=ERROR"])
        .arg("-cp")
        .arg(&jars.classpath)
        .arg(main);
    Ok(command)
}

/// The `java` to run Kafka with: `$JAVA_HOME/bin/java`, else the one on the PATH; it must be
/// Java 17 or newer.
pub fn java() -> Result<PathBuf> {
    let java = std::env::var_os("JAVA_HOME").map(|home| PathBuf::from(home).join("bin/java")).filter(|j| j.exists());
    let java = java.unwrap_or_else(|| PathBuf::from("java"));
    let install = "install Java 17 or newer (Debian and Ubuntu: apt-get install openjdk-17-jre-headless), or set JAVA_HOME";
    let output = Command::new(&java).arg("-version").output().map_err(|_| {
        Error::input_with_hint("Apache Kafka needs Java, and none was found".to_string(), install.to_string())
    })?;
    let said = String::from_utf8_lossy(&output.stderr).into_owned();
    let major = java_major(&said);
    match major {
        Some(major) if major >= JAVA_NEEDED => Ok(java),
        Some(major) => Err(Error::input_with_hint(
            format!("Apache Kafka 4 needs Java {JAVA_NEEDED} or newer; {} is Java {major}", java.display()),
            install.to_string(),
        )),
        None => Err(Error::input_with_hint(format!("{} -version did not say which Java it is", java.display()), install.to_string())),
    }
}

/// `openjdk version "17.0.15" 2025-04-15` → 17; `java version "1.8.0_401"` → 8.
fn java_major(said: &str) -> Option<u32> {
    let quoted = said.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    let first: u32 = parts.next()?.parse().ok()?;
    if first == 1 {
        parts.next()?.parse().ok()
    } else {
        Some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_versions_are_read_from_what_java_says() {
        assert_eq!(java_major("openjdk version \"17.0.15\" 2025-04-15\nOpenJDK Runtime"), Some(17));
        assert_eq!(java_major("java version \"1.8.0_401\""), Some(8));
        assert_eq!(java_major("openjdk version \"21\" 2023-09-19"), Some(21));
        assert_eq!(java_major("nonsense"), None);
    }

    #[test]
    fn a_folder_without_kafka_jars_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let err = KafkaJars::find(dir.path()).unwrap_err().to_string();
        assert!(err.contains("holds no Apache Kafka jars"), "{err}");
        std::fs::create_dir(dir.path().join("libs")).unwrap();
        std::fs::write(dir.path().join("libs/kafka_2.13-4.4.0.jar"), b"").unwrap();
        assert_eq!(KafkaJars::find(dir.path()).unwrap().version, "4.4.0");
    }
}
