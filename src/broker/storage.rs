//! A thin layer over tansu's storage that corrects what tansu 0.6.0's memory storage gets wrong.
//!
//! **The defect**: the memory (`DynoStore`) storage answers ListOffsets from the names of its
//! stored batch objects. `Latest` is the *base offset of the newest batch* + 1, so after a batch
//! of 5 records at offsets 2..=6 it reports an end offset of 3, not 7. Lag, `topics` and any
//! group-less read bounded by the end offset would all be wrong. The same storage's
//! `offset_stage` (what Fetch reports as the high watermark) is right, so ListOffsets for
//! `Earliest` and `Latest` is answered from it here. Timestamp look-ups pass through unchanged:
//! the tool says where those are unreliable rather than guessing.
//!
//! **The second defect**: its Fetch returns only batches whose *base* offset is at or after the
//! requested offset, so a consumer positioned inside a batch (after `read --from 3`, a seek, or a
//! commit part-way through a batch) gets nothing, ever. The layer remembers where each produced
//! batch starts and fetches from the start of the batch that holds the requested offset;
//! librdkafka, like every Kafka client, skips the records before the offset it asked for.
//!
//! **Groups**: ListGroups on the memory storage lists only groups that have committed offsets,
//! and DescribeGroups on SQLite fails to decode what it stored (it parses the JSON column as a
//! JSON *string*), so the broker drops the connection. Every group update the coordinator makes
//! passes through here, so this layer keeps the latest state of each group and answers
//! ListGroups and DescribeGroups from it. Members whose session has expired are left out, as
//! Kafka's coordinator would have removed them by then. A group known only from before a
//! restart (SQLite) is described as empty: nobody can be a member of it any more.
//!
//! **Deleted topics**: the memory storage accepts a produce to a topic that no longer exists
//! (deleted, or gone with a `broker stop`), acknowledges it, and keeps the batches where a topic
//! of the same name created later finds them. Kafka answers UNKNOWN_TOPIC_OR_PARTITION. So this
//! layer knows which topics the memory storage has, with their partition counts (it starts
//! empty, and every create and delete passes through here), refuses a produce to any other
//! partition, and forgets a deleted topic's batches.
//!
//! **Offsets after retention** (SQLite): ListOffsets reads the records, so once retention
//! deleted every one the end offset read 0 and the start offset a deleted record, while new
//! messages still got the next offset. Both come from the partition's watermark here.
//!
//! **Retention**: tansu 0.6.0 deletes expired messages only from topics whose `cleanup.policy`
//! was set to `delete` explicitly, although `delete` is Kafka's default; a topic created
//! without the setting kept its messages for ever, whatever its `retention.ms`. A topic
//! created without a cleanup policy gets Kafka's default written down.
//!
//! **Topic configs**: DescribeConfigs lists exactly what was set on the topic, but says each
//! came from the broker's defaults (DEFAULT_CONFIG), so Kafka's tools (`kafka-topics
//! --describe`, `kafka-configs`) showed none of them. They are answered as Kafka does, as
//! DYNAMIC_TOPIC_CONFIG, except the `cleanup.policy=delete` written down above, which is
//! Kafka's default.
//!
//! Everything else is delegated as it is.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tansu_sans_io::{
    create_topics_request::CreatableTopic, delete_groups_response::DeletableGroupResult,
    delete_records_request::DeleteRecordsTopic, delete_records_response::DeleteRecordsTopicResult,
    describe_cluster_response::DescribeClusterBroker, describe_configs_response::DescribeConfigsResult,
    describe_topic_partitions_response::DescribeTopicPartitionsResponseTopic,
    incremental_alter_configs_request::AlterConfigsResource,
    incremental_alter_configs_response::AlterConfigsResourceResponse, list_groups_response::ListedGroup,
    record::deflated, txn_offset_commit_response::TxnOffsetCommitResponseTopic, ConfigResource, ErrorCode,
    IsolationLevel, ListOffset, ScramMechanism,
};
use tansu_storage::{
    BrokerRegistrationRequest, ConsumerGroupState, GroupDetail, ListOffsetResponse, MetadataResponse, NamedGroupDetail,
    OffsetCommitRequest, OffsetStage, ProducerIdResponse, Result, ScramCredential, Storage, StorageContainer,
    TopicId, Topition, TxnAddPartitionsRequest, TxnAddPartitionsResponse, TxnOffsetCommitRequest, UpdateError,
    Version,
};
use url::Url;
use uuid::Uuid;

