//! Workshops on one shared cluster: with `--learner alice` every topic and group a learner's
//! commands and lessons touch is really `alice.NAME` on the cluster, while the learner keeps
//! typing and seeing the short names. Two learners running the same lesson never meet.

use crate::command::Command;
use crate::expect::Condition;
use crate::outcome::{Event, Outcome, Partitions, Table};
use crate::error::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Namespace {
    prefix: String,
}

impl Namespace {
    /// `alice` → names become `alice.NAME`. The learner name follows topic-name rules.
    pub fn new(learner: &str) -> Result<Self, Error> {
        crate::session::validate_topic_name(learner)
            .map_err(|_| Error::input(format!("'{learner}' cannot be a learner name: use letters, digits, '.', '_' or '-'")))?;
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

    pub fn shorten(&self, text: &str) -> String {
        text.replace(&self.prefix, "")
    }

    /// Rewrite every topic and group name in a command to its name on the cluster.
    pub fn qualify_command(&self, command: &mut Command) {
        let q = |name: &mut String| *name = self.qualify(name);
        match command {
            Command::CreateTopic(a) => q(&mut a.topic),
            Command::DescribeTopic(a) | Command::DeleteTopic(a) | Command::Offsets(a) => q(&mut a.topic),
            Command::Produce(a) => q(&mut a.topic),
            Command::Read(a) => q(&mut a.topic),
            Command::PartitionFor(a) => {
                if let Some(topic) = a.topic.as_mut() {
                    q(topic);
                }
            }
            Command::StartConsumer(a) => {
                q(&mut a.group);
                a.topics.iter_mut().for_each(q);
            }
            Command::StartProducer(a) => q(&mut a.topic),
            Command::StartTill(a) => q(&mut a.topic),
            Command::StartPreparer(a) => {
                q(&mut a.group);
                q(&mut a.topic);
                if let Some(topic) = a.cook_topic.as_mut() {
                    q(topic);
                }
            }
            Command::StartCook(a) => {
                q(&mut a.group);
                q(&mut a.topic);
                q(&mut a.orders_topic);
            }
            Command::StartAnalyst(a) => {
                q(&mut a.group);
                q(&mut a.topic);
            }
            Command::DescribeGroup(a) | Command::DeleteGroup(a) => q(&mut a.group),
            Command::ResetOffsets(a) => {
                q(&mut a.group);
                q(&mut a.topic);
            }
            _ => {}
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
            Condition::ConsumerReceived { .. } => condition.clone(),
            Condition::PartitionEndOffset { topic, partition, offset } => {
                Condition::PartitionEndOffset { topic: q(topic), partition: *partition, offset: *offset }
            }
            Condition::Committed { group, topic, partition, offset } => {
                Condition::Committed { group: q(group), topic: q(topic), partition: *partition, offset: *offset }
            }
            Condition::GroupLag { group, topic, lag } => Condition::GroupLag { group: q(group), topic: q(topic), lag: *lag },
            Condition::PartitionHolds { topic, partition, count } => {
                Condition::PartitionHolds { topic: q(topic), partition: *partition, count: *count }
            }
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

    /// What the learner sees: short names everywhere.
    pub fn shorten_outcome(&self, outcome: Outcome) -> Outcome {
        match outcome {
            Outcome::Done(t) => Outcome::Done(self.shorten(&t)),
            Outcome::Note(t) => Outcome::Note(self.shorten(&t)),
            Outcome::Warning(t) => Outcome::Warning(self.shorten(&t)),
            Outcome::Table(table) => Outcome::Table(Table {
                title: table.title.map(|t| self.shorten(&t)),
                columns: table.columns.iter().map(|c| self.shorten(c)).collect(),
                rows: table.rows.iter().map(|r| r.iter().map(|c| self.shorten(c)).collect()).collect(),
            }),
            Outcome::Many(parts) => Outcome::Many(parts.into_iter().map(|p| self.shorten_outcome(p)).collect()),
            Outcome::Board(mut board) => {
                for panel in &mut board.panels {
                    panel.lines.iter_mut().for_each(|line| *line = self.shorten(line));
                }
                Outcome::Board(board)
            }
            Outcome::Failure(err) => Outcome::Failure(self.shorten_error(err)),
            other => other,
        }
    }

    pub fn shorten_error(&self, err: Error) -> Error {
        match err {
            Error::Usage { message, hint } => Error::Usage { message: self.shorten(&message), hint: hint.map(|h| self.shorten(&h)) },
            Error::Input(m) => Error::Input(self.shorten(&m)),
            Error::UnknownTopic(t) => Error::UnknownTopic(self.shorten(&t)),
            Error::Kafka(m) => Error::Kafka(self.shorten(&m)),
            Error::Unmet(m) => Error::Unmet(self.shorten(&m)),
            other => other,
        }
    }

    pub fn shorten_event(&self, event: Event) -> Event {
        match event {
            Event::Assigned { actor, partitions } => Event::Assigned { actor, partitions: self.shorten_partitions(&partitions) },
            Event::Revoked { actor, partitions } => Event::Revoked { actor, partitions: self.shorten_partitions(&partitions) },
            Event::Message { actor, mut record } => {
                record.topic = self.shorten(&record.topic);
                Event::Message { actor, record }
            }
            Event::Said { actor, text, warning } => Event::Said { actor, text: self.shorten(&text), warning },
        }
    }
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
}
