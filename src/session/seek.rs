//! Moving a running consumer: to the beginning, to the end, to an offset, or to the first
//! message at or after a time, checked against the messages themselves.

use std::time::UNIX_EPOCH;

use super::live::offsets_table;
use super::topics::check_partition;
use super::Session;
use crate::actors::consumer::{ConsumerHandle, SeekTo};
use crate::command::SeekArgs;
use crate::error::{Error, Result};
use crate::kafka::ReadPlan;
use crate::expect::SeekKind;
use crate::outcome::Outcome;

impl Session {
    /// Remember how `name` was last moved, for `consumer C seeked KIND`.
    fn seeked(&self, name: &str, kind: SeekKind) {
        if let Ok(mut seeks) = self.seeks.lock() {
            seeks.insert(name.to_string(), kind);
        }
    }

    /// How `name` was last moved, if it was.
    pub(super) fn last_seek(&self, name: &str) -> Option<SeekKind> {
        self.seeks.lock().ok()?.get(name).copied()
    }

    pub(super) async fn seek_edge(&self, name: &str, partition: Option<i32>, to: SeekTo) -> Result<Outcome> {
        let handle = self.running_consumer(name)?;
        let moved = handle.seek(partition, to).await?;
        self.seeked(name, if to == SeekTo::End { SeekKind::End } else { SeekKind::Beginning });
        let place = if to == SeekTo::End { "the end" } else { "the beginning" };
        Ok(Outcome::Many(vec![
            Outcome::Done(format!("{name} moved to {place}; the next poll starts at these offsets:")),
            Outcome::Table(offsets_table("POSITION", &moved)),
        ]))
    }

    pub(super) async fn seek(&self, args: SeekArgs) -> Result<Outcome> {
        let handle = self.running_consumer(&args.name)?;
        if let Some(time) = args.time {
            return self.seek_to_time(handle, time).await;
        }
        let (Some(partition), Some(offset)) = (args.partition, args.offset) else {
            return Err(Error::input("give PARTITION OFFSET, or --time TIME"));
        };
        for topic in &handle.spec.topics {
            let info = self.connection.topic(topic).await?;
            check_partition(&info, Some(partition))?;
            let marks = self.connection.watermarks(vec![(topic.clone(), partition)]).await?;
            if let Some(mark) = marks.get(&(topic.clone(), partition)) {
                if offset > mark.high {
                    return Err(Error::input(format!(
                        "offset {offset} is past the end of {topic}[{partition}], which ends at {}; seek-to-end {} goes there",
                        mark.high, args.name
                    )));
                }
            }
        }
        let moved = handle.seek(Some(partition), SeekTo::Offset(offset)).await?;
        self.seeked(&args.name, SeekKind::Offset);
        Ok(Outcome::Many(vec![
            Outcome::Done(format!("{} moved; the next poll starts at:", args.name)),
            Outcome::Table(offsets_table("POSITION", &moved)),
        ]))
    }

    /// Seek every assigned partition to the first message at or after `time`, but only after
    /// checking the broker's answer against the messages themselves: never seek to a guess.
    async fn seek_to_time(&self, handle: &ConsumerHandle, time: std::time::SystemTime) -> Result<Outcome> {
        let millis = i64::try_from(time.duration_since(UNIX_EPOCH).map_err(|_| Error::input("time before 1970"))?.as_millis())
            .map_err(|_| Error::input("time out of range"))?;
        let assignment = handle.state().assignment;
        if assignment.is_empty() {
            return Err(Error::input(format!("{} has no partitions assigned yet", handle.spec.name)));
        }
        let mut targets = Vec::new();
        for (topic, partitions) in &assignment {
            let ids: Vec<i32> = partitions.iter().copied().collect();
            let answers = self.connection.offsets_for_time(topic, ids.clone(), millis).await?;
            let info = self.connection.topic(topic).await?;
            let marks = self.connection.topic_watermarks(&info).await?;
            for id in ids {
                let mark = marks.iter().find(|(p, _)| *p == id).map(|(_, m)| *m).ok_or_else(|| Error::kafka("partition vanished"))?;
                let answer = answers.get(&id).copied().flatten().filter(|o| *o >= 0);
                let target = answer.unwrap_or(mark.high);
                self.verify_time_offset(topic, id, target, millis, mark.low, mark.high).await?;
                targets.push((topic.clone(), id, target));
            }
        }
        let mut moved = Vec::new();
        for (_, id, target) in &targets {
            moved.extend(handle.seek(Some(*id), SeekTo::Offset(*target)).await?);
        }
        self.seeked(&handle.spec.name, SeekKind::Time);
        Ok(Outcome::Many(vec![
            Outcome::Done(format!(
                "{} moved to the first message at or after {}; the next poll starts at:",
                handle.spec.name,
                humantime::format_rfc3339_millis(time)
            )),
            Outcome::Table(offsets_table("POSITION", &moved)),
        ]))
    }

    /// The broker said `offset` is the first message of `topic[partition]` at or after `millis`.
    /// Read the messages on either side and refuse if that is not true.
    pub(super) async fn verify_time_offset(&self, topic: &str, partition: i32, offset: i64, millis: i64, low: i64, high: i64) -> Result<()> {
        let start = (offset - 1).max(low);
        let end = (offset + 1).min(high);
        if start >= end {
            return Ok(());
        }
        let read = self.connection.read(topic, vec![ReadPlan { partition, start, end }], 2).await?;
        let stamp = |o: i64| read.records.iter().find(|r| r.offset == o).and_then(|r| r.timestamp_ms);
        let wrong = |why: String| {
            Err(Error::unsupported(
                format!("the broker's offsets-for-times answer for {topic}[{partition}] is wrong ({why}); not seeking"),
                "tansu 0.6.0 is unreliable here: seek to an offset instead, or use a full Apache Kafka",
            ))
        };
        if offset < high {
            match stamp(offset) {
                Some(ts) if ts >= millis => {}
                Some(ts) => return wrong(format!("offset {offset} has timestamp {ts}, before {millis}")),
                None => return wrong(format!("offset {offset} could not be read back")),
            }
        }
        if offset > low {
            if let Some(ts) = stamp(offset - 1) {
                if ts >= millis {
                    return wrong(format!("offset {} before it is already at or after the time", offset - 1));
                }
            }
        }
        Ok(())
    }
}