#[derive(Clone, Debug)]
pub struct CorrectedStorage {
    inner: StorageContainer,
    /// Only the memory storage has these defects; SQLite answers correctly and passes through.
    memory: bool,
    /// Memory storage only: every batch produced, per partition, as base offset → last offset.
    batches: Arc<Mutex<BTreeMap<Topition, BTreeMap<i64, i64>>>>,
    /// The latest state of every group the coordinator stored since the broker started.
    groups: Arc<Mutex<BTreeMap<String, GroupDetail>>>,
    /// Memory storage only: every topic it has, with its partition count.
    topics: Arc<Mutex<BTreeMap<String, i32>>>,
}

impl CorrectedStorage {
    pub fn new(inner: StorageContainer, memory: bool) -> Self {
        CorrectedStorage { inner, memory, batches: Arc::default(), groups: Arc::default(), topics: Arc::default() }
    }

    /// Memory storage only: whether the partition exists now.
    fn has_partition(&self, topition: &Topition) -> bool {
        let Ok(topics) = self.topics.lock() else { return true };
        topics.get(topition.topic()).is_some_and(|&count| (0..count).contains(&topition.partition()))
    }

    /// The base offset of the batch holding `offset` inside it (not at its start).
    fn containing_batch(&self, topition: &Topition, offset: i64) -> Option<i64> {
        let batches = self.batches.lock().ok()?;
        let (&base, &last) = batches.get(topition)?.range(..=offset).next_back()?;
        (base < offset && offset <= last).then_some(base)
    }

    /// The group as a client should see it now: members whose session expired are gone.
    fn live_group(&self, group_id: &str) -> Option<GroupDetail> {
        let mut detail = self.groups.lock().ok()?.get(group_id)?.clone();
        let timeout = Duration::from_millis(u64::try_from(detail.session_timeout_ms).unwrap_or(45_000));
        let now = SystemTime::now();
        detail.members.retain(|_, member| {
            member.last_contact.is_none_or(|seen| now.duration_since(seen).unwrap_or_default() <= timeout)
        });
        Some(detail)
    }
}

/// Who wrote one stored batch: the producer id and first sequence number the batch carries.
/// A producer that is not idempotent writes producer id -1 and sequence -1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchWriter {
    pub base_offset: i64,
    pub records: i64,
    pub producer_id: i64,
    pub base_sequence: i32,
}

impl CorrectedStorage {
    /// Every batch stored in the partition, oldest first, read back from the storage itself.
    pub async fn writers(&self, topition: &Topition) -> Result<Vec<BatchWriter>> {
        let stage = self.inner.offset_stage(topition).await?;
        let mut offset = stage.log_start().max(0);
        let mut found = Vec::new();
        while offset < stage.high_watermark() {
            let batches = self.fetch(topition, offset, 1, 1 << 20, IsolationLevel::ReadUncommitted).await?;
            let before = offset;
            for batch in &batches {
                let last = batch.base_offset + i64::from(batch.last_offset_delta);
                if last < offset {
                    continue;
                }
                found.push(BatchWriter {
                    base_offset: batch.base_offset,
                    records: i64::from(batch.record_count),
                    producer_id: batch.producer_id,
                    base_sequence: batch.base_sequence,
                });
                offset = last + 1;
            }
            if offset == before {
                break;
            }
        }
        Ok(found)
    }
}

