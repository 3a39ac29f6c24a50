//! `kafka-workshop replay` and `kafka-workshop lessons check`. A replay types each command at a
//! human pace (for a speaker) or runs straight through (for CI), through the same
//! `Session::run_line` as the REPL; `--check` turns every pause's checks into `expect` commands.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::cli::ReplayArgs;
use crate::error::{Error, Result};
use crate::lesson::{self, Action, Library};
use crate::outcome::{Event, Outcome};
use crate::session::{Quiet, Session};
use crate::view::View;

/// What the replay is made of.
enum Material {
    Lesson(lesson::Lesson),
    Script(Vec<String>),
}

fn load(file: &str, library: &Library) -> Result<Material> {
    let path = Path::new(file);
    let (source, text) = if path.exists() {
        let text = std::fs::read_to_string(path).map_err(|e| Error::input(format!("cannot read {file}: {e}")))?;
        (file.to_string(), text)
    } else if let Some(demo) = library.demo(file) {
        demo
    } else {
        let files = library.files()?;
        let (lessons, _) = library.load()?;
        let found = lesson::find(&lessons, file).ok_or_else(|| Error::Usage {
            message: format!("no file, lesson or demo named '{file}'"),
            hint: Some(format!("demos: {}; lessons: 1 to {}", library.demo_names().join(", "), lessons.len())),
        })?;
        files.into_iter().find(|(s, _)| *s == found.source).ok_or_else(|| Error::input(format!("lesson '{file}' vanished")))?
    };
    if source.ends_with(".md") {
        return lesson::parse(&source, &text).map(Material::Lesson).map_err(|problems| {
            let first = &problems[0];
            Error::input(format!("{source}:{}: {}", first.line, first.message))
        });
    }
    Ok(Material::Script(text.lines().map(str::to_string).collect()))
}

/// Seconds per character at speed 1, roughly a person typing steadily.
const TYPING: f64 = 0.045;

struct Player<'a> {
    runtime: &'a Runtime,
    session: Session,
    view: View,
    delay: Option<Duration>,
    pause: bool,
    check: bool,
    events: Option<std::sync::mpsc::Receiver<Event>>,
    jitter: u64,
}

impl Player<'_> {
    fn show(&self, outcome: &Outcome) {
        let mut out = std::io::stdout().lock();
        let _ = out.write_all(self.view.render(outcome).as_bytes());
        let _ = out.flush();
    }

    fn flush_events(&self) {
        if let Some(events) = &self.events {
            let mut out = std::io::stdout().lock();
            for event in events.try_iter() {
                let _ = out.write_all(self.view.event(&event).as_bytes());
            }
        }
    }

    /// Show `line` being typed at the prompt, then run it.
    fn type_and_run(&mut self, line: &str) -> Result<()> {
        // A secret in a -X setting is run but never shown.
        let shown = crate::security::redact_line(line);
        match self.delay {
            None => self.show(&Outcome::Typed(shown)),
            Some(per_char) => {
                let mut out = std::io::stdout();
                let _ = write!(out, "kafka › ");
                for c in shown.chars() {
                    let _ = write!(out, "{c}");
                    let _ = out.flush();
                    // A little unevenness, as real typing has.
                    self.jitter = self.jitter.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
                    let factor = 0.5 + ((self.jitter >> 33) % 100) as f64 / 100.0;
                    std::thread::sleep(per_char.mul_f64(factor));
                }
                let _ = writeln!(out);
            }
        }
        let result = self.runtime.block_on(self.session.run_line(line));
        let mut outcome = result?;
        // A speaker at a terminal gets the live shop board until a key is pressed; its events
        // were on the board, so they are not printed again.
        if matches!(outcome, Outcome::Board(_)) && self.pause && self.view.interactive && std::io::stdin().is_terminal() {
            if let Err(err) = crate::repl::live_board(&self.session, self.view) {
                self.show(&Outcome::Warning(format!("cannot draw the shop: {err}")));
            }
            if let Some(events) = &self.events {
                events.try_iter().for_each(drop);
            }
            outcome = self.session.shop_board();
        }
        self.flush_events();
        self.show(&outcome);
        match outcome.failure() {
            Some(err) => Err(err.clone()),
            None => Ok(()),
        }
    }

    fn wait_for_enter(&self, what: &str) {
        if !self.pause || !std::io::stdin().is_terminal() {
            return;
        }
        self.show(&Outcome::Note(format!("(paused: press Enter to {what})")));
        let mut line = String::new();
        let _ = std::io::stdin().read_line(&mut line);
    }

    fn play(&mut self, material: Material) -> Result<()> {
        match material {
            Material::Script(lines) => {
                for line in lines {
                    let line = line.trim();
                    if line.is_empty() || line.starts_with('#') {
                        continue;
                    }
                    self.type_and_run(line)?;
                }
            }
            Material::Lesson(lesson) => {
                let heading = if lesson.number > 0 { format!("lesson {}: {}", lesson.number, lesson.title) } else { lesson.title.clone() };
                self.show(&Outcome::Done(heading));
                for step in lesson.steps {
                    if !step.narration.is_empty() {
                        self.show(&Outcome::Narration(step.narration.clone()));
                    }
                    match step.action {
                        Some(Action::Run { lines, may_fail }) => {
                            for (_, line) in lines {
                                match self.type_and_run(&line) {
                                    Err(err) if may_fail => self.show(&Outcome::Warning(format!(
                                        "this cluster cannot do that: {err}; the lesson goes on without it"
                                    ))),
                                    result => result?,
                                }
                            }
                        }
                        Some(Action::Try(block)) => {
                            self.show(&Outcome::Goal(block.goal.clone()));
                            self.wait_for_enter("run the solution");
                            for line in &block.solution {
                                self.type_and_run(line)?;
                            }
                            if self.check {
                                for check in &block.checks {
                                    self.type_and_run(&format!("expect {check}"))?;
                                }
                            }
                        }
                        None => {}
                    }
                }
            }
        }
        Ok(())
    }
}

