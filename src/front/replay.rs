//! `kafka-workshop replay`: a lesson or a script typed out at a human pace (for a speaker) or run
//! straight through (for CI). A lesson is stepped by the session's tutor, the same stepper the
//! REPL uses; the replay adds only pacing, pauses (or `--no-pause`, which runs each task's
//! solution) and `--check`, which fails the replay when a task's checks do not hold.

use std::path::Path;
use std::time::Duration;

use tokio::runtime::Runtime;

use crate::cli::{Cli, ReplayArgs};
use crate::error::{Error, Result, Thing};
use crate::lesson::{self, Library};
use crate::outcome::{Event, Outcome};
use crate::report::Quiet;
use crate::session::{Cue, Session};
use crate::view::terminal::Typist;
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
        let (files, _) = library.files()?;
        let (lessons, _) = library.load()?;
        let found = lesson::find(&lessons, file).ok_or_else(|| {
            let demos = library.demo_names().join(", ");
            Error::not_found(Thing::Material, file).with_hint(format!("demos: {demos}; lessons: 1 to {}", lessons.len()))
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
    /// Types each command at a pace; None runs straight through.
    typist: Option<Typist>,
    pause: bool,
    check: bool,
    events: Option<std::sync::mpsc::Receiver<Event>>,
}

impl Player<'_> {
    fn flush_events(&self) {
        if let Some(events) = &self.events {
            self.view.show_events(events.try_iter());
        }
    }

    /// Show `line` being typed at the prompt, then run it (a failure in a `may-fail` block is a
    /// warning, as in the REPL).
    fn type_and_run(&mut self, line: &str, may_fail: bool) -> Result<()> {
        // A secret in a -X setting is run but never shown.
        let shown = crate::security::redact_line(&crate::session::describe_lesson_line(line));
        match &mut self.typist {
            None => self.view.show(&Outcome::Typed(shown)),
            Some(typist) => typist.type_line(&shown),
        }
        let outcome = self.runtime.block_on(self.session.run_step_line(line, may_fail))?;
        if matches!(outcome, Outcome::Live(_)) && self.pause {
            // A speaker at a terminal gets the live view until a key is pressed; its events were
            // on it, so they are not printed again.
            super::present(self.runtime, &mut self.session, self.view, outcome.clone(), &mut String::new());
            if let Some(events) = &self.events {
                events.try_iter().for_each(drop);
            }
        } else if matches!(outcome, Outcome::Live(_)) {
            self.flush_events();
            self.view.show(&outcome);
        } else {
            self.flush_events();
            super::present(self.runtime, &mut self.session, self.view, outcome.clone(), &mut String::new());
        }
        outcome.failure().map_or(Ok(()), |err| Err(err.clone()))
    }

    fn play(&mut self, material: Material) -> Result<()> {
        match material {
            Material::Script(lines) => {
                for line in lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty() && !l.starts_with('#')) {
                    self.type_and_run(line, false)?;
                }
                Ok(())
            }
            Material::Lesson(lesson) => self.step_through(lesson),
        }
    }

    /// Step through a lesson with the tutor, running each task's solution when it pauses.
    fn step_through(&mut self, lesson: lesson::Lesson) -> Result<()> {
        // On a cluster that cannot give what the lesson needs, it says so and is not played.
        if let Some(unmet) = self.runtime.block_on(self.session.unmet_needs(&lesson)) {
            let hint = unmet.hint().map(|h| format!("; {h}")).unwrap_or_default();
            self.view.show(&Outcome::Warning(format!("{unmet}{hint}")));
            return Ok(());
        }
        let heading = self.runtime.block_on(self.session.open_lesson_material(lesson.clone()))?;
        self.view.show(&heading);
        while let Some((narration, cue)) = self.session.lesson_cue() {
            if !narration.is_empty() {
                self.view.show(&Outcome::Narration(narration));
            }
            match cue {
                Cue::Run { lines, may_fail } => {
                    for line in &lines {
                        self.type_and_run(line, may_fail)?;
                    }
                }
                Cue::Try(block) => {
                    self.view.show(&Outcome::Goal(block.goal.clone()));
                    if self.check {
                        self.runtime.block_on(self.session.goal_needs_the_learner())?;
                    }
                    if self.pause {
                        self.view.pause("run the solution");
                    }
                    for (n, line) in block.solution.iter().enumerate() {
                        self.type_and_run(line, block.may_fail.contains(&n))?;
                    }
                    if self.check {
                        let verified = self.runtime.block_on(self.session.verify_goal())?;
                        self.flush_events();
                        self.view.show(&verified);
                        if let Some(err) = verified.failure() {
                            return Err(err.clone());
                        }
                    }
                    // What the learner sees when the goal is reached, typed as they could.
                    if let Some(show) = &block.show {
                        self.type_and_run(&format!("show {show}"), true)?;
                    }
                }
                Cue::Read => {}
            }
            let moved = self.session.advance();
            self.view.show(&Outcome::Many(moved));
        }
        if self.check {
            self.play_wrong_ways(&lesson)?;
        }
        Ok(())
    }

    /// Every `wrong:` line of every task, each on a fresh learner who replays the lesson up to
    /// that task and then makes the mistake: the task's goal must not be reached. Each is
    /// watched for as long as the task's checks would wait, so a slow way to the goal (an
    /// auto-commit, a session timeout) has time to show.
    fn play_wrong_ways(&mut self, lesson: &lesson::Lesson) -> Result<()> {
        // Two replays on one cluster without learner names still keep apart.
        let base = self.session.learner().map_or_else(|| format!("rehearsal{}", std::process::id()), str::to_string);
        let tasks: Vec<(usize, lesson::TryBlock)> = lesson
            .steps
            .iter()
            .enumerate()
            .filter_map(|(n, step)| match &step.action {
                Some(lesson::Action::Try(block)) => Some((n, block.clone())),
                _ => None,
            })
            .collect();
        for (step, block) in tasks {
            for (n, wrong) in block.wrong.iter().enumerate() {
                let letter = char::from(b'a' + u8::try_from(n % 26).unwrap_or(0));
                let learner = format!("{base}-w{}{letter}", step + 1);
                let result = self.rehearse(lesson, step, wrong, &learner);
                // Whatever happened, the rehearsal learner's topics and groups go.
                self.runtime.block_on(self.session.clean_up_learner());
                self.discard_events();
                result?;
            }
        }
        Ok(())
    }

    fn rehearse(&mut self, lesson: &lesson::Lesson, target: usize, wrong: &lesson::WrongWay, learner: &str) -> Result<()> {
        let shown = wrong.commands.join(" ; ");
        let at = format!("{}:{}", lesson.source, wrong.line);
        let broken = |err: Error| Error::unmet(format!("{at}: could not replay the lesson up to the wrong way `{shown}`: {err}"));
        let runtime = self.runtime;
        runtime.block_on(self.session.become_fresh_learner(learner)).map_err(broken)?;
        runtime.block_on(self.session.open_lesson_material(lesson.clone())).map_err(broken)?;
        let mut step = 0;
        let block = loop {
            let Some((_, cue)) = self.session.lesson_cue() else {
                return Err(broken(Error::input("the lesson ended first")));
            };
            match cue {
                // A task whose block is left out on this cluster has no goal to miss.
                Cue::Try(block) if step == target => break Some(block),
                _ if step == target => break None,
                Cue::Run { lines, may_fail } => {
                    for line in &lines {
                        let outcome = runtime.block_on(self.session.run_step_line(line, may_fail)).map_err(broken)?;
                        if let Some(err) = outcome.failure() {
                            return Err(broken(err.clone()));
                        }
                    }
                }
                Cue::Try(block) => {
                    for (n, line) in block.solution.iter().enumerate() {
                        let outcome = runtime.block_on(self.session.run_step_line(line, block.may_fail.contains(&n))).map_err(broken)?;
                        if let Some(err) = outcome.failure() {
                            return Err(broken(err.clone()));
                        }
                    }
                    let verified = runtime.block_on(self.session.verify_goal()).map_err(broken)?;
                    if let Some(err) = verified.failure() {
                        return Err(broken(err.clone()));
                    }
                }
                Cue::Read => {}
            }
            self.session.advance();
            step += 1;
        };
        let Some(block) = block else { return Ok(()) };
        // The mistake: its commands may fail, as a learner's do.
        for line in &wrong.commands {
            let _ = runtime.block_on(self.session.run_step_line(line, false));
        }
        self.watch_wrong_way(lesson, &block, wrong)
    }

    /// Watch the task's goal after a wrong way, for as long as its checks would wait.
    fn watch_wrong_way(&mut self, lesson: &lesson::Lesson, block: &lesson::TryBlock, wrong: &lesson::WrongWay) -> Result<()> {
        let runtime = self.runtime;
        let shown = wrong.commands.join(" ; ");
        let at = format!("{}:{}", lesson.source, wrong.line);
        let window = block.checks.iter().filter_map(|c| c.parse().ok().and_then(|(_, within)| within)).max().unwrap_or(WRONG_WAY_WATCH);
        let deadline = std::time::Instant::now() + window;
        let found = loop {
            let (reached, found) = runtime.block_on(self.session.goal_now()).unwrap_or_else(|e| (false, vec![e.to_string()]));
            if reached {
                return Err(Error::unmet(format!(
                    "{at}: the wrong way `{shown}` reaches the goal \"{}\" ({}): the try does not prove the learner did the idea",
                    block.goal,
                    found.join("; ")
                )));
            }
            if std::time::Instant::now() >= deadline {
                break found;
            }
            std::thread::sleep(Duration::from_millis(250));
        };
        let unmet = found.iter().find(|f| f.starts_with("not yet: ")).or(found.first()).cloned().unwrap_or_default();
        self.view.show(&Outcome::Done(format!("wrong way at {at} (`{shown}`) does not reach the goal: {}", unmet.trim_start_matches("not yet: "))));
        Ok(())
    }

    /// What a rehearsal's actors said is not part of the replay's story.
    fn discard_events(&self) {
        if let Some(events) = &self.events {
            events.try_iter().for_each(drop);
        }
    }
}

