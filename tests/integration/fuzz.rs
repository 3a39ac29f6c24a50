//! Bad input never crashes kafka-workshop: property tests over the tokenizer and command grammar,
//! the `expect` conditions, the secret masking and the lesson parser. `cargo test` runs a bounded
//! number of cases (PROPTEST_CASES, 2,000 by default here); `bench/fuzz.sh` runs a long campaign.

use kafka_workshop::command::{command_names, parse, Parsed};
use kafka_workshop::expect::parse_condition;
use kafka_workshop::lesson;
use kafka_workshop::security::redact_line;
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|c| c.parse().ok()).unwrap_or(2_000);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Words that make lines almost valid: flags, numbers at the edges, quotes, names, JSON, junk.
fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("--partitions".to_string()),
        Just("--count".to_string()),
        Just("--key".to_string()),
        Just("--partition".to_string()),
        Just("--from".to_string()),
        Just("--group".to_string()),
        Just("--topic".to_string()),
        Just("--every".to_string()),
        Just("--within".to_string()),
        Just("--acks".to_string()),
        Just("-X".to_string()),
        Just("--certs".to_string()),
        Just("--".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("18446744073709551616".to_string()),
        Just("-9223372036854775809".to_string()),
        Just("1e309".to_string()),
        Just("all".to_string()),
        Just("earliest".to_string()),
        Just("5s".to_string()),
        Just("\"unterminated".to_string()),
        Just("'single".to_string()),
        Just("{\"order\": ".to_string()),
        Just("orders[0,1]".to_string()),
        Just("orders[".to_string()),
        Just("a=b".to_string()),
        Just("sasl.password=x".to_string()),
        Just("\\".to_string()),
        "[a-z.-]{0,12}",
        "\\PC{0,8}",
        any::<i64>().prop_map(|n| n.to_string()),
    ]
}

fn near_valid_line() -> impl Strategy<Value = String> {
    let names = command_names();
    (prop::sample::select(names), prop::collection::vec(word(), 0..8)).prop_map(|(name, words)| {
        let mut line = name;
        for word in words {
            line.push(' ');
            line.push_str(&word);
        }
        line
    })
}

/// An error a user sees is one line; the hint, if any, is another.
fn assert_one_line(result: &kafka_workshop::error::Result<Parsed>) {
    if let Err(err) = result {
        let text = err.to_string();
        assert!(!text.contains('\n'), "a multi-line error: {text:?}");
        assert!(!text.is_empty());
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_text_parses_or_fails_with_one_line(line in "\\PC{0,120}") {
        assert_one_line(&parse(&line));
    }

    #[test]
    fn near_valid_lines_parse_or_fail_with_one_line(line in near_valid_line()) {
        assert_one_line(&parse(&line));
        let _ = redact_line(&line);
    }

    #[test]
    fn any_expect_condition_parses_or_fails_with_one_line(words in prop::collection::vec(word(), 0..7)) {
        if let Err(err) = parse_condition(&words) {
            prop_assert!(!err.to_string().contains('\n'));
        }
    }

    #[test]
    fn any_text_as_a_lesson_parses_or_lists_problems(text in "\\PC{0,400}") {
        if let Ok(parsed) = lesson::parse("fuzz.md", &text) {
            let _ = lesson::validate(&parsed);
        }
    }

    #[test]
    fn near_valid_lessons_parse_or_list_problems(
        front in prop::collection::vec(prop_oneof![Just("number: 3"), Just("number: x"), Just("title: T"), Just("minutes: -1"), Just("storage: disk"), Just("storage: persistent")], 0..4),
        blocks in prop::collection::vec((prop_oneof![Just("kafka"), Just("kafka may-fail"), Just("try"), Just("text"), Just("")], prop::collection::vec(prop_oneof![
            near_valid_line(),
            Just("goal: do it".to_string()),
            Just("hint: try".to_string()),
            Just("solution: topics".to_string()),
            Just("expect group g members 2".to_string()),
            Just("expect nonsense".to_string()),
            Just("```".to_string()),
        ], 0..5)), 0..5),
    ) {
        let mut text = format!("---\n{}\n---\n\n# Fuzz\n\n", front.join("\n"));
        for (kind, lines) in blocks {
            text.push_str(&format!("Some words.\n\n```{kind}\n{}\n```\n\n", lines.join("\n")));
        }
        match lesson::parse("fuzz.md", &text) {
            Ok(parsed) => {
                for problem in lesson::validate(&parsed) {
                    prop_assert!(problem.line >= 1 && !problem.message.is_empty());
                }
            }
            Err(problems) => prop_assert!(!problems.is_empty()),
        }
    }
}
