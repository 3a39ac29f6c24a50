//! librdkafka's errors in the user's terms: a transport failure names the cluster and why, with
//! secrets masked and a TLS trust failure tied to the CA file; anything else is what the broker
//! said, without Rust's debug wrapping.

use rdkafka::error::KafkaError;
use rdkafka::types::RDKafkaErrorCode;

use super::{Context, CLUSTER_TIMEOUT};
use crate::error::Error;

/// How a connection explains its failures.
#[derive(Clone)]
pub struct Explainer {
    pub servers: String,
    /// The CA file in use, to name when the broker's certificate does not verify.
    pub ca_file: Option<String>,
    pub context: Context,
}

impl Explainer {
    /// An error the user can act on, naming the cluster when it is a transport problem.
    pub fn error(&self, what: &str, err: &KafkaError) -> Error {
        use RDKafkaErrorCode as Code;
        let code = err.rdkafka_error_code();
        let transport = matches!(
            code,
            Some(Code::BrokerTransportFailure | Code::AllBrokersDown | Code::OperationTimedOut | Code::MessageTimedOut)
        ) || matches!(err, KafkaError::MetadataFetch(Code::OperationTimedOut));
        if transport {
            return self.unreachable(&err.to_string());
        }
        Error::Kafka {
            message: format!("{what}: {}", self.context.redact(&describe_kafka_error(err))),
            source: Some(std::sync::Arc::new(err.clone())),
        }
    }

    pub fn unreachable(&self, fallback: &str) -> Error {
        let reason = self.context.last_error().map(|r| tidy_transport_reason(&r)).unwrap_or_else(|| {
            if fallback.contains("timed out") || fallback.contains("TimedOut") {
                format!("no answer within {} s", CLUSTER_TIMEOUT.as_secs())
            } else {
                fallback.to_string()
            }
        });
        Error::Unreachable { servers: self.servers.clone(), reason: self.explain(&reason) }
    }

    /// A transport failure's reason, with secrets masked and a TLS trust failure tied to the CA file.
    pub fn explain(&self, reason: &str) -> String {
        let reason = self.context.redact(reason);
        let untrusted =
            ["certificate verify failed", "unable to get local issuer", "self-signed certificate", "self signed certificate"];
        match &self.ca_file {
            Some(ca) if untrusted.iter().any(|u| reason.contains(u)) => {
                format!("{reason} (the broker's certificate is not signed by the CA in {ca})")
            }
            _ => reason,
        }
    }
}

/// A client that could not even be configured: the settings are wrong. librdkafka's own text
/// quotes the value it refused, which for a secret setting, or a setting it does not know (a
/// misspelt `ssl_key_password`), could be a password: that value is never repeated.
pub fn client_error(what: &str, err: &KafkaError) -> Error {
    if let KafkaError::ClientConfig(_, description, key, value) = err {
        let unknown = description.contains("No such configuration property");
        let said = if (unknown || crate::security::is_secret(key)) && !value.is_empty() {
            description.replace(value.as_str(), "***")
        } else {
            description.clone()
        };
        return Error::input(format!("cannot configure the {what}: {said}"));
    }
    Error::input(format!("cannot configure the {what}: {}", describe_kafka_error(err)))
}

/// A blocking task that did not come back (it panicked or was cancelled).
pub fn stopped(what: &str, err: tokio::task::JoinError) -> Error {
    Error::Kafka { message: format!("{what} stopped: {err}"), source: Some(std::sync::Arc::new(err)) }
}

/// librdkafka's error text without its Rust debug wrapping.
pub fn describe_kafka_error(err: &KafkaError) -> String {
    match err.rdkafka_error_code() {
        Some(code) => {
            let text = err.to_string();
            // "Admin operation error: TopicAlreadyExists (Broker: Topic already exists)" → the part in brackets.
            match (text.rfind('('), text.rfind(')')) {
                (Some(open), Some(close)) if open < close => text[open + 1..close].to_string(),
                _ => format!("{code}"),
            }
        }
        None => err.to_string(),
    }
}

