//! Schemas on the embedded broker: tansu's schema registry validates every record produced to
//! TOPIC against `TOPIC.json` in the broker's schema folder, and refuses a record that breaks it
//! with INVALID_RECORD. `create-topic --schema` and `schema` write that file; the learner gives
//! the JSON Schema of a value, and it goes under `properties.value`, where tansu looks for it.
//! The broker says only *that* a record was refused, so `produce` checks a refused value against
//! the same schema, with the same validator, to say *why*.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::checks::Verdict;
use super::Session;
use crate::command::SchemaArgs;
use crate::error::{Error, Result};
use crate::outcome::{Outcome, Table};

/// Where tansu's JSON Schema for a record's value sits in `TOPIC.json`.
const VALUE: &str = "value";

impl Session {
    /// The embedded broker's schema folder, or why there is none to use.
    fn schema_folder(&self) -> Result<PathBuf> {
        #[cfg(feature = "embedded-broker")]
        if let Some(broker) = self.embedded_broker() {
            return Ok(broker.schema_folder().to_path_buf());
        }
        Err(self.without_embedded(
            "a schema checked by the broker needs the embedded broker",
            "Apache Kafka leaves schemas to a schema registry (Confluent Schema Registry, Apicurio or Karapace) \
             and to serializers in the clients; see lesson 15",
        ))
    }

    /// The embedded broker this session is connected to, while it runs.
    #[cfg(feature = "embedded-broker")]
    pub(super) fn embedded_broker(&self) -> Option<&crate::broker::EmbeddedBroker> {
        self.local.as_ref().filter(|_| self.target.is_embedded()).and_then(|cluster| cluster.embedded())
    }

    /// Why something only the embedded broker can do cannot be done now: it is stopped, or
    /// this session is on another cluster (`elsewhere` says what to do there).
    pub(super) fn without_embedded(&self, needs: &str, elsewhere: &str) -> Error {
        if self.target.is_embedded() {
            return Error::input_with_hint("the embedded broker is stopped", "start it again with: broker start");
        }
        Error::unsupported(needs, elsewhere)
    }

    /// `schema T`, `schema T SCHEMA`, `schema T --remove`.
    pub(super) async fn schema(&self, args: SchemaArgs) -> Result<Outcome> {
        crate::paths::validate_topic_name(&args.topic)?;
        let folder = self.schema_folder()?;
        self.connection.topic(&args.topic).await?;
        let file = schema_file(&folder, &args.topic);
        // Every outcome and verdict is shortened to the learner's names on its way out.
        let shown = &args.topic;
        if args.remove {
            return match std::fs::remove_file(&file) {
                Ok(()) => Ok(Outcome::Done(format!("'{shown}' has no schema now: the broker accepts any value"))),
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                    Ok(Outcome::Note(format!("'{shown}' has no schema; nothing changed")))
                }
                Err(err) => Err(Error::io(format!("cannot remove {}", file.display()), err)),
            };
        }
        let Some(text) = args.schema else {
            return match value_schema(&folder, &args.topic)? {
                Some(schema) => Ok(describe(shown, &schema)),
                None => Ok(Outcome::Note(format!(
                    "'{shown}' has no schema: the broker accepts any value. Give it one with: schema {shown} '{{\"type\": \"object\"}}'"
                ))),
            };
        };
        let schema = parse_schema(&text)?;
        let replaced = file.exists();
        write_schema(&file, &schema)?;
        let said = if replaced {
            format!("replaced the schema of '{shown}': from now on the broker checks every value against it")
        } else {
            format!("'{shown}' has a schema: the broker refuses any value that does not match it")
        };
        Ok(Outcome::Many(vec![Outcome::Done(said), describe(shown, &schema)]))
    }

    /// For `create-topic --schema`: read and check the schema before the topic is made, so a
    /// bad one leaves nothing behind.
    pub(super) fn prepare_schema(&self, text: &str) -> Result<PreparedSchema> {
        Ok(PreparedSchema { folder: self.schema_folder()?, schema: parse_schema(text)? })
    }

    /// A deleted topic's schema goes too, so a new topic of that name starts free.
    pub(super) fn forget_schema(&self, topic: &str) {
        if let Ok(folder) = self.schema_folder() {
            let _ = std::fs::remove_file(schema_file(&folder, topic));
        }
    }

    /// Why the broker refused these values, checked against the topic's schema, by message
    /// number; nothing when the topic has no schema here.
    pub(super) fn schema_reasons(
        &self,
        topic: &str,
        values: impl Iterator<Item = (u64, Option<String>)>,
    ) -> BTreeMap<u64, String> {
        let Ok(folder) = self.schema_folder() else { return BTreeMap::new() };
        let Ok(Some(schema)) = value_schema(&folder, topic) else { return BTreeMap::new() };
        let Ok(validator) = jsonschema::validator_for(&schema) else { return BTreeMap::new() };
        values
            .filter_map(|(n, value)| {
                let why = match value.as_deref().map(serde_json::from_str::<Value>) {
                    None => "it has no value".to_string(),
                    Some(Err(err)) => format!("it is not JSON ({err})"),
                    Some(Ok(instance)) => {
                        let error = validator.iter_errors(&instance).next()?;
                        let at = error.instance_path().to_string();
                        if at.is_empty() { error.to_string() } else { format!("at {at}: {error}") }
                    }
                };
                Some((n, why))
            })
            .collect()
    }

    /// `topic T schema-field F`, read from the file the broker reads.
    pub(super) fn check_schema_field(&self, topic: &str, field: &str) -> Result<Verdict> {
        let shown = topic;
        let schema = value_schema(&self.schema_folder()?, topic)?;
        let fields: Vec<String> = schema
            .as_ref()
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        Ok(match schema {
            None => Verdict::NotYet(format!("expected the schema of {shown} to have a field {field}, but {shown} has no schema")),
            Some(_) if fields.iter().any(|f| f == field) => Verdict::Holds(format!("the schema of {shown} has a field {field}")),
            Some(_) => Verdict::NotYet(format!(
                "expected the schema of {shown} to have a field {field}, found {}",
                if fields.is_empty() { "no fields".to_string() } else { fields.join(", ") }
            )),
        })
    }

}

