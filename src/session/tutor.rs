//! The lesson engine inside a session: which lesson and step the learner is on, what `next`,
//! `back`, `hint`, `check` … do, and checking a pause's goal after every command the learner
//! types. Steps run through the same `run_line` as everything else, and checks are `expect`
//! conditions: a check in a lesson and one typed at the prompt are one thing.

use std::path::PathBuf;
use std::time::Duration;

use super::Session;
use crate::error::{Error, Result};
use crate::expect::parse_condition;
use crate::lesson::{self, Action, Lesson, Library, TryBlock};
use crate::outcome::{Outcome, Table};
use crate::progress::{self, LessonProgress, Progress};

/// How long checks wait for state to settle after a learner's command.
const SETTLE: Duration = Duration::from_secs(1);
/// After a command that makes a group rebalance, which takes the broker a few seconds.
const SETTLE_GROUP: Duration = Duration::from_secs(10);
/// How long the `check` command waits.
const CHECK_WAIT: Duration = Duration::from_secs(5);

/// The learner's place in a lesson.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Place {
    lesson: usize,
    step: usize,
    /// Whether this step's `kafka` commands have run.
    ran: bool,
    /// Which hint `hint` shows next.
    hint: usize,
}

pub struct Tutor {
    lessons: Vec<Lesson>,
    place: Option<Place>,
    progress: Progress,
    progress_path: Option<PathBuf>,
    /// Said once, at the first lesson command, when the progress file was unusable.
    warning: Option<String>,
}

impl Tutor {
    pub fn new(library: &Library, progress_path: Option<PathBuf>) -> Result<Self> {
        let (lessons, problems) = library.load()?;
        if let Some((source, problem)) = problems.first() {
            return Err(Error::input(format!("{source}:{}: {}", problem.line, problem.message)));
        }
        let (progress, warning) = match &progress_path {
            Some(path) => progress::load(path),
            None => (Progress::default(), None),
        };
        Ok(Tutor { lessons, place: None, progress, progress_path, warning })
    }

    fn save(&self) -> Option<String> {
        let path = self.progress_path.as_ref()?;
        progress::save(path, &self.progress).err().map(|e| format!("cannot save progress to {}: {e}", path.display()))
    }

    /// `lesson 3 · step 2/7` while a lesson is open.
    pub fn where_label(&self) -> Option<String> {
        let place = self.place.as_ref()?;
        let lesson = &self.lessons[place.lesson];
        Some(format!("lesson {} · step {}/{}", lesson.number, place.step + 1, lesson.steps.len()))
    }

    fn current_try(&self) -> Option<&TryBlock> {
        let place = self.place.as_ref()?;
        match &self.lessons[place.lesson].steps.get(place.step)?.action {
            Some(Action::Try(block)) => Some(block),
            _ => None,
        }
    }
}

impl Session {
    fn tutor(&mut self) -> Result<&mut Tutor> {
        if self.tutor.is_none() {
            self.tutor = Some(Tutor::new(&self.library, progress::default_path())?);
        }
        self.tutor.as_mut().ok_or_else(|| Error::input("no lessons"))
    }

    /// The prompt: where the learner is, if in a lesson.
    pub fn prompt(&self) -> String {
        match self.tutor.as_ref().and_then(Tutor::where_label) {
            Some(place) => format!("{place} › "),
            None => "kafka › ".into(),
        }
    }

    pub fn in_lesson(&self) -> bool {
        self.tutor.as_ref().is_some_and(|t| t.place.is_some())
    }

    pub(super) fn lessons_table(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let mut table = Table::new(["LESSON", "TITLE", "STATUS", "MINUTES"]);
        for lesson in &tutor.lessons {
            let status = match tutor.progress.lessons.get(&lesson.number) {
                Some(p) if p.done => "done".to_string(),
                Some(p) => format!("in progress (step {}/{})", p.step + 1, lesson.steps.len()),
                None => "not started".to_string(),
            };
            table.push([lesson.number.to_string(), lesson.title.clone(), status, lesson.minutes.to_string()]);
        }
        let mut parts = Vec::new();
        if let Some(warning) = tutor.warning.take() {
            parts.push(Outcome::Warning(warning));
        }
        parts.push(Outcome::Table(table));
        parts.push(Outcome::Note("open one with: lesson N".into()));
        Ok(Outcome::Many(parts))
    }

