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

/// Text from the cluster (a key, a value, a header, a client id) as it may go to a terminal:
/// every control character, and every character that reorders text (bidirectional overrides),
/// written out as an escape, so `\x1b]0;PWNED\x07` shows as those characters instead of
/// retitling the window. A line break inside a value is shown as `\n`, so one message is one
/// line. Everything else is kept as it is.
pub fn visible(text: &str) -> Cow<'_, str> {
    fn hidden(c: char) -> bool {
        c.is_control() || matches!(c, '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    }
    if !text.chars().any(hidden) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if hidden(c) && u32::from(c) <= 0xff => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if hidden(c) => out.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A message with every long '…'-quoted part cut short: an error about a 1 MB value names
/// its start, not all of it.
pub fn clip_quotes(message: &str) -> String {
    const LONGEST: usize = 60;
    let parts: Vec<&str> = message.split('\'').collect();
    if parts.len() < 3 || parts.iter().skip(1).step_by(2).all(|p| p.chars().count() <= LONGEST) {
        return message.to_string();
    }
    let mut out = String::with_capacity(message.len().min(4096));
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            out.push('\'');
        }
        let quoted = i % 2 == 1 && i + 1 < parts.len();
        match part.char_indices().nth(40) {
            Some((at, _)) if quoted && part.chars().count() > LONGEST => {
                out.push_str(&part[..at]);
                out.push_str(&format!("… ({} characters)", part.chars().count()));
            }
            _ => out.push_str(part),
        }
    }
    out
}

/// How an error names one character: `a space`, `'/'`, or its escape for a control character.
pub fn quoted_char(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        c if c.is_control() => format!("'{}'", visible(&c.to_string())),
        c => format!("'{c}'"),
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
    fn control_characters_are_written_out() {
        assert_eq!(visible("till-1"), "till-1");
        assert_eq!(visible("\x1b]0;PWNED\x07\x1b[2J"), "\\x1b]0;PWNED\\x07\\x1b[2J");
        assert_eq!(visible("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(visible("\u{9b}31m"), "\\x9b31m");
        assert_eq!(visible("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(visible("café 🐟"), "café 🐟");
    }

    #[test]
    fn long_quoted_parts_of_messages_are_cut() {
        let long = "x".repeat(1000);
        let cut = clip_quotes(&format!("invalid value '{long}' for '--key <KEY>'"));
        assert!(cut.starts_with("invalid value 'xxxx") && cut.contains("… (1000 characters)' for '--key <KEY>'"), "{cut}");
        assert!(cut.len() < 120);
        assert_eq!(clip_quotes("unknown command 'x'"), "unknown command 'x'");
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

/// The candidate closest to a mistyped name, if one is close enough to be a useful guess
/// (Jaro-Winkler above 0.8): `order` finds `orders`, `preparer` finds `preparers`.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    // Jaro-Winkler costs the product of the two lengths.
    if word.len() > 300 {
        return None;
    }
    candidates
        .into_iter()
        .filter(|c| *c != word && c.len() <= 300)
        .map(|c| (strsim::jaro_winkler(word, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}
