//! Builds the picture (`crate::picture`) from the cluster's state and the session's own
//! consumers. The session shares a `Scene` with its observers, so the web page can draw while
//! the prompt waits: the connection, the consumers, the topics and groups the learner has used,
//! and the lesson step, kept current by the session after every command.

mod keys;
mod replicas;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use super::Namespace;
use crate::actors::consumer::{ConsumerHandle, Status};
use crate::error::{Error, Result, Thing};
use crate::kafka::{Connection, GroupSummary, ReadPlan, TopicInfo, Watermarks};
use crate::outcome::Partitions;
use crate::outcome::picture::{
    Cell, Committed, ConsumerView, Dying, GroupView, LessonView, MemberView, Owner, PartitionView, Picture, Position,
    Selection, TopicView, CELLS,
};
use crate::report::{Events, Signal};

/// What the session shares with whoever draws it.
#[derive(Clone)]
pub struct Scene {
    stage: Arc<Mutex<Stage>>,
    events: Events,
    /// The last cells read from each partition, kept while its log does not change.
    tails: Arc<Mutex<HashMap<(String, i32), Tail>>>,
    /// Each topic's `min.insync.replicas` and when it was read.
    settings: Arc<Mutex<HashMap<String, (std::time::Instant, i32)>>>,
    /// Each group's last answers (its description and its commits), drawn while its
    /// coordinator does not answer.
    groups: Arc<Mutex<HashMap<String, GroupLook>>>,
    /// Each key's letter, for the whole session.
    keys: Arc<Mutex<keys::KeyTags>>,
}

#[derive(Clone, Default)]
struct GroupLook {
    summary: Option<GroupSummary>,
    committed: HashMap<(String, i32), i64>,
}

#[derive(Clone)]
pub(super) struct Stage {
    pub connection: Arc<Connection>,
    pub consumers: BTreeMap<String, ConsumerHandle>,
    /// Topics and groups the learner has used, by their names on the cluster.
    pub topics: BTreeSet<String>,
    pub groups: BTreeSet<String>,
    pub namespace: Option<Namespace>,
    pub lesson: Option<LessonView>,
    /// The nodes this session started, as last seen.
    pub nodes: Vec<crate::cluster::NodeView>,
}

/// One partition's last messages: (offset, key) for the range `from..end` of a log `start..end`.
#[derive(Clone)]
struct Tail {
    start: i64,
    end: i64,
    from: i64,
    records: Vec<(i64, Option<String>)>,
}

impl Scene {
    pub(super) fn new(connection: Arc<Connection>, events: Events) -> Self {
        let stage = Stage {
            connection,
            consumers: BTreeMap::new(),
            topics: BTreeSet::new(),
            groups: BTreeSet::new(),
            namespace: None,
            lesson: None,
            nodes: Vec::new(),
        };
        let (tails, settings, groups, keys) = Default::default();
        Scene { stage: Arc::new(Mutex::new(stage)), events, tails, settings, groups, keys }
    }

    /// Change what is shared.
    pub(super) fn update(&self, f: impl FnOnce(&mut Stage)) {
        if let Ok(mut stage) = self.stage.lock() {
            f(&mut stage);
        }
    }

    /// The nodes this session started that are down, as of its latest command.
    pub(super) fn down_nodes(&self) -> BTreeSet<i32> {
        self.stage.lock().map(|s| s.nodes.iter().filter(|n| !n.up).map(|n| n.id).collect()).unwrap_or_default()
    }

