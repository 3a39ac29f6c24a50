//! Workshops on one shared cluster: with `--learner alice` every topic and group a learner's
//! commands and lessons touch is really `alice.NAME` on the cluster, while the learner keeps
//! typing and seeing the short names. Two learners running the same lesson never meet.
//!
//! Only names are rewritten: a message's key, value and headers are shown exactly as stored,
//! whatever they contain.

use crate::command::{Command, Name};
use crate::error::Error;
use crate::expect::Condition;
use crate::outcome::picture::Picture;
use crate::outcome::{Event, Live, Outcome, Partitions, Table};

/// The longest learner name: Kafka's names are at most 249 characters, and a learner's
/// topics should keep most of them.
pub const MAX_LEARNER: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// `alice` → names become `alice.NAME`. A learner name has no '.', so the learner a
    /// cluster name belongs to is always the part before its first '.': learner `a` with topic
    /// `b.t` and learner `a.b` with topic `t` would otherwise both be `a.b.t`.
    pub fn new(learner: &str) -> Result<Self, Error> {
        let refuse = |why: String| Error::input(format!("'{}' cannot be a learner name: {why}", crate::paths::clip(learner)));
        if learner.is_empty() {
            return Err(Error::input("a learner needs a name: use letters, digits, '_' or '-'"));
        }
        if let Some(bad) = learner.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-'))) {
            let why = if bad == '.' {
                "'.' separates a learner's name from their topics' names; use letters, digits, '_' or '-'".to_string()
            } else {
                format!("{} is not allowed; use letters, digits, '_' or '-'", crate::format::quoted_char(bad))
            };
            return Err(refuse(why));
        }
        if !learner.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return Err(refuse("it must start with a letter or a digit (names starting with '_' are Kafka's own)".into()));
        }
        if learner.len() > MAX_LEARNER {
            return Err(refuse(format!("it is {} characters long; at most {MAX_LEARNER}, so your topics' names can be long", learner.len())));
        }
        if learner == crate::room::RESERVED || crate::room::in_room(learner) {
            return Err(Error::input(format!(
                "'{learner}' cannot be a learner name: the workshop's own topics are called {}.…",
                crate::room::RESERVED
            )));
        }
        Ok(Namespace { prefix: format!("{learner}.") })
    }

    pub fn learner(&self) -> &str {
        self.prefix.trim_end_matches('.')
    }

    pub fn qualify(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// Whether a cluster-wide name belongs to this learner.
    pub fn owns(&self, name: &str) -> bool {
        name.starts_with(&self.prefix)
    }

    /// Prose with every qualified name shortened: the prefix is removed where it starts a word
    /// (`topic 'alice.orders'` → `topic 'orders'`), never from inside one (`malice.x` stays).
    pub fn shorten(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find(&self.prefix) {
            let starts_word = rest[..at].chars().next_back().is_none_or(|c| !is_name_char(c));
            out.push_str(&rest[..at]);
            if !starts_word {
                out.push_str(&self.prefix);
            }
            rest = &rest[at + self.prefix.len()..];
        }
        out.push_str(rest);
        out
    }

    /// Rewrite every topic and group name in a command to its name on the cluster.
    pub fn qualify_command(&self, command: &mut Command) {
        for name in command.names_mut() {
            let (Name::Topic(name) | Name::Group(name)) = name;
            *name = self.qualify(name);
        }
    }

    pub fn qualify_condition(&self, condition: &Condition) -> Condition {
        let q = |name: &String| self.qualify(name);
        match condition {
            Condition::TopicPartitions { topic, count } => Condition::TopicPartitions { topic: q(topic), count: *count },
            Condition::GroupMembers { group, count } => Condition::GroupMembers { group: q(group), count: *count },
            Condition::GroupState { group, state } => Condition::GroupState { group: q(group), state: state.clone() },
            Condition::ConsumerAssigned { consumer, partitions } => {
                Condition::ConsumerAssigned { consumer: consumer.clone(), partitions: self.qualify_partitions(partitions) }
            }
            Condition::ConsumerReceived { .. }
            | Condition::ConsumerGeneration { .. }
            | Condition::ConsumerRestarts { .. }
            | Condition::ConsumerRejoinedUnchanged { .. }
            | Condition::ConsumerHolds { .. } => {
                condition.clone()
            }
            Condition::ConsumerPosition { consumer, topic, partition, offset } => {
                Condition::ConsumerPosition { consumer: consumer.clone(), topic: q(topic), partition: *partition, offset: *offset }
            }
            Condition::PartitionEndOffset { topic, partition, offset } => {
                Condition::PartitionEndOffset { topic: q(topic), partition: *partition, offset: *offset }
            }
            Condition::Committed { group, topic, partition, offset } => {
                Condition::Committed { group: q(group), topic: q(topic), partition: *partition, offset: *offset }
            }
            Condition::GroupLag { group, topic, lag } => Condition::GroupLag { group: q(group), topic: q(topic), lag: *lag },
            Condition::MessageHas { topic, partition, offset, field } => {
                Condition::MessageHas { topic: q(topic), partition: *partition, offset: *offset, field: field.clone() }
            }
            Condition::MessageGone { topic, partition, offset, how } => {
                Condition::MessageGone { topic: q(topic), partition: *partition, offset: *offset, how: *how }
            }
            Condition::MessageSent { topic, partition, offset, way } => {
                Condition::MessageSent { topic: q(topic), partition: *partition, offset: *offset, way: *way }
            }
            Condition::PartitionKeyed { topic, partition, key, count } => {
                Condition::PartitionKeyed { topic: q(topic), partition: *partition, key: key.clone(), count: *count }
            }
            Condition::TopicRefused { topic, count } => Condition::TopicRefused { topic: q(topic), count: *count },
            Condition::TopicBatched { topic, per_batch, messages } => Condition::TopicBatched { topic: q(topic), per_batch: *per_batch, messages: *messages },
            Condition::TopicCompressed { topic, percent, messages } => {
                Condition::TopicCompressed { topic: q(topic), percent: *percent, messages: *messages }
            }
            Condition::TopicReplication { topic, factor } => Condition::TopicReplication { topic: q(topic), factor: *factor },
            Condition::PartitionLeader { topic, partition, broker } => {
                Condition::PartitionLeader { topic: q(topic), partition: *partition, broker: *broker }
            }
            Condition::PartitionIsr { topic, partition, brokers } => {
                Condition::PartitionIsr { topic: q(topic), partition: *partition, brokers: brokers.clone() }
            }
            Condition::PartitionUnderReplicated { topic, partition } => {
                Condition::PartitionUnderReplicated { topic: q(topic), partition: *partition }
            }
            Condition::PartitionFailedOver { topic, partition } => Condition::PartitionFailedOver { topic: q(topic), partition: *partition },
            Condition::ControllerFailedOver => condition.clone(),
            Condition::PartitionUnderMinIsr { topic, partition } => Condition::PartitionUnderMinIsr { topic: q(topic), partition: *partition },
            Condition::TopicMinInsync { topic, count } => Condition::TopicMinInsync { topic: q(topic), count: *count },
            Condition::ProduceAcknowledged { topic, acks } => Condition::ProduceAcknowledged { topic: q(topic), acks: *acks },
            Condition::ProduceRefused { topic, acks, reason } => {
                Condition::ProduceRefused { topic: q(topic), acks: *acks, reason: reason.clone() }
            }
            Condition::ConsumerIs { .. } => condition.clone(),
            Condition::WorkerIs { worker, fact: crate::expect::WorkerFact::SendsTo(topic) } => {
                Condition::WorkerIs { worker: worker.clone(), fact: crate::expect::WorkerFact::SendsTo(q(topic)) }
            }
            Condition::WorkerIs { .. } => condition.clone(),
            Condition::PartitionHolds { topic, partition, count } => {
                Condition::PartitionHolds { topic: q(topic), partition: *partition, count: *count }
            }
            Condition::PartitionIdempotent { topic, partition, count } => {
                Condition::PartitionIdempotent { topic: q(topic), partition: *partition, count: *count }
            }
            Condition::BrokerRestarts { .. } | Condition::BrokerDown { .. } | Condition::Controller { .. } => condition.clone(),
            Condition::TopicSchemaField { topic, field } => Condition::TopicSchemaField { topic: q(topic), field: field.clone() },
            Condition::TopicConfig { topic, key, value } => {
                Condition::TopicConfig { topic: q(topic), key: key.clone(), value: value.clone() }
            }
            Condition::OrdersServedOnce { topic } => Condition::OrdersServedOnce { topic: q(topic) },
            Condition::OrdersPlaiceCooked { topic } => Condition::OrdersPlaiceCooked { topic: q(topic) },
            Condition::PreparerServed { .. }
            | Condition::CookCooked { .. }
            | Condition::CabinetBalances
            | Condition::AnalystStoredEveryOrder { .. } => condition.clone(),
        }
    }

    fn qualify_partitions(&self, partitions: &Partitions) -> Partitions {
        partitions.iter().map(|(t, ids)| (self.qualify(t), ids.clone())).collect()
    }

    fn shorten_partitions(&self, partitions: &Partitions) -> Partitions {
        partitions.iter().map(|(t, ids)| (self.shorten(t), ids.clone())).collect()
    }

    /// What the learner sees: short names everywhere, and message contents untouched.
    pub fn shorten_outcome(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Done(t) => Outcome::Done(self.shorten(&t)),
            Outcome::Note(t) => Outcome::Note(self.shorten(&t)),
            Outcome::Warning(t) => Outcome::Warning(self.shorten(&t)),
            Outcome::Table(table) => Outcome::Table(self.shorten_table(table)),
            Outcome::Many(parts) => Outcome::Many(parts.into_iter().map(|p| self.shorten_outcome(p)).collect()),
            Outcome::Board(mut board) => {
                for panel in &mut board.panels {
                    panel.lines.iter_mut().for_each(|line| *line = self.shorten(line));
                }
                Outcome::Board(board)
            }
            Outcome::Live(live) => Outcome::Live(Live { source: live.source, frame: Box::new(self.shorten_outcome(*live.frame)) }),
            // Built in the learner's names already.
            picture @ Outcome::Picture(_) => picture,
            Outcome::Failure(err) => Outcome::Failure(self.shorten_error(err)),
            other @ (Outcome::Nothing
            | Outcome::Text(_)
            | Outcome::Narration(_)
            | Outcome::Typed(_)
            | Outcome::Preview(_)
            | Outcome::Goal(_)
            | Outcome::Serve(_)
            | Outcome::Quit) => other,
        }
    }

    /// A table with names shortened in every cell but the verbatim (message content) columns.
    fn shorten_table(&self, table: Table) -> Table {
        let rows = table
            .rows
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .enumerate()
                    .map(|(i, cell)| if table.verbatim.contains(&i) { cell } else { self.shorten(&cell) })
                    .collect()
            })
            .collect();
        Table { title: table.title.map(|t| self.shorten(&t)), rows, ..table }
    }

    /// A picture with every topic and group name short; keys are contents, so they stay.
    pub fn shorten_picture(&self, mut picture: Picture) -> Picture {
        let short = |name: &mut String| *name = self.shorten(name);
        for topic in &mut picture.topics {
            short(&mut topic.name);
            for partition in &mut topic.partitions {
                partition.committed.iter_mut().for_each(|c| short(&mut c.group));
                partition.owners.iter_mut().for_each(|o| short(&mut o.group));
            }
        }
        for group in &mut picture.groups {
            short(&mut group.name);
            for member in &mut group.members {
                if let Some(assignment) = member.assignment.take() {
                    member.assignment = Some(self.shorten_partitions(&assignment));
                }
            }
        }
        for consumer in &mut picture.consumers {
            short(&mut consumer.group);
            consumer.assignment = self.shorten_partitions(&consumer.assignment);
        }
        picture.notes.iter_mut().for_each(short);
        picture
    }

    pub fn shorten_error(&self, err: Error) -> Error {
        let hint = |h: Option<String>| h.map(|h| self.shorten(&h));
        match err {
            Error::Usage { message, hint: h } => Error::Usage { message: self.shorten(&message), hint: hint(h) },
            Error::Input { message, hint: h } => Error::Input { message: self.shorten(&message), hint: hint(h) },
            Error::NotFound { thing, name, hint: h } => Error::NotFound { thing, name: self.shorten(&name), hint: hint(h) },
            Error::Unsupported { message, fix } => Error::Unsupported { message: self.shorten(&message), fix: hint(fix) },
            Error::Kafka { message, source } => Error::Kafka { message: self.shorten(&message), source },
            Error::Unmet { found } => Error::Unmet { found: self.shorten(&found) },
            other @ (Error::Unreachable { .. } | Error::Io { .. } | Error::Broker { .. } | Error::Cancelled) => other,
        }
    }

    pub fn shorten_event(&self, event: Event) -> Event {
        match event {
            Event::Assigned { actor, partitions, holds } => Event::Assigned {
                actor,
                partitions: self.shorten_partitions(&partitions),
                holds: self.shorten_partitions(&holds),
            },
            Event::Revoked { actor, partitions, keeps } => Event::Revoked {
                actor,
                partitions: self.shorten_partitions(&partitions),
                keeps: self.shorten_partitions(&keeps),
            },
            Event::Message { actor, mut record } => {
                record.topic = self.shorten(&record.topic);
                Event::Message { actor, record }
            }
            Event::Said { actor, text, warning } => Event::Said { actor, text: self.shorten(&text), warning },
            // Said to the whole room, in the instructor's words.
            other @ (Event::Log { .. } | Event::Announcement { .. }) => other,
        }
    }
}

