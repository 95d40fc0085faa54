//! What happened to each node of the graph in one execution, read from its history.
//!
//! The history names steps by their plain names; the path of a step comes from the event
//! that opened its list (its `StepEntered`'s `ScheduleEventId`): 0 at the top, a
//! `BranchEntered` (branch `index` of a Parallel), an `IterationEntered` (the body of a
//! Map / foreach) or the `StepEntered` of an FDL choice whose option's steps it runs.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::model::{NodeId, child_id, option_segment, state_id};
use super::replay::Tracker;
use crate::engine::ir::{ChoiceSpec, ChoiceTarget, FlowDefinition, Scope, State, StateKind};
use crate::store::HistoryEvent;

/// The fields of a history event that statuses read.
#[derive(Debug, Clone, Copy)]
pub struct EventFacts<'a> {
    pub event_id: i64,
    pub event_type: &'a str,
    pub step_name: &'a str,
    pub schedule_event_id: i64,
    /// The event's `EventDetail` JSON text.
    pub detail: &'a str,
}

impl<'a> From<&'a HistoryEvent> for EventFacts<'a> {
    fn from(event: &'a HistoryEvent) -> Self {
        EventFacts {
            event_id: event.event_id,
            event_type: &event.event_type,
            step_name: &event.step_name,
            schedule_event_id: event.schedule_event_id,
            detail: &event.detail,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    NotReached,
    Running,
    Succeeded,
    /// Succeeded after more than one attempt.
    Retried,
    /// Failed, and a Catch rule moved on.
    Caught,
    Failed,
    /// Entered, but the execution or the enclosing Parallel / Map ended first.
    Cancelled,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::NotReached => "not-reached",
            Status::Running => "running",
            Status::Succeeded => "succeeded",
            Status::Retried => "retried",
            Status::Caught => "caught",
            Status::Failed => "failed",
            Status::Cancelled => "cancelled",
        }
    }

    /// Which visit of a node entered several times is shown.
    pub(super) fn weight(self) -> u8 {
        match self {
            Status::NotReached => 0,
            Status::Cancelled => 1,
            Status::Succeeded => 2,
            Status::Retried => 3,
            Status::Caught => 4,
            Status::Failed => 5,
            Status::Running => 6,
        }
    }
}

/// Branches of a Parallel or iterations of a Map / foreach, by status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChildCounts {
    /// A Parallel's branches; a Map's iterations started so far.
    pub total: usize,
    pub not_reached: usize,
    pub running: usize,
    pub succeeded: usize,
    pub failed: usize,
    pub cancelled: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    pub status: Status,
    /// Attempts of the shown visit: a task's calls, a Parallel's or Map's runs (retries
    /// included); 1 for other states; 0 when not reached.
    pub attempts: u32,
    /// Times the node was entered (loops, iterations of a Map body, retried Parallels).
    pub visits: u32,
    /// The event that opened the shown visit (`StepEntered`, `BranchEntered`, or the first
    /// `StepEntered` of a choice option's steps): its detail holds the input.
    pub entered_event_id: Option<i64>,
    /// The event that closed it (`StepExited` / `StepFailed`, `BranchExited`, …): its
    /// detail holds the output or the error.
    pub ended_event_id: Option<i64>,
    /// The last error of the shown visit (a failed attempt, a failed branch, …).
    pub error: Option<String>,
    /// Parallel and inline Map: its branches / iterations in the shown visit's last run.
    pub children: Option<ChildCounts>,
    /// The lowest index among the failed branches / iterations counted in `children`.
    pub first_failed_child: Option<usize>,
    /// A distributed Map: the map run of the shown visit's last run.
    pub map_run: Option<String>,
}

impl NodeStatus {
    pub(super) fn not_reached() -> Self {
        NodeStatus {
            status: Status::NotReached,
            attempts: 0,
            visits: 0,
            entered_event_id: None,
            ended_event_id: None,
            error: None,
            children: None,
            first_failed_child: None,
            map_run: None,
        }
    }
}

/// The status of every state, Parallel lane and FDL choice option body of `definition`
/// (the ids of [`super::layout`]) after `events`, given in event order. Events that do not
/// fit the definition are skipped.
pub fn statuses<'a>(
    definition: &FlowDefinition,
    events: impl IntoIterator<Item = EventFacts<'a>>,
) -> BTreeMap<NodeId, NodeStatus> {
    let mut index = Index::default();
    index.scope(&definition.root, "");
    let mut tracker = Tracker::new(&index);
    for event in events {
        tracker.apply(&event);
    }
    tracker.finish()
}

/// The nodes of the definition by id.
#[derive(Default)]
pub(super) struct Index<'d> {
    pub states: HashMap<NodeId, &'d State>,
    /// Lanes and choice option bodies.
    pub frames: Vec<NodeId>,
}

impl<'d> Index<'d> {
    fn scope(&mut self, scope: &'d Scope, path: &str) {
        for state in &scope.states {
            let id = state_id(path, &state.name);
            match &state.kind {
                StateKind::Parallel(spec) => {
                    for (index, branch) in spec.branches.iter().enumerate() {
                        let lane = child_id(&id, &index.to_string());
                        self.scope(branch, &lane);
                        self.frames.push(lane);
                    }
                }
                StateKind::Map(spec) => self.scope(&spec.processor, &id),
                StateKind::Choice(spec) => {
                    for (option, target) in options(spec) {
                        if let Some(steps) = &target.steps {
                            let body = child_id(&id, &option_segment(option));
                            self.scope(steps, &body);
                            self.frames.push(body);
                        }
                    }
                }
                _ => {}
            }
            self.states.insert(id, state);
        }
    }
}

/// A choice's options, then its default (`None`).
pub(super) fn options(spec: &ChoiceSpec) -> impl Iterator<Item = (Option<usize>, &ChoiceTarget)> {
    let listed = spec
        .options
        .iter()
        .enumerate()
        .map(|(index, option)| (Some(index), &option.target));
    listed.chain(spec.default.iter().map(|target| (None, target)))
}
