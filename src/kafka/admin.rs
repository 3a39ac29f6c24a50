//! What the cluster keeps about topics and groups: create and delete topics, read their
//! configs, list and describe groups, and read or write a group's committed offsets.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminOptions, ResourceSpecifier, TopicReplication};
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::{Offset, TopicPartitionList};

use super::errors::client_error;
use super::{Connection, Context, GroupSummary, MemberSummary, NewTopic, TopicConfig, CLUSTER_TIMEOUT};
use crate::error::{Error, Result};

/// What `create_topic` found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Created {
    Created,
    AlreadyExisted,
}

fn admin_options() -> AdminOptions {
    AdminOptions::new().operation_timeout(Some(CLUSTER_TIMEOUT)).request_timeout(Some(CLUSTER_TIMEOUT))
}

impl Connection {
    /// Create a topic and wait until the metadata shows it.
    pub async fn create_topic(&self, topic: &NewTopic) -> Result<Created> {
        let mut new_topic = rdkafka::admin::NewTopic::new(
            &topic.name,
            topic.partitions,
            TopicReplication::Fixed(topic.replication_factor),
        );
        for (key, value) in &topic.configs {
            new_topic = new_topic.set(key, value);
        }
        let results = self
            .admin
            .create_topics([&new_topic], &admin_options())
            .await
            .map_err(|e| self.explain("creating the topic", &e))?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => return Ok(Created::AlreadyExisted),
                Err((_, code)) => return Err(Error::kafka(format!("cannot create topic '{}': {code}", topic.name))),
            }
        }
        self.wait_for_topic(&topic.name, true).await?;
        Ok(Created::Created)
    }

    /// Delete a topic and wait until the metadata no longer shows it.
    pub async fn delete_topic(&self, name: &str) -> Result<()> {
        let results = self
            .admin
            .delete_topics(&[name], &admin_options())
            .await
            .map_err(|e| self.explain("deleting the topic", &e))?;
        for result in results {
            if let Err((_, code)) = result {
                return Err(Error::kafka(format!("cannot delete topic '{name}': {code}")));
            }
        }
        self.wait_for_topic(name, false).await
    }

    /// Metadata can lag an admin call by a moment; wait (bounded) until it agrees. A new topic
    /// is ready when every partition has a leader that answers for it: Apache Kafka returns
    /// from CreateTopics before the leaders are elected, and a ListOffsets in between is
    /// refused with NOT_LEADER_OR_FOLLOWER.
    async fn wait_for_topic(&self, topic: &str, present: bool) -> Result<()> {
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        loop {
            let info = self.cluster_info().await?;
            match info.topic(topic) {
                None if !present => return Ok(()),
                Some(found) if present && found.partitions.iter().all(|p| p.leader >= 0) => {
                    if self.watermarks(found.pairs()).await.is_ok() {
                        return Ok(());
                    }
                }
                _ => {}
            }
            if Instant::now() >= deadline {
                let state = if present { "appear" } else { "disappear" };
                return Err(Error::kafka(format!(
                    "the broker accepted the change but '{topic}' did not {state} in its metadata"
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// A topic's configs as the broker reports them (DescribeConfigs).
    pub async fn topic_configs(&self, topic: &str) -> Result<Vec<TopicConfig>> {
        // Over plaintext every node is asked at once, so one just killed does not hold the look.
        if self.plaintext() {
            return super::setting::topic_settings(self.servers(), super::LOOK_TIMEOUT, topic, None).await;
        }
        let specifier = ResourceSpecifier::Topic(topic);
        // A look: a broker that does not answer soon is down, and the rest of the look goes on.
        let look = AdminOptions::new().operation_timeout(Some(super::LOOK_TIMEOUT)).request_timeout(Some(super::LOOK_TIMEOUT));
        let results = self
            .admin
            .describe_configs([&specifier], &look)
            .await
            .map_err(|e| self.explain("reading the topic's configs", &e))?;
        match results.into_iter().next() {
            Some(Ok(resource)) => Ok(resource
                .entries
                .into_iter()
                .map(|e| TopicConfig {
                    set_on_topic: matches!(e.source, rdkafka::admin::ConfigSource::DynamicTopic),
                    name: e.name,
                    value: e.value,
                    is_default: e.is_default,
                    is_sensitive: e.is_sensitive,
                })
                .collect()),
            Some(Err(code)) => Err(Error::kafka(format!("the broker did not report configs: {code}"))),
            None => Ok(Vec::new()),
        }
    }

    /// One broker's configs as it reports them (DescribeConfigs on the broker): (name, value,
    /// whether it is Kafka's default).
    pub async fn broker_configs(&self, broker: i32) -> Result<Vec<(String, Option<String>, bool)>> {
        let specifier = ResourceSpecifier::Broker(broker);
        let results = self
            .admin
            .describe_configs([&specifier], &admin_options())
            .await
            .map_err(|e| self.explain("reading the broker's configs", &e))?;
        match results.into_iter().next() {
            Some(Ok(resource)) => Ok(resource.entries.into_iter().map(|e| (e.name, e.value, e.is_default)).collect()),
            Some(Err(code)) => Err(Error::kafka(format!("broker {broker} did not report its configs: {code}"))),
            None => Ok(Vec::new()),
        }
    }

    /// Consumer groups, all of them or one.
    pub async fn groups(&self, group: Option<&str>) -> Result<Vec<GroupSummary>> {
        let meta = Arc::clone(&self.meta);
        let group = group.map(str::to_string);
        let groups = self
            .blocking("listing groups", move || {
                let list = meta.fetch_group_list(group.as_deref(), CLUSTER_TIMEOUT)?;
                Ok(list.groups().iter().map(summary).collect::<Vec<_>>())
            })
            .await?;
        self.remember(groups.iter().map(|g| g.name.clone()));
        Ok(groups)
    }

    /// One group, or `None` when the cluster does not know it. A group of Kafka 4's consumer
    /// protocol (KIP-848) is Dead to DescribeGroups; DescribeConsumerGroups knows it.
    pub async fn group(&self, name: &str) -> Result<Option<GroupSummary>> {
        let found = self.groups(Some(name)).await?;
        let classic = found.iter().find(|g| g.name == name).cloned();
        match classic {
            Some(group) if group.state != "Dead" => Ok(Some(group)),
            Some(_) => self.describe_consumer_group(name).await,
            None => Ok(None),
        }
    }

    fn group_client(&self, group: &str) -> Result<Arc<BaseConsumer<Context>>> {
        let mut clients = self.group_clients.lock().map_err(|_| Error::kafka("the group client cache is poisoned"))?;
        if let Some(client) = clients.get(group) {
            return Ok(Arc::clone(client));
        }
        let mut config: ClientConfig = self.client_config();
        config.set("group.id", group);
        config.set("enable.auto.commit", "false");
        let client = Arc::new(
            config.create_with_context::<_, BaseConsumer<Context>>(self.context()).map_err(|e| client_error("group client", &e))?,
        );
        clients.insert(group.to_string(), Arc::clone(&client));
        Ok(client)
    }

    /// The group's committed offset for each given partition that has one.
    pub async fn committed(&self, group: &str, partitions: Vec<(String, i32)>) -> Result<HashMap<(String, i32), i64>> {
        if partitions.is_empty() {
            return Ok(HashMap::new());
        }
        let client = self.group_client(group)?;
        self.blocking(&format!("reading group {group}'s committed offsets"), move || {
            let mut list = TopicPartitionList::new();
            for (topic, partition) in &partitions {
                list.add_partition(topic, *partition);
            }
            let answer = client.committed_offsets(list, CLUSTER_TIMEOUT)?;
            let mut found = HashMap::new();
            for element in answer.elements() {
                if let Offset::Offset(offset) = element.offset() {
                    found.insert((element.topic().to_string(), element.partition()), offset);
                }
            }
            Ok(found)
        })
        .await
    }

    /// Commit offsets for a group from outside it (the group must have no active members).
    pub async fn commit_for_group(&self, group: &str, offsets: Vec<(String, i32, i64)>) -> Result<()> {
        let client = self.group_client(group)?;
        self.blocking(&format!("committing offsets for group {group}"), move || {
            let mut list = TopicPartitionList::new();
            for (topic, partition, offset) in &offsets {
                list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
            }
            client.commit(&list, CommitMode::Sync)
        })
        .await
    }

    /// For each partition, the first offset whose timestamp is at or after `millis`, as the
    /// broker answers it (None when it says there is none).
    pub async fn offsets_for_time(&self, topic: &str, partitions: Vec<i32>, millis: i64) -> Result<HashMap<i32, Option<i64>>> {
        let meta = Arc::clone(&self.meta);
        let topic = topic.to_string();
        self.blocking("looking up offsets by time", move || {
            let mut list = TopicPartitionList::new();
            for partition in &partitions {
                list.add_partition_offset(&topic, *partition, Offset::Offset(millis))?;
            }
            let answer = meta.offsets_for_times(list, CLUSTER_TIMEOUT)?;
            Ok(answer
                .elements()
                .iter()
                .map(|e| (e.partition(), if let Offset::Offset(o) = e.offset() { Some(o) } else { None }))
                .collect())
        })
        .await
    }

    pub async fn delete_group(&self, group: &str) -> Result<()> {
        let results =
            self.admin.delete_groups(&[group], &admin_options()).await.map_err(|e| self.explain("deleting the group", &e))?;
        for result in results {
            if let Err((_, code)) = result {
                return Err(Error::kafka(format!("cannot delete group '{group}': {code}")));
            }
        }
        if let Ok(mut clients) = self.group_clients.lock() {
            clients.remove(group);
        }
        Ok(())
    }
}

fn summary(group: &rdkafka::groups::GroupInfo) -> GroupSummary {
    GroupSummary {
        name: group.name().to_string(),
        state: group.state().to_string(),
        protocol_type: group.protocol_type().to_string(),
        protocol: group.protocol().to_string(),
        members: group
            .members()
            .iter()
            .map(|m| MemberSummary {
                id: m.id().to_string(),
                client_id: m.client_id().to_string(),
                host: m.client_host().to_string(),
                assignment: m.assignment().and_then(decode_assignment),
            })
            .collect(),
    }
}

/// A consumer group member's assignment as the consumer protocol encodes it: a version, then
/// each topic with its partitions (then user data, which is not needed here). None when empty
/// or not in that format.
pub fn decode_assignment(bytes: &[u8]) -> Option<crate::outcome::Partitions> {
    struct Reader<'a>(&'a [u8]);
    impl Reader<'_> {
        fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
            let (head, rest) = self.0.split_first_chunk::<N>()?;
            self.0 = rest;
            Some(*head)
        }
        fn count(&mut self) -> Option<usize> {
            usize::try_from(i32::from_be_bytes(self.take::<4>()?)).ok()
        }
    }
    if bytes.is_empty() {
        return None;
    }
    let mut reader = Reader(bytes);
    let _version = i16::from_be_bytes(reader.take::<2>()?);
    let mut partitions = crate::outcome::Partitions::new();
    for _ in 0..reader.count()? {
        let length = usize::try_from(i16::from_be_bytes(reader.take::<2>()?)).ok()?;
        let (name, rest) = (reader.0.get(..length)?, reader.0.get(length..)?);
        reader.0 = rest;
        let topic = String::from_utf8(name.to_vec()).ok()?;
        let ids = partitions.entry(topic).or_default();
        for _ in 0..reader.count()? {
            ids.insert(i32::from_be_bytes(reader.take::<4>()?));
        }
    }
    Some(partitions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_assignment_decodes_to_its_partitions() {
        // Version 0; one topic "orders" with partitions 0 and 2; no user data.
        let mut bytes = vec![0, 0, 0, 0, 0, 1, 0, 6];
        bytes.extend_from_slice(b"orders");
        bytes.extend_from_slice(&[0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, 0xff, 0xff, 0xff, 0xff]);
        let partitions = decode_assignment(&bytes).unwrap();
        assert_eq!(crate::outcome::format_partitions(&partitions), "orders[0,2]");
        assert_eq!(decode_assignment(&[]), None);
        assert_eq!(decode_assignment(&[0, 0, 0, 0, 0, 9]), None, "a truncated assignment is not guessed at");
    }
}
