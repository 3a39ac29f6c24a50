//! The workshop room, as data: what each learner's session tells the instructor, and how the
//! class table is made from it. Kafka carries both ways: every learner's progress goes to the
//! compacted topic `workshop.progress`, keyed by learner, and the instructor's announcements to
//! `workshop.announcements`. The session publishes and reads them; this module only decides
//! what they say.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::outcome::Table;

/// One record per learner, the latest kept: a compacted topic.
pub const PROGRESS_TOPIC: &str = "workshop.progress";
/// What the instructor tells the room.
pub const ANNOUNCEMENTS_TOPIC: &str = "workshop.announcements";
/// How long announcements are kept on a cluster that deletes old data.
pub const ANNOUNCEMENTS_RETENTION: Duration = Duration::from_secs(24 * 60 * 60);
/// Announcements this recent are shown to a learner who joins after them.
pub const RECENT_ANNOUNCEMENT: Duration = Duration::from_secs(10 * 60);
/// A learner with failed checks and no new step for this long is stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(3 * 60);
/// A running session says it is alive this often, even while its learner reads.
pub const ALIVE_EVERY: Duration = Duration::from_secs(5);
/// A session that has not said so for this long has ended without saying goodbye (a crash, a
/// closed laptop, a lost network): it is shown as left, never as working.
pub const GONE_AFTER: Duration = Duration::from_secs(20);
/// The room's names: no learner may be called this, or their prefix would own the room's topics.
pub const RESERVED: &str = "workshop";

/// A topic `topics` leaves out unless asked with --all: Kafka's own (`__consumer_offsets`)
/// and the workshop room's.
pub fn is_internal(topic: &str) -> bool {
    topic.starts_with("__") || in_room(topic)
}

/// `workshop.…`: one of the room's own names.
pub fn in_room(name: &str) -> bool {
    name.strip_prefix(RESERVED).is_some_and(|rest| rest.starts_with('.'))
}

/// The class table's columns.
pub const CLASS_COLUMNS: [&str; 7] = ["LEARNER", "LESSON", "STEP", "STATUS", "HINTS", "FAILED-CHECKS", "LAST-SEEN"];

/// Where one learner is, as their session publishes it (the value in `workshop.progress`; the
/// key is the learner's name). Field names are stable: the README documents them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LearnerProgress {
    pub learner: String,
    /// The lesson open now, or the last one opened.
    pub lesson: Option<u32>,
    pub title: Option<String>,
    /// 1-based, of `steps`.
    pub step: usize,
    pub steps: usize,
    /// Whether the lesson is open at the learner's prompt now.
    pub open: bool,
    /// False once the learner's session has ended.
    #[serde(default = "yes")]
    pub online: bool,
    /// The current step's task, if it has one: its goal not reached yet.
    pub goal: Option<String>,
    /// Tasks in this lesson whose goal was reached (not skipped).
    pub goals_reached: u32,
    /// Hints asked for, and `check`s that found the goal unmet, in this lesson.
    pub hints: u32,
    pub failed_checks: u32,
    /// `check`s that found the current step's goal unmet.
    pub step_failed_checks: u32,
    /// The lessons finished, in this session or before.
    pub done: Vec<u32>,
    /// When the learner reached the current step, and last ran a command (ms since the epoch).
    pub step_since_ms: u64,
    pub last_activity_ms: u64,
    /// When the session last said it is running (every `ALIVE_EVERY`); 0 from versions that
    /// did not say.
    #[serde(default)]
    pub alive_ms: u64,
    /// kafka-workshop's version.
    pub version: String,
}

fn yes() -> bool {
    true
}

impl LearnerProgress {
    /// The same progress, ignoring when it was published: whether there is news to publish.
    pub fn same_place(&self, other: &LearnerProgress) -> bool {
        let mut other = other.clone();
        other.last_activity_ms = self.last_activity_ms;
        other.alive_ms = self.alive_ms;
        *self == other
    }

    pub fn status(&self, now_ms: u64) -> Status {
        let lesson_done = self.lesson.is_some_and(|n| self.done.contains(&n));
        if !self.open && lesson_done {
            return Status::Done;
        }
        let silent = Duration::from_millis(now_ms.saturating_sub(self.alive_ms));
        if !self.online || (self.alive_ms > 0 && silent > GONE_AFTER) {
            return Status::Left;
        }
        let on_step = Duration::from_millis(now_ms.saturating_sub(self.step_since_ms));
        if self.open && self.step_failed_checks > 0 && on_step >= STUCK_AFTER {
            return Status::Stuck;
        }
        Status::Working
    }
}

/// Whom the instructor helps first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Stuck,
    Working,
    /// Quit kafka-workshop before finishing the lesson.
    Left,
    Done,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Stuck => "stuck",
            Status::Working => "working",
            Status::Left => "left",
            Status::Done => "done",
        }
    }
}

/// One line an instructor sends to every learner (the value in `workshop.announcements`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Announcement {
    pub text: String,
    pub from: String,
    pub at_ms: u64,
}

/// The class as the latest progress of each learner, read from `workshop.progress`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Class {
    pub learners: BTreeMap<String, LearnerProgress>,
}

impl Class {
    /// Keep the latest of each key; a record that is not progress (or a tombstone) is skipped,
    /// and a deleted learner (a tombstone) is forgotten.
    pub fn absorb(&mut self, key: Option<&str>, value: Option<&str>) {
        let Some(key) = key else { return };
        match value.map(serde_json::from_str::<LearnerProgress>) {
            None => {
                self.learners.remove(key);
            }
            Some(Ok(progress)) if progress.learner == key => {
                self.learners.insert(key.to_string(), progress);
            }
            Some(_) => {}
        }
    }

