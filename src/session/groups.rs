//! Consumer groups and their offsets: `groups`, `describe-group`, `offsets`, `reset-offsets`,
//! `delete-group`. Committed offsets, lag and members come from the broker; a partition's owner
//! is this session's consumer that has it, else the member the broker says has it.

use std::collections::HashMap;
use std::time::UNIX_EPOCH;

use super::Session;
use crate::command::ResetOffsetsArgs;
use crate::error::{Error, Result, Thing};
use crate::format::or_dash as show_or_dash;
use crate::actors::consumer::ConsumerHandle;
use crate::kafka::{MemberSummary, TopicInfo, Watermarks};
use crate::outcome::{format_partitions, Outcome, Table};

impl Session {
    pub(super) async fn groups(&self) -> Result<Outcome> {
        let groups = self.connection.groups(None).await?;
        if groups.is_empty() {
            return Ok(Outcome::Note("no consumer groups yet; start-consumer NAME --group G --topic T makes one".into()));
        }
        let mut table = Table::new(["GROUP", "STATE", "PROTOCOL", "MEMBERS"]);
        for group in groups.into_iter().filter(|g| self.visible(&g.name)) {
            table.push([group.name, group.state, show_or_dash(&group.protocol), group.members.len().to_string()]);
        }
        table.rows.sort();
        Ok(Outcome::Table(table))
    }

    /// The topics worth showing for a group: those it has committed offsets on, and those its
    /// consumers here subscribe to.
    async fn group_offsets(&self, group: &str) -> Result<Vec<(TopicInfo, HashMap<(String, i32), i64>)>> {
        let info = self.connection.cluster_info().await?;
        let topics: Vec<&TopicInfo> = info.topics.iter().filter(|t| !t.name.starts_with("__")).collect();
        let pairs: Vec<(String, i32)> =
            topics.iter().flat_map(|t| t.partitions.iter().map(|p| (t.name.clone(), p.id))).collect();
        let committed = self.connection.committed(group, pairs).await?;
        let subscribed: Vec<&String> = self.consumers.values().filter(|c| c.spec.group == group).flat_map(|c| &c.spec.topics).collect();
        Ok(topics
            .into_iter()
            .filter(|t| subscribed.contains(&&t.name) || committed.keys().any(|(name, _)| *name == t.name))
            .map(|t| {
                let mine = committed.iter().filter(|((name, _), _)| *name == t.name).map(|(k, v)| (k.clone(), *v)).collect();
                (t.clone(), mine)
            })
            .collect())
    }

    pub(super) async fn describe_group(&self, name: &str) -> Result<Outcome> {
        let summary = self.connection.group(name).await?;
        let topics = self.group_offsets(name).await?;
        if summary.is_none() && topics.is_empty() {
            return Err(Error::not_found(Thing::Group, name).with_hint("it has no members and no committed offsets"));
        }
        let members = summary.as_ref().map(|s| s.members.clone()).unwrap_or_default();
        let mut table = Table::new([
            "GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID",
        ]);
        for (topic, committed) in &topics {
            for (partition, mark) in self.connection.topic_watermarks(topic).await? {
                let current = committed.get(&(topic.name.clone(), partition)).copied();
                let (consumer_id, host, client_id) = match self.owner_in(name, &members, &topic.name, partition) {
                    Some(owner) => owner,
                    None => ("-".into(), "-".into(), "-".into()),
                };
                table.push([
                    name.to_string(),
                    topic.name.clone(),
                    partition.to_string(),
                    current.map_or_else(|| "-".into(), |c| c.to_string()),
                    mark.high.to_string(),
                    current.map_or_else(|| "-".into(), |c| (mark.high - c).max(0).to_string()),
                    consumer_id,
                    host,
                    client_id,
                ]);
            }
        }
        let mine = self.consumers_in(name);
        let state = summary.as_ref().map_or("Empty", |s| s.state.as_str());
        let protocol = summary
            .as_ref()
            .map(|s| s.protocol.clone())
            .filter(|p| !p.is_empty())
            .or_else(|| mine.first().map(|c| c.spec.assignor.as_config().to_string()))
            .unwrap_or_else(|| "-".into());
        let mut parts = vec![
            Outcome::Note(format!("group {name} · state {state} · assignor {protocol} · {} member(s)", members.len())),
            Outcome::Table(table),
        ];
        if !members.is_empty() {
            parts.push(Outcome::Table(self.members_table(&members, &mine)));
        }
        Ok(Outcome::Many(parts))
    }

