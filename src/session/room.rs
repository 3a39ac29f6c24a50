//! The workshop room on a shared cluster. A learner's session (`--learner NAME`) publishes where
//! it is to `workshop.progress` after every change, in the background, and shows the
//! instructor's announcements above the prompt. The instructor's session reads the room:
//! `class` (a table of every learner, live with `--watch`), `announce TEXT`, and `class clean`,
//! which deletes the learners' own topics and groups and nothing else.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::{Namespace, Session};
use crate::error::{Error, Result};
use crate::kafka::room::{Publisher, Tail, Tailed};
use crate::kafka::{Connection, NewTopic, ReadPlan};
use crate::outcome::{Live, LiveSource, Outcome, Table};
use crate::report::{now_ms, Events};
use crate::room::{self, Announcement, Class, LearnerProgress, ANNOUNCEMENTS_TOPIC, PROGRESS_TOPIC};

/// Progress that has not changed is published again this often while the learner works, so
/// LAST-SEEN stays true.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// Who says what about the room above the learner's prompt.
const ROOM: &str = "workshop";

/// A learner's link to the room.
pub(super) struct Room {
    learner: String,
    /// None with `--private`.
    publisher: Option<Arc<Publisher>>,
    _announcements: Option<Tail>,
    /// The progress published last, which `alive` publishes again every `room::ALIVE_EVERY`.
    latest: Arc<std::sync::Mutex<Option<LearnerProgress>>>,
    alive: Option<tokio::task::JoinHandle<()>>,
    last_sent: Option<(LearnerProgress, Instant)>,
    /// The (lesson, step) the learner is on, and since when.
    step: (Option<u32>, usize, u64),
    last_activity_ms: u64,
}

impl Room {
    /// Join the room as `learner`: make sure its topics exist (in the background), listen for
    /// announcements, and publish progress unless `private`.
    fn join(connection: &Arc<Connection>, events: &Events, learner: &str, private: bool) -> Room {
        let setup = Arc::clone(connection);
        let warn = events.clone();
        tokio::spawn(async move {
            if let Err(err) = ensure_room_topics(&setup).await {
                warn.warn(ROOM, format!("{err}; the instructor can create them by running `class`"));
            }
        });
        let publisher = if private {
            None
        } else {
            let warn = events.clone();
            Publisher::new(connection, PROGRESS_TOPIC, move |why| {
                warn.warn(
                    ROOM,
                    format!("cannot publish your progress to {PROGRESS_TOPIC} ({why}); your session goes on without it"),
                );
            })
            .map_err(|err| events.warn(ROOM, format!("cannot publish your progress: {err}")))
            .ok()
            .map(Arc::new)
        };
        let latest = Arc::new(std::sync::Mutex::new(None));
        let alive = publisher.clone().map(|publisher| tokio::spawn(say_alive(learner.to_string(), publisher, Arc::clone(&latest))));
        let joined_ms = now_ms();
        let heard = events.clone();
        let tail = Tail::start(connection, ANNOUNCEMENTS_TOPIC, move |record| {
            if let Some(event) = announcement_event(&record, joined_ms) {
                heard.send(event);
            }
        })
        .map_err(|err| events.warn(ROOM, format!("cannot listen for announcements: {err}")))
        .ok();
        Room {
            learner: learner.to_string(),
            publisher,
            _announcements: tail,
            latest,
            alive,
            last_sent: None,
            step: (None, 0, joined_ms),
            last_activity_ms: joined_ms,
        }
    }

    /// Publish `progress` if it says something new, or the heartbeat is due.
    fn report(&mut self, mut progress: LearnerProgress) {
        let Some(publisher) = &self.publisher else { return };
        let place = (progress.lesson, progress.step);
        if (self.step.0, self.step.1) != place {
            self.step = (place.0, place.1, now_ms());
        }
        progress.step_since_ms = self.step.2;
        progress.last_activity_ms = self.last_activity_ms;
        progress.alive_ms = now_ms();
        let due = match &self.last_sent {
            None => true,
            Some((sent, at)) => !sent.same_place(&progress) || (sent.last_activity_ms != progress.last_activity_ms && at.elapsed() >= HEARTBEAT),
        };
        if !due {
            return;
        }
        if let Ok(value) = serde_json::to_string(&progress) {
            publisher.send(&self.learner, &value);
        }
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(progress.clone());
        }
        self.last_sent = Some((progress, Instant::now()));
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        if let Some(alive) = self.alive.take() {
            alive.abort();
        }
    }
}