#[async_trait]
impl Storage for CorrectedStorage {
    async fn list_offsets(
        &self,
        isolation_level: IsolationLevel,
        offsets: &[(Topition, ListOffset)],
    ) -> Result<Vec<(Topition, ListOffsetResponse)>> {
        let mut answers = self.inner.list_offsets(isolation_level, offsets).await?;
        if !self.memory {
            // SQLite: the latest offset is read from the records, so once retention has
            // deleted them all it falls back to 0 and the earliest to a record that is gone,
            // while new messages still get the next offset. Both come from the partition's
            // watermark instead: with no record left, the log starts where it ends.
            for ((topition, request), (_, answer)) in offsets.iter().zip(answers.iter_mut()) {
                if answer.error_code != ErrorCode::None || matches!(request, ListOffset::Timestamp(_)) {
                    continue;
                }
                let stage = self.inner.offset_stage(topition).await?;
                let high = if isolation_level == IsolationLevel::ReadCommitted { stage.last_stable() } else { stage.high_watermark() };
                answer.offset = Some(match request {
                    ListOffset::Latest => high,
                    _ => {
                        let first = answer.offset.unwrap_or(0).max(0);
                        let kept = self.inner.fetch(topition, first, 1, 1024, IsolationLevel::ReadUncommitted).await?;
                        if kept.is_empty() { stage.high_watermark() } else { first }
                    }
                });
            }
            return Ok(answers);
        }
        for ((topition, request), (_, answer)) in offsets.iter().zip(answers.iter_mut()) {
            if answer.error_code != ErrorCode::None {
                continue;
            }
            let corrected = match request {
                ListOffset::Latest => {
                    let stage = self.inner.offset_stage(topition).await?;
                    if isolation_level == IsolationLevel::ReadCommitted {
                        stage.last_stable()
                    } else {
                        stage.high_watermark()
                    }
                }
                ListOffset::Earliest => self.inner.offset_stage(topition).await?.log_start(),
                ListOffset::Timestamp(_) => continue,
            };
            answer.offset = Some(corrected);
        }
        Ok(answers)
    }

    async fn register_broker(&self, broker_registration: BrokerRegistrationRequest) -> Result<()> {
        self.inner.register_broker(broker_registration).await
    }

    async fn create_topic(&self, mut topic: CreatableTopic, validate_only: bool) -> Result<Uuid> {
        let configs = topic.configs.get_or_insert_with(Vec::new);
        if !configs.iter().any(|c| c.name == "cleanup.policy") {
            configs.push(
                tansu_sans_io::create_topics_request::CreatableTopicConfig::default()
                    .name("cleanup.policy".into())
                    .value(Some("delete".into())),
            );
        }
        let (name, partitions) = (topic.name.clone(), topic.num_partitions);
        let id = self.inner.create_topic(topic, validate_only).await?;
        if self.memory && !validate_only {
            if let Ok(mut topics) = self.topics.lock() {
                topics.insert(name, partitions);
            }
        }
        Ok(id)
    }

    async fn incremental_alter_resource(&self, resource: AlterConfigsResource) -> Result<AlterConfigsResourceResponse> {
        self.inner.incremental_alter_resource(resource).await
    }

    async fn delete_records(&self, topics: &[DeleteRecordsTopic]) -> Result<Vec<DeleteRecordsTopicResult>> {
        self.inner.delete_records(topics).await
    }

    async fn delete_topic(&self, topic: &TopicId) -> Result<ErrorCode> {
        // The name, before the topic (and the way from its id to its name) is gone.
        let name = match topic {
            TopicId::Name(name) => Some(name.clone()),
            TopicId::Id(_) => self.inner.metadata(Some(std::slice::from_ref(topic))).await.ok().and_then(|meta| {
                meta.topics().first().and_then(|t| t.name.clone())
            }),
        };
        let deleted = self.inner.delete_topic(topic).await?;
        if let (true, Some(name)) = (self.memory, name) {
            if let Ok(mut topics) = self.topics.lock() {
                topics.remove(&name);
            }
            if let Ok(mut batches) = self.batches.lock() {
                batches.retain(|topition, _| topition.topic() != name);
            }
        }
        Ok(deleted)
    }

    async fn brokers(&self) -> Result<Vec<DescribeClusterBroker>> {
        self.inner.brokers().await
    }