    /// Who owns a partition in a group, as (member id, host, client id): one of this session's
    /// consumers first (its name as the client id), else the member the cluster says has it.
    fn owner_in(&self, group: &str, members: &[MemberSummary], topic: &str, partition: i32) -> Option<(String, String, String)> {
        let holds = |p: &crate::outcome::Partitions| p.get(topic).is_some_and(|ids| ids.contains(&partition));
        if let Some(consumer) = self.consumers_in(group).into_iter().find(|c| holds(&c.state().assignment)) {
            let id = consumer.state().member_id;
            let member = members.iter().find(|m| Some(&m.id) == id.as_ref());
            return Some((
                member.map_or_else(|| consumer.spec.name.clone(), |m| m.id.clone()),
                member.map_or_else(|| "-".into(), |m| show_or_dash(&m.host)),
                consumer.spec.name.clone(),
            ));
        }
        let member = members.iter().find(|m| m.assignment.as_ref().is_some_and(holds))?;
        Some((member.id.clone(), show_or_dash(&member.host), show_or_dash(&member.client_id)))
    }

    fn members_table(&self, members: &[MemberSummary], mine: &[&ConsumerHandle]) -> Table {
        let mut list = Table::new(["MEMBER-ID", "CLIENT-ID", "HOST", "ASSIGNMENT"]);
        for member in members {
            let ours = mine.iter().find(|c| c.state().member_id.as_ref() == Some(&member.id));
            let assignment = match (ours, &member.assignment) {
                (Some(consumer), _) => format_partitions(&consumer.state().assignment),
                (None, Some(assignment)) => format_partitions(assignment),
                (None, None) => "unknown (the cluster does not report it)".into(),
            };
            let client = ours.map_or_else(|| show_or_dash(&member.client_id), |c| c.spec.name.clone());
            list.push([member.id.clone(), client, show_or_dash(&member.host), assignment]);
        }
        list.titled("members")
    }

    pub(super) async fn offsets(&self, topic_name: &str) -> Result<Outcome> {
        let topic = self.connection.topic(topic_name).await?;
        let marks = self.connection.topic_watermarks(&topic).await?;
        let mut columns = vec!["PARTITION".to_string(), "START-OFFSET".to_string(), "END-OFFSET".to_string()];
        let mut per_group = Vec::new();
        for group in self.connection.groups(None).await?.into_iter().filter(|g| self.visible(&g.name)) {
            let pairs = topic.partitions.iter().map(|p| (topic.name.clone(), p.id)).collect();
            let committed = self.connection.committed(&group.name, pairs).await?;
            if !committed.is_empty() {
                columns.push(group.name.clone());
                per_group.push(committed);
            }
        }
        let mut table = Table::new(columns);
        for (partition, mark) in &marks {
            let mut row = vec![partition.to_string(), mark.low.to_string(), mark.high.to_string()];
            for committed in &per_group {
                row.push(committed.get(&(topic.name.clone(), *partition)).map_or_else(|| "-".into(), |o| o.to_string()));
            }
            table.push(row);
        }
        let mut parts = vec![Outcome::Table(table.titled(format!("offsets of {topic_name}")))];
        if per_group.is_empty() {
            parts.push(Outcome::Note("no group has committed offsets on this topic yet".into()));
        } else {
            parts.push(Outcome::Note("each group column is that group's committed offset: the next message it will read".into()));
        }
        Ok(Outcome::Many(parts))
    }