/// While the session runs, say so every `room::ALIVE_EVERY`: the latest progress again, with a
/// new `alive_ms`. A session that stops saying it (killed, crashed, cut off) is shown as left.
async fn say_alive(learner: String, publisher: Arc<Publisher>, latest: Arc<std::sync::Mutex<Option<LearnerProgress>>>) {
    let mut every = tokio::time::interval(room::ALIVE_EVERY);
    every.tick().await;
    loop {
        every.tick().await;
        let Some(mut progress) = latest.lock().ok().and_then(|latest| latest.clone()) else { continue };
        if !progress.online {
            return;
        }
        progress.alive_ms = now_ms();
        if let Ok(value) = serde_json::to_string(&progress) {
            publisher.send(&learner, &value);
        }
    }
}

/// What a learner sees of one record of `workshop.announcements`: announcements made since they
/// joined, and recent ones from just before, with their age.
fn announcement_event(record: &Tailed, joined_ms: u64) -> Option<crate::outcome::Event> {
    let said: Announcement = serde_json::from_str(record.value.as_deref()?).ok()?;
    let at = u64::try_from(record.timestamp_ms.unwrap_or(0)).ok().filter(|&t| t > 0).unwrap_or(said.at_ms);
    let before = joined_ms.saturating_sub(at);
    if before > u64::try_from(room::RECENT_ANNOUNCEMENT.as_millis()).unwrap_or(u64::MAX) {
        return None;
    }
    let age = (before > 2_000).then(|| room::ago(now_ms().saturating_sub(at)));
    Some(crate::outcome::Event::Announcement { from: said.from, text: said.text, age })
}

/// The room's two topics, made if missing: progress compacted (one record per learner is kept),
/// announcements kept for a day. A topic that exists is left as it is.
async fn ensure_room_topics(connection: &Connection) -> Result<()> {
    let info = connection.cluster_info().await?;
    let replication = i32::try_from(info.brokers.len().clamp(1, 3)).unwrap_or(1);
    let wanted = [
        (PROGRESS_TOPIC, vec![("cleanup.policy".to_string(), "compact".to_string())]),
        (
            ANNOUNCEMENTS_TOPIC,
            vec![("retention.ms".to_string(), room::ANNOUNCEMENTS_RETENTION.as_millis().to_string())],
        ),
    ];
    for (name, configs) in wanted {
        if info.topic(name).is_some() {
            continue;
        }
        let topic = NewTopic { name: name.to_string(), partitions: 1, replication_factor: replication, configs };
        connection
            .create_topic(&topic)
            .await
            .map_err(|err| Error::kafka(format!("cannot create the workshop's topic {name}: {err}")))?;
    }
    Ok(())
}

/// The latest progress of every learner, read from `workshop.progress` (empty when there is no
/// such topic yet).
pub(super) async fn read_class(connection: &Connection) -> Result<Class> {
    let mut class = Class::default();
    let info = connection.cluster_info().await?;
    let Some(topic) = info.topic(PROGRESS_TOPIC) else { return Ok(class) };
    let marks = connection.topic_watermarks(topic).await?;
    let plan: Vec<ReadPlan> = marks
        .into_iter()
        .filter(|(_, m)| m.high > m.low)
        .map(|(partition, m)| ReadPlan { partition, start: m.low, end: m.high })
        .collect();
    if plan.is_empty() {
        return Ok(class);
    }
    let read = connection.read(PROGRESS_TOPIC, plan, u64::MAX).await?;
    for record in &read.records {
        class.absorb(record.key.as_deref(), record.value.as_deref());
    }
    Ok(class)
}

impl Session {
    /// Join the room as the session's learner, once (and again as a new learner).
    pub(super) fn join_room(&mut self) {
        let Some(namespace) = &self.namespace else { return };
        if self.room.as_ref().is_some_and(|room| room.learner == namespace.learner()) {
            return;
        }
        self.room = Some(Room::join(&self.connection, &self.events, namespace.learner(), self.private));
    }