    pub(super) fn open_lesson(&mut self, wanted: &str) -> Result<Outcome> {
        let on_memory = matches!(&self.target, super::Target::Embedded { storage, .. } if storage.starts_with("memory"));
        let tutor = self.tutor()?;
        let index = lesson::find(&tutor.lessons, wanted)
            .and_then(|l| tutor.lessons.iter().position(|x| x.number == l.number))
            .ok_or_else(|| {
                let known: Vec<String> = tutor.lessons.iter().map(|l| l.number.to_string()).collect();
                Error::Usage { message: format!("no lesson '{wanted}'"), hint: Some(format!("lessons: {} (`lessons` lists them)", known.join(", "))) }
            })?;
        let number = tutor.lessons[index].number;
        let saved = tutor.progress.lessons.get(&number).cloned().unwrap_or_default();
        let step = if saved.done { 0 } else { saved.step.min(tutor.lessons[index].steps.len().saturating_sub(1)) };
        tutor.place = Some(Place { lesson: index, step, ran: false, hint: 0 });
        tutor.progress.current = Some(number);
        tutor.progress.lessons.entry(number).or_insert(LessonProgress { step, done: false });
        let mut parts = Vec::new();
        if let Some(warning) = tutor.warning.take() {
            parts.push(Outcome::Warning(warning));
        }
        let lesson = &tutor.lessons[index];
        let resumed = if step > 0 { format!(" (resuming at step {})", step + 1) } else { String::new() };
        parts.push(Outcome::Done(format!("lesson {}: {} · about {} minutes{resumed}", lesson.number, lesson.title, lesson.minutes)));
        if lesson.persistent && on_memory {
            parts.push(Outcome::Warning(
                "this lesson shows what the broker does to stored data over time, which the embedded broker's memory storage never does; \
                 to see it, quit and start kafka-workshop with --data DIR (or --bootstrap-servers for Apache Kafka)"
                    .into(),
            ));
        }
        parts.extend(self.show_step());
        Ok(Outcome::Many(parts))
    }

    /// The current step as the learner should see it.
    fn show_step(&mut self) -> Vec<Outcome> {
        let Some(tutor) = self.tutor.as_mut() else { return Vec::new() };
        if let Some(warning) = tutor.save() {
            return vec![Outcome::Warning(warning)];
        }
        let Some(place) = tutor.place.clone() else { return Vec::new() };
        let step = &tutor.lessons[place.lesson].steps[place.step];
        let mut parts = Vec::new();
        if !step.narration.is_empty() {
            parts.push(Outcome::Narration(step.narration.clone()));
        }
        match &step.action {
            Some(Action::Run { lines, .. }) => {
                parts.extend(lines.iter().map(|(_, l)| Outcome::Typed(crate::security::redact_line(l))));
                parts.push(Outcome::Note("press Enter (or type next) to run this".into()));
            }
            Some(Action::Try(block)) => {
                parts.push(Outcome::Goal(block.goal.clone()));
                parts.push(Outcome::Note("your turn: type commands; `hint` if stuck, `check` to check now, `skip` to move on".into()));
            }
            None => {
                let last = place.step + 1 == tutor.lessons[place.lesson].steps.len();
                parts.push(Outcome::Note(if last { "press Enter (or type next) to finish the lesson".into() } else { "press Enter (or type next) to go on".into() }));
            }
        }
        parts
    }

    fn advance(&mut self) -> Vec<Outcome> {
        let Some(tutor) = self.tutor.as_mut() else { return Vec::new() };
        let Some(place) = tutor.place.as_mut() else { return Vec::new() };
        let lesson = &tutor.lessons[place.lesson];
        let number = lesson.number;
        if place.step + 1 >= lesson.steps.len() {
            let title = lesson.title.clone();
            tutor.progress.lessons.insert(number, LessonProgress { step: 0, done: true });
            tutor.progress.current = None;
            tutor.place = None;
            let next = tutor.lessons.iter().find(|l| l.number > number).map(|l| format!("; next: lesson {}", l.number)).unwrap_or_default();
            let mut parts = vec![Outcome::Done(format!("lesson {number} done: {title}{next}"))];
            if let Some(warning) = tutor.save() {
                parts.push(Outcome::Warning(warning));
            }
            return parts;
        }
        place.step += 1;
        place.ran = false;
        place.hint = 0;
        let step = place.step;
        tutor.progress.lessons.insert(number, LessonProgress { step, done: false });
        self.show_step()
    }

    fn no_lesson() -> Error {
        Error::Usage { message: "no lesson is open".into(), hint: Some("`lessons` lists them; `lesson 1` starts the first".into()) }
    }

    pub(super) async fn next_step(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let place = tutor.place.clone().ok_or_else(Self::no_lesson)?;
        let step = tutor.lessons[place.lesson].steps[place.step].clone();
        match step.action {
            Some(Action::Run { lines, may_fail }) if !place.ran => {
                let mut parts = Vec::new();
                for (_, line) in lines {
                    parts.push(Outcome::Typed(crate::security::redact_line(&line)));
                    match Box::pin(self.run_line(&line)).await {
                        Ok(outcome) => parts.push(outcome),
                        Err(err) if may_fail => parts.push(Outcome::Warning(format!(
                            "this cluster cannot do that: {err}; the lesson goes on without it"
                        ))),
                        Err(err) => {
                            parts.push(Outcome::Failure(err));
                            return Ok(Outcome::Many(parts));
                        }
                    }
                }
                if let Some(place) = self.tutor.as_mut().and_then(|t| t.place.as_mut()) {
                    place.ran = true;
                }
                parts.extend(self.advance());
                Ok(Outcome::Many(parts))
            }
            Some(Action::Try(block)) => {
                let (met, report) = self.check_goal(&block, Duration::ZERO).await?;
                if met {
                    let mut parts = vec![Outcome::Done("goal reached".into())];
                    parts.extend(self.advance());
                    Ok(Outcome::Many(parts))
                } else {
                    Ok(Outcome::Many(vec![report, Outcome::Note("not yet: do the task, or `hint`, or `skip`".into())]))
                }
            }
            _ => Ok(Outcome::Many(self.advance())),
        }
    }

