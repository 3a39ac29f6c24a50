//! The lesson engine: the one stepper every front end drives. It knows which lesson and step the
//! learner is on, runs a step's commands (through the same `run_line` as everything else),
//! moves on, and keeps progress. The REPL drives it with `next`, `back`, `hint` … while
//! `goal.rs` watches the current task's goal; `replay` drives it through `lesson_cue`,
//! `run_step_line`, `verify_goal` and `advance`, adding only pacing and pauses. Checks are
//! `expect` conditions: a check in a lesson and one typed at the prompt are one thing.

use std::path::PathBuf;

use super::Session;
use crate::command::Command;
use crate::error::{Error, Result, Thing};
use crate::lesson::{self, Action, Lesson, Library, TryBlock};
use crate::outcome::{Outcome, Table, Target};
use crate::progress::{self, LessonProgress, Progress};


/// What the current step asks of whoever drives the lesson.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cue {
    /// Commands the lesson runs: `run_step_line` each, then `advance`.
    Run { lines: Vec<String>, may_fail: bool },
    /// A task for the learner, with the commands that solve it for replays.
    Try(TryBlock),
    /// Narration only.
    Read,
}

/// The lesson being stepped through.
#[derive(Debug, Clone)]
pub(super) struct Open {
    pub lesson: Lesson,
    /// Opened by a replay, which runs the solutions and checks the goals itself; no progress
    /// is kept. Lessons opened at the prompt keep progress and their goals are watched.
    pub replayed: bool,
    step: usize,
    /// Whether this step's `kafka` commands have run.
    pub(super) ran: bool,
    /// Which hint `hint` shows next.
    hint: usize,
    /// `check`s on this step that found the goal unmet.
    pub failed_checks: u32,
    /// Whether "stuck? try `hint`" has been said on this step.
    pub nudged: bool,
    /// Groups a `check` found rebalancing: the watch reports once they have settled.
    pub settling: Vec<String>,
    /// The learner skipped this step's task: moving on is not reaching its goal.
    skipped: bool,
}

impl Open {
    fn new(lesson: Lesson, replayed: bool, step: usize) -> Open {
        Open {
            lesson,
            replayed,
            step,
            ran: false,
            hint: 0,
            failed_checks: 0,
            nudged: false,
            settling: Vec::new(),
            skipped: false,
        }
    }

    /// The same lesson at another step, with nothing of this step carried over.
    fn at(&self, step: usize) -> Open {
        Open::new(self.lesson.clone(), self.replayed, step)
    }
}

/// The lesson this session opened last, counted for the workshop room (`class`): it outlives
/// the lesson being open, so a learner who finished is seen to have finished.
#[derive(Debug, Clone, Default)]
pub(super) struct Tally {
    pub lesson: Option<(u32, String)>,
    pub step: usize,
    pub steps: usize,
    pub hints: u32,
    pub failed_checks: u32,
    pub goals_reached: u32,
    /// The lesson's last step was passed.
    pub finished: bool,
}

pub struct Tutor {
    lessons: Vec<Lesson>,
    pub(super) open: Option<Open>,
    pub(super) tally: Tally,
    progress: Progress,
    progress_path: Option<PathBuf>,
    /// Said once, at the first lesson command, when the progress file was unusable.
    warning: Option<String>,
}

impl Tutor {
    pub fn new(library: &Library, progress_path: Option<PathBuf>) -> Result<Self> {
        let (lessons, problems) = library.load()?;
        // One bad file costs that lesson, not the folder: the others open, and this is said.
        let left_out = problems.first().map(|(source, problem)| {
            let files: std::collections::BTreeSet<&String> = problems.iter().map(|(s, _)| s).collect();
            format!(
                "{} lesson file(s) left out for problems, first {source}:{}: {}; `kafka-workshop lessons check` lists them all",
                files.len(),
                problem.line,
                problem.message
            )
        });
        if lessons.is_empty() {
            if let Some(said) = left_out {
                return Err(Error::input(said));
            }
        }
        let (progress, saved) = match &progress_path {
            Some(path) => progress::load(path),
            None => (Progress::default(), None),
        };
        let warning = match (left_out, saved) {
            (Some(a), Some(b)) => Some(format!("{a}; {b}")),
            (a, b) => a.or(b),
        };
        Ok(Tutor { lessons, open: None, tally: Tally::default(), progress, progress_path, warning })
    }

