//! Lessons are data: Markdown files, parsed with a real Markdown parser into steps.
//!
//! A lesson is split at its fenced code blocks. Each step is the narration since the previous
//! block, followed by at most one action: a ```` ```kafka ```` block of commands the lesson
//! runs, or a ```` ```try ```` block where the learner must act until its checks pass. The format
//! is documented in `lessons/README.md`.

use std::path::{Path, PathBuf};

use include_dir::{include_dir, Dir};
use pulldown_cmark::{CodeBlockKind, Event, MetadataBlockKind, Options, Parser, Tag, TagEnd};

use crate::command::{self, Parsed};
use crate::error::{Error, Result};
use crate::expect::parse_condition;

/// The lessons shipped inside the binary, so `cargo install` needs no files beside it.
static BUILT_IN: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/lessons");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lesson {
    pub number: u32,
    /// Short name used in `lesson NAME` (the file name without `.md` and its number prefix).
    pub name: String,
    pub title: String,
    pub minutes: u32,
    /// `storage: persistent` in the front matter: on the embedded broker the lesson needs
    /// SQLite storage (compaction and retention only run there), so a replay starts one.
    pub persistent: bool,
    pub steps: Vec<Step>,
    /// Where it came from, for error messages.
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Markdown to show before the action.
    pub narration: String,
    pub action: Option<Action>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Commands the lesson runs, one a line, each with its line number in the file. In a
    /// ```` ```kafka may-fail ```` block a command may fail on a cluster that lacks a feature
    /// (transactions on the embedded broker, say): the failure is shown and the lesson goes on.
    Run { lines: Vec<(usize, String)>, may_fail: bool },
    Try(TryBlock),
}

/// A pause: the learner acts until every check holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TryBlock {
    /// The line of the block's opening fence, for problems found in it.
    pub line: usize,
    pub goal: String,
    /// `expect` lines without the word `expect`, e.g. `group preparers members 2`.
    pub checks: Vec<String>,
    pub hints: Vec<String>,
    pub solution: Vec<String>,
}

/// A problem in a lesson file, with the line it is on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub message: String,
}

