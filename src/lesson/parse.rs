//! The lesson file format, read with a real Markdown parser: front matter, a title, narration,
//! and the `kafka`, `kafka may-fail` and `try` blocks that make the steps.

use std::path::Path;

use pulldown_cmark::{CodeBlockKind, Event, HeadingLevel, MetadataBlockKind, Options, Parser, Tag, TagEnd};

use super::{Action, Check, Lesson, Problem, Step, TryBlock};

/// What the Markdown holds, before the front matter is read.
#[derive(Default)]
struct Scan {
    /// Front matter blocks with their first line.
    meta: Vec<(usize, String)>,
    /// The first `#` heading.
    heading: Option<String>,
    steps: Vec<Step>,
}

/// A fenced block being read: its language, where it starts, its first line, its text.
struct Fence {
    lang: String,
    only: Option<super::Only>,
    start: usize,
    first_line: usize,
    body: String,
}

/// What the front matter says.
struct FrontMatter {
    number: Option<u32>,
    title: Option<String>,
    minutes: u32,
    persistent: bool,
    needs: super::Needs,
}

/// Parse one lesson file. Problems that stop it being a lesson at all come back as `Err`.
pub fn parse(source: &str, text: &str) -> std::result::Result<Lesson, Vec<Problem>> {
    let (lesson, problems) = parse_all(source, text);
    if problems.is_empty() {
        Ok(lesson)
    } else {
        Err(problems)
    }
}

/// The lesson as far as it can be read, and every problem found on the way: `lessons check`
/// reports them all, and checks the commands of a lesson that has other problems too.
pub fn parse_all(source: &str, text: &str) -> (Lesson, Vec<Problem>) {
    let mut problems = Vec::new();
    let scan = scan(text, &mut problems);
    let front = front_matter(&scan.meta, &mut problems);
    let title = front.title.or(scan.heading);
    if title.is_none() {
        problems.push(Problem { line: 1, message: "no title: add `title:` to the front matter or a `# heading`".into() });
    }
    if scan.steps.iter().all(|s| s.action.is_none()) {
        problems.push(Problem { line: 1, message: "no ```kafka or ```try block: a lesson must do something".into() });
    }
    let name = Path::new(source)
        .file_stem()
        .map(|s| s.to_string_lossy().trim_start_matches(|c: char| c.is_ascii_digit() || c == '-').to_string())
        .unwrap_or_default();
    let lesson = Lesson {
        number: front.number.unwrap_or(0),
        name,
        title: title.unwrap_or_default(),
        minutes: front.minutes,
        persistent: front.persistent,
        needs: front.needs,
        steps: scan.steps,
        source: source.to_string(),
    };
    (lesson, problems)
}

/// Walk the Markdown: front matter, the first heading, and a step at each action block.
fn scan(text: &str, problems: &mut Vec<Problem>) -> Scan {
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let mut found = Scan::default();
    let mut in_meta = false;
    let mut heading: Option<String> = None;
    let mut narration_start = 0usize;
    let mut fence: Option<Fence> = None;
    let options = Options::ENABLE_YAML_STYLE_METADATA_BLOCKS | Options::ENABLE_TABLES;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => in_meta = true,
            Event::End(TagEnd::MetadataBlock(_)) => {
                in_meta = false;
                narration_start = range.end;
            }
            Event::Text(t) if in_meta => found.meta.push((line_of(range.start), t.to_string())),
            Event::Start(Tag::Heading { level: HeadingLevel::H1, .. }) if found.heading.is_none() => heading = Some(String::new()),
            Event::End(TagEnd::Heading(_)) if heading.is_some() => found.heading = heading.take().map(|h| h.trim().to_string()),
            Event::Text(t) | Event::Code(t) if heading.is_some() => heading.iter_mut().for_each(|h| h.push_str(&t)),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let words: Vec<&str> = info.split_whitespace().collect();
                let mut lang = words.first().copied().unwrap_or("").to_string();
                if lang == "kafka" && words.contains(&"may-fail") {
                    lang = "kafka may-fail".into();
                }
                let only = words.iter().skip(1).find_map(|word| super::Only::parse(word));
                fence = Some(Fence { lang, only, start: range.start, first_line: line_of(range.start) + 1, body: String::new() });
            }
            Event::Text(t) if fence.is_some() => fence.iter_mut().for_each(|f| f.body.push_str(&t)),
            Event::End(TagEnd::CodeBlock) => {
                let Some(block) = fence.take() else { continue };
                if !closed(&text[block.start..range.end.min(text.len())]) {
                    problems.push(Problem {
                        line: block.first_line - 1,
                        message: format!("this ```{} block is never closed: end it with a line of ```", block.lang),
                    });
                }
                // Any other code block is part of the narration.
                if let Some(action) = action(&block, problems) {
                    let narration = text[narration_start..block.start].trim().to_string();
                    found.steps.push(Step { narration, action: Some(action), only: block.only });
                    narration_start = range.end;
                }
            }
            _ => {}
        }
    }
    let rest = text[narration_start.min(text.len())..].trim();
    if !rest.is_empty() {
        found.steps.push(Step { narration: rest.to_string(), action: None, only: None });
    }
    found
}