    /// A lesson opens: the room's counts start again.
    fn opening(&mut self, open: Open) {
        self.tally = Tally { lesson: Some((open.lesson.number, open.lesson.title.clone())), ..Tally::default() };
        self.open = Some(open);
    }

    /// Where the learner is, for the workshop room. `step_since_ms` and `last_activity_ms` are
    /// the room's to fill in.
    pub(super) fn learner_progress(&self, learner: &str) -> crate::room::LearnerProgress {
        let tally = &self.tally;
        let (step, steps) = match &self.open {
            Some(open) => (open.step + 1, open.lesson.steps.len()),
            None => (tally.step, tally.steps),
        };
        let mut done: Vec<u32> = self.progress.lessons.iter().filter(|(_, p)| p.done).map(|(n, _)| *n).collect();
        if let (true, Some((number, _))) = (tally.finished, &tally.lesson) {
            if !done.contains(number) {
                done.push(*number);
                done.sort_unstable();
            }
        }
        crate::room::LearnerProgress {
            learner: learner.to_string(),
            lesson: tally.lesson.as_ref().map(|(n, _)| *n),
            title: tally.lesson.as_ref().map(|(_, t)| t.clone()),
            step,
            steps,
            open: self.open.is_some(),
            online: true,
            goal: self.current_try().map(|block| block.goal.clone()),
            goals_reached: tally.goals_reached,
            hints: tally.hints,
            failed_checks: tally.failed_checks,
            step_failed_checks: self.open.as_ref().map_or(0, |o| o.failed_checks),
            done,
            step_since_ms: 0,
            last_activity_ms: 0,
            alive_ms: 0,
            version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }

    fn save(&mut self) -> Option<String> {
        let open = self.open.as_ref().filter(|o| !o.replayed)?;
        let skipped = self.progress.lessons.get(&open.lesson.number).map(|p| p.skipped.clone()).unwrap_or_default();
        self.progress.lessons.insert(open.lesson.number, LessonProgress { step: open.step, done: false, skipped });
        let path = self.progress_path.as_ref()?;
        progress::save(path, &self.progress).err().map(|e| format!("cannot save progress to {}: {e}", path.display()))
    }

    /// `lesson 3 · step 2/7` while a lesson is open.
    fn where_label(&self) -> Option<String> {
        let open = self.open.as_ref()?;
        Some(format!("lesson {} · step {}/{}", open.lesson.number, open.step + 1, open.lesson.steps.len()))
    }

    pub(super) fn current_try(&self) -> Option<&TryBlock> {
        let open = self.open.as_ref()?;
        match &open.lesson.steps.get(open.step)?.action {
            Some(Action::Try(block)) => Some(block),
            _ => None,
        }
    }
}

fn no_lesson() -> Error {
    Error::Usage { message: "no lesson is open".into(), hint: Some("`lessons` lists them; `lesson 1` starts the first".into()) }
}

impl Session {
    pub(super) fn tutor(&mut self) -> Result<&mut Tutor> {
        if self.tutor.is_none() {
            let path = crate::paths::progress_file(self.home.as_deref());
            self.tutor = Some(Tutor::new(&self.library, path)?);
        }
        self.tutor.as_mut().ok_or_else(no_lesson)
    }

    pub(super) fn open(&mut self) -> Result<&mut Open> {
        self.tutor()?.open.as_mut().ok_or_else(no_lesson)
    }

    /// The prompt: where the learner is, if in a lesson.
    pub fn prompt(&self) -> String {
        match self.tutor.as_ref().and_then(Tutor::where_label) {
            Some(place) => format!("{place} › "),
            None => "kafka › ".into(),
        }
    }

    /// The lesson step, for the picture.
    pub(super) fn lesson_view(&self) -> Option<crate::outcome::picture::LessonView> {
        let open = self.tutor.as_ref()?.open.as_ref()?;
        let goal = match &open.lesson.steps.get(open.step)?.action {
            Some(Action::Try(block)) => Some(block.goal.clone()),
            _ => None,
        };
        Some(crate::outcome::picture::LessonView {
            heading: open.lesson.heading(),
            step: open.step + 1,
            steps: open.lesson.steps.len(),
            goal,
        })
    }

