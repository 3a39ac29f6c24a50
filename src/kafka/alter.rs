//! Changing a topic after it exists: adding partitions (CreatePartitions) and changing its
//! configs (IncrementalAlterConfigs, which rust-rdkafka does not wrap, so it is called here
//! through librdkafka's C API; the older AlterConfigs, which replaces every config at once,
//! only where a broker has no incremental one).

use std::ffi::{CStr, CString};
use std::time::{Duration, Instant};

use rdkafka::admin::NewPartitions;
use rdkafka_sys as sys;

use super::{Connection, CLUSTER_TIMEOUT};
use crate::error::{Error, Result};

/// One change to a topic's configs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigChange {
    Set(String, String),
    /// Back to the broker's default.
    Delete(String),
}

impl Connection {
    /// Give `topic` `total` partitions (more than it has), and wait until every new one has a
    /// leader that answers.
    pub async fn add_partitions(&self, topic: &str, total: usize) -> Result<()> {
        let new = NewPartitions::new(topic, total);
        let options = rdkafka::admin::AdminOptions::new().operation_timeout(Some(CLUSTER_TIMEOUT)).request_timeout(Some(CLUSTER_TIMEOUT));
        let results = self.admin.create_partitions([&new], &options).await.map_err(|e| self.explain("adding partitions", &e))?;
        for result in results {
            if let Err((_, code)) = result {
                return Err(Error::kafka(format!("cannot add partitions to '{topic}': {code}")));
            }
        }
        let deadline = Instant::now() + CLUSTER_TIMEOUT;
        loop {
            if let Ok(info) = self.topic(topic).await {
                let ready = info.partitions.len() == total && info.partitions.iter().all(|p| p.leader >= 0);
                if ready && self.watermarks(info.pairs()).await.is_ok() {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                return Err(Error::kafka(format!("the broker accepted the change but '{topic}' did not show {total} partitions")));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Change some of `topic`'s configs, leaving the others as they are.
    pub async fn alter_topic_configs(&self, topic: &str, changes: Vec<ConfigChange>) -> Result<()> {
        let client = self.admin.inner().native_ptr() as usize;
        let name = topic.to_string();
        let done = self.blocking_raw(move || incremental_alter(client, &name, &changes)).await?;
        done.map_err(|why| Error::kafka(format!("cannot change the configs of '{topic}': {why}")))
    }

    async fn blocking_raw<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        tokio::task::spawn_blocking(work).await.map_err(|e| super::errors::stopped("changing the topic", e))
    }
}

/// IncrementalAlterConfigs for one topic, waiting for its result on a queue of its own.
fn incremental_alter(client: usize, topic: &str, changes: &[ConfigChange]) -> std::result::Result<(), String> {
    let client = client as *mut sys::rd_kafka_t;
    let topic = CString::new(topic).map_err(|_| "the topic name holds a NUL byte".to_string())?;
    let mut owned = Vec::new();
    for change in changes {
        let (key, value, op) = match change {
            ConfigChange::Set(key, value) => (key, Some(value), sys::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET),
            ConfigChange::Delete(key) => (key, None, sys::rd_kafka_AlterConfigOpType_t::RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE),
        };
        let key = CString::new(key.as_str()).map_err(|_| "a config name holds a NUL byte".to_string())?;
        let value = value.map(|v| CString::new(v.as_str())).transpose().map_err(|_| "a config value holds a NUL byte".to_string())?;
        owned.push((key, value, op));
    }
    // SAFETY: every pointer handed to librdkafka lives until the call that takes it returns:
    // the client is the connection's admin client (alive while `self` is), the CStrings are in
    // `owned`, and the resource, options, queue and event are destroyed below, once, after use.
    unsafe {
        let resource = sys::rd_kafka_ConfigResource_new(sys::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC, topic.as_ptr());
        for (key, value, op) in &owned {
            let value_ptr = value.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
            let error = sys::rd_kafka_ConfigResource_add_incremental_config(resource, key.as_ptr(), *op, value_ptr);
            if !error.is_null() {
                let said = CStr::from_ptr(sys::rd_kafka_error_string(error)).to_string_lossy().into_owned();
                sys::rd_kafka_error_destroy(error);
                sys::rd_kafka_ConfigResource_destroy(resource);
                return Err(said);
            }
        }
        let options = sys::rd_kafka_AdminOptions_new(client, sys::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS);
        let mut errstr = [0 as std::os::raw::c_char; 256];
        let timeout = i32::try_from(CLUSTER_TIMEOUT.as_millis()).unwrap_or(8000);
        sys::rd_kafka_AdminOptions_set_request_timeout(options, timeout, errstr.as_mut_ptr(), errstr.len());
        let queue = sys::rd_kafka_queue_new(client);
        let mut resources = [resource];
        sys::rd_kafka_IncrementalAlterConfigs(client, resources.as_mut_ptr(), 1, options, queue);
        let event = sys::rd_kafka_queue_poll(queue, timeout + 2000);
        let result = if event.is_null() {
            Err(format!("no answer within {} s", CLUSTER_TIMEOUT.as_secs()))
        } else if sys::rd_kafka_event_error(event) != sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Err(CStr::from_ptr(sys::rd_kafka_event_error_string(event)).to_string_lossy().into_owned())
        } else {
            let answer = sys::rd_kafka_event_IncrementalAlterConfigs_result(event);
            let mut count = 0usize;
            let answered = sys::rd_kafka_IncrementalAlterConfigs_result_resources(answer, &mut count);
            let mut outcome = Ok(());
            for i in 0..count {
                let one = *answered.add(i);
                if sys::rd_kafka_ConfigResource_error(one) != sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
                    let text = sys::rd_kafka_ConfigResource_error_string(one);
                    let said = if text.is_null() {
                        format!("{:?}", sys::rd_kafka_ConfigResource_error(one))
                    } else {
                        CStr::from_ptr(text).to_string_lossy().into_owned()
                    };
                    outcome = Err(said);
                }
            }
            outcome
        };
        if !event.is_null() {
            sys::rd_kafka_event_destroy(event);
        }
        sys::rd_kafka_queue_destroy(queue);
        sys::rd_kafka_AdminOptions_destroy(options);
        sys::rd_kafka_ConfigResource_destroy(resource);
        result
    }
}

impl Connection {
    /// A group as librdkafka's DescribeConsumerGroups sees it, which knows the groups of Kafka
    /// 4's consumer protocol (KIP-848, ConsumerGroupDescribe) that DescribeGroups reports as
    /// Dead. None when the cluster does not know the group.
    pub async fn describe_consumer_group(&self, name: &str) -> Result<Option<super::GroupSummary>> {
        let client = self.admin.inner().native_ptr() as usize;
        let group = name.to_string();
        self.blocking_raw(move || describe_group(client, &group))
            .await?
            .map_err(|why| Error::kafka(format!("cannot describe group '{name}': {why}")))
    }
}

/// DescribeConsumerGroups for one group, on a queue of its own.
fn describe_group(client: usize, name: &str) -> std::result::Result<Option<super::GroupSummary>, String> {
    let client = client as *mut sys::rd_kafka_t;
    let group = CString::new(name).map_err(|_| "the group name holds a NUL byte".to_string())?;
    let text = |ptr: *const std::os::raw::c_char| {
        // SAFETY: librdkafka's strings live as long as the event they came from, which is
        // destroyed only after they are copied here.
        if ptr.is_null() {
            String::new()
        } else {
            unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
        }
    };
    // SAFETY: as for `incremental_alter`: every pointer lives until the call that takes it
    // returns, and the options, queue and event are destroyed once, after their last use.
    unsafe {
        let options = sys::rd_kafka_AdminOptions_new(client, sys::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
        let mut errstr = [0 as std::os::raw::c_char; 256];
        let timeout = i32::try_from(CLUSTER_TIMEOUT.as_millis()).unwrap_or(8000);
        sys::rd_kafka_AdminOptions_set_request_timeout(options, timeout, errstr.as_mut_ptr(), errstr.len());
        let queue = sys::rd_kafka_queue_new(client);
        let mut names = [group.as_ptr()];
        sys::rd_kafka_DescribeConsumerGroups(client, names.as_mut_ptr(), 1, options, queue);
        let event = sys::rd_kafka_queue_poll(queue, timeout + 2000);
        let result = if event.is_null() {
            Err(format!("no answer within {} s", CLUSTER_TIMEOUT.as_secs()))
        } else if sys::rd_kafka_event_error(event) != sys::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            Err(text(sys::rd_kafka_event_error_string(event)))
        } else {
            let answer = sys::rd_kafka_event_DescribeConsumerGroups_result(event);
            let mut count = 0usize;
            let groups = sys::rd_kafka_DescribeConsumerGroups_result_groups(answer, &mut count);
            let mut found = None;
            for i in 0..count {
                let described = *groups.add(i);
                if !sys::rd_kafka_ConsumerGroupDescription_error(described).is_null() {
                    continue;
                }
                let state = text(sys::rd_kafka_consumer_group_state_name(sys::rd_kafka_ConsumerGroupDescription_state(described)));
                let kind = sys::rd_kafka_ConsumerGroupDescription_type(described);
                let mut members = Vec::new();
                for m in 0..sys::rd_kafka_ConsumerGroupDescription_member_count(described) {
                    let member = sys::rd_kafka_ConsumerGroupDescription_member(described, m);
                    let assigned = sys::rd_kafka_MemberAssignment_partitions(sys::rd_kafka_MemberDescription_assignment(member));
                    let mut partitions = crate::outcome::Partitions::new();
                    if !assigned.is_null() {
                        for e in 0..usize::try_from((*assigned).cnt).unwrap_or(0) {
                            let element = &*(*assigned).elems.add(e);
                            partitions.entry(text(element.topic)).or_default().insert(element.partition);
                        }
                    }
                    members.push(super::MemberSummary {
                        id: text(sys::rd_kafka_MemberDescription_consumer_id(member)),
                        client_id: text(sys::rd_kafka_MemberDescription_client_id(member)),
                        host: text(sys::rd_kafka_MemberDescription_host(member)).trim_start_matches('/').to_string(),
                        assignment: Some(partitions),
                    });
                }
                let dead = state.eq_ignore_ascii_case("dead") || state.eq_ignore_ascii_case("unknown");
                if !dead {
                    found = Some(super::GroupSummary {
                        name: text(sys::rd_kafka_ConsumerGroupDescription_group_id(described)),
                        state,
                        protocol_type: if kind == sys::rd_kafka_consumer_group_type_t::RD_KAFKA_CONSUMER_GROUP_TYPE_CONSUMER {
                            "consumer (KIP-848)".into()
                        } else {
                            "consumer".into()
                        },
                        protocol: text(sys::rd_kafka_ConsumerGroupDescription_partition_assignor(described)),
                        members,
                    });
                }
            }
            Ok(found)
        };
        if !event.is_null() {
            sys::rd_kafka_event_destroy(event);
        }
        sys::rd_kafka_queue_destroy(queue);
        sys::rd_kafka_AdminOptions_destroy(options);
        result
    }
}