    /// The learner ran a command.
    pub(super) fn room_activity(&mut self) {
        if let Some(room) = self.room.as_mut() {
            room.last_activity_ms = now_ms();
        }
    }

    /// Tell the room where this learner is, if that changed. Never waits.
    pub(super) fn report_to_room(&mut self) {
        let Some(learner) = self.room.as_ref().map(|room| room.learner.clone()) else { return };
        // A library that cannot load says so at the first lesson command, not here.
        let Some(progress) = self.tutor().ok().map(|tutor| tutor.learner_progress(&learner)) else { return };
        if let Some(room) = self.room.as_mut() {
            room.report(progress);
        }
    }

    /// The session is ending: say so to the room, and send what is still queued, for up to
    /// `within`.
    pub(super) fn leave_room(&mut self, within: Duration) {
        let Some(learner) = self.room.as_ref().map(|room| room.learner.clone()) else { return };
        let last = self.tutor().ok().map(|tutor| tutor.learner_progress(&learner));
        let Some(room) = self.room.as_mut() else { return };
        if let Some(mut progress) = last {
            progress.online = false;
            room.report(progress);
        }
        if let Some(publisher) = &room.publisher {
            publisher.flush(within);
        }
    }

    /// Whether this session could be an instructor's: on a shared cluster, without --learner.
    pub fn may_teach(&self) -> bool {
        self.namespace.is_none() && !self.target.is_embedded()
    }

    /// The instructor's commands act on everyone: a learner's session refuses them.
    fn as_instructor(&self, command: &str) -> Result<()> {
        match &self.namespace {
            Some(ns) => Err(Error::input_with_hint(
                format!("`{command}` is the instructor's: learner {} cannot run it", ns.learner()),
                "the instructor runs it in a session without --learner",
            )),
            None => Ok(()),
        }
    }

    /// `class`: every learner, whom to help first at the top, and a summary.
    /// The instructor's first `class` sets the room up: its topics, if they are missing.
    pub(super) async fn class(&self, watch: bool) -> Result<Outcome> {
        let setup = match self.namespace {
            None => ensure_room_topics(&self.connection).await.err().map(|err| Outcome::Warning(err.to_string())),
            Some(_) => None,
        };
        let frame = self.class_frame().await?;
        let frame = match setup {
            Some(warning) => Outcome::Many(vec![warning, frame]),
            None => frame,
        };
        Ok(if watch { Outcome::Live(Live { source: LiveSource::Class, frame: Box::new(frame) }) } else { frame })
    }

    pub(super) async fn class_frame(&self) -> Result<Outcome> {
        let class = read_class(&self.connection).await?;
        let now = now_ms();
        let mut parts = vec![Outcome::Note(class.summary(now))];
        if !class.learners.is_empty() {
            parts.insert(0, Outcome::Table(class.table(now)));
        }
        Ok(Outcome::Many(parts))
    }

    /// `announce TEXT`: every learner's session shows it above the prompt.
    pub(super) async fn announce(&self, text: &str) -> Result<Outcome> {
        self.as_instructor("announce")?;
        let text = text.trim();
        if text.is_empty() {
            return Err(Error::input("announce needs something to say, for example: announce \"break until 11:00\""));
        }
        ensure_room_topics(&self.connection).await?;
        let said = Announcement { text: text.to_string(), from: "instructor".into(), at_ms: now_ms() };
        let value = serde_json::to_string(&said).map_err(|e| Error::kafka(e.to_string()))?;
        self.connection.send_record(ANNOUNCEMENTS_TOPIC, None, &value).await?;
        let class = read_class(&self.connection).await.unwrap_or_default();
        Ok(Outcome::Done(format!(
            "announced to the room ({} learner(s) have published progress): {text}",
            class.learners.len()
        )))
    }