    pub fn in_lesson(&self) -> bool {
        self.tutor.as_ref().is_some_and(|t| t.open.is_some())
    }

    /// Said under the banner: where a newcomer starts, or where a returning learner left off.
    pub fn where_to_begin(&mut self) -> Option<String> {
        let tutor = self.tutor().ok()?;
        let progress = &tutor.progress;
        let first = tutor.lessons.first()?;
        if progress.lessons.is_empty() {
            return Some(format!(
                "new here? type `lesson {}` to start the course ({} lessons; `lessons` lists them)",
                first.number,
                tutor.lessons.len()
            ));
        }
        let current = progress.current.and_then(|n| tutor.lessons.iter().find(|l| l.number == n));
        if let Some(lesson) = current {
            if let Some(saved) = progress.lessons.get(&lesson.number).filter(|p| !p.done) {
                return Some(format!(
                    "welcome back: `lesson {}` continues \"{}\" at step {}/{}",
                    lesson.number,
                    lesson.title,
                    saved.step + 1,
                    lesson.steps.len()
                ));
            }
        }
        let done = |n: u32| progress.lessons.get(&n).is_some_and(|p| p.done);
        Some(match tutor.lessons.iter().find(|l| !done(l.number)) {
            Some(next) => format!("welcome back: `lesson {}` is next: \"{}\"", next.number, next.title),
            None => "welcome back: every lesson is done; `kafka-workshop replay shop-1` runs the shop's first demo".into(),
        })
    }

    pub(super) fn lessons_table(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let mut table = Table::new(["LESSON", "TITLE", "STATUS", "MINUTES"]);
        for lesson in &tutor.lessons {
            let status = match tutor.progress.lessons.get(&lesson.number) {
                Some(p) if p.done && p.skipped.is_empty() => "done".to_string(),
                Some(p) if p.done => format!(
                    "finished, {} task(s) skipped (step {})",
                    p.skipped.len(),
                    p.skipped.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
                ),
                Some(p) => format!("in progress (step {}/{})", p.step + 1, lesson.steps.len()),
                None => "not started".to_string(),
            };
            table.push([lesson.number.to_string(), lesson.title.clone(), status, lesson.minutes.to_string()]);
        }
        let mut parts: Vec<Outcome> = tutor.warning.take().into_iter().map(Outcome::Warning).collect();
        parts.push(Outcome::Table(table));
        parts.push(Outcome::Note("open one with: lesson N".into()));
        Ok(Outcome::Many(parts))
    }

    /// `lesson N`: open a lesson from the library where the learner left it.
    pub(super) fn open_lesson(&mut self, wanted: &str, facts: crate::lesson::ClusterFacts) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let lesson = lesson::find(&tutor.lessons, wanted).cloned().ok_or_else(|| {
            let known: Vec<String> = tutor.lessons.iter().map(|l| l.number.to_string()).collect();
            Error::not_found(Thing::Lesson, wanted).with_hint(format!("lessons: {} (`lessons` lists them)", known.join(", ")))
        })?;
        let saved = tutor.progress.lessons.get(&lesson.number).cloned().unwrap_or_default();
        let step = if saved.done { 0 } else { saved.step.min(lesson.steps.len().saturating_sub(1)) };
        tutor.progress.current = Some(lesson.number);
        let mut parts: Vec<Outcome> = tutor.warning.take().into_iter().map(Outcome::Warning).collect();
        let resumed = if step > 0 { format!(" (resuming at step {})", step + 1) } else { String::new() };
        parts.push(Outcome::Done(format!("{} · about {} minutes{resumed}", lesson.heading(), lesson.minutes)));
        let on_memory = matches!(&self.target, Target::Embedded { storage, .. } if storage.starts_with("memory"));
        if lesson.persistent && on_memory {
            parts.push(Outcome::Warning(
                "this lesson needs a broker that keeps its data on disk, and the embedded broker's memory storage does not: \
                 it never compacts or deletes old messages, and loses everything at `broker stop`; to see it, quit and start \
                 kafka-workshop with --data DIR (or --bootstrap-servers for Apache Kafka)"
                    .into(),
            ));
        }
        let lesson = lesson.for_cluster(facts);
        self.tutor()?.opening(Open::new(lesson, false, step));
        parts.extend(self.show_step());
        Ok(Outcome::Many(parts))
    }

