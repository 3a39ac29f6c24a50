//! The broker's request routes: tansu's own services, except two answered here.
//!
//! - **DescribeGroups, ListGroups, DeleteGroups**: from the group coordinator (`groups`), with
//!   each member's client id, host, subscription and assignment; a group known only from its
//!   committed offsets comes from the storage. A group with members is not deleted, as on Kafka.
//! - **Fetch**: tansu 0.6.0 holds every fetch for the client's whole `fetch.wait.max.ms`, even
//!   when it has the messages at once (its loop sleeps before it checks what it has), so every
//!   read and every consumer waits that long per fetch. Kafka answers as soon as it has
//!   `fetch.min.bytes`; so does this: it asks tansu without waiting, and only when there is
//!   nothing to send does it ask again every few milliseconds until the client's wait is up.
//!   Its answer for a topic it does not have is mended too (`mend_unknown_topics`): tansu 0.6.0
//!   sends a zero topic id with a "current leader" hint, and that hint crashes librdkafka.
//! - **ApiVersions** newer than tansu decodes (`api_versions`), before any decoding.

use std::sync::Arc;

use rama::layer::{MapErrLayer, MapStateLayer};
use rama::{Context, Layer as _, Service};
use tansu_broker::coordinator::group::Coordinator;
use tansu_broker::service::{auth, coordinator, storage};
use tansu_broker::Error;
use tansu_sans_io::delete_groups_response::DeletableGroupResult;
use tansu_sans_io::describe_groups_response::DescribedGroup;
use tansu_sans_io::list_groups_response::ListedGroup;
use tansu_sans_io::{
    ApiKey as _, DeleteGroupsRequest, DeleteGroupsResponse, DescribeGroupsRequest, DescribeGroupsResponse, FetchRequest,
    FetchResponse, ListGroupsRequest, ListGroupsResponse,
};
use tansu_service::{
    BytesFrameLayer, BytesFrameService, FrameRequestLayer, FrameRouteBuilder, FrameRouteService, TcpBytesLayer,
    TcpBytesService, TcpContext, TcpContextLayer, TcpContextService,
};
use tansu_storage::{FetchService, Storage};

use super::api_versions::{ApiVersionsLayer, ApiVersionsService};
use super::groups::Records;

/// The whole service a client connection talks to.
pub type Routes = TcpContextService<TcpBytesService<ApiVersionsService<BytesFrameService<FrameRouteService<(), Error>>>, ()>>;

type Route = fn(FrameRouteBuilder<(), Error>, super::CorrectedStorage) -> Result<FrameRouteBuilder<(), Error>, Error>;

/// tansu's storage services, all but DescribeGroups and ConsumerGroupDescribe. tansu has no
/// KIP-848 groups, yet it answered ConsumerGroupDescribe for every group as an empty one, so
/// Kafka's own admin client (`kafka-consumer-groups --describe`) showed a group with members as
/// having none. Left out, the API is not offered, and clients use DescribeGroups, as they do
/// with a Kafka older than 4.0.
const STORAGE_ROUTES: &[Route] = &[
    storage::add_offsets_to_txn,
    storage::add_partitions_to_txn,
    storage::alter_user_scram_credentials,
    storage::create_acls,
    storage::create_topics,
    storage::delete_records,
    storage::delete_topics,
    storage::describe_acls,
    storage::describe_cluster,
    storage::describe_configs,
    storage::describe_topic_partitions,
    storage::describe_user_scram_credentials,
    storage::find_coordinator,
    storage::get_telemetry_subscriptions,
    storage::incremental_alter_configs,
    storage::init_producer_id,
    storage::list_offsets,
    storage::list_partition_reassignments,
    storage::metadata,
    storage::produce,
    storage::txn_offset_commit_request,
];