/// Parse one lesson file. Problems that stop it being a lesson at all come back as `Err`.
pub fn parse(source: &str, text: &str) -> std::result::Result<Lesson, Vec<Problem>> {
    let mut problems = Vec::new();
    let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
    let mut meta = Vec::new();
    let mut in_meta = false;
    let mut title_from_heading: Option<String> = None;
    let mut in_heading = false;
    let mut heading_text = String::new();
    let mut steps = Vec::new();
    let mut narration_start = 0usize;
    let mut code: Option<(String, usize, usize, String)> = None; // (lang, start offset, first line, body)

    let options = Options::ENABLE_YAML_STYLE_METADATA_BLOCKS | Options::ENABLE_TABLES;
    for (event, range) in Parser::new_ext(text, options).into_offset_iter() {
        match event {
            Event::Start(Tag::MetadataBlock(MetadataBlockKind::YamlStyle)) => in_meta = true,
            Event::End(TagEnd::MetadataBlock(_)) => {
                in_meta = false;
                narration_start = range.end;
            }
            Event::Text(t) if in_meta => meta.push((line_of(range.start), t.to_string())),
            Event::Start(Tag::Heading { level: pulldown_cmark::HeadingLevel::H1, .. }) if title_from_heading.is_none() => {
                in_heading = true;
                heading_text.clear();
            }
            Event::End(TagEnd::Heading(_)) if in_heading => {
                in_heading = false;
                title_from_heading = Some(heading_text.trim().to_string());
            }
            Event::Text(t) | Event::Code(t) if in_heading => heading_text.push_str(&t),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(info))) => {
                let mut words = info.split_whitespace();
                let mut lang = words.next().unwrap_or("").to_string();
                if lang == "kafka" && words.any(|w| w == "may-fail") {
                    lang = "kafka may-fail".into();
                }
                code = Some((lang, range.start, line_of(range.start) + 1, String::new()));
            }
            Event::Text(t) if code.is_some() => {
                if let Some((_, _, _, body)) = code.as_mut() {
                    body.push_str(&t);
                }
            }
            Event::End(TagEnd::CodeBlock) => {
                let Some((lang, start, first_line, body)) = code.take() else { continue };
                let action = match lang.as_str() {
                    "kafka" => Some(Action::Run { lines: run_lines(&body, first_line), may_fail: false }),
                    "kafka may-fail" => Some(Action::Run { lines: run_lines(&body, first_line), may_fail: true }),
                    "try" => Some(Action::Try(try_block(&body, first_line, &mut problems))),
                    // Any other code block is part of the narration.
                    _ => None,
                };
                if let Some(action) = action {
                    steps.push(Step { narration: text[narration_start..start].trim().to_string(), action: Some(action) });
                    narration_start = range.end;
                }
            }
            _ => {}
        }
    }
    let rest = text[narration_start.min(text.len())..].trim();
    if !rest.is_empty() {
        steps.push(Step { narration: rest.to_string(), action: None });
    }

    let mut number = None;
    let mut title = title_from_heading;
    let mut minutes = 5;
    let mut persistent = false;
    for (line, block) in meta {
        for (offset, entry) in block.lines().enumerate() {
            let Some((key, value)) = entry.split_once(':') else { continue };
            let value = value.trim().trim_matches('"');
            match key.trim() {
                "number" => match value.parse() {
                    Ok(n) => number = Some(n),
                    Err(_) => problems.push(Problem { line: line + offset, message: format!("number must be a whole number, got '{value}'") }),
                },
                "title" => title = Some(value.to_string()),
                "minutes" => match value.parse() {
                    Ok(n) => minutes = n,
                    Err(_) => problems.push(Problem { line: line + offset, message: format!("minutes must be a whole number, got '{value}'") }),
                },
                "storage" => match value {
                    "persistent" => persistent = true,
                    "memory" => persistent = false,
                    _ => problems.push(Problem { line: line + offset, message: format!("storage is persistent or memory, got '{value}'") }),
                },
                _ => {}
            }
        }
    }
    let name = Path::new(source)
        .file_stem()
        .map(|s| s.to_string_lossy().trim_start_matches(|c: char| c.is_ascii_digit() || c == '-').to_string())
        .unwrap_or_default();
    if title.is_none() {
        problems.push(Problem { line: 1, message: "no title: add `title:` to the front matter or a `# heading`".into() });
    }
    if steps.iter().all(|s| s.action.is_none()) {
        problems.push(Problem { line: 1, message: "no ```kafka or ```try block: a lesson must do something".into() });
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(Lesson {
        number: number.unwrap_or(0),
        name,
        title: title.unwrap_or_default(),
        minutes,
        persistent,
        steps,
        source: source.to_string(),
    })
}