    /// Open a lesson given as data (a file or a demo) for a front end that steps through it with
    /// `lesson_cue`; no progress is kept. Returns its heading.
    /// Why the cluster at hand cannot give what `lesson` needs, as one line naming it and how to
    /// get it; None when it can.
    pub async fn unmet_needs(&self, lesson: &Lesson) -> Option<Error> {
        if lesson.needs.embedded && !self.target.is_embedded() {
            return Some(Error::unsupported(
                format!(
                    "{} needs the embedded broker: it shows something only tansu does, which Apache Kafka leaves to other tools (the lesson says which)",
                    lesson.heading()
                ),
                "quit and start kafka-workshop with no cluster flags",
            ));
        }
        if lesson.needs.brokers > 1 {
            let brokers = self.connection.cluster_info().await.map_or(0, |info| info.brokers.len());
            if brokers < usize::try_from(lesson.needs.brokers).unwrap_or(usize::MAX) {
                return Some(Error::unsupported(
                    format!("{} needs {} brokers; this cluster has {brokers}", lesson.heading(), lesson.needs.brokers),
                    format!(
                        "with Java 17+ and Apache Kafka unpacked in DIR ({}): kafka-workshop --apache-kafka DIR --brokers {}",
                        crate::cluster::apache::DOWNLOAD,
                        lesson.needs.brokers
                    ),
                ));
            }
        }
        None
    }

    /// `lesson N` at the prompt: refused in one line when the cluster cannot give what it needs.
    pub(super) async fn open_lesson_here(&mut self, wanted: &str) -> Result<Outcome> {
        let lesson = self.tutor().ok().and_then(|tutor| lesson::find(&tutor.lessons, wanted).cloned());
        if let Some(lesson) = &lesson {
            if let Some(err) = self.unmet_needs(lesson).await {
                return Err(err);
            }
        }
        let facts = self.cluster_facts().await;
        self.open_lesson(wanted, facts)
    }

    /// What the lesson's blocks may ask of this cluster.
    async fn cluster_facts(&self) -> crate::lesson::ClusterFacts {
        let brokers = self.connection.cluster_info().await.map_or(1, |info| info.brokers.len());
        crate::lesson::ClusterFacts { embedded: self.target.is_embedded(), local: self.local.is_some() && self.target.is_local(), brokers }
    }

    pub async fn open_lesson_material(&mut self, lesson: Lesson) -> Result<Outcome> {
        let lesson = lesson.for_cluster(self.cluster_facts().await);
        let heading = Outcome::Done(lesson.heading());
        self.tutor()?.opening(Open::new(lesson, true, 0));
        Ok(heading)
    }

    /// The current step's narration and what it asks for; None when no lesson is open.
    pub fn lesson_cue(&self) -> Option<(String, Cue)> {
        let open = self.tutor.as_ref()?.open.as_ref()?;
        let step = open.lesson.steps.get(open.step)?;
        let cue = match &step.action {
            Some(Action::Run { lines, may_fail }) => {
                Cue::Run { lines: lines.iter().map(|(_, l)| l.clone()).collect(), may_fail: *may_fail }
            }
            Some(Action::Try(block)) => Cue::Try(block.clone()),
            None => Cue::Read,
        };
        Some((step.narration.clone(), cue))
    }

    /// Run one command of the current step. In a `may-fail` block a failure is shown and the
    /// lesson goes on.
    pub async fn run_step_line(&mut self, line: &str, may_fail: bool) -> Result<Outcome> {
        let line = &self.fill_placeholders(line).await?;
        match Box::pin(self.run_line(line)).await {
            Err(err) if may_fail => Ok(Outcome::Warning(format!(
                "this cluster cannot do that: {err}; the lesson goes on without it"
            ))),
            Ok(outcome) if may_fail => Ok(outcome.forgiven()),
            result => result,
        }
    }

