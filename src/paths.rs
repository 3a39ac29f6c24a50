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
    if name.is_empty() {
        return Err(Error::input("a topic needs a name: use letters, digits, '.', '_' or '-'"));
    }
    if let Some(bad) = name.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))) {
        return Err(Error::input(format!(
            "'{}' is not a valid topic name: {} is not allowed; use letters, digits, '.', '_' or '-'",
            clip(name),
            crate::format::quoted_char(bad)
        )));
    }
    if name.len() > MAX_TOPIC_NAME {
        return Err(Error::input(format!(
            "'{}' is {} characters long: Kafka allows topic names of at most {MAX_TOPIC_NAME}",
            clip(name),
            name.len()
        )));
    }
    if name == "." || name == ".." {
        return Err(Error::input(format!("'{name}' cannot be a topic name: Kafka keeps '.' and '..' for itself")));
    }
    Ok(())
}

/// The longest topic name Kafka accepts.
pub const MAX_TOPIC_NAME: usize = 249;

/// A line of someone else's text (a log line) cut to `most` characters, with `…` if it was longer.
pub fn clip_line(line: &str, most: usize) -> String {
    match line.char_indices().nth(most) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// A name as an error quotes it: its first 40 characters, and `…` if there were more.
pub fn clip(name: &str) -> String {
    match name.char_indices().nth(40) {
        Some((at, _)) => format!("{}…", &name[..at]),
        None => name.to_string(),
    }
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
        let long = validate_topic_name(&"x".repeat(250)).unwrap_err().to_string();
        assert!(long.contains("is 250 characters long: Kafka allows topic names of at most 249"), "{long}");
        assert!(long.len() < 120, "the error quotes a clipped name: {long}");
        let spaced = validate_topic_name("has space").unwrap_err().to_string();
        assert!(spaced.contains("a space is not allowed"), "{spaced}");
    }
}