/// How long a wrong way is watched when the task's checks give no `--within`: long enough for
/// an auto-commit (librdkafka commits every 5 s) or a session timeout (6 s here) to show.
const WRONG_WAY_WATCH: Duration = Duration::from_secs(10);

/// Returns the process exit code.
pub fn replay(runtime: &Runtime, args: &ReplayArgs, cli: &Cli) -> i32 {
    let view = View::for_replay();
    let typist = match args.speed.as_str() {
        "max" | "0" => None,
        raw => match raw.parse::<f64>() {
            Ok(speed) if speed > 0.0 => Some(Typist::new(Duration::from_secs_f64(TYPING / speed))),
            _ => return view.fail(&Error::input(format!("--speed takes a positive number or max, got '{raw}'")), None),
        },
    };
    let library = Library::choose(cli.lessons.clone());
    let material = match load(&args.file, &library) {
        Ok(material) => material,
        Err(err) => return view.fail(&err, None),
    };
    // A lesson that needs persistent storage gets an embedded broker on SQLite in a scratch
    // folder, unless the user chose a cluster or a folder.
    let scratch = match &material {
        Material::Lesson(lesson) if lesson.persistent && no_cluster_chosen(&args.connect.over(&cli.connect)) => {
            Some(std::env::temp_dir().join(format!("kafka-workshop-replay-{}", std::process::id())))
        }
        _ => None,
    };
    let mut options = super::connect_options(cli, &args.connect, &Quiet, View { interactive: false, ..view });
    options.data = options.data.or_else(|| scratch.clone());
    let code = match runtime.block_on(Session::connect(&options, std::sync::Arc::new(Quiet))) {
        Ok(session) => play(runtime, session, view, typist, args, cli, material),
        Err(err) => view.fail(&err, None),
    };
    if let Some(dir) = scratch {
        let _ = std::fs::remove_dir_all(dir);
    }
    code
}

