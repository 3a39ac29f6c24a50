//! `kafka-workshop lessons check [DIR]`: every problem in every lesson and demo file, as
//! `file:line: message`.

use crate::error::{Error, Result};
use crate::lesson::{self, Library};
use crate::view::View;

/// What `lessons check` found.
pub struct Report {
    pub problems: Vec<String>,
    pub lessons: usize,
    pub demos: usize,
}

/// Check every lesson and demo file of the library: every problem of every file in one run,
/// each at its own line.
pub fn check(library: &Library) -> Result<Report> {
    let (files, unreadable) = library.files()?;
    let demos: Vec<(String, String)> = library.demo_names().iter().filter_map(|name| library.demo(name)).collect();
    let mut problems: Vec<String> = unreadable.iter().map(|(source, p)| format!("{source}:{}: {}", p.line, p.message)).collect();
    let mut numbers = std::collections::BTreeMap::new();
    let mut located = |source: &str, found: Vec<lesson::Problem>| {
        problems.extend(found.into_iter().map(|p| format!("{source}:{}: {}", p.line, p.message)));
    };
    for (source, text) in demos.iter().chain(&files) {
        let (parsed, found) = lesson::parse_all(source, text);
        located(source, found);
        located(source, lesson::validate(&parsed));
        let is_demo = demos.iter().any(|(s, _)| s == source);
        if !is_demo && parsed.number > 0 {
            if let Some(other) = numbers.insert(parsed.number, source.clone()) {
                located(source, vec![lesson::Problem { line: 1, message: format!("lesson number {} is also used by {other}", parsed.number) }]);
            }
        }
    }
    Ok(Report { problems, lessons: files.len() + unreadable.len(), demos: demos.len() })
}

/// Returns the exit code.
pub fn run(dir: Option<std::path::PathBuf>) -> i32 {
    let view = View::for_stdout(false);
    let report = match check(&Library::choose(dir)) {
        Ok(report) => report,
        Err(err) => return view.fail(&err, None),
    };
    view.show_problems(&report.problems);
    if report.problems.is_empty() {
        view.show(&crate::outcome::Outcome::Done(format!(
            "{} lesson file(s) and {} demo(s) checked, no problems",
            report.lessons, report.demos
        )));
        0
    } else {
        view.fail(&Error::unmet(format!("{} problem(s) in {} lesson file(s)", report.problems.len(), report.lessons)), None)
    }
}

/// `lessons check --replay`: every lesson and demo replayed straight through with `--check`,
/// one after another, each on its own broker (or learner, on the cluster flags' one). Returns
/// the exit code: the number that failed is said, and any failure makes it 1.
pub fn replay_all(runtime: &tokio::runtime::Runtime, dir: Option<std::path::PathBuf>, connect: &crate::cli::ConnectArgs, cli: &crate::cli::Cli) -> i32 {
    let view = View::for_stdout(false);
    let library = Library::choose(dir.clone());
    let (files, _) = match library.files() {
        Ok(found) => found,
        Err(err) => return view.fail(&err, None),
    };
    // A folder's files by path; the built-in ones by lesson number and demo name.
    let mut materials: Vec<String> = match (&dir, library.load()) {
        (Some(_), _) => files.iter().map(|(source, _)| source.clone()).collect(),
        (None, Ok((lessons, _))) => lessons.iter().map(|l| l.number.to_string()).collect(),
        (None, Err(err)) => return view.fail(&err, None),
    };
    if dir.is_none() {
        materials.extend(library.demo_names());
    }
    let mut failed = Vec::new();
    for material in &materials {
        view.show(&crate::outcome::Outcome::Note(format!("── replaying {material}")));
        let args = crate::cli::ReplayArgs {
            file: material.clone(),
            speed: "max".into(),
            no_pause: true,
            check: true,
            connect: connect.clone(),
        };
        if super::replay::replay(runtime, &args, cli) != 0 {
            failed.push(material.clone());
        }
    }
    if failed.is_empty() {
        view.show(&crate::outcome::Outcome::Done(format!("{} lesson(s) and demo(s) replayed: every solution passed, every wrong way failed", materials.len())));
        0
    } else {
        view.fail(&Error::unmet(format!("{} of {} failed their replay: {}", failed.len(), materials.len(), failed.join(", "))), None)
    }
}