    /// A step that starts consumers or producers the learner still has running from an earlier
    /// go at it (`back`, `restart-lesson`, a lesson opened again) stops them all first, so any
    /// step can be run again and finds the group as it first did.
    pub(super) async fn replace_for_step(&mut self, lines: &[String]) -> Vec<Outcome> {
        let mut notes = Vec::new();
        for line in lines {
            notes.extend(self.replace_one(line).await);
        }
        notes
    }

    async fn replace_one(&mut self, line: &str) -> Option<Outcome> {
        let Ok(crate::command::Parsed::Command(command)) = crate::command::parse(line) else { return None };
        match command {
            Command::StartConsumer(args)
                if self.consumers.get(&args.name).is_some_and(|c| c.status() == crate::actors::consumer::Status::Running) =>
            {
                self.stop_consumer(&args.name).await.ok()?;
                Some(Outcome::Note(format!("{} was still running from before: stopped, so this step starts it afresh", args.name)))
            }
            Command::StartProducer(args) if self.producers.get(&args.name).is_some_and(|p| p.stats().running) => {
                self.stop_producer(&args.name).await.ok()?;
                Some(Outcome::Note(format!("{} was still running from before: stopped, so this step starts it afresh", args.name)))
            }
            _ => None,
        }
    }

    /// The current step as the learner at the prompt should see it.
    fn show_step(&mut self) -> Vec<Outcome> {
        let Some((narration, cue)) = self.lesson_cue() else { return Vec::new() };
        let last = self.tutor.as_ref().and_then(|t| t.open.as_ref()).is_some_and(|o| o.step + 1 == o.lesson.steps.len());
        if let Some(warning) = self.tutor.as_mut().and_then(Tutor::save) {
            return vec![Outcome::Warning(warning)];
        }
        let mut parts = Vec::new();
        if !narration.is_empty() {
            parts.push(Outcome::Narration(narration));
        }
        match cue {
            Cue::Run { lines, .. } => {
                parts.extend(lines.iter().map(|l| Outcome::Preview(crate::security::redact_line(l))));
                parts.push(Outcome::Note("press Enter (or type next) to run these".into()));
            }
            Cue::Try(block) => {
                parts.push(Outcome::Goal(block.goal.clone()));
                parts.push(Outcome::Note("your turn: type commands; `hint` if stuck, `check` to check now, `skip` to move on".into()));
            }
            Cue::Read if last => parts.push(Outcome::Note("press Enter (or type next) to finish the lesson".into())),
            Cue::Read => parts.push(Outcome::Note("press Enter (or type next) to go on".into())),
        }
        parts
    }

    /// Move past the current step: to the next one, or out of a finished lesson. What it says
    /// is only the move itself; `show_step` or the front end shows the next step.
    pub fn advance(&mut self) -> Vec<Outcome> {
        let parts = self.step_on();
        self.publish();
        parts
    }

    fn step_on(&mut self) -> Vec<Outcome> {
        let Some(tutor) = self.tutor.as_mut() else { return Vec::new() };
        let Some(open) = tutor.open.as_mut() else { return Vec::new() };
        let on_task = matches!(open.lesson.steps.get(open.step).and_then(|s| s.action.as_ref()), Some(Action::Try(_)));
        if on_task && !open.skipped {
            tutor.tally.goals_reached += 1;
            // A task skipped once and done now is no longer skipped.
            if let Some(entry) = tutor.progress.lessons.get_mut(&open.lesson.number) {
                entry.skipped.retain(|s| *s != open.step + 1);
            }
        }
        tutor.tally.steps = open.lesson.steps.len();
        if open.step + 1 < open.lesson.steps.len() {
            *open = open.at(open.step + 1);
            tutor.tally.step = open.step + 1;
            return Vec::new();
        }
        let (number, title, replayed) = (open.lesson.number, open.lesson.title.clone(), open.replayed);
        tutor.open = None;
        tutor.tally.step = tutor.tally.steps;
        tutor.tally.finished = true;
        if replayed {
            return Vec::new();
        }
        let skipped = tutor.progress.lessons.get(&number).map(|p| p.skipped.clone()).unwrap_or_default();
        tutor.progress.lessons.insert(number, LessonProgress { step: 0, done: true, skipped });
        tutor.progress.current = None;
        let next = tutor.lessons.iter().find(|l| l.number > number).map(|l| format!("; next: lesson {}", l.number)).unwrap_or_default();
        let mut parts = vec![Outcome::Done(format!("lesson {number} done: {title}{next}"))];
        let saved = tutor.progress_path.as_ref().map(|path| (path.clone(), progress::save(path, &tutor.progress)));
        if let Some((path, Err(err))) = saved {
            parts.push(Outcome::Warning(format!("cannot save progress to {}: {err}", path.display())));
        }
        parts
    }

