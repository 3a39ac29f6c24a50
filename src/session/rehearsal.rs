//! What a front end that drives a lesson itself needs: a `kafka` step's commands one at a time
//! (so each one's output and what it makes the actors say come out in order), each task's
//! checks after its solution (`replay --check`), and, for a task's wrong ways, a session that
//! becomes a fresh learner on the same cluster and looks at the goal once.

use super::tutor::Tutor;
use super::{Session, Verdict};
use crate::error::{Error, Result};
use crate::outcome::Outcome;

/// How long a replay's check waits when the lesson gives no `--within` (as `expect` does).
const EXPECT_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

impl Session {
    /// The current step's commands, if it is a `kafka` step whose commands have not run yet,
    /// and whether they may fail: Enter at the prompt runs them one at a time with
    /// `start_commands`, `run_step_line` and `commands_ran`.
    pub fn pending_commands(&self) -> Option<(Vec<String>, bool)> {
        let open = self.tutor.as_ref()?.open.as_ref()?;
        if open.ran {
            return None;
        }
        match self.lesson_cue()?.1 {
            super::Cue::Run { lines, may_fail } => Some((lines, may_fail)),
            _ => None,
        }
    }

    /// Before a step's commands run: stop what an earlier go at the step left running.
    pub async fn start_commands(&mut self, lines: &[String]) -> Vec<Outcome> {
        self.replace_for_step(lines).await
    }

    /// After every command of the step ran: the lesson moves on and shows the next step.
    pub fn commands_ran(&mut self) -> Vec<Outcome> {
        if let Ok(open) = self.open() {
            open.ran = true;
        }
        self.advance_and_show()
    }

    /// For `replay --check`'s wrong ways: stop and forget everything this session started, and
    /// carry on as a fresh learner `name` on the same cluster, with no lesson open, as someone
    /// who starts the lesson anew would. The cluster, the lessons and the shop's pace stay.
    pub async fn become_fresh_learner(&mut self, name: &str) -> Result<()> {
        let namespace = super::Namespace::new(name)?;
        self.forget_all_actors().await;
        let (pace, seed) = (self.shop.pace, self.shop.seed);
        self.shop = crate::actors::shop::Shop::new(self.events.clone());
        self.shop.pace = pace;
        self.shop.seed = seed;
        self.broker_restarts = 0;
        self.downed.clear();
        self.sends = std::sync::Mutex::default();
        self.batches = std::sync::Mutex::default();
        self.seeks = std::sync::Mutex::default();
        // A rehearsal is no learner of the workshop room's: the one this session was leaves it.
        self.leave_room(std::time::Duration::from_millis(500));
        self.room = None;
        self.namespace = Some(namespace);
        self.private = true;
        if let Some(tutor) = self.tutor.as_mut() {
            tutor.open = None;
        }
        self.scene.update(|stage| {
            stage.topics.clear();
            stage.groups.clear();
        });
        self.publish();
        Ok(())
    }

    /// After a wrong way: stop what the rehearsal learner started and delete its topics and
    /// groups, so that a replay leaves nothing on a shared cluster but what the lesson made.
    /// Best effort: a group whose killed member the coordinator still counts stays.
    pub async fn clean_up_learner(&mut self) {
        self.forget_all_actors().await;
        // A wrong way may have taken a broker down: the next learner finds every one up.
        self.start_every_broker().await;
        let Some(namespace) = self.namespace.clone() else { return };
        if let Ok(groups) = self.connection.groups(None).await {
            for group in groups.into_iter().filter(|g| namespace.owns(&g.name)) {
                let _ = self.connection.delete_group(&group.name).await;
            }
        }
        if let Ok(info) = self.connection.cluster_info().await {
            for topic in info.topics.iter().filter(|t| namespace.owns(&t.name)) {
                let _ = self.connection.delete_topic(&topic.name).await;
            }
        }
        self.scene.update(|stage| {
            stage.topics.clear();
            stage.groups.clear();
        });
    }

    /// The learner this session is, if it has a name.
    pub fn learner(&self) -> Option<&str> {
        self.namespace.as_ref().map(super::Namespace::learner)
    }

    /// One look at the current task: whether every check holds, and what each found.
    pub async fn goal_now(&self) -> Result<(bool, Vec<String>)> {
        let block = self.tutor.as_ref().and_then(Tutor::current_try).cloned().ok_or_else(|| Error::input("there is no task on this step"))?;
        let mut found = Vec::new();
        let mut all = true;
        for check in &block.checks {
            let (condition, _) = check.parse()?;
            match self.check(&condition).await {
                Ok(Verdict::Holds(text)) => found.push(text),
                Ok(Verdict::NotYet(text)) => {
                    all = false;
                    found.push(format!("not yet: {text}"));
                }
                Err(err) if err.is_bad_input() => {
                    all = false;
                    found.push(format!("not yet: {err}"));
                }
                Err(err) => return Err(err),
            }
        }
        Ok((all, found))
    }

    /// Each check of the current task in turn, each waiting as long as its `expect` would (its
    /// `--within`, or 10 s): what a replay with `--check` runs after the solution. Fails with
    /// the first check that does not hold.
    pub async fn verify_goal(&self) -> Result<Outcome> {
        let block = self.tutor.as_ref().and_then(Tutor::current_try).cloned().ok_or_else(|| Error::input("there is no task to check on this step"))?;
        let mut parts = Vec::new();
        for check in &block.checks {
            parts.push(Outcome::Typed(format!("expect {}", check.text)));
            let (condition, within) = check.parse()?;
            match self.wait_for(&condition, within.unwrap_or(EXPECT_WAIT)).await? {
                Verdict::Holds(holds) => parts.push(Outcome::Done(holds)),
                Verdict::NotYet(found) => {
                    parts.push(Outcome::Failure(Error::unmet(found)));
                    break;
                }
            }
        }
        Ok(Outcome::Many(parts))
    }
}