    /// `class clean [--execute]`: the learners' topics and groups (names under a learner's
    /// prefix, for the learners in `workshop.progress`), as a plan, or deleted.
    pub(super) async fn class_clean(&self, execute: bool) -> Result<Outcome> {
        self.as_instructor("class clean")?;
        let class = read_class(&self.connection).await?;
        let prefixes: Vec<Namespace> = class.learners.keys().filter_map(|l| Namespace::new(l).ok()).collect();
        let owner = |name: &str| prefixes.iter().find(|ns| ns.owns(name)).map(|ns| ns.learner().to_string());
        let info = self.connection.cluster_info().await?;
        // (learner, kind, name, members still running: a group with members cannot be deleted)
        let mut plan: Vec<(String, &str, String, usize)> = Vec::new();
        for group in self.connection.groups(None).await? {
            if let Some(learner) = owner(&group.name) {
                let running = self.connection.group(&group.name).await.ok().flatten().map_or(0, |g| g.members.len());
                plan.push((learner, "group", group.name, running));
            }
        }
        for topic in &info.topics {
            if let Some(learner) = owner(&topic.name) {
                plan.push((learner, "topic", topic.name.clone(), 0));
            }
        }
        plan.sort();
        if plan.is_empty() {
            return Ok(Outcome::Note(format!(
                "nothing to clean: no topic or group on the cluster starts with a learner's prefix ({} learner(s) in {PROGRESS_TOPIC})",
                class.learners.len()
            )));
        }
        let now = now_ms();
        let busy: Vec<&str> = class
            .rows(now)
            .into_iter()
            .filter(|(p, status)| p.open && matches!(status, room::Status::Working | room::Status::Stuck))
            .map(|(p, _)| p.learner.as_str())
            .collect();
        let mid_lesson = (!busy.is_empty()).then(|| {
            Outcome::Warning(format!(
                "{} learner(s) are in the middle of a lesson ({}): their lesson's topics go too",
                busy.len(),
                busy.join(", ")
            ))
        });
        let kept = |running: usize| format!("kept: {running} member(s) still running; their learner stops them first");
        let topics = plan.iter().filter(|(_, kind, _, _)| *kind == "topic").count();
        let groups = plan.len() - topics;
        if !execute {
            let mut table = Table::new(["LEARNER", "KIND", "NAME", "NOTE"]);
            for (learner, kind, name, running) in &plan {
                let note = if *running > 0 { kept(*running) } else { String::new() };
                table.push([learner.as_str(), kind, name.as_str(), note.as_str()]);
            }
            let mut parts = vec![Outcome::Table(table)];
            parts.extend(mid_lesson);
            parts.push(Outcome::Note(format!(
                "plan only: `class clean --execute` deletes these {topics} topic(s) and {groups} group(s), except groups whose members \
                 still run; {PROGRESS_TOPIC}, {ANNOUNCEMENTS_TOPIC} and every name outside a learner's prefix stay"
            )));
            return Ok(Outcome::Many(parts));
        }
        let mut table = Table::new(["LEARNER", "KIND", "NAME", "RESULT"]);
        let (mut failed, mut skipped) = (0, 0);
        // Groups first: a group's offsets point into the topics.
        for (learner, kind, name, running) in &plan {
            let said = if *running > 0 {
                skipped += 1;
                kept(*running)
            } else {
                let result =
                    if *kind == "group" { self.connection.delete_group(name).await } else { self.connection.delete_topic(name).await };
                match result {
                    Ok(()) => "deleted".to_string(),
                    Err(err) => {
                        failed += 1;
                        err.to_string()
                    }
                }
            };
            table.push([learner.as_str(), kind, name.as_str(), said.as_str()]);
        }
        let mut parts = vec![Outcome::Table(table)];
        parts.extend(mid_lesson);
        let deleted = plan.len() - failed - skipped;
        let mut summary = format!("deleted {deleted} of {} topic(s) and group(s)", plan.len());
        if skipped > 0 {
            summary.push_str(&format!("; kept {skipped} group(s) whose members still run (run it again once they stop)"));
        }
        if failed == 0 {
            parts.push(Outcome::Done(summary));
        } else {
            parts.push(Outcome::Failure(Error::kafka(format!("{summary}; {failed} could not be deleted"))));
        }
        Ok(Outcome::Many(parts))
    }
}