/// A checked schema and the folder it goes to, between `create-topic`'s check and its topic.
pub(super) struct PreparedSchema {
    folder: PathBuf,
    schema: Value,
}

impl PreparedSchema {
    /// Put the schema where the broker reads it, once the topic exists.
    pub(super) fn attach(&self, topic: &str) -> Result<Outcome> {
        write_schema(&schema_file(&self.folder, topic), &self.schema)?;
        Ok(describe(topic, &self.schema))
    }
}

fn schema_file(folder: &Path, topic: &str) -> PathBuf {
    folder.join(format!("{topic}.json"))
}

/// The JSON Schema of a value, from inline JSON or a file, checked to be a schema.
fn parse_schema(text: &str) -> Result<Value> {
    let trimmed = text.trim_start();
    let (source, json) = if trimmed.starts_with('{') {
        ("the schema".to_string(), text.to_string())
    } else {
        let json = std::fs::read_to_string(text).map_err(|e| Error::io(format!("cannot read the schema file {text}"), e))?;
        (format!("the schema file {text}"), json)
    };
    let schema: Value =
        serde_json::from_str(&json).map_err(|e| Error::input(format!("{source} is not JSON: {e}")))?;
    if !schema.is_object() {
        return Err(Error::input(format!("{source} must be a JSON object, such as {{\"type\": \"object\"}}")));
    }
    jsonschema::validator_for(&schema).map_err(|e| Error::input(format!("{source} is not a valid JSON Schema: {e}")))?;
    Ok(schema)
}

/// Write tansu's form of the schema, whole, so the broker never reads half a file.
fn write_schema(file: &Path, schema: &Value) -> Result<()> {
    let whole = json!({ "type": "object", "properties": { VALUE: schema } });
    let text = serde_json::to_string_pretty(&whole).map_err(|e| Error::input(format!("cannot write the schema: {e}")))?;
    let partial = file.with_extension("json.partial");
    std::fs::write(&partial, text).map_err(|e| Error::io(format!("cannot write {}", partial.display()), e))?;
    std::fs::rename(&partial, file).map_err(|e| Error::io(format!("cannot write {}", file.display()), e))
}

/// The value's schema in the topic's file, if it has one.
fn value_schema(folder: &Path, topic: &str) -> Result<Option<Value>> {
    let file = schema_file(folder, topic);
    let text = match std::fs::read_to_string(&file) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(err) => return Err(Error::io(format!("cannot read {}", file.display()), err)),
    };
    let whole: Value = serde_json::from_str(&text).map_err(|e| Error::input(format!("{} is not JSON: {e}", file.display())))?;
    Ok(whole.get("properties").and_then(|p| p.get(VALUE)).cloned())
}

/// A schema as a table of its fields, and the whole of it on one line.
fn describe(topic: &str, schema: &Value) -> Outcome {
    let required: Vec<&str> =
        schema.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let mut table = Table::new(["FIELD", "TYPE", "REQUIRED"]);
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (field, spec) in properties {
            let kind = match spec.get("type") {
                Some(Value::String(kind)) => kind.clone(),
                Some(Value::Array(kinds)) => kinds.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
                _ => "any".to_string(),
            };
            let kind = match spec.get("enum").and_then(Value::as_array) {
                Some(options) => format!("{kind}, one of {}", options.iter().map(Value::to_string).collect::<Vec<_>>().join(", ")),
                None => kind,
            };
            table.push([field.clone(), kind, if required.contains(&field.as_str()) { "yes" } else { "no" }.to_string()]);
        }
    }
    let others = match schema.get("additionalProperties") {
        Some(Value::Bool(false)) => "any other field is refused",
        _ => "other fields are allowed",
    };
    let title = format!("schema of {topic} values · {others}");
    let whole = Outcome::Note(crate::format::compact_json(&schema.to_string()));
    if table.rows.is_empty() {
        return Outcome::Many(vec![Outcome::Note(title), whole]);
    }
    Outcome::Many(vec![Outcome::Table(table.titled(title)), whole])
}