    /// Hear about every change from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Signal> {
        self.events.subscribe()
    }

    /// Tell observers that something changed.
    pub fn changed(&self) {
        self.events.changed();
    }

    /// The workshop's learners, as `workshop.progress` has them now.
    pub async fn class(&self) -> Result<crate::room::Class> {
        let connection = self.stage.lock().map_err(|_| Error::kafka("the scene is poisoned"))?.connection.clone();
        super::room::read_class(&connection).await
    }

    /// Everything the learner has used, in the learner's own names.
    pub async fn picture(&self) -> Result<Picture> {
        self.picture_of(&Selection::default()).await
    }

    /// The picture of `selection` (named as on the cluster), in the learner's own names.
    pub(super) async fn picture_of(&self, selection: &Selection) -> Result<Picture> {
        let stage = self.stage.lock().map_err(|_| Error::kafka("the scene is poisoned"))?.clone();
        let picture = self.build(&stage, selection).await?;
        Ok(match &stage.namespace {
            Some(ns) => ns.shorten_picture(picture),
            None => picture,
        })
    }

    async fn build(&self, stage: &Stage, selection: &Selection) -> Result<Picture> {
        let info = stage.connection.cluster_info().await?;
        let mut notes = Vec::new();
        let mut used_groups = stage.groups.clone();
        used_groups.extend(stage.consumers.values().filter(|c| c.status() == Status::Running).map(|c| c.spec.group.clone()));
        // Groups looked at only to see whether they read a topic asked for by name.
        let mut maybe = BTreeSet::new();
        let (topic_names, mut group_names) = if selection.is_everything() {
            (stage.topics.iter().filter(|t| info.topic(t).is_some()).cloned().collect::<BTreeSet<_>>(), used_groups)
        } else {
            for topic in &selection.topics {
                if info.topic(topic).is_none() {
                    return Err(Error::not_found(Thing::Topic, topic.as_str()));
                }
            }
            let mut groups: BTreeSet<String> = selection.groups.iter().cloned().collect();
            if !selection.topics.is_empty() {
                maybe = used_groups.difference(&groups).cloned().collect();
                groups.extend(maybe.iter().cloned());
            }
            (selection.topics.iter().cloned().collect(), groups)
        };
        let looks = self.look_at_groups(stage, &group_names, &mut notes).await;
        let mut groups = Vec::new();
        for name in &group_names {
            match looks.get(name).and_then(|l| l.summary.clone()) {
                Some(summary) => groups.push(summary),
                None if selection.groups.contains(name) => notes.push(format!("group {name} has no members")),
                None => {}
            }
        }
        // A group asked for by name brings the topics it reads.
        let mut topic_names = topic_names;
        for name in &selection.groups {
            topic_names.extend(group_topics(stage, name, groups.iter().find(|g| g.name == *name)));
        }
        let topics: Vec<&TopicInfo> = topic_names.iter().filter_map(|t| info.topic(t)).collect();
        let pairs: Vec<(String, i32)> = topics.iter().flat_map(|t| t.pairs()).collect();
        let down = stage.nodes.iter().filter(|n| !n.up).map(|n| n.id).collect();
        let seen = stage.connection.watermarks_seen(&topics, &down).await;
        let mut marks = seen.marks;
        let mut silent = seen.silent.clone();
        silent.extend(seen.down.iter().copied());
        if !silent.is_empty() {
            // A leader that is down: its partitions are drawn as the last look saw them.
            if let Ok(cached) = self.tails.lock() {
                for pair in &pairs {
                    if let (false, Some(tail)) = (marks.contains_key(pair), cached.get(pair)) {
                        marks.insert(pair.clone(), Watermarks { low: tail.start, high: tail.end });
                    }
                }
            }
            let ids: Vec<String> = silent.iter().map(i32::to_string).collect();
            notes.push(format!(
                "broker {} is down or did not answer within {:.1} s: the partitions it still leads are drawn as last seen, until the controller names a new leader",
                ids.join(" and "),
                crate::kafka::LOOK_TIMEOUT.as_secs_f64()
            ));
        }
        let mut committed = BTreeMap::new();
        for name in &group_names {
            let look = self.commits_of(stage, name, &pairs, &mut notes).await;
            committed.insert(name.clone(), look);
        }
        // `show T` draws the groups that read T: a member owns a partition of it, or the group
        // committed an offset there.
        group_names.retain(|name| {
            !maybe.contains(name)
                || committed.get(name).is_some_and(|c| !c.is_empty())
                || !group_topics(stage, name, groups.iter().find(|g| g.name == *name)).is_disjoint(&topic_names)
        });
        groups.retain(|g| group_names.contains(&g.name));
        let extra = self.replication_extra(stage, &topics).await;
        let mut topic_views = Vec::new();
        let mut tails_of = Vec::new();
        for topic in &topics {
            tails_of.push(self.tails(stage, topic, &marks).await?);
        }
        let mut keys = self.keys.lock().map_err(|_| Error::kafka("the key letters are poisoned"))?;
        keys.next_frame();
        for (topic, tails) in topics.into_iter().zip(tails_of) {
            let partitions = topic
                .partitions
                .iter()
                .map(|p| {
                    let mark = marks.get(&(topic.name.clone(), p.id)).copied().unwrap_or(Watermarks { low: 0, high: 0 });
                    let tail = tails.get(&p.id);
                    let mut view = partition_view(stage, &topic.name, p.id, mark, tail, &groups, &group_names, &committed, &mut keys);
                    view.replication = replicas::replication(&topic.name, p, &extra);
                    view
                })
                .collect();
            let min_insync = extra.min_insync.get(&topic.name).copied();
            topic_views.push(TopicView { name: topic.name.clone(), min_insync, partitions });
        }
        let group_views = group_names
            .iter()
            .map(|name| group_view(stage, name, groups.iter().find(|g| g.name == *name), &topic_views, &committed))
            .collect();
        let consumers = stage.consumers.values().map(consumer_view).collect();
        let brokers = replicas::brokers(&info, &stage.nodes, &topic_views);
        let keys = keys.holders();
        Ok(Picture { brokers, topics: topic_views, groups: group_views, consumers, keys, lesson: stage.lesson.clone(), notes })
    }

    /// Each group's description, asked side by side; a group whose coordinator does not
    /// answer within `LOOK_TIMEOUT` is drawn as last seen, and a note says so.
    async fn look_at_groups(&self, stage: &Stage, names: &BTreeSet<String>, notes: &mut Vec<String>) -> HashMap<String, GroupLook> {
        let asks = names.iter().map(|name| async move {
            (name.clone(), tokio::time::timeout(crate::kafka::LOOK_TIMEOUT, stage.connection.group(name)).await)
        });
        let mut looks = HashMap::new();
        for (name, answer) in futures::future::join_all(asks).await {
            let last = self.groups.lock().ok().and_then(|g| g.get(&name).cloned()).unwrap_or_default();
            let summary = match answer {
                Ok(Ok(summary)) => summary,
                Ok(Err(err)) => {
                    notes.push(format!("group {name}: {err}; drawn as last seen"));
                    last.summary.clone()
                }
                Err(_) => {
                    notes.push(format!("group {name}'s coordinator did not answer within {:.1} s: drawn as last seen", crate::kafka::LOOK_TIMEOUT.as_secs_f64()));
                    last.summary.clone()
                }
            };
            looks.insert(name, GroupLook { summary, ..last });
        }
        if let Ok(mut kept) = self.groups.lock() {
            for (name, look) in &looks {
                kept.entry(name.clone()).or_default().summary = look.summary.clone();
            }
        }
        looks
    }

    /// A group's committed offsets, or the last ones seen when its coordinator does not answer.
    async fn commits_of(&self, stage: &Stage, group: &str, pairs: &[(String, i32)], notes: &mut Vec<String>) -> HashMap<(String, i32), i64> {
        let answer = tokio::time::timeout(crate::kafka::LOOK_TIMEOUT, stage.connection.committed(group, pairs.to_vec())).await;
        match answer {
            Ok(Ok(found)) => {
                if let Ok(mut kept) = self.groups.lock() {
                    kept.entry(group.to_string()).or_default().committed = found.clone();
                }
                found
            }
            _ => {
                let note = format!("group {group}'s commits could not be read within {:.1} s: drawn as last seen", crate::kafka::LOOK_TIMEOUT.as_secs_f64());
                if !notes.iter().any(|n| n.starts_with(&format!("group {group}'s coordinator"))) {
                    notes.push(note);
                }
                self.groups.lock().ok().and_then(|g| g.get(group).map(|l| l.committed.clone())).unwrap_or_default()
            }
        }
    }

    /// Each partition's last messages, read again only where the log changed.
    async fn tails(&self, stage: &Stage, topic: &TopicInfo, marks: &HashMap<(String, i32), Watermarks>) -> Result<BTreeMap<i32, Tail>> {
        let mut found = BTreeMap::new();
        let mut plan = Vec::new();
        for partition in &topic.partitions {
            let Some(mark) = marks.get(&(topic.name.clone(), partition.id)) else { continue };
            let cached = self.tails.lock().ok().and_then(|t| t.get(&(topic.name.clone(), partition.id)).cloned());
            match cached {
                Some(tail) if tail.start == mark.low && tail.end == mark.high => {
                    found.insert(partition.id, tail);
                }
                _ => {
                    let from = (mark.high - CELLS as i64).max(mark.low);
                    found.insert(partition.id, Tail { start: mark.low, end: mark.high, from, records: Vec::new() });
                    if from < mark.high {
                        plan.push(ReadPlan { partition: partition.id, start: from, end: mark.high });
                    }
                }
            }
        }
        if !plan.is_empty() {
            let read = stage.connection.read(&topic.name, plan.clone(), (plan.len() * CELLS) as u64).await?;
            for record in read.records {
                if let Some(tail) = found.get_mut(&record.partition) {
                    tail.records.push((record.offset, record.key));
                }
            }
            if let Ok(mut cache) = self.tails.lock() {
                for step in &plan {
                    if let Some(tail) = found.get(&step.partition) {
                        cache.insert((topic.name.clone(), step.partition), tail.clone());
                    }
                }
            }
        }
        Ok(found)
    }
}