/// Every route for one connection: tansu's, with DescribeGroups answered from `records`.
pub fn routes<C: Coordinator>(
    cluster_id: &str,
    groups: C,
    store: super::CorrectedStorage,
    records: Records,
    sasl: Option<Arc<rsasl::config::SASLConfig>>,
) -> Result<Routes, Error> {
    let builder = STORAGE_ROUTES.iter().try_fold(FrameRouteService::<(), Error>::builder(), |builder, route| {
        route(builder, store.clone())
    })?;
    let builder = coordinator::services(builder, groups)?;
    let builder = auth::services(builder)?;
    let groups = Groups { storage: store.clone(), records };
    let describe = (MapErrLayer::new(Error::from), MapStateLayer::new(|_| ()), FrameRequestLayer::<DescribeGroupsRequest>::new())
        .into_layer(groups.clone())
        .boxed();
    let list = (MapErrLayer::new(Error::from), MapStateLayer::new(|_| ()), FrameRequestLayer::<ListGroupsRequest>::new())
        .into_layer(groups.clone())
        .boxed();
    let delete = (MapErrLayer::new(Error::from), MapStateLayer::new(|_| ()), FrameRequestLayer::<DeleteGroupsRequest>::new())
        .into_layer(groups)
        .boxed();
    let fetch = (
        MapErrLayer::new(Error::from),
        MapStateLayer::new(|_| ()),
        FrameRequestLayer::<FetchRequest>::new(),
    )
        .into_layer(Fetch { storage: store.clone() })
        .boxed();
    let route = builder
        .with_route(FetchRequest::KEY, fetch)?
        .with_route(DescribeGroupsRequest::KEY, describe)?
        .with_route(ListGroupsRequest::KEY, list)?
        .with_route(DeleteGroupsRequest::KEY, delete)?
        .build()?;
    Ok((
        TcpContextLayer::new(TcpContext::default().cluster_id(Some(cluster_id.into()))),
        TcpBytesLayer::default(),
        ApiVersionsLayer,
        BytesFrameLayer::default().with_sasl_config(sasl),
    )
        .into_layer(route))
}

/// The group requests answered from the coordinator.
#[derive(Clone, Debug)]
struct Groups {
    storage: super::CorrectedStorage,
    records: Records,
}

/// DescribeGroups as Apache Kafka answers it: members with their client id, host and assignment.
impl Service<(), DescribeGroupsRequest> for Groups {
    type Response = DescribeGroupsResponse;
    type Error = Error;

    async fn serve(&self, _ctx: Context<()>, req: DescribeGroupsRequest) -> Result<Self::Response, Self::Error> {
        let mut groups = Vec::new();
        for name in req.groups.unwrap_or_default() {
            let described = match self.records.describe(&name) {
                Some(described) => described,
                // Known only from committed offsets: the storage describes it (empty).
                None => self.storage.describe_groups(Some(std::slice::from_ref(&name)), false).await?.iter().map(DescribedGroup::from).next().unwrap_or_default(),
            };
            groups.push(described);
        }
        Ok(DescribeGroupsResponse::default().throttle_time_ms(Some(0)).groups(Some(groups)))
    }
}

/// ListGroups: the coordinator's groups and those known only from committed offsets.
impl Service<(), ListGroupsRequest> for Groups {
    type Response = ListGroupsResponse;
    type Error = Error;

    async fn serve(&self, _ctx: Context<()>, req: ListGroupsRequest) -> Result<Self::Response, Self::Error> {
        let mut listed: std::collections::BTreeMap<String, (String, String)> =
            self.records.list().into_iter().map(|(name, state, kind)| (name, (state, kind))).collect();
        for stored in self.storage.list_groups(None).await? {
            listed.entry(stored.group_id).or_insert_with(|| ("Empty".into(), "consumer".into()));
        }
        let wanted = req.states_filter.unwrap_or_default();
        let groups = listed
            .into_iter()
            .filter(|(_, (state, _))| wanted.is_empty() || wanted.iter().any(|w| w.eq_ignore_ascii_case(state)))
            .map(|(name, (state, kind))| {
                ListedGroup::default().group_id(name).protocol_type(kind).group_state(Some(state)).group_type(Some("classic".into()))
            })
            .collect();
        Ok(ListGroupsResponse::default().throttle_time_ms(Some(0)).error_code(0).groups(Some(groups)))
    }
}

/// DeleteGroups: only a group nobody is in, as on Kafka; its offsets go with it.
impl Service<(), DeleteGroupsRequest> for Groups {
    type Response = DeleteGroupsResponse;
    type Error = Error;