fn run_lines(body: &str, first_line: usize) -> Vec<(usize, String)> {
    body.lines()
        .enumerate()
        .map(|(i, l)| (first_line + i, l.trim().to_string()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

fn try_block(body: &str, first_line: usize, problems: &mut Vec<Problem>) -> TryBlock {
    let mut block =
        TryBlock { line: first_line.saturating_sub(1).max(1), goal: String::new(), checks: Vec::new(), hints: Vec::new(), solution: Vec::new() };
    for (i, raw) in body.lines().enumerate() {
        let line = raw.trim();
        let number = first_line + i;
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(goal) = line.strip_prefix("goal:") {
            block.goal = goal.trim().to_string();
        } else if let Some(check) = line.strip_prefix("expect ") {
            block.checks.push(check.trim().to_string());
        } else if let Some(hint) = line.strip_prefix("hint:") {
            block.hints.push(hint.trim().to_string());
        } else if let Some(solution) = line.strip_prefix("solution:") {
            block.solution.push(solution.trim().to_string());
        } else {
            problems.push(Problem { line: number, message: format!("a try block holds goal:, expect, hint: and solution: lines, not '{line}'") });
        }
    }
    if block.goal.is_empty() {
        problems.push(Problem { line: first_line - 1, message: "this try block has no goal: line".into() });
    }
    if block.checks.is_empty() {
        problems.push(Problem { line: first_line - 1, message: "this try block has no expect line, so nothing can be checked".into() });
    }
    if block.hints.is_empty() {
        problems.push(Problem { line: first_line - 1, message: "this try block has no hint: line".into() });
    }
    if block.solution.is_empty() {
        problems.push(Problem { line: first_line - 1, message: "this try block has no solution: line for replays".into() });
    }
    block
}

/// Everything `lessons check` looks at beyond parsing: commands that the grammar rejects and
/// checks that are not conditions.
pub fn validate(lesson: &Lesson) -> Vec<Problem> {
    let mut problems = Vec::new();
    for step in &lesson.steps {
        match &step.action {
            Some(Action::Run { lines, .. }) => problems.extend(lines.iter().filter_map(|(line, text)| command_problem(*line, text))),
            Some(Action::Try(block)) => {
                problems.extend(block.solution.iter().filter_map(|text| command_problem(block.line, text)));
                for check in &block.checks {
                    let condition: Vec<String> =
                        check.split_whitespace().take_while(|w| !w.starts_with("--")).map(str::to_string).collect();
                    if let Err(err) = parse_condition(&condition) {
                        problems.push(Problem { line: block.line, message: format!("`expect {check}`: {err}") });
                    }
                }
            }
            None => {}
        }
    }
    problems
}

fn command_problem(line: usize, text: &str) -> Option<Problem> {
    match command::parse(text) {
        Ok(Parsed::Command(_) | Parsed::Empty | Parsed::Help(_)) => None,
        Err(err) => Some(Problem { line, message: format!("`{text}`: {err}") }),
    }
}

/// Where lessons come from: the built-in set, or an instructor's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Library {
    BuiltIn,
    Folder(PathBuf),
}

impl Library {
    /// `--lessons DIR`, else `KAFKA_WORKSHOP_LESSONS`, else the built-in lessons.
    pub fn choose(folder: Option<PathBuf>) -> Self {
        folder
            .or_else(|| std::env::var_os("KAFKA_WORKSHOP_LESSONS").map(PathBuf::from))
            .map_or(Library::BuiltIn, Library::Folder)
    }

    /// Every lesson file as (name, text), sorted by name. README.md is not a lesson.
    pub fn files(&self) -> Result<Vec<(String, String)>> {
        let mut files = match self {
            Library::BuiltIn => BUILT_IN
                .files()
                .filter(|f| is_lesson_file(f.path()))
                .filter_map(|f| Some((f.path().display().to_string(), f.contents_utf8()?.to_string())))
                .collect::<Vec<_>>(),
            Library::Folder(dir) => {
                let entries = std::fs::read_dir(dir).map_err(|e| Error::input(format!("cannot read lessons folder {}: {e}", dir.display())))?;
                let mut files = Vec::new();
                for entry in entries.flatten() {
                    let path = entry.path();
                    if is_lesson_file(&path) {
                        let text = std::fs::read_to_string(&path).map_err(|e| Error::input(format!("cannot read {}: {e}", path.display())))?;
                        files.push((path.display().to_string(), text));
                    }
                }
                files
            }
        };
        files.sort();
        Ok(files)
    }

    /// Every lesson that parses, in number order, and the problems of those that do not.
    pub fn load(&self) -> Result<(Vec<Lesson>, Vec<(String, Problem)>)> {
        let mut lessons = Vec::new();
        let mut problems = Vec::new();
        for (source, text) in self.files()? {
            match parse(&source, &text) {
                Ok(lesson) => lessons.push(lesson),
                Err(found) => problems.extend(found.into_iter().map(|p| (source.clone(), p))),
            }
        }
        lessons.sort_by_key(|l| l.number);
        Ok((lessons, problems))
    }
}

fn is_lesson_file(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "md")
        && path.file_name().is_some_and(|n| n != "README.md")
        && path.parent().is_none_or(|p| !p.ends_with("demos"))
}

impl Library {
    /// A built-in demo (`lessons/demos/NAME.md`) as (source, text), when there is one.
    pub fn demo(&self, name: &str) -> Option<(String, String)> {
        let path = format!("demos/{name}.md");
        match self {
            Library::BuiltIn => BUILT_IN.get_file(&path).and_then(|f| Some((path.clone(), f.contents_utf8()?.to_string()))),
            Library::Folder(dir) => {
                let file = dir.join(&path);
                std::fs::read_to_string(&file).ok().map(|text| (file.display().to_string(), text))
            }
        }
    }

    /// Names of the demos shipped with the lessons.
    pub fn demo_names(&self) -> Vec<String> {
        let mut names: Vec<String> = match self {
            Library::BuiltIn => BUILT_IN
                .get_dir("demos")
                .map(|d| d.files().filter_map(|f| f.path().file_stem().map(|s| s.to_string_lossy().into_owned())).collect())
                .unwrap_or_default(),
            Library::Folder(dir) => std::fs::read_dir(dir.join("demos"))
                .map(|entries| {
                    entries
                        .flatten()
                        .filter(|e| e.path().extension().is_some_and(|x| x == "md"))
                        .filter_map(|e| e.path().file_stem().map(|s| s.to_string_lossy().into_owned()))
                        .collect()
                })
                .unwrap_or_default(),
        };
        names.sort();
        names
    }
}

/// Find a lesson by number ("3") or by name ("consumer-groups").
pub fn find<'a>(lessons: &'a [Lesson], wanted: &str) -> Option<&'a Lesson> {
    match wanted.parse::<u32>() {
        Ok(number) => lessons.iter().find(|l| l.number == number),
        Err(_) => lessons.iter().find(|l| l.name == wanted || l.title.eq_ignore_ascii_case(wanted)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "---\nnumber: 9\ntitle: Sample\nminutes: 4\n---\n\nIntro with **bold**.\n\n```kafka\ncreate-topic t\n# a comment\nproduce t x\n```\n\nNow you.\n\n```try\ngoal: Send one more.\nexpect partition t[0] end-offset 2\nhint: use produce\nsolution: produce t y\n```\n\n## Recap\n\nDone.\n";

    #[test]
    fn splits_at_code_blocks() {
        let lesson = parse("lessons/09-sample.md", SAMPLE).unwrap();
        assert_eq!((lesson.number, lesson.title.as_str(), lesson.minutes, lesson.name.as_str()), (9, "Sample", 4, "sample"));
        assert_eq!(lesson.steps.len(), 3);
        assert_eq!(lesson.steps[0].narration, "Intro with **bold**.");
        assert_eq!(
            lesson.steps[0].action,
            Some(Action::Run { lines: vec![(10, "create-topic t".into()), (12, "produce t x".into())], may_fail: false })
        );
        let Some(Action::Try(block)) = &lesson.steps[1].action else { panic!("no try") };
        assert_eq!(block.checks, ["partition t[0] end-offset 2"]);
        assert_eq!(block.solution, ["produce t y"]);
        assert!(lesson.steps[2].narration.starts_with("## Recap"));
        assert!(validate(&lesson).is_empty());
    }

    #[test]
    fn problems_name_their_line() {
        let broken = SAMPLE.replace("hint: use produce\n", "").replace("expect partition", "expext partition");
        let problems = parse("x.md", &broken).unwrap_err();
        assert!(problems.iter().any(|p| p.line == 19 && p.message.contains("expext")), "{problems:?}");
        assert!(problems.iter().any(|p| p.message.contains("no hint")), "{problems:?}");
    }

    #[test]
    fn validation_catches_unknown_commands_and_bad_checks() {
        let lesson = parse("x.md", &SAMPLE.replace("produce t x", "prodce t x").replace("end-offset 2", "end-offset two")).unwrap();
        let problems = validate(&lesson);
        assert!(problems.iter().any(|p| p.line == 12 && p.message.contains("unknown command 'prodce'")), "{problems:?}");
        assert!(problems.iter().any(|p| p.message.contains("'two'")), "{problems:?}");
    }

    #[test]
    fn built_in_lessons_parse_and_validate() {
        let (lessons, problems) = Library::BuiltIn.load().unwrap();
        assert!(problems.is_empty(), "{problems:?}");
        assert!(!lessons.is_empty());
        for lesson in &lessons {
            assert!(validate(lesson).is_empty(), "{}: {:?}", lesson.source, validate(lesson));
        }
    }
}