/// The error's name as Kafka's protocol (or librdkafka, for its own) spells it:
/// NOT_ENOUGH_REPLICAS, MSG_TIMED_OUT.
pub fn error_name(err: &KafkaError) -> Option<String> {
    // "MessageTimedOut (Local: Message timed out)": librdkafka's words are in the brackets.
    let shown = err.rdkafka_error_code()?.to_string();
    let words = shown.split_once(" (").map_or(shown.as_str(), |(_, rest)| rest.strip_suffix(')').unwrap_or(rest));
    name_of(words)
}

/// The Kafka name of an error librdkafka describes in words ("Broker: Not enough in-sync
/// replicas" → NOT_ENOUGH_REPLICAS).
pub fn name_of(text: &str) -> Option<String> {
    let mut descs: *const rdkafka_sys::rd_kafka_err_desc = std::ptr::null();
    let mut count = 0usize;
    // SAFETY: librdkafka hands out its static table of `count` error descriptions; each name
    // and description is a static C string, or null where the table has a gap.
    unsafe {
        rdkafka_sys::rd_kafka_get_err_descs(&mut descs, &mut count);
        if descs.is_null() {
            return None;
        }
        std::slice::from_raw_parts(descs, count).iter().find_map(|desc| {
            if desc.name.is_null() || desc.desc.is_null() {
                return None;
            }
            let said = std::ffi::CStr::from_ptr(desc.desc).to_string_lossy();
            (said == text).then(|| std::ffi::CStr::from_ptr(desc.name).to_string_lossy().trim_start_matches('_').to_string())
        })
    }
}

/// "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
/// → "connection refused".
pub fn tidy_transport_reason(reason: &str) -> String {
    let mut text = reason;
    // "Connect to … failed: Connection refused" → the reason; but "Authentication failed:
    // Invalid username or password" keeps saying what failed.
    if let Some(at) = text.find("failed: ").filter(|_| text.contains("Connect to ")) {
        text = &text[at + "failed: ".len()..];
    } else if let Some(at) = text.find(": ") {
        if text[..at].contains('/') {
            text = &text[at + 2..];
        }
    }
    if let Some(at) = text.find(" (after ") {
        text = &text[..at];
    }
    let mut tidy = text.trim().to_string();
    if let Some(first) = tidy.get(0..1) {
        if !tidy.starts_with("SSL") && !tidy.starts_with("SASL") {
            tidy = first.to_lowercase() + &tidy[1..];
        }
    }
    tidy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_are_named_as_kafka_names_them() {
        use rdkafka::types::RDKafkaErrorCode;
        assert_eq!(name_of("Broker: Not enough in-sync replicas").as_deref(), Some("NOT_ENOUGH_REPLICAS"));
        assert_eq!(error_name(&KafkaError::MessageProduction(RDKafkaErrorCode::MessageTimedOut)).as_deref(), Some("MSG_TIMED_OUT"));
        assert_eq!(name_of("not an error librdkafka knows"), None);
    }

    #[test]
    fn transport_reasons_are_tidied() {
        assert_eq!(
            tidy_transport_reason(
                "127.0.0.1:1/bootstrap: Connect to ipv4#127.0.0.1:1 failed: Connection refused (after 0ms in state CONNECT)"
            ),
            "connection refused"
        );
        assert_eq!(
            tidy_transport_reason(
                "nope.invalid:9092/bootstrap: Failed to resolve 'nope.invalid:9092': Name or service not known (after 3ms in state CONNECT)"
            ),
            "failed to resolve 'nope.invalid:9092': Name or service not known"
        );
        assert_eq!(tidy_transport_reason("1/1 brokers are down"), "1/1 brokers are down");
        assert_eq!(
            tidy_transport_reason(
                "sasl_ssl://127.0.0.1:9093/bootstrap: SASL authentication error: Authentication failed: Invalid username or password (after 3ms in state AUTH_REQ)"
            ),
            "SASL authentication error: Authentication failed: Invalid username or password"
        );
    }
}
