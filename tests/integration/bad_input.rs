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
