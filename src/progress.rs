//! How far a learner got, kept as a small JSON file rewritten whole after every step. A missing
//! file is a fresh start; an unreadable or corrupt one is too, with a warning, never a crash.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

/// Bump when the layout changes; older files are then read as a fresh start.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub version: u32,
    /// Lesson number → where the learner is in it.
    pub lessons: BTreeMap<u32, LessonProgress>,
    /// The lesson open when they left.
    pub current: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LessonProgress {
    pub step: usize,
    pub done: bool,
    /// Tasks the learner skipped (their step numbers, from 1): a lesson finished with some
    /// skipped is not done.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped: Vec<usize>,
}

impl Default for Progress {
    fn default() -> Self {
        Progress { version: VERSION, lessons: BTreeMap::new(), current: None }
    }
}

/// The saved progress, and a warning if the file was there but could not be used.
pub fn load(path: &Path) -> (Progress, Option<String>) {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return (Progress::default(), None),
        Err(err) => return (Progress::default(), Some(format!("cannot read {} ({err}); starting afresh", path.display()))),
    };
    match serde_json::from_str::<Progress>(&text) {
        Ok(progress) if progress.version == VERSION => (progress, None),
        Ok(progress) => (
            Progress::default(),
            Some(format!("{} is from another version ({}); starting afresh", path.display(), progress.version)),
        ),
        Err(err) => (Progress::default(), Some(format!("{} is damaged ({err}); starting afresh", path.display()))),
    }
}

/// Write the whole file (through a temporary file, so a crash never leaves half of it).
pub fn save(path: &Path, progress: &Progress) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let text = serde_json::to_string_pretty(progress).map_err(std::io::Error::other)?;
    let temporary = path.with_extension("json.tmp");
    std::fs::write(&temporary, text)?;
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_survives_damage() {
        let dir = std::env::temp_dir().join(format!("kw-progress-{}", std::process::id()));
        let path = dir.join("progress.json");
        let mut progress = Progress::default();
        progress.lessons.insert(5, LessonProgress { step: 3, done: false, skipped: vec![2] });
        progress.current = Some(5);
        save(&path, &progress).unwrap();
        assert_eq!(load(&path), (progress, None));
        std::fs::write(&path, "{ not json").unwrap();
        let (fresh, warning) = load(&path);
        assert_eq!(fresh, Progress::default());
        assert!(warning.unwrap().contains("damaged"));
        let _ = std::fs::remove_dir_all(dir);
    }
}