/// Whether a fenced block's source ends with a closing fence as long as its opening one.
/// pulldown-cmark ends an unclosed block at the end of the file, taking the rest of the lesson
/// into it without a word.
fn closed(block: &str) -> bool {
    let opening = block.trim_start();
    let mark = opening.chars().next().filter(|c| matches!(c, '`' | '~')).unwrap_or('`');
    let width = opening.chars().take_while(|&c| c == mark).count();
    let mut lines = block.trim_end().lines();
    lines.next();
    lines.next_back().is_some_and(|last| {
        let last = last.trim();
        last.chars().take_while(|&c| c == mark).count() >= width && last.chars().all(|c| c == mark)
    })
}

fn action(fence: &Fence, problems: &mut Vec<Problem>) -> Option<Action> {
    match fence.lang.as_str() {
        "say" => {
            if fence.only.is_none() {
                problems.push(Problem {
                    line: fence.first_line - 1,
                    message: "a ```say block names where it is shown: apache-kafka, embedded, local or brokers-N".into(),
                });
            }
            None
        }
        "kafka" => Some(Action::Run { lines: run_lines(&fence.body, fence.first_line), may_fail: false }),
        "kafka may-fail" => Some(Action::Run { lines: run_lines(&fence.body, fence.first_line), may_fail: true }),
        "try" => Some(Action::Try(try_block(&fence.body, fence.first_line, problems))),
        _ => None,
    }
}

fn front_matter(meta: &[(usize, String)], problems: &mut Vec<Problem>) -> FrontMatter {
    let mut front = FrontMatter { number: None, title: None, minutes: 5, persistent: false, needs: super::Needs::default() };
    for (line, block) in meta {
        for (offset, entry) in block.lines().enumerate() {
            let Some((key, value)) = entry.split_once(':') else { continue };
            let value = value.trim().trim_matches('"');
            let mut problem = |message: String| problems.push(Problem { line: line + offset, message });
            match key.trim() {
                "number" => match value.parse() {
                    Ok(n) => front.number = Some(n),
                    Err(_) => problem(format!("number must be a whole number, got '{value}'")),
                },
                "title" => front.title = Some(value.to_string()),
                "minutes" => match value.parse() {
                    Ok(n) => front.minutes = n,
                    Err(_) => problem(format!("minutes must be a whole number, got '{value}'")),
                },
                "storage" => match value {
                    "persistent" => front.persistent = true,
                    "memory" => front.persistent = false,
                    _ => problem(format!("storage is persistent or memory, got '{value}'")),
                },
                "needs" => {
                    for need in value.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                        let words: Vec<&str> = need.split_whitespace().collect();
                        match words.as_slice() {
                            ["embedded", "broker"] | ["embedded"] => front.needs.embedded = true,
                            [n, "brokers" | "broker"] if n.parse::<u32>().is_ok() => front.needs.brokers = n.parse().unwrap_or(0),
                            _ => problem(format!("needs is `embedded broker` or `N brokers` (comma-separated), got '{need}'")),
                        }
                    }
                }
                _ => {}
            }
        }
    }
    front
}

fn run_lines(body: &str, first_line: usize) -> Vec<(usize, String)> {
    body.lines()
        .enumerate()
        .map(|(i, l)| (first_line + i, l.trim().to_string()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn try_block(body: &str, first_line: usize, problems: &mut Vec<Problem>) -> TryBlock {
    let fence_line = first_line.saturating_sub(1).max(1);
    let mut block =
        TryBlock { line: fence_line, goal: String::new(), checks: Vec::new(), hints: Vec::new(), solution: Vec::new(), may_fail: Vec::new(), wrong: Vec::new(), show: None };
    for (i, raw) in body.lines().enumerate() {
        let line = raw.trim();
        let number = first_line + i;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(goal) = line.strip_prefix("goal:") {
            block.goal = goal.trim().to_string();
        } else if let Some(check) = line.strip_prefix("expect ") {
            block.checks.push(Check { line: number, text: check.trim().to_string() });
        } else if let Some(hint) = line.strip_prefix("hint:") {
            block.hints.push(hint.trim().to_string());
        } else if let Some(solution) = line.strip_prefix("solution may-fail:") {
            block.may_fail.push(block.solution.len());
            block.solution.push(solution.trim().to_string());
        } else if let Some(solution) = line.strip_prefix("solution:") {
            block.solution.push(solution.trim().to_string());
        } else if let Some(show) = line.strip_prefix("show:") {
            match crate::command::parse(&format!("show {}", show.trim())) {
                Ok(crate::command::Parsed::Command(crate::command::Command::Show(_))) => block.show = Some(show.trim().to_string()),
                _ => problems.push(Problem { line: number, message: format!("show: takes what `show` takes (TOPIC, group G), not '{}'", show.trim()) }),
            }
        } else if let Some(wrong) = line.strip_prefix("wrong:") {
            let wrong = super::WrongWay::parse(number, wrong);
            if wrong.commands.is_empty() {
                problems.push(Problem { line: number, message: "this wrong: line has no command".into() });
            } else {
                block.wrong.push(wrong);
            }
        } else {
            problems.push(Problem {
                line: number,
                message: format!("a try block holds goal:, expect, hint:, solution:, wrong: and show: lines, not '{line}'"),
            });
        }
    }
    let missing = [
        (block.goal.is_empty(), "this try block has no goal: line"),
        (block.checks.is_empty(), "this try block has no expect line, so nothing can be checked"),
        (block.hints.is_empty(), "this try block has no hint: line"),
        (block.solution.is_empty(), "this try block has no solution: line for replays"),
    ];
    for (absent, message) in missing {
        if absent {
            problems.push(Problem { line: fence_line, message: message.into() });
        }
    }
    block
}
