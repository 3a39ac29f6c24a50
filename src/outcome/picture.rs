//! The picture of the cluster as a learner should see it: each partition a log of cells from its
//! start to its end, with each group's committed offset, each consumer's position and the lag
//! as markers on it, who owns it in each group, where its copies live (leader, replicas, ISR,
//! ELR) and which brokers are down, and the groups with their members. One snapshot,
//! two renderers: the terminal (`view::picture`) and the web page (`front::web`) draw the same
//! data, and `/api/state` is this as JSON. The session builds it (`session::picture`).

use serde::Serialize;

use super::Partitions;

/// How many of a partition's last offsets the picture carries.
pub const CELLS: usize = 24;

/// How many keys have a letter of their own (A–Z, a–z) at once; tag `KEY_TAGS` is `*`.
pub const KEY_TAGS: usize = 52;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Picture {
    /// The brokers: listed in the metadata, started by this session, or named as a replica.
    pub brokers: Vec<BrokerView>,
    pub topics: Vec<TopicView>,
    pub groups: Vec<GroupView>,
    /// The consumers started in this session.
    pub consumers: Vec<ConsumerView>,
    /// The key each tag (letter) stands for, by tag. A key keeps its letter for the session
    /// (`session::picture::keys`); a renderer lists only the tags it draws. Tag `KEY_TAGS`
    /// (`*`) is a key left without a letter.
    pub keys: Vec<String>,
    pub lesson: Option<LessonView>,
    /// What could not be drawn (a topic that does not exist, a group the cluster does not know).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TopicView {
    pub name: String,
    /// The topic's `min.insync.replicas`, when it could be read.
    pub min_insync: Option<i32>,
    pub partitions: Vec<PartitionView>,
}

impl Picture {
    /// Whether there is replication to draw: more than one broker, or a partition with more
    /// than one replica. On one broker (the embedded one) there is nothing to say.
    pub fn replicated(&self) -> bool {
        self.brokers.len() > 1 || self.topics.iter().flat_map(|t| &t.partitions).any(|p| p.replication.replicas.len() > 1)
    }

    /// Whether broker `id` is down.
    pub fn down(&self, id: i32) -> bool {
        self.brokers.iter().any(|b| b.id == id && !b.up)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokerView {
    pub id: i32,
    /// In the metadata (or, for a node this session started, its process runs).
    pub up: bool,
    /// How long a node this session started has been down.
    pub down_seconds: Option<u64>,
    /// How many of the drawn partitions it leads.
    pub leads: usize,
}

/// Where a partition's copies live, as the cluster reports them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Replication {
    /// The broker that leads it, or -1 while none does.
    pub leader: i32,
    pub replicas: Vec<i32>,
    /// The in-sync replicas (ISR).
    pub isr: Vec<i32>,
    /// Eligible leader replicas (KIP-966), when the cluster reports them.
    pub elr: Option<Vec<i32>>,
    pub flags: Vec<Flag>,
}

/// What is wrong with a partition's copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Flag {
    /// Fewer replicas in sync than it has.
    UnderReplicated,
    /// Fewer in sync than `min.insync.replicas`: a producer with acks=all is refused.
    UnderMinIsr,
    /// No leader: nobody can write or read it.
    Offline,
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::UnderReplicated => "under-replicated",
            Flag::UnderMinIsr => "under min ISR",
            Flag::Offline => "offline",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PartitionView {
    pub partition: i32,
    /// The first offset still in the log (before it, retention removed what was there).
    pub start: i64,
    /// The end offset (the high watermark): where the next message goes.
    pub end: i64,
    /// The last cells, oldest first; offsets from `start` before the first cell are not drawn.
    pub cells: Vec<Cell>,
    /// Each group's committed offset here (the next message it will read), or none yet.
    pub committed: Vec<Committed>,
    /// Where each of this session's consumers that owns the partition will read next.
    pub positions: Vec<Position>,
    /// Who owns it in each group.
    pub owners: Vec<Owner>,
    pub replication: Replication,
}

impl PartitionView {
    /// How many offsets of the log are not drawn as cells.
    pub fn before(&self) -> i64 {
        self.cells.first().map_or(self.end - self.start, |c| c.offset - self.start).max(0)
    }
}

/// One offset of a log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cell {
    pub offset: i64,
    /// The index of the message's key in `Picture::keys`; None for a message without a key.
    pub key: Option<usize>,
    /// Compaction removed this message: the offset stays, the message is gone.
    pub gone: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Committed {
    pub group: String,
    pub offset: Option<i64>,
    /// End offset minus committed offset.
    pub lag: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Position {
    pub consumer: String,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub group: String,
    /// The consumer's name when it was started here, else its member id.
    pub owner: String,
    pub ours: bool,
    /// A consumer killed here that the group still counts until its session times out: it
    /// holds the partition, and nobody reads it.
    pub killed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupView {
    pub name: String,
    pub state: String,
    /// The assignor the group uses.
    pub assignor: Option<String>,
    /// The generation, from a member started here.
    pub generation: Option<i32>,
    pub members: Vec<MemberView>,
    /// This session's consumers in the group that crashed and that the group has not yet
    /// noticed, with the seconds left until their session times out.
    pub dying: Vec<Dying>,
    /// The group's total lag over the partitions in the picture.
    pub lag: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MemberView {
    pub id: String,
    /// The consumer's name when it was started here.
    pub name: Option<String>,
    pub client_id: String,
    pub host: String,
    /// Its partitions; None when the cluster does not say.
    pub assignment: Option<Partitions>,
}

impl MemberView {
    /// The name to show: the consumer's own name, else the member id.
    pub fn label(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.id)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dying {
    pub consumer: String,
    pub seconds_left: f64,
}

impl Eq for Dying {}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConsumerView {
    pub name: String,
    pub group: String,
    pub status: String,
    pub assignment: Partitions,
    pub received: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LessonView {
    pub heading: String,
    pub step: usize,
    pub steps: usize,
    /// The task, when the step is one.
    pub goal: Option<String>,
}

/// What a picture shows: named topics and groups, or (empty) everything the session touched.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Selection {
    pub topics: Vec<String>,
    pub groups: Vec<String>,
}

impl Selection {
    pub fn is_everything(&self) -> bool {
        self.topics.is_empty() && self.groups.is_empty()
    }
}
