//! The bad-input corpus (`tests/corpus/bad-lines.txt`): every bad line gets a one-line error
//! (and at most a one-line hint), never a panic or a stack trace, and a non-zero exit in
//! script mode. Also bad bytes and missing files given on the command line.

use std::time::Duration;

use crate::harness::{run_with, Run};

fn assert_clean_failure(what: &str, out: &Run, code: i32, said: &str) {
    assert_eq!(out.code, code, "{what}\nstdout:\n{}\nstderr:\n{}", out.stdout, out.stderr);
    assert!(!out.stderr.contains("panicked") && !out.stderr.contains("backtrace"), "{what}: {}", out.stderr);
    let lines: Vec<&str> = out.stderr.lines().collect();
    let errors: Vec<&&str> = lines.iter().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{what}: one error line\n{}", out.stderr);
    assert!(errors[0].contains(said), "{what}: wanted '{said}' in {:?}", errors[0]);
    let others = lines.iter().filter(|l| !l.starts_with("error:") && !l.trim_start().starts_with("hint:")).count();
    assert_eq!(others, 0, "{what}: only an error and a hint\n{}", out.stderr);
}

#[test]
fn every_bad_line_in_the_corpus_gets_a_one_line_error_and_a_non_zero_exit() {
    let corpus = include_str!("corpus/bad-lines.txt");
    let cases: Vec<(String, String, i32, String)> = corpus
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| {
            let fields: Vec<&str> = l.split(" ⟶ ").collect();
            assert_eq!(fields.len(), 4, "malformed corpus line {l:?}");
            let code = fields[2].trim().parse().unwrap_or_else(|_| panic!("no exit code in {l:?}"));
            (fields[0].trim().replace("\\n", "\n"), fields[1].to_string(), code, fields[3].trim().to_string())
        })
        .collect();
    assert!(cases.len() >= 30);
    let handles: Vec<_> = cases
        .into_iter()
        .map(|(setup, bad, code, said)| {
            std::thread::spawn(move || {
                let setup_lines = setup.lines().filter(|l| !l.is_empty()).count();
                let script = if setup.is_empty() { format!("{bad}\n") } else { format!("{setup}\n{bad}\n") };
                let out = run_with(&[], &script, Duration::from_secs(60));
                (bad, code, said, setup_lines, out)
            })
        })
        .collect();
    for handle in handles {
        let (bad, code, said, setup_lines, out) = handle.join().unwrap();
        assert_clean_failure(&bad, &out, code, &said);
        assert!(out.stderr.starts_with(&format!("error: line {}: ", setup_lines + 1)), "{bad}: names the line\n{}", out.stderr);
    }
}

#[test]
fn invalid_utf8_is_refused_in_one_line() {
    let dir = crate::harness::temp_dir("bytes");
    let script = dir.path().join("bad.kw");
    std::fs::write(&script, b"topics\nproduce t \xff\xfe\n").unwrap();
    let out = run_with(&["--script", script.to_str().unwrap()], "", Duration::from_secs(30));
    assert_clean_failure("invalid UTF-8", &out, 2, "line 2: the line is not valid UTF-8");
}

#[test]
fn missing_files_are_named() {
    let out = run_with(&["--script", "/nonexistent/demo.kw"], "", Duration::from_secs(30));
    assert_clean_failure("--script", &out, 2, "cannot open script /nonexistent/demo.kw");
    let out = run_with(&["replay", "/nonexistent/lesson.md"], "", Duration::from_secs(30));
    assert_clean_failure("replay", &out, 2, "no file, lesson or demo named '/nonexistent/lesson.md'");
    let out = run_with(&["-b", "localhost:9092", "--certs", "/nonexistent"], "topics\n", Duration::from_secs(30));
    assert_clean_failure("--certs", &out, 2, "--certs /nonexistent: no such folder");
    let out = run_with(&[], "record /nonexistent/dir/x.md\n", Duration::from_secs(30));
    assert_clean_failure("record", &out, 1, "cannot write /nonexistent/dir/x.md");
}