/// Returns the process exit code.
pub fn replay(runtime: &Runtime, args: &ReplayArgs, cli: &crate::cli::Cli) -> i32 {

    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let view = View { color, interactive: color };
    let fail = |err: &Error| {
        eprint!("{}", view.error(err, None));
        err.exit_code()
    };
    let delay = match args.speed.as_str() {
        "max" | "0" => None,
        raw => match raw.parse::<f64>() {
            Ok(speed) if speed > 0.0 => Some(Duration::from_secs_f64(TYPING / speed)),
            _ => return fail(&Error::input(format!("--speed takes a positive number or max, got '{raw}'"))),
        },
    };
    let library = Library::choose(cli.lessons.clone());
    let material = match load(&args.file, &library) {
        Ok(material) => material,
        Err(err) => return fail(&err),
    };
    // A lesson that needs persistent storage gets an embedded broker on SQLite in a scratch
    // folder, unless the user chose a cluster or a folder.
    let scratch = match &material {
        Material::Lesson(lesson) if lesson.persistent && args.connect.bootstrap_servers.is_none() && args.connect.data.is_none() => {
            let dir = std::env::temp_dir().join(format!("kafka-workshop-replay-{}", std::process::id()));
            Some(dir)
        }
        _ => None,
    };
    let mut options = match crate::connect_options(cli, &args.connect, &Quiet, false) {
        Ok(options) => options,
        Err(err) => return fail(&err),
    };
    options.data = options.data.or_else(|| scratch.clone());
    let mut session = match runtime.block_on(Session::connect(&options, std::sync::Arc::new(Quiet))) {
        Ok(session) => session,
        Err(err) => {
            if let Some(dir) = &scratch {
                let _ = std::fs::remove_dir_all(dir);
            }
            return fail(&err);
        }
    };
    match (cli.shop_speed, delay) {
        (Some(speed), _) => session.set_shop_speedup(speed),
        // Straight through: the shop's clock runs ten times faster too.
        (None, None) => session.set_shop_speedup(10.0),
        (None, Some(_)) => {}
    }
    let events = session.take_events();
    let mut player = Player { runtime, session, view, delay, pause: !args.no_pause, check: args.check, events, jitter: 42 };
    let code = match player.play(material) {
        Ok(()) => 0,
        Err(err) => fail(&err),
    };
    runtime.block_on(player.session.shutdown());
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    code
}

/// `lessons check [DIR]`: every problem as `file:line: message`. Returns the exit code.
pub fn check_lessons(dir: Option<std::path::PathBuf>) -> i32 {
    let library = Library::choose(dir);
    let files = match library.files() {
        Ok(files) => files,
        Err(err) => {
            eprintln!("error: {err}");
            return 2;
        }
    };
    let mut problems = Vec::new();
    let mut numbers = std::collections::BTreeMap::new();
    let demos: Vec<(String, String)> = library.demo_names().iter().filter_map(|name| library.demo(name)).collect();
    for (source, text) in &demos {
        match lesson::parse(source, text) {
            Ok(demo) => problems.extend(lesson::validate(&demo).into_iter().map(|p| format!("{source}:{}: {}", p.line, p.message))),
            Err(found) => problems.extend(found.into_iter().map(|p| format!("{source}:{}: {}", p.line, p.message))),
        }
    }
    for (source, text) in &files {
        match lesson::parse(source, text) {
            Ok(lesson) => {
                for problem in lesson::validate(&lesson) {
                    problems.push(format!("{source}:{}: {}", problem.line, problem.message));
                }
                if let Some(other) = numbers.insert(lesson.number, source.clone()) {
                    problems.push(format!("{source}:1: lesson number {} is also used by {other}", lesson.number));
                }
            }
            Err(found) => problems.extend(found.into_iter().map(|p| format!("{source}:{}: {}", p.line, p.message))),
        }
    }
    for problem in &problems {
        eprintln!("{problem}");
    }
    if problems.is_empty() {
        println!("ok: {} lesson file(s) and {} demo(s) checked, no problems", files.len(), demos.len());
        0
    } else {
        eprintln!("error: {} problem(s) in {} lesson file(s)", problems.len(), files.len());
        1
    }
}