    async fn produce(&self, transaction_id: Option<&str>, topition: &Topition, batch: deflated::Batch) -> Result<i64> {
        if self.memory && !self.has_partition(topition) {
            return Err(tansu_storage::Error::Api(ErrorCode::UnknownTopicOrPartition));
        }
        let records = i64::from(batch.last_offset_delta);
        let base = self.inner.produce(transaction_id, topition, batch).await?;
        if self.memory {
            if let Ok(mut batches) = self.batches.lock() {
                batches.entry(topition.clone()).or_default().insert(base, base + records);
            }
        }
        Ok(base)
    }

    async fn fetch(
        &self,
        topition: &'_ Topition,
        offset: i64,
        min_bytes: u32,
        max_bytes: u32,
        isolation: IsolationLevel,
    ) -> Result<Vec<deflated::Batch>> {
        let from = if self.memory { self.containing_batch(topition, offset).unwrap_or(offset) } else { offset };
        unpanicked(self.inner.fetch(topition, from, min_bytes, max_bytes, isolation)).await
    }

    async fn offset_stage(&self, topition: &Topition) -> Result<OffsetStage> {
        unpanicked(self.inner.offset_stage(topition)).await
    }

    async fn offset_commit(
        &self,
        group_id: &str,
        retention_time_ms: Option<Duration>,
        offsets: &[(Topition, OffsetCommitRequest)],
    ) -> Result<Vec<(Topition, ErrorCode)>> {
        self.inner.offset_commit(group_id, retention_time_ms, offsets).await
    }

    async fn offset_fetch(
        &self,
        group_id: Option<&str>,
        topics: &[Topition],
        require_stable: Option<bool>,
    ) -> Result<BTreeMap<Topition, i64>> {
        self.inner.offset_fetch(group_id, topics, require_stable).await
    }

    async fn committed_offset_topitions(&self, group_id: &str) -> Result<BTreeMap<Topition, i64>> {
        self.inner.committed_offset_topitions(group_id).await
    }

    async fn metadata(&self, topics: Option<&[TopicId]>) -> Result<MetadataResponse> {
        self.inner.metadata(topics).await
    }

    async fn upsert_user_scram_credential(
        &self,
        user: &str,
        mechanism: ScramMechanism,
        credential: ScramCredential,
    ) -> Result<()> {
        self.inner.upsert_user_scram_credential(user, mechanism, credential).await
    }

    async fn delete_user_scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Result<()> {
        self.inner.delete_user_scram_credential(user, mechanism).await
    }

    async fn user_scram_credential(&self, user: &str, mechanism: ScramMechanism) -> Result<Option<ScramCredential>> {
        self.inner.user_scram_credential(user, mechanism).await
    }

    async fn describe_config(
        &self,
        name: &str,
        resource: ConfigResource,
        keys: Option<&[String]>,
    ) -> Result<DescribeConfigsResult> {
        let topic = matches!(resource, ConfigResource::Topic);
        let mut described = self.inner.describe_config(name, resource, keys).await?;
        if topic {
            for config in described.configs.iter_mut().flatten() {
                config.config_source = Some(topic_config_source(&config.name, config.value.as_deref()));
            }
        }
        Ok(described)
    }

    async fn list_groups(&self, states_filter: Option<&[String]>) -> Result<Vec<ListedGroup>> {
        let mut names: BTreeSet<String> = self.groups.lock().map(|g| g.keys().cloned().collect()).unwrap_or_default();
        if let Ok(stored) = self.inner.list_groups(None).await {
            names.extend(stored.into_iter().map(|g| g.group_id));
        }
        let mut listed = Vec::new();
        for name in names {
            let state = self
                .live_group(&name)
                .map_or(ConsumerGroupState::Empty, |detail| ConsumerGroupState::from(&detail))
                .to_string();
            if states_filter.is_some_and(|wanted| !wanted.iter().any(|w| w.eq_ignore_ascii_case(&state))) {
                continue;
            }
            listed.push(
                ListedGroup::default()
                    .group_id(name)
                    .protocol_type("consumer".into())
                    .group_state(Some(state))
                    .group_type(Some("classic".into())),
            );
        }
        Ok(listed)
    }

    async fn delete_groups(&self, group_ids: Option<&[String]>) -> Result<Vec<DeletableGroupResult>> {
        if let (Some(ids), Ok(mut groups)) = (group_ids, self.groups.lock()) {
            for id in ids {
                groups.remove(id);
            }
        }
        self.inner.delete_groups(group_ids).await
    }