    /// The learners in the order to help them: stuck (longest first), working, left, done.
    pub fn rows(&self, now_ms: u64) -> Vec<(&LearnerProgress, Status)> {
        let mut rows: Vec<(&LearnerProgress, Status)> = self.learners.values().map(|p| (p, p.status(now_ms))).collect();
        rows.sort_by(|(a, sa), (b, sb)| sa.cmp(sb).then(a.step_since_ms.cmp(&b.step_since_ms)).then(a.learner.cmp(&b.learner)));
        rows
    }

    pub fn table(&self, now_ms: u64) -> Table {
        let mut table = Table::new(CLASS_COLUMNS);
        for (p, status) in self.rows(now_ms) {
            let lesson = match (p.lesson, &p.title) {
                (Some(n), Some(title)) => format!("{n} {title}"),
                (Some(n), None) => n.to_string(),
                (None, _) => "-".into(),
            };
            let step = match (p.lesson, status) {
                (None, _) => "-".into(),
                (Some(_), Status::Done) => "finished".into(),
                (Some(_), _) if !p.open => format!("{}/{} (closed)", p.step, p.steps),
                (Some(_), _) => format!("{}/{}", p.step, p.steps),
            };
            table.push([
                p.learner.clone(),
                lesson,
                step,
                status.as_str().to_string(),
                p.hints.to_string(),
                p.failed_checks.to_string(),
                ago(now_ms.saturating_sub(p.last_activity_ms)),
            ]);
        }
        table
    }

    /// "3 learners · lesson 5: 2, lesson 6: 1 · 1 stuck, 1 working, 1 done"
    pub fn summary(&self, now_ms: u64) -> String {
        if self.learners.is_empty() {
            return format!(
                "no learner has published progress to {PROGRESS_TOPIC} yet: learners join with --learner NAME"
            );
        }
        let mut lessons: BTreeMap<u32, usize> = BTreeMap::new();
        let mut statuses: BTreeMap<Status, usize> = BTreeMap::new();
        for (p, status) in self.rows(now_ms) {
            if let Some(n) = p.lesson {
                *lessons.entry(n).or_default() += 1;
            }
            *statuses.entry(status).or_default() += 1;
        }
        let count = self.learners.len();
        let mut parts = vec![format!("{count} learner{}", if count == 1 { "" } else { "s" })];
        if !lessons.is_empty() {
            parts.push(lessons.iter().map(|(n, c)| format!("lesson {n}: {c}")).collect::<Vec<_>>().join(", "));
        }
        parts.push(
            [Status::Stuck, Status::Working, Status::Left, Status::Done]
                .iter()
                .filter(|s| **s != Status::Left || statuses.contains_key(s))
                .map(|s| format!("{} {}", statuses.get(s).copied().unwrap_or(0), s.as_str()))
                .collect::<Vec<_>>()
                .join(", "),
        );
        parts.join(" · ")
    }
}

/// `12 s ago`, `4 min ago`, `2 h ago`.
pub fn ago(ms: u64) -> String {
    let seconds = ms / 1000;
    match seconds {
        0..=1 => "just now".into(),
        2..=59 => format!("{seconds} s ago"),
        60..=3599 => format!("{} min ago", seconds / 60),
        _ => format!("{} h ago", seconds / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(learner: &str, lesson: u32, step: usize) -> LearnerProgress {
        LearnerProgress {
            learner: learner.into(),
            lesson: Some(lesson),
            title: Some("Consumer groups".into()),
            step,
            steps: 9,
            open: true,
            online: true,
            goal: None,
            goals_reached: 0,
            hints: 0,
            failed_checks: 0,
            step_failed_checks: 0,
            done: vec![],
            step_since_ms: 0,
            last_activity_ms: 0,
            alive_ms: 0,
            version: "0".into(),
        }
    }

    #[test]
    fn stuck_learners_come_first_then_working_then_done() {
        let now = 10 * 60 * 1000;
        let mut class = Class::default();
        let mut stuck = progress("zoe", 5, 4);
        stuck.step_failed_checks = 2;
        let mut done = progress("amy", 5, 9);
        done.open = false;
        done.done = vec![5];
        let mut trying = progress("bob", 6, 2);
        // Failed checks, but on this step for less than STUCK_AFTER.
        trying.step_failed_checks = 1;
        trying.step_since_ms = now - 1000;
        for p in [&stuck, &done, &trying] {
            class.absorb(Some(&p.learner), Some(&serde_json::to_string(p).unwrap()));
        }
        let table = class.table(now);
        assert_eq!(table.column("LEARNER"), ["zoe", "bob", "amy"]);
        assert_eq!(table.column("STATUS"), ["stuck", "working", "done"]);
        assert_eq!(table.column("STEP"), ["4/9", "2/9", "finished"]);
        assert_eq!(class.summary(now), "3 learners · lesson 5: 2, lesson 6: 1 · 1 stuck, 1 working, 1 done");
    }

    #[test]
    fn the_latest_record_wins_and_a_tombstone_or_junk_is_handled() {
        let mut class = Class::default();
        let first = progress("amy", 3, 1);
        let later = progress("amy", 3, 2);
        class.absorb(Some("amy"), Some(&serde_json::to_string(&first).unwrap()));
        class.absorb(Some("amy"), Some(&serde_json::to_string(&later).unwrap()));
        class.absorb(Some("bob"), Some("not json"));
        // A record whose key is not its learner is not trusted.
        class.absorb(Some("eve"), Some(&serde_json::to_string(&first).unwrap()));
        assert_eq!(class.learners.len(), 1);
        assert_eq!(class.learners["amy"].step, 2);
        class.absorb(Some("amy"), None);
        assert!(class.learners.is_empty());
    }
}