fn play(
    runtime: &Runtime,
    mut session: Session,
    view: View,
    typist: Option<Typist>,
    args: &ReplayArgs,
    cli: &Cli,
    material: Material,
) -> i32 {
    match (cli.shop_speed, &typist) {
        (Some(speed), _) => session.set_shop_speedup(speed),
        // Straight through: the shop's clock runs twenty times faster too.
        (None, None) => session.set_shop_speedup(20.0),
        (None, Some(_)) => {}
    }
    if let Some(seed) = cli.shop_seed {
        session.set_shop_seed(seed);
    }
    if let Some(listen) = cli.web {
        let served = super::serve_web(runtime, &mut session, Some(listen));
        view.show(&served);
        if let Some(err) = served.failure() {
            return view.fail(err, None);
        }
    }
    let events = session.take_events();
    let mut player = Player { runtime, session, view, typist, pause: !args.no_pause, check: args.check, events };
    let code = match player.play(material) {
        Ok(()) => 0,
        Err(err) => view.fail(&err, None),
    };
    runtime.block_on(player.session.shutdown());
    code
}

/// No cluster flag says where to run, so the lesson would get the memory-only embedded broker.
fn no_cluster_chosen(connect: &crate::cli::ConnectArgs) -> bool {
    connect.bootstrap_servers.is_none() && connect.data.is_none() && connect.apache_kafka.is_none()
}
