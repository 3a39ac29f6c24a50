//! One topic setting, read with a DescribeConfigs request of our own: librdkafka's admin client
//! sends it to a broker of its choosing and, right after a node went down, may wait on that one
//! until it times out. Asking every bootstrap address at once (`raw`), a node that is down
//! refuses and another answers. The value is the one in force: set on the topic, else
//! the broker's.

use std::time::Duration;

use tansu_sans_io::describe_configs_request::DescribeConfigsResource;
use tansu_sans_io::{ApiKey as _, DescribeConfigsRequest, DescribeConfigsResponse};

use crate::error::{Error, Result};

/// v4, the first flexible version (Kafka 2.4+).
const VERSION: i16 = 4;
/// DescribeConfigs' resource type for a topic.
const TOPIC: i8 = 2;

/// DescribeConfigs' config sources: set on the topic, and Kafka's own default.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const DEFAULT_CONFIG: i8 = 5;

/// The value of `key` for `topic`, or None when the broker reports none.
pub async fn topic_setting(servers: &str, wait: Duration, topic: &str, key: &str) -> Result<Option<String>> {
    let found = topic_settings(servers, wait, topic, Some(key)).await?;
    Ok(found.into_iter().find(|c| c.name == key).and_then(|c| c.value))
}

/// Every setting of `topic` (or only `key`), as describe-topic shows them.
pub async fn topic_settings(servers: &str, wait: Duration, topic: &str, key: Option<&str>) -> Result<Vec<super::TopicConfig>> {
    let body = || {
        let resource = DescribeConfigsResource::default()
            .resource_type(TOPIC)
            .resource_name(topic.to_string())
            .configuration_keys(key.map(|k| vec![k.to_string()]));
        DescribeConfigsRequest::default()
            .resources(Some(vec![resource]))
            .include_synonyms(Some(false))
            .include_documentation(Some(false))
            .into()
    };
    let answer = super::raw::ask_any(servers, wait, "DescribeConfigs", DescribeConfigsRequest::KEY, VERSION, body).await?;
    let response =
        DescribeConfigsResponse::try_from(answer).map_err(|e| Error::kafka(format!("DescribeConfigs: decoding: {e}")))?;
    let result = response.results.unwrap_or_default().into_iter().next().ok_or_else(|| Error::kafka("DescribeConfigs: no result"))?;
    if result.error_code != 0 {
        let said = result.error_message.unwrap_or_else(|| format!("error code {}", result.error_code));
        return Err(Error::kafka(format!("reading {topic}'s configs: {said}")));
    }
    Ok(result
        .configs
        .unwrap_or_default()
        .into_iter()
        .map(|c| super::TopicConfig {
            set_on_topic: c.config_source == Some(DYNAMIC_TOPIC_CONFIG),
            is_default: c.config_source == Some(DEFAULT_CONFIG) || c.is_default == Some(true),
            name: c.name,
            value: c.value,
            is_sensitive: c.is_sensitive,
        })
        .collect())
}