/// What a neighbour on a shared cluster can write into a topic: escapes that retitle the
/// window, clear the screen and colour the rest of the terminal.
const HOSTILE: &str = "\u{1b}]0;PWNED\u{7}\u{1b}[2J\u{1b}[31m";

#[test]
fn terminal_escapes_in_keys_values_and_headers_are_shown_escaped() {
    let script = format!(
        "create-topic t\n\
         start-consumer c --group g --topic t --from earliest --follow\n\
         expect consumer c assigned t[0] --within 20s\n\
         produce t '{HOSTILE}v' --key '{HOSTILE}k' --header 'h={HOSTILE}'\n\
         expect consumer c received 1 --within 20s\n\
         read t\n\
         show t group g\n\
         describe-group g\n"
    );
    let out = crate::harness::run(&script);
    out.assert_ok();
    assert!(!out.stdout.contains('\u{1b}') && !out.stdout.contains('\u{7}'), "a raw escape reached the terminal:\n{:?}", out.stdout);
    assert!(!out.stderr.contains('\u{1b}'), "{:?}", out.stderr);
    let read = out.table(&["PARTITION", "OFFSET", "TIMESTAMP", "KEY", "VALUE", "HEADERS"]);
    assert_eq!(read[0][3], "\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31mk");
    assert_eq!(read[0][4], "\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31mv");
    assert_eq!(read[0][5], "h=\\x1b]0;PWNED\\x07\\x1b[2J\\x1b[31m");
    // The event line of the consumer that follows the topic, and the picture's key legend.
    assert!(out.stdout.contains("c ▸ t[0]@0 key=\\x1b]0;PWNED"), "{}", out.stdout);
    assert!(out.stdout.contains("keys: A=\\x1b]0;PWNED\\x07"), "{}", out.stdout);
    // --json keeps the bytes as stored: JSON escapes them itself.
    let json = crate::harness::run_with(&["--json"], &script, Duration::from_secs(60));
    json.assert_ok();
    assert!(json.stdout.contains("\\u001b]0;PWNED\\u0007"), "{}", json.stdout);
}

#[test]
fn an_error_about_a_huge_line_quotes_only_its_start() {
    let huge = "x".repeat(1 << 20);
    for line in [huge.clone(), format!("create-topic t --partitions {huge}"), format!("produce t {huge} --acks {huge}")] {
        let out = run_with(&[], &format!("{line}\n"), Duration::from_secs(60));
        assert_eq!(out.code, 2, "{}", &out.stderr[..out.stderr.len().min(300)]);
        assert!(out.stderr.len() < 600, "the error repeats the line: {} bytes", out.stderr.len());
        assert!(out.elapsed < Duration::from_secs(20), "took {:?}", out.elapsed);
    }
}

/// Errors say what the learner did wrong: a near-miss topic name is named, and a consumer that
/// joined a near-miss group is pointed out when the group is short of members.
#[test]
fn near_misses_are_named_in_errors_and_checks() {
    let mut shop = crate::harness::Workshop::start();
    shop.script(
        "create-topic orders --partitions 2
         start-consumer p1 --group preparers --topic orders
         start-consumer p2 --group preparer --topic orders
         expect consumer p2 assigned orders[0,1] --within 30s",
    );
    let missing = shop.fails("produce order x");
    assert_eq!(missing.to_string(), "topic 'order' does not exist");
    assert!(missing.hint().unwrap_or_default().contains("did you mean 'orders'?"), "{:?}", missing.hint());
    let short = shop.fails("expect group preparers members 2 --within 1s");
    assert!(short.to_string().contains("found 1 (your consumer p2 joined group 'preparer', not 'preparers')"), "{short}");
    // A partition that does not exist is said so, not as librdkafka's "Unknown partition".
    let absent = shop.fails("expect partition payments[0] end-offset 1 --within 1s");
    assert!(absent.to_string().contains("topic 'payments' does not exist"), "{absent}");
}