/// The topics a group reads: its consumers' here, its members' assignments, its commits.
fn group_topics(stage: &Stage, group: &str, summary: Option<&GroupSummary>) -> BTreeSet<String> {
    let mut topics: BTreeSet<String> =
        stage.consumers.values().filter(|c| c.spec.group == group).flat_map(|c| c.spec.topics.clone()).collect();
    for member in summary.map(|s| s.members.as_slice()).unwrap_or_default() {
        topics.extend(member.assignment.iter().flat_map(|a| a.keys().cloned()));
    }
    topics
}

#[allow(clippy::too_many_arguments)]
fn partition_view(
    stage: &Stage,
    topic: &str,
    partition: i32,
    mark: Watermarks,
    tail: Option<&Tail>,
    groups: &[GroupSummary],
    group_names: &BTreeSet<String>,
    committed: &BTreeMap<String, HashMap<(String, i32), i64>>,
    keys: &mut keys::KeyTags,
) -> PartitionView {
    let pair = (topic.to_string(), partition);
    let cells = tail.map(|tail| cells(tail, keys)).unwrap_or_default();
    let mut committed_marks = Vec::new();
    let mut owners = Vec::new();
    for name in group_names {
        let offset = committed.get(name).and_then(|c| c.get(&pair)).copied();
        let owner = owner(stage, name, groups.iter().find(|g| g.name == *name), topic, partition);
        if offset.is_some() || owner.is_some() {
            committed_marks.push(Committed { group: name.clone(), offset, lag: offset.map(|o| (mark.high - o).max(0)) });
        }
        owners.extend(owner);
    }
    let positions = stage
        .consumers
        .values()
        .filter(|c| c.status() == Status::Running)
        .filter_map(|c| c.state().positions.get(&pair).map(|o| Position { consumer: c.spec.name.clone(), offset: *o }))
        .collect();
    let replication = crate::outcome::picture::Replication::default();
    PartitionView { partition, start: mark.low, end: mark.high, cells, committed: committed_marks, positions, owners, replication }
}

