//! A lesson's goal, watched while the learner works. Nothing here holds the prompt back: a
//! learner's command answers at once, and the goal is looked at afterwards and in the
//! background (`GoalWatch`), whenever the session hears that something changed and every
//! half second otherwise. When it holds, "goal reached" is announced and the lesson moves on.
//!
//! Nothing says "not yet" unless the learner asks with `check`. `check` takes one look and says
//! which condition fails and what it found; if a group it is about is rebalancing, it says so,
//! and the watch reports again once the rebalance has settled. "stuck? try `hint`" comes once a
//! step, after a few unmet `check`s or a long idle time.

use std::time::Duration;

use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::sync::broadcast::Receiver;
use tokio::time::Instant;

use super::{Session, Verdict};
use crate::error::{Error, Result};
use crate::lesson::TryBlock;
use crate::outcome::Outcome;
use crate::report::Signal;

/// How often the goal is looked at when nothing the session hears about has changed (another
/// learner's producer, a broker-side rebalance).
const LOOK_EVERY: Duration = Duration::from_millis(500);
/// After the session hears of a change: soon, but not more often than this.
const LOOK_AFTER_CHANGE: Duration = Duration::from_millis(100);
/// Unmet `check`s on one step before the nudge.
const CHECKS_BEFORE_NUDGE: u32 = 3;
/// Idle time on a task before the nudge.
pub const IDLE_BEFORE_NUDGE: Duration = Duration::from_secs(120);

const NUDGE: &str = "stuck? try `hint`";

/// What one look at the goal found.
struct Look {
    unmet: Vec<String>,
    met: Vec<String>,
}

impl Session {
    /// The task of the lesson open at the prompt, if the current step has one. Replays check
    /// their goals themselves.
    fn watched_task(&self) -> Option<TryBlock> {
        let tutor = self.tutor.as_ref()?;
        tutor.open.as_ref().filter(|o| !o.replayed)?;
        tutor.current_try().cloned()
    }

    /// Whether there is a goal to watch.
    pub fn watching_goal(&self) -> bool {
        self.watched_task().is_some()
    }

    /// For `replay --check`, before a task's solution runs: a task whose conditions all hold
    /// already would pass without the learner doing anything, so that is a fault in the lesson,
    /// named by its file and line. A task with no checks has nothing to hold.
    pub async fn goal_needs_the_learner(&self) -> Result<()> {
        let Some(tutor) = self.tutor.as_ref() else { return Ok(()) };
        let (Some(open), Some(block)) = (tutor.open.as_ref(), tutor.current_try()) else { return Ok(()) };
        if block.checks.is_empty() {
            return Ok(());
        }
        // A condition that cannot even be looked at (a topic not made yet) does not hold.
        let Ok(look) = self.look(block).await else { return Ok(()) };
        if !look.unmet.is_empty() {
            return Ok(());
        }
        Err(Error::input(format!(
            "{}:{}: the task's goal already holds before the learner acts ({}); a try must need the learner",
            open.lesson.source,
            block.line,
            look.met.join("; ")
        )))
    }

    /// Every check of the task, once, at once.
    async fn look(&self, block: &TryBlock) -> Result<Look> {
        let mut look = Look { unmet: Vec::new(), met: Vec::new() };
        for check in &block.checks {
            let (condition, _) = check.parse()?;
            match self.check(&condition).await {
                Ok(Verdict::Holds(holds)) => look.met.push(holds),
                Ok(Verdict::NotYet(found)) => look.unmet.push(found),
                // A topic, group or consumer the learner has not made yet.
                Err(err) if err.is_bad_input() => look.unmet.push(err.to_string()),
                Err(err) => return Err(err),
            }
        }
        Ok(look)
    }

    /// The groups the task is about that are rebalancing right now, in the learner's names.
    async fn rebalancing(&self, block: &TryBlock) -> Vec<String> {
        let mut groups = Vec::new();
        for check in &block.checks {
            if let Ok((condition, _)) = check.parse() {
                if let Some(group) = self.rebalancing_group(&condition).await {
                    if !groups.contains(&group) {
                        groups.push(group);
                    }
                }
            }
        }
        groups
    }

    /// "goal reached", the picture of what the learner made where the try names one (`show:`),
    /// and the next step.
    async fn reached(&mut self, block: &TryBlock, mut said: Vec<Outcome>) -> Outcome {
        said.push(Outcome::Done(format!("goal reached: {}", block.goal.replace('`', ""))));
        if let Some(show) = &block.show {
            // The same path as the learner's own `show`; a picture that cannot be drawn now is
            // no reason to hold the lesson back.
            if let Ok(picture) = Box::pin(self.run_line(&format!("show {show}"))).await {
                said.push(picture);
            }
        }
        said.extend(self.advance_and_show());
        self.publish();
        Outcome::Many(said)
    }