    /// Move on at the prompt: say so, and show the next step.
    pub(super) fn advance_and_show(&mut self) -> Vec<Outcome> {
        let mut parts = self.advance();
        parts.extend(self.show_step());
        parts
    }

    pub(super) async fn next_step(&mut self) -> Result<Outcome> {
        let (ran, cue) = {
            let ran = self.open()?.ran;
            (ran, self.lesson_cue().map(|(_, cue)| cue).ok_or_else(no_lesson)?)
        };
        match cue {
            Cue::Run { lines, may_fail } if !ran => {
                let mut parts = self.start_commands(&lines).await;
                for line in lines {
                    parts.push(Outcome::Typed(crate::security::redact_line(&line)));
                    match self.run_step_line(&line, may_fail).await {
                        Ok(outcome) => parts.push(outcome),
                        Err(err) => {
                            parts.push(Outcome::Failure(err));
                            return Ok(Outcome::Many(parts));
                        }
                    }
                }
                parts.extend(self.commands_ran());
                Ok(Outcome::Many(parts))
            }
            // Enter on a task asks whether it is done: `check`.
            Cue::Try(_) => self.check_now().await,
            Cue::Run { .. } | Cue::Read => Ok(Outcome::Many(self.advance_and_show())),
        }
    }

    pub(super) fn previous_step(&mut self) -> Result<Outcome> {
        let open = self.open()?;
        if open.step == 0 {
            return Ok(Outcome::Note("this is the lesson's first step".into()));
        }
        *open = open.at(open.step - 1);
        Ok(Outcome::Many(self.show_step()))
    }

    pub(super) fn hint(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let block = tutor.current_try().cloned().ok_or_else(|| Error::input("there is no task on this step: press Enter to go on"))?;
        let open = self.open()?;
        let hint = block.hints[open.hint % block.hints.len()].clone();
        open.hint += 1;
        self.tutor()?.tally.hints += 1;
        Ok(Outcome::Note(format!("hint: {hint}")))
    }

    pub(super) fn solution(&mut self) -> Result<Outcome> {
        let block = self.tutor()?.current_try().cloned().ok_or_else(|| Error::input("there is no task on this step"))?;
        let mut parts = vec![Outcome::Note("one way to do it:".into())];
        parts.extend(block.solution.iter().map(|line| Outcome::Typed(crate::lesson::placeholders::describe(line))));
        Ok(Outcome::Many(parts))
    }

    pub(super) fn skip(&mut self) -> Result<Outcome> {
        let open = self.open()?;
        open.skipped = true;
        let (number, step, replayed) = (open.lesson.number, open.step + 1, open.replayed);
        let on_task = self.tutor()?.current_try().is_some();
        if on_task && !replayed {
            let tutor = self.tutor()?;
            let entry = tutor.progress.lessons.entry(number).or_default();
            if !entry.skipped.contains(&step) {
                entry.skipped.push(step);
                entry.skipped.sort_unstable();
            }
        }
        let mut parts = vec![Outcome::Note("skipped".into())];
        parts.extend(self.advance_and_show());
        Ok(Outcome::Many(parts))
    }

    pub(super) fn restart_lesson(&mut self) -> Result<Outcome> {
        let open = self.open()?;
        *open = open.at(0);
        Ok(Outcome::Many(self.show_step()))
    }

    pub(super) fn where_am_i(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        match (tutor.where_label(), tutor.open.as_ref()) {
            (Some(label), Some(open)) => Ok(Outcome::Note(format!("{label}: {}", open.lesson.title))),
            _ => Ok(Outcome::Note("not in a lesson; `lessons` lists them".into())),
        }
    }
}