    async fn describe_groups(
        &self,
        group_ids: Option<&[String]>,
        _include_authorized_operations: bool,
    ) -> Result<Vec<NamedGroupDetail>> {
        let mut described = Vec::new();
        for id in group_ids.unwrap_or_default() {
            let detail = self.live_group(id).unwrap_or_default();
            described.push(NamedGroupDetail::found(id.clone(), detail));
        }
        Ok(described)
    }

    async fn describe_topic_partitions(
        &self,
        topics: Option<&[TopicId]>,
        partition_limit: i32,
        cursor: Option<Topition>,
    ) -> Result<Vec<DescribeTopicPartitionsResponseTopic>> {
        self.inner.describe_topic_partitions(topics, partition_limit, cursor).await
    }

    async fn update_group(
        &self,
        group_id: &str,
        detail: GroupDetail,
        version: Option<Version>,
    ) -> Result<Version, UpdateError<GroupDetail>> {
        let stored = self.inner.update_group(group_id, detail.clone(), version).await?;
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(group_id.to_string(), detail);
        }
        Ok(stored)
    }

    async fn init_producer(
        &self,
        transaction_id: Option<&str>,
        transaction_timeout_ms: i32,
        producer_id: Option<i64>,
        producer_epoch: Option<i16>,
    ) -> Result<ProducerIdResponse> {
        self.inner.init_producer(transaction_id, transaction_timeout_ms, producer_id, producer_epoch).await
    }

    async fn txn_add_offsets(
        &self,
        transaction_id: &str,
        producer_id: i64,
        producer_epoch: i16,
        group_id: &str,
    ) -> Result<ErrorCode> {
        self.inner.txn_add_offsets(transaction_id, producer_id, producer_epoch, group_id).await
    }

    async fn txn_add_partitions(&self, partitions: TxnAddPartitionsRequest) -> Result<TxnAddPartitionsResponse> {
        self.inner.txn_add_partitions(partitions).await
    }

    async fn txn_offset_commit(&self, offsets: TxnOffsetCommitRequest) -> Result<Vec<TxnOffsetCommitResponseTopic>> {
        self.inner.txn_offset_commit(offsets).await
    }

    async fn txn_end(&self, transaction_id: &str, producer_id: i64, producer_epoch: i16, committed: bool) -> Result<ErrorCode> {
        self.inner.txn_end(transaction_id, producer_id, producer_epoch, committed).await
    }

    async fn maintain(&self, now: SystemTime) -> Result<()> {
        self.inner.maintain(now).await
    }

    async fn cluster_id(&self) -> Result<String> {
        self.inner.cluster_id().await
    }

    async fn node(&self) -> Result<i32> {
        self.inner.node().await
    }

    async fn advertised_listener(&self) -> Result<Url> {
        self.inner.advertised_listener().await
    }

    async fn ping(&self) -> Result<()> {
        self.inner.ping().await
    }
}

/// Where a config that tansu stored on a topic comes from, in DescribeConfigs' terms.
fn topic_config_source(name: &str, value: Option<&str>) -> i8 {
    /// Kafka's ConfigSource ids.
    const DYNAMIC_TOPIC_CONFIG: i8 = 1;
    const DEFAULT_CONFIG: i8 = 5;
    if name == "cleanup.policy" && value == Some("delete") {
        DEFAULT_CONFIG
    } else {
        DYNAMIC_TOPIC_CONFIG
    }
}

/// tansu 0.6.0's SQLite storage panics ("more or less than one row") when a fetch reads a
/// partition whose topic was deleted a moment before (a consumer still fetching while a
/// rehearsal cleans up), and the panic drops the client's connection. Kafka answers
/// UNKNOWN_TOPIC_OR_PARTITION, and so does this.
async fn unpanicked<T>(work: impl std::future::Future<Output = Result<T>>) -> Result<T> {
    use futures::FutureExt;
    std::panic::AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .unwrap_or(Err(tansu_storage::Error::Api(ErrorCode::UnknownTopicOrPartition)))
}