    async fn serve(&self, _ctx: Context<()>, req: DeleteGroupsRequest) -> Result<Self::Response, Self::Error> {
        let mut results = Vec::new();
        for name in req.groups_names.unwrap_or_default() {
            if self.records.delete(&name) {
                results.extend(self.storage.delete_groups(Some(&[name])).await?);
            } else {
                results.push(DeletableGroupResult::default().group_id(name).error_code(super::groups::NON_EMPTY_GROUP));
            }
        }
        Ok(DeleteGroupsResponse::default().throttle_time_ms(0).results(Some(results)))
    }
}

/// How often an empty fetch looks again while the client waits.
const FETCH_RECHECK: std::time::Duration = std::time::Duration::from_millis(5);

/// Fetch as Apache Kafka answers it: at once when there are messages, else when some arrive or
/// the client's wait is up.
#[derive(Clone, Debug)]
struct Fetch {
    storage: super::CorrectedStorage,
}

impl Service<(), FetchRequest> for Fetch {
    type Response = FetchResponse;
    type Error = Error;

    async fn serve(&self, _ctx: Context<()>, req: FetchRequest) -> Result<Self::Response, Self::Error> {
        let wait = std::time::Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0));
        let deadline = tokio::time::Instant::now() + wait;
        let mut now_only = req;
        now_only.max_wait_ms = 0;
        loop {
            let mut response = FetchService.serve(Context::with_state(self.storage.clone()), now_only.clone()).await?;
            if has_records(&response) || tokio::time::Instant::now() >= deadline {
                mend_unknown_topics(&now_only, &mut response);
                return Ok(response);
            }
            tokio::time::sleep(FETCH_RECHECK.min(deadline - tokio::time::Instant::now())).await;
        }
    }
}

/// A topic deleted under a client (or deleted and created again, with a new topic id) gets the
/// answer Apache Kafka gives, not tansu 0.6.0's.
///
/// tansu answers a fetch for a topic it does not have with a zero topic id and, in every
/// partition, a CurrentLeader tag naming leader 0, epoch 0, beside an empty NodeEndpoints list.
/// Kafka sends CurrentLeader only with NOT_LEADER_OR_FOLLOWER or FENCED_LEADER_EPOCH (KIP-951).
/// librdkafka 2.12 treats the tag as news of a new leader: it queues a metadata update that
/// names the topic by that zero id and a NULL name, and its main thread then looks the NULL
/// name up in its metadata cache (`rd_kafka_metadata_update_op` →
/// `rd_kafka_metadata_cache_find` → `strcmp`), which is a segmentation fault.
///
/// So: no leader hints with any other error, no empty endpoint list, and a topic asked for by
/// id that is gone is answered with that id and UNKNOWN_TOPIC_ID, as Kafka does.
pub(super) fn mend_unknown_topics(request: &FetchRequest, response: &mut FetchResponse) {
    const NOT_LEADER_OR_FOLLOWER: i16 = 6;
    const FENCED_LEADER_EPOCH: i16 = 74;
    const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
    const UNKNOWN_TOPIC_ID: i16 = 100;
    let asked = request.topics.as_deref().unwrap_or_default();
    for (index, topic) in response.responses.iter_mut().flatten().enumerate() {
        let by_id = asked.get(index).and_then(|fetch| fetch.topic_id).filter(|id| *id != [0; 16]);
        let unknown = topic.topic_id.is_none_or(|id| id == [0; 16]);
        if unknown {
            if let Some(id) = by_id {
                topic.topic_id = Some(id);
            }
        }
        for partition in topic.partitions.iter_mut().flatten() {
            if unknown && by_id.is_some() && partition.error_code == UNKNOWN_TOPIC_OR_PARTITION {
                partition.error_code = UNKNOWN_TOPIC_ID;
            }
            if !matches!(partition.error_code, NOT_LEADER_OR_FOLLOWER | FENCED_LEADER_EPOCH) {
                partition.current_leader = None;
                if partition.error_code != 0 {
                    partition.diverging_epoch = None;
                    partition.snapshot_id = None;
                }
            }
        }
    }
    if response.node_endpoints.as_ref().is_some_and(Vec::is_empty) {
        response.node_endpoints = None;
    }
}

fn has_records(response: &FetchResponse) -> bool {
    response.responses.iter().flatten().flat_map(|topic| topic.partitions.iter().flatten()).any(|partition| {
        partition.records.as_ref().is_some_and(|frame| !frame.batches.is_empty()) || partition.error_code != 0
    })
}