/// Characters a topic or group name can hold.
fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::{parse, Parsed};

    #[test]
    fn commands_and_conditions_get_the_learner_prefix() {
        let alice = Namespace::new("alice").unwrap();
        let Parsed::Command(mut command) = parse("start-consumer c --group preparers --topic orders --topic cook").unwrap() else { panic!() };
        alice.qualify_command(&mut command);
        let Command::StartConsumer(args) = command else { panic!() };
        assert_eq!((args.group.as_str(), args.topics.clone()), ("alice.preparers", vec!["alice.orders".to_string(), "alice.cook".to_string()]));
        let condition = Condition::Committed { group: "g".into(), topic: "t".into(), partition: 0, offset: 1 };
        assert_eq!(
            alice.qualify_condition(&condition),
            Condition::Committed { group: "alice.g".into(), topic: "alice.t".into(), partition: 0, offset: 1 }
        );
        assert_eq!(alice.shorten("topic 'alice.orders' does not exist"), "topic 'orders' does not exist");
        assert!(Namespace::new("has space").is_err());
    }

    #[test]
    fn learner_names_say_why_they_are_refused_and_never_collide() {
        let why = |name: &str| Namespace::new(name).unwrap_err().to_string();
        // `a` with topic `b.t` and `a.b` with topic `t` would both be `a.b.t`.
        assert!(why("a.b").contains("'.' separates a learner's name from their topics' names"), "{}", why("a.b"));
        assert!(why("..").contains("'.' separates"), "{}", why(".."));
        let long = why(&"x".repeat(300));
        assert!(long.contains("it is 300 characters long; at most 64"), "{long}");
        assert!(long.len() < 160, "{long}");
        assert!(why("__consumer").contains("must start with a letter or a digit"), "{}", why("__consumer"));
        assert!(why("two words").contains("a space is not allowed"), "{}", why("two words"));
        assert!(Namespace::new(&"x".repeat(64)).is_ok());
        assert!(Namespace::new("ann_b-2").is_ok());
    }

    #[test]
    fn only_names_are_shortened_never_contents() {
        let alice = Namespace::new("alice").unwrap();
        assert_eq!(alice.shorten("group 'alice.g' on alice.orders[0]"), "group 'g' on orders[0]");
        assert_eq!(alice.shorten("malice.x"), "malice.x");
        let mut table = Table::new(["TOPIC", "KEY", "VALUE"]).verbatim(&["KEY", "VALUE"]);
        table.push(["alice.orders", "alice.k", "alice.smith"]);
        let Outcome::Table(shown) = alice.shorten_outcome(Outcome::Table(table)) else { panic!() };
        assert_eq!(shown.rows[0], ["orders", "alice.k", "alice.smith"]);
    }
}
