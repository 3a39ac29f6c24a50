//! Names and paths: where kafka-workshop keeps its files, and which names Kafka accepts.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// Where kafka-workshop keeps history, progress and databases: `KAFKA_WORKSHOP_HOME`, else the
/// user's data folder. Front ends read this once and hand it to the session.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("KAFKA_WORKSHOP_HOME") {
        return Some(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("", "", "kafka-workshop").map(|dirs| dirs.data_dir().to_path_buf())
}

/// Where progress lives: `KAFKA_WORKSHOP_PROGRESS`, else `progress.json` in the data folder.
pub fn progress_file(home: Option<&std::path::Path>) -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("KAFKA_WORKSHOP_PROGRESS") {
        return Some(PathBuf::from(path));
    }
    home.map(|dir| dir.join("progress.json"))
}

/// Kafka's rule: 1–249 characters from letters, digits, '.', '_' and '-', and not "." or "..".
pub fn validate_topic_name(name: &str) -> Result<()> {
    let legal = name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if name.is_empty() || name.len() > 249 || !legal || name == "." || name == ".." {
        return Err(Error::input(format!(
            "'{name}' is not a valid topic name: use 1–249 letters, digits, '.', '_' or '-'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(validate_topic_name("orders.v1_a-b").is_ok());
        assert!(validate_topic_name("has space").is_err());
        assert!(validate_topic_name("").is_err());
        assert!(validate_topic_name("..").is_err());
        assert!(validate_topic_name(&"x".repeat(250)).is_err());
    }
}
