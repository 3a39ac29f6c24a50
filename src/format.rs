//! Small text helpers that several layers need: timestamps, compact JSON, grouped digits, and
//! the `{n}` templates `produce` fills in. Nothing here knows about Kafka or the terminal.

use std::borrow::Cow;
use std::time::{Duration, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Milliseconds since the epoch as RFC 3339, or `-` when there is no timestamp.
pub fn timestamp(millis: Option<i64>) -> String {
    match millis {
        Some(ms) if ms >= 0 => {
            let time = UNIX_EPOCH + Duration::from_millis(ms.unsigned_abs());
            humantime::format_rfc3339_millis(time).to_string()
        }
        _ => "-".into(),
    }
}

/// JSON is re-serialised without spaces, keeping key order; anything else is kept as typed.
pub fn compact_json(text: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(value) => serde_json::to_string(&value).unwrap_or_else(|_| text.to_string()),
        Err(_) => text.to_string(),
    }
}

/// `1234567` → `1,234,567`.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A key or value as a table shows it: `(null)` when there is none.
pub fn optional(text: &Option<String>) -> String {
    text.clone().unwrap_or_else(|| "(null)".into())
}

/// `1,2,3`
pub fn join_ids(ids: &[i32]) -> String {
    ids.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

/// `1, 2, 3 … and 7 more`
pub fn shorten_list(items: &[String]) -> String {
    if items.len() <= 8 {
        return items.join(", ");
    }
    format!("{} … and {} more", items[..8].join(", "), items.len() - 8)
}

/// `-` for an empty text.
pub fn or_dash(text: &str) -> String {
    if text.is_empty() {
        "-".into()
    } else {
        text.to_string()
    }
}

/// A value or key with `{n}` in it. A value that parses as JSON is sent compact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    text: Option<String>,
    numbered: bool,
    json: bool,
}

impl Template {
    /// A message value: one that starts like JSON must be JSON, so a typo never goes out as text.
    pub fn value(text: Option<&str>) -> Result<Self> {
        if let Some(text) = text.map(str::trim).filter(|t| t.starts_with('{') || t.starts_with('[')) {
            let sample = text.replace("{n}", "1");
            if let Err(err) = serde_json::from_str::<serde_json::Value>(&sample) {
                return Err(Error::input(format!(
                    "the value starts like JSON but is not JSON ({err}); fix it, or add --raw to send it as typed"
                )));
            }
        }
        let mut template = Self::raw(text);
        template.json = true;
        if let (Some(text), false) = (&template.text, template.numbered) {
            // Compact it once; no per-message work for a fixed value.
            template.text = Some(compact_json(text));
            template.json = false;
        }
        Ok(template)
    }

    /// Sent exactly as typed (keys, and values with --raw).
    pub fn raw(text: Option<&str>) -> Self {
        Template { numbered: text.is_some_and(|t| t.contains("{n}")), text: text.map(str::to_string), json: false }
    }

    /// The text for message `n`, borrowed when it is the same for every message.
    pub fn render(&self, n: u64) -> Option<Cow<'_, str>> {
        self.text.as_ref().map(|text| {
            if !self.numbered {
                return Cow::Borrowed(text.as_str());
            }
            let filled = text.replace("{n}", &n.to_string());
            Cow::Owned(if self.json { compact_json(&filled) } else { filled })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_compacted_in_order() {
        assert_eq!(compact_json(r#"{"order": 271, "till": 3, "a": [1, 2]}"#), r#"{"order":271,"till":3,"a":[1,2]}"#);
        assert_eq!(compact_json("hello world"), "hello world");
        assert_eq!(compact_json(r#"{"broken": "#), r#"{"broken": "#);
    }

    #[test]
    fn numbered_templates_fill_n_then_compact() {
        let template = Template::value(Some(r#"{"order": {n}}"#)).unwrap();
        assert_eq!(template.render(7).as_deref(), Some(r#"{"order":7}"#));
        let key = Template::raw(Some("till-{n}"));
        assert_eq!(key.render(3).as_deref(), Some("till-3"));
        assert!(Template::value(Some(r#"{"order": "#)).is_err());
    }

    #[test]
    fn digits_are_grouped() {
        assert_eq!(group_digits(0), "0");
        assert_eq!(group_digits(1234567), "1,234,567");
        assert_eq!(group_digits(999), "999");
    }

    #[test]
    fn timestamps_are_rfc3339_or_a_dash() {
        assert_eq!(timestamp(Some(0)), "1970-01-01T00:00:00.000Z");
        assert_eq!(timestamp(None), "-");
        assert_eq!(timestamp(Some(-1)), "-");
    }
}
