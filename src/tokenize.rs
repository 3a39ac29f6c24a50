//! Splits one typed or scripted line into words the way a POSIX shell would: single and double
//! quotes group words (so JSON with spaces survives), backslashes escape, `#` starts a comment.

use crate::error::{Error, Result};

/// The words of `line`, or an error a user can act on. An empty or comment-only line gives no words.
pub fn tokenize(line: &str) -> Result<Vec<String>> {
    if line.contains('\0') {
        return Err(Error::usage("the line contains a NUL byte"));
    }
    shlex::split(line).ok_or_else(|| Error::Usage {
        message: "unterminated quote or trailing backslash".into(),
        hint: Some("close the quote: produce orders '{\"order\": 1}'".into()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_quotes_keep_json_whole() {
        assert_eq!(
            tokenize(r#"produce orders '{"order": 1, "till": 3}'"#).unwrap(),
            vec!["produce", "orders", r#"{"order": 1, "till": 3}"#]
        );
    }

    #[test]
    fn double_quotes_and_escapes() {
        assert_eq!(tokenize(r#"produce t "a b" c\ d"#).unwrap(), vec!["produce", "t", "a b", "c d"]);
    }

    #[test]
    fn comments_and_blank_lines_give_nothing() {
        assert!(tokenize("   ").unwrap().is_empty());
        assert!(tokenize("# a comment").unwrap().is_empty());
    }

    #[test]
    fn unterminated_quote_is_a_usage_error() {
        let err = tokenize("produce t 'oops").unwrap_err();
        assert!(matches!(err, Error::Usage { .. }));
        assert!(err.to_string().contains("unterminated"));
    }
}