/// The cells of a tail: every offset, its key's tag, and whether compaction removed it.
fn cells(tail: &Tail, keys: &mut keys::KeyTags) -> Vec<Cell> {
    let by_offset: BTreeMap<i64, &Option<String>> = tail.records.iter().map(|(o, k)| (*o, k)).collect();
    (tail.from..tail.end)
        .map(|offset| match by_offset.get(&offset) {
            Some(key) => Cell { offset, key: key.as_deref().map(|k| keys.tag(k)), gone: false },
            None => Cell { offset, key: None, gone: true },
        })
        .collect()
}

/// Who owns a partition in a group: one of this session's consumers, else the member the
/// cluster says has it.
fn owner(stage: &Stage, group: &str, summary: Option<&GroupSummary>, topic: &str, partition: i32) -> Option<Owner> {
    let holds = |p: &Partitions| p.get(topic).is_some_and(|ids| ids.contains(&partition));
    let ours = stage.consumers.values().filter(|c| c.spec.group == group && c.status() == Status::Running);
    for consumer in ours {
        if holds(&consumer.state().assignment) {
            return Some(Owner { group: group.to_string(), owner: consumer.spec.name.clone(), ours: true, killed: false });
        }
    }
    let member = summary?.members.iter().find(|m| m.assignment.as_ref().is_some_and(holds))?;
    let name = our_name(stage, &member.id);
    let killed = stage
        .consumers
        .values()
        .any(|c| c.status() == Status::Killed && c.state().member_id.as_deref() == Some(member.id.as_str()));
    Some(Owner { group: group.to_string(), owner: name.clone().unwrap_or_else(|| member.id.clone()), ours: name.is_some(), killed })
}

/// The name of this session's consumer with that member id.
fn our_name(stage: &Stage, member_id: &str) -> Option<String> {
    stage.consumers.values().find(|c| c.state().member_id.as_deref() == Some(member_id)).map(|c| c.spec.name.clone())
}