    pub(super) fn previous_step(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let place = tutor.place.as_mut().ok_or_else(Self::no_lesson)?;
        if place.step == 0 {
            return Ok(Outcome::Note("this is the lesson's first step".into()));
        }
        place.step -= 1;
        place.ran = false;
        place.hint = 0;
        let (lesson, step) = (tutor.lessons[place.lesson].number, place.step);
        tutor.progress.lessons.insert(lesson, LessonProgress { step, done: false });
        Ok(Outcome::Many(self.show_step()))
    }

    pub(super) fn hint(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let block = tutor.current_try().cloned().ok_or_else(|| Error::input("there is no task on this step: press Enter to go on"))?;
        let place = tutor.place.as_mut().ok_or_else(Self::no_lesson)?;
        let hint = block.hints[place.hint % block.hints.len()].clone();
        place.hint += 1;
        Ok(Outcome::Note(format!("hint: {hint}")))
    }

    pub(super) fn solution(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let block = tutor.current_try().cloned().ok_or_else(|| Error::input("there is no task on this step"))?;
        let mut parts = vec![Outcome::Note("one way to do it:".into())];
        parts.extend(block.solution.into_iter().map(Outcome::Typed));
        Ok(Outcome::Many(parts))
    }

    pub(super) async fn check_now(&mut self) -> Result<Outcome> {
        let block = self.tutor()?.current_try().cloned().ok_or_else(|| Error::input("there is no task to check on this step"))?;
        let (met, report) = self.check_goal(&block, CHECK_WAIT).await?;
        if met {
            let mut parts = vec![report, Outcome::Done("goal reached".into())];
            parts.extend(self.advance());
            return Ok(Outcome::Many(parts));
        }
        Ok(report)
    }

    pub(super) fn skip(&mut self) -> Result<Outcome> {
        self.tutor()?.place.as_ref().ok_or_else(Self::no_lesson)?;
        let mut parts = vec![Outcome::Note("skipped".into())];
        parts.extend(self.advance());
        Ok(Outcome::Many(parts))
    }

    pub(super) fn restart_lesson(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        let place = tutor.place.as_mut().ok_or_else(Self::no_lesson)?;
        *place = Place { lesson: place.lesson, step: 0, ran: false, hint: 0 };
        let number = tutor.lessons[place.lesson].number;
        tutor.progress.lessons.insert(number, LessonProgress::default());
        Ok(Outcome::Many(self.show_step()))
    }

    pub(super) fn where_am_i(&mut self) -> Result<Outcome> {
        let tutor = self.tutor()?;
        match (tutor.where_label(), tutor.place.as_ref()) {
            (Some(label), Some(place)) => Ok(Outcome::Note(format!("{label}: {}", tutor.lessons[place.lesson].title))),
            _ => Ok(Outcome::Note("not in a lesson; `lessons` lists them".into())),
        }
    }

    /// After a learner's own command on a pause: if the goal now holds, move on.
    pub(super) async fn after_command(&mut self, rebalances: bool) -> Vec<Outcome> {
        let Some(block) = self.tutor.as_ref().and_then(Tutor::current_try).cloned() else { return Vec::new() };
        let settle = if rebalances { SETTLE_GROUP } else { SETTLE };
        match self.check_goal(&block, settle).await {
            Ok((true, _)) => {
                let mut parts = vec![Outcome::Done(format!("goal reached: {}", block.goal))];
                parts.extend(self.advance());
                parts
            }
            Ok((false, report)) => {
                let hint = self.hint().ok();
                let mut parts = vec![report];
                parts.extend(hint);
                parts
            }
            Err(err) => vec![Outcome::Warning(format!("could not check the goal: {err}"))],
        }
    }

    /// Every check of a pause, waiting up to `wait` for them to hold together.
    async fn check_goal(&self, block: &TryBlock, wait: Duration) -> Result<(bool, Outcome)> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let mut unmet = Vec::new();
            let mut met = Vec::new();
            for check in &block.checks {
                let words: Vec<String> = check.split_whitespace().take_while(|w| !w.starts_with("--")).map(str::to_string).collect();
                let condition = parse_condition(&words)?;
                match self.check(&condition).await? {
                    Ok(holds) => met.push(holds),
                    Err(found) => unmet.push(found),
                }
            }
            if unmet.is_empty() {
                return Ok((true, Outcome::Many(met.into_iter().map(Outcome::Done).collect())));
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok((false, Outcome::Note(format!("not yet: {}", unmet.join("; ")))));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}