    pub(super) async fn reset_offsets(&self, args: ResetOffsetsArgs) -> Result<Outcome> {
        let group = &args.group;
        let mine: Vec<String> = self.consumers_in(group).iter().map(|c| c.spec.name.clone()).collect();
        let summary = self.connection.group(group).await?;
        let active = summary.as_ref().map_or(0, |s| s.members.len());
        if active > 0 || !mine.is_empty() {
            let who = if mine.is_empty() { String::new() } else { format!(" ({})", mine.join(", ")) };
            let fix = match mine.first() {
                Some(first) => format!("stop them first, for example: stop-consumer {first}"),
                None => "stop its consumers first".into(),
            };
            return Err(Error::input(format!(
                "group '{group}' has {} active member(s){who}; offsets can only be reset while a group is inactive: {fix}",
                active.max(mine.len())
            )));
        }
        let topic = self.connection.topic(&args.topic).await?;
        let marks = self.connection.topic_watermarks(&topic).await?;
        let pairs = topic.partitions.iter().map(|p| (topic.name.clone(), p.id)).collect();
        let committed = self.connection.committed(group, pairs).await?;
        let by_time = match args.to_time {
            Some(time) => {
                let millis = i64::try_from(time.duration_since(UNIX_EPOCH).map_err(|_| Error::input("time before 1970"))?.as_millis())
                    .map_err(|_| Error::input("time out of range"))?;
                let ids = marks.iter().map(|(p, _)| *p).collect();
                let answers = self.connection.offsets_for_time(&topic.name, ids, millis).await?;
                let mut targets = HashMap::new();
                for (partition, mark) in &marks {
                    let target = answers.get(partition).copied().flatten().filter(|o| *o >= 0).unwrap_or(mark.high);
                    self.verify_time_offset(&topic.name, *partition, target, millis, mark.low, mark.high).await?;
                    targets.insert(*partition, target);
                }
                Some(targets)
            }
            None => None,
        };
        let mut plan = Vec::new();
        let mut table = Table::new(["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET"]);
        for (partition, mark) in &marks {
            let current = committed.get(&(topic.name.clone(), *partition)).copied();
            let target = new_offset(&args, current, *mark, by_time.as_ref().and_then(|t| t.get(partition).copied()));
            plan.push((topic.name.clone(), *partition, target));
            table.push([
                group.clone(),
                topic.name.clone(),
                partition.to_string(),
                current.map_or_else(|| "-".into(), |c| c.to_string()),
                target.to_string(),
            ]);
        }
        if !args.execute {
            return Ok(Outcome::Many(vec![
                Outcome::Table(table.titled("plan")),
                Outcome::Note("nothing changed yet: add --execute to make this change".into()),
            ]));
        }
        self.connection.commit_for_group(group, plan.clone()).await?;
        // Trust only what the broker now reports.
        let pairs = plan.iter().map(|(t, p, _)| (t.clone(), *p)).collect();
        let now = self.connection.committed(group, pairs).await?;
        let wrong: Vec<String> = plan
            .iter()
            .filter(|(t, p, o)| now.get(&(t.clone(), *p)) != Some(o))
            .map(|(t, p, o)| format!("{t}[{p}] should be {o}, is {}", now.get(&(t.clone(), *p)).map_or("none".into(), i64::to_string)))
            .collect();
        if !wrong.is_empty() {
            return Err(Error::kafka(format!("the reset did not take: {}", wrong.join("; "))));
        }
        Ok(Outcome::Many(vec![
            Outcome::Table(table),
            Outcome::Done(format!("group '{group}' will resume '{}' from the new offsets", topic.name)),
        ]))
    }

    pub(super) async fn delete_group(&self, group: &str) -> Result<Outcome> {
        let mine: Vec<String> = self.consumers_in(group).iter().map(|c| c.spec.name.clone()).collect();
        if !mine.is_empty() {
            return Err(Error::input(format!(
                "group '{group}' still has running consumers here ({}); stop them first",
                mine.join(", ")
            )));
        }
        self.connection.delete_group(group).await?;
        Ok(Outcome::Done(format!("deleted group '{group}' and its committed offsets")))
    }
}

/// The offset a reset moves one partition to. Kafka clamps every target into the log.
fn new_offset(args: &ResetOffsetsArgs, current: Option<i64>, mark: Watermarks, by_time: Option<i64>) -> i64 {
    let target = if args.to_earliest {
        mark.low
    } else if args.to_latest {
        mark.high
    } else if let Some(offset) = args.to_offset {
        offset
    } else if let Some(shift) = args.shift_by {
        current.unwrap_or(mark.low).saturating_add(shift)
    } else {
        by_time.unwrap_or(mark.high)
    };
    target.clamp(mark.low, mark.high)
}