fn group_view(
    stage: &Stage,
    name: &str,
    summary: Option<&GroupSummary>,
    topics: &[TopicView],
    committed: &BTreeMap<String, HashMap<(String, i32), i64>>,
) -> GroupView {
    let ours: Vec<&ConsumerHandle> = stage.consumers.values().filter(|c| c.spec.group == name).collect();
    let members: Vec<MemberView> = summary
        .map(|s| s.members.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|member| {
            // A consumer killed here stays a member (by its name) until its session times out.
            let mine = ours.iter().find(|c| c.status() != Status::Stopped && c.state().member_id.as_deref() == Some(member.id.as_str()));
            MemberView {
                id: member.id.clone(),
                name: mine.map(|c| c.spec.name.clone()),
                client_id: member.client_id.clone(),
                host: member.host.clone(),
                // A killed consumer no longer knows its partitions; the group still gives them to it.
                assignment: mine
                    .filter(|c| c.status() == Status::Running)
                    .map(|c| c.state().assignment)
                    .or_else(|| member.assignment.clone()),
            }
        })
        .collect();
    // A crashed consumer is still a member until its session times out.
    let dying = ours
        .iter()
        .filter_map(|c| {
            let state = c.state();
            let killed = state.killed_at.filter(|_| state.status == Status::Killed)?;
            let still_member = members.iter().any(|m| Some(&m.id) == state.member_id.as_ref());
            let left = c.spec.session_timeout.saturating_sub(killed.elapsed()).as_secs_f64();
            still_member.then(|| Dying { consumer: c.spec.name.clone(), seconds_left: (left * 10.0).round() / 10.0 })
        })
        .collect();
    let running = ours.iter().filter(|c| c.status() == Status::Running);
    let lag = topics
        .iter()
        .flat_map(|t| t.partitions.iter().map(move |p| (t.name.clone(), p)))
        .filter_map(|(topic, p)| committed.get(name)?.get(&(topic, p.partition)).map(|c| (p.end - c).max(0)))
        .reduce(|a, b| a + b);
    GroupView {
        name: name.to_string(),
        state: summary.map_or_else(|| "Empty".to_string(), |s| s.state.clone()),
        assignor: summary
            .map(|s| s.protocol.clone())
            .filter(|p| !p.is_empty())
            .or_else(|| ours.first().map(|c| c.spec.assignor.as_config().to_string())),
        generation: running.filter_map(|c| c.state().generation).max(),
        members,
        dying,
        lag,
    }
}

fn consumer_view(handle: &ConsumerHandle) -> ConsumerView {
    let state = handle.state();
    ConsumerView {
        name: handle.spec.name.clone(),
        group: handle.spec.group.clone(),
        status: state.status.as_str().to_string(),
        assignment: state.assignment,
        received: state.received,
    }
}

impl super::Session {
    /// `show` (one frame) and `watch` (kept fresh at a terminal). The names are the cluster's.
    pub(super) async fn show(&self, args: &crate::command::ShowArgs, watch: bool) -> Result<crate::outcome::Outcome> {
        use crate::outcome::{Live, LiveSource, Outcome};
        let (topics, groups) = args.selection()?;
        let selection = Selection { topics, groups };
        let picture = self.scene.picture_of(&selection).await?;
        if picture.topics.is_empty() && picture.groups.is_empty() {
            return Ok(Outcome::Note(
                "nothing to draw yet: create a topic, produce, or start a consumer, then `show` draws them".into(),
            ));
        }
        let frame = Outcome::Picture(picture);
        Ok(if watch { Outcome::Live(Live { source: LiveSource::Picture(selection), frame: Box::new(frame) }) } else { frame })
    }

    /// `web`: ask the front end to serve the picture, unless it already does.
    pub(super) fn web(&self, listen: Option<std::net::SocketAddr>) -> crate::outcome::Outcome {
        match &self.web {
            Some(url) => crate::outcome::Outcome::Note(format!("already serving the picture at {url}")),
            None => crate::outcome::Outcome::Serve(listen),
        }
    }

    /// A live frame drawn again, as it is now.
    pub async fn refresh(&self, source: &crate::outcome::LiveSource) -> crate::outcome::Outcome {
        use crate::outcome::{LiveSource, Outcome};
        match source {
            LiveSource::Shop => self.shop_board(),
            LiveSource::Class => self.class_frame().await.unwrap_or_else(Outcome::Failure),
            LiveSource::Picture(selection) => match self.scene.picture_of(selection).await {
                Ok(picture) => Outcome::Picture(picture),
                Err(err) => Outcome::Failure(err),
            },
        }
    }
}