    /// One look at the current goal, for the watch and after each command: "goal reached" and
    /// the next step when it holds; a promised report once a rebalance has settled; the nudge
    /// after `idle` on the task. Nothing otherwise, and nothing when the cluster cannot be asked
    /// (the learner's own commands say so).
    pub async fn look_at_goal(&mut self, idle: Duration) -> Option<Outcome> {
        let block = self.watched_task()?;
        let look = self.look(&block).await.ok()?;
        if look.unmet.is_empty() {
            return Some(self.reached(&block, Vec::new()).await);
        }
        let settling = self.tutor.as_ref()?.open.as_ref()?.settling.clone();
        if !settling.is_empty() && self.rebalancing(&block).await.is_empty() {
            self.open().ok()?.settling.clear();
            return Some(Outcome::Note(format!("the rebalance has settled; not yet: {}", look.unmet.join("; "))));
        }
        let open = self.open().ok()?;
        if idle >= IDLE_BEFORE_NUDGE && !open.nudged {
            open.nudged = true;
            return Some(Outcome::Note(NUDGE.into()));
        }
        None
    }

    /// `check`: one look, saying what holds and what does not.
    pub(super) async fn check_now(&mut self) -> Result<Outcome> {
        let block = self.watched_task().or_else(|| self.tutor.as_ref().and_then(|t| t.current_try().cloned()));
        let block = block.ok_or_else(|| Error::input("there is no task to check on this step"))?;
        let look = self.look(&block).await?;
        let said: Vec<Outcome> = look.met.into_iter().map(Outcome::Done).collect();
        if look.unmet.is_empty() {
            return Ok(self.reached(&block, said).await);
        }
        let mut said = said;
        said.push(Outcome::Note(format!("not yet: {}", look.unmet.join("; "))));
        let moving = self.rebalancing(&block).await;
        self.tutor()?.tally.failed_checks += 1;
        let open = self.open()?;
        open.failed_checks += 1;
        if !moving.is_empty() {
            let which = moving.iter().map(|g| format!("group {g}")).collect::<Vec<_>>().join(" and ");
            said.push(Outcome::Note(format!("{which} is rebalancing; you will hear when it has settled")));
            open.settling = moving;
        } else if open.failed_checks >= CHECKS_BEFORE_NUDGE && !open.nudged {
            open.nudged = true;
            said.push(Outcome::Note(NUDGE.into()));
        }
        Ok(Outcome::Many(said))
    }
}

/// Watches the current goal while a front end waits for the learner's next line.
pub struct GoalWatch {
    /// What the session hears changing; None once the session has gone.
    changes: Option<Receiver<Signal>>,
    idle_since: Instant,
}

impl GoalWatch {
    pub fn new(session: &Session) -> GoalWatch {
        GoalWatch { changes: Some(session.scene().subscribe()), idle_since: Instant::now() }
    }

    /// The learner typed something: the idle time starts again.
    pub fn input_arrived(&mut self) {
        self.idle_since = Instant::now();
    }

    /// Wait for the next thing worth announcing about the goal. Waits for ever when the step
    /// has no task. Safe to drop at any await (a `select!` with the next line does): a look
    /// changes nothing until it has finished.
    pub async fn next(&mut self, session: &mut Session) -> Outcome {
        let mut last_look = Instant::now();
        loop {
            if !session.watching_goal() {
                std::future::pending::<()>().await;
            }
            let heard = tokio::select! {
                heard = heard(&mut self.changes) => heard,
                () = tokio::time::sleep_until(last_look + LOOK_EVERY) => false,
            };
            if heard {
                tokio::time::sleep_until(last_look + LOOK_AFTER_CHANGE).await;
                // Everything heard meanwhile is covered by this look.
                while let Some(changes) = self.changes.as_mut() {
                    match changes.try_recv() {
                        Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                        Err(TryRecvError::Empty | TryRecvError::Closed) => break,
                    }
                }
            }
            last_look = Instant::now();
            if let Some(said) = session.look_at_goal(self.idle_since.elapsed()).await {
                return said;
            }
        }
    }
}

/// Wait until the session hears of a change; false (and never again) once it has gone.
async fn heard(changes: &mut Option<Receiver<Signal>>) -> bool {
    let Some(receiver) = changes.as_mut() else { return std::future::pending().await };
    match receiver.recv().await {
        Ok(_) | Err(RecvError::Lagged(_)) => true,
        Err(RecvError::Closed) => {
            *changes = None;
            false
        }
    }
}
