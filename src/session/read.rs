//! `read`: messages without a consumer group, from where the learner asks, up to the end seen
//! when the read began.

use super::topics::check_partition;
use super::Session;
use crate::command::{ReadArgs, ReadFrom};
use crate::error::{Error, Result};
use crate::format::optional;
use crate::kafka::{ReadPlan, ReadResult, Watermarks};
use crate::outcome::{Outcome, Record, Table};

impl Session {
    pub(super) async fn read(&self, args: ReadArgs) -> Result<Outcome> {
        let topic = self.connection.topic(&args.topic).await?;
        check_partition(&topic, args.partition)?;
        let marks = self.connection.topic_watermarks(&topic).await?;
        let mut plan = Vec::new();
        let mut notes = Vec::new();
        for (partition, mark) in marks {
            if args.partition.is_none_or(|p| p == partition) {
                let start = start_of(args.from, partition, mark, &mut notes);
                if start < mark.high {
                    plan.push(ReadPlan { partition, start, end: mark.high });
                }
            }
        }
        let past_the_end = notes.iter().filter(|n| n.ends_with("is past the end")).count();
        if plan.is_empty() && past_the_end > 0 && past_the_end == notes.len() {
            return Err(Error::input(notes.join("; ")));
        }
        let mut parts: Vec<Outcome> = notes.into_iter().map(Outcome::Note).collect();
        if plan.is_empty() {
            let which = args.partition.map_or_else(|| "any partition".to_string(), |p| format!("partition {p}"));
            parts.push(Outcome::Note(format!(
                "nothing to read: no messages in {which} of '{}' from {}",
                args.topic,
                describe_from(args.from)
            )));
            return Ok(Outcome::Many(parts));
        }
        let read = self.connection.read_as(&args.topic, plan, args.max, args.isolation.into()).await?;
        parts.extend(read_outcome(&read, args.max));
        Ok(Outcome::Many(parts))
    }

    /// Every message on `topic` (from `from` where given, per partition), read back from the cluster.
    pub(super) async fn whole_topic(&self, topic: &str, from: Option<&std::collections::BTreeMap<i32, i64>>) -> Result<Vec<Record>> {
        let info = self.connection.topic(topic).await?;
        let marks = self.connection.topic_watermarks(&info).await?;
        let plan: Vec<ReadPlan> = marks
            .iter()
            .map(|(partition, m)| {
                let start = from.and_then(|f| f.get(partition)).copied().unwrap_or(m.low).max(m.low);
                ReadPlan { partition: *partition, start, end: m.high }
            })
            .filter(|p| p.start < p.end)
            .collect();
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        let total: i64 = plan.iter().map(|p| p.end - p.start).sum();
        Ok(self.connection.read(topic, plan, u64::try_from(total).unwrap_or(0)).await?.records)
    }
}

/// Where a read of one partition starts, with a note when the learner's offset is outside the log.
fn start_of(from: ReadFrom, partition: i32, mark: Watermarks, notes: &mut Vec<String>) -> i64 {
    match from {
        ReadFrom::Beginning => mark.low,
        ReadFrom::End => mark.high,
        ReadFrom::Tail(n) => (mark.high - n).max(mark.low),
        ReadFrom::Offset(offset) if offset > mark.high => {
            notes.push(format!("partition {partition} ends at offset {}; offset {offset} is past the end", mark.high));
            mark.high
        }
        ReadFrom::Offset(offset) if offset < mark.low => {
            notes.push(format!(
                "partition {partition} starts at offset {} (older messages are gone); reading from there",
                mark.low
            ));
            mark.low
        }
        ReadFrom::Offset(offset) => offset,
    }
}

fn read_outcome(read: &ReadResult, max: u64) -> Vec<Outcome> {
    let mut table =
        Table::new(["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]).verbatim(&["KEY", "VALUE", "HEADERS"]);
    for record in &read.records {
        table.push([
            record.partition.to_string(),
            record.offset.to_string(),
            record.timestamp.clone(),
            optional(&record.key),
            optional(&record.value),
            record.headers.clone(),
        ]);
    }
    let mut parts = vec![Outcome::Table(table)];
    if read.more {
        parts.push(Outcome::Note(format!("showing the first {max}; more remain (use --max to see more)")));
    }
    if read.timed_out {
        parts.push(Outcome::Warning("stopped waiting: the broker sent nothing for 5 s before the end of the data".into()));
    }
    parts
}

fn describe_from(from: ReadFrom) -> String {
    match from {
        ReadFrom::Beginning => "the beginning".into(),
        ReadFrom::End => "the end (try --from beginning)".into(),
        ReadFrom::Offset(offset) => format!("offset {offset}"),
        ReadFrom::Tail(n) => format!("the last {n}"),
    }
}
