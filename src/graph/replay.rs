//! Replaying an execution's history onto the nodes of its definition: each
//! `StepEntered` becomes a visit of a state, each `BranchEntered` / `IterationEntered` a
//! run of a list, and their ends, attempts and failures are recorded as they come; the
//! summary then picks what each node shows.

use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;
use serde_json::Value;

use super::model::{NodeId, child_id, option_segment, state_id};
use super::status::{ChildCounts, EventFacts, Index, NodeStatus, Status, options};
use crate::engine::data::{self, DollarScope};
use crate::engine::history::EventType;
use crate::engine::ir::{ChoiceSpec, State, StateKind};

/// One run of a list of states: the top level, a branch, an iteration, a choice option.
struct ListRun {
    /// The path of the states inside.
    path: String,
    /// The lane or option body node it draws as (iterations have none).
    frame: Option<NodeId>,
    /// The visit of the Parallel / Map / choice that opened it.
    parent: Option<usize>,
    opened_by: i64,
    /// The event shown as its start: the `BranchEntered`, or an option body's first step.
    entered: i64,
    /// The steps of an FDL choice option: done when the choice is.
    option_body: bool,
    index: Option<usize>,
    closed_by: Option<i64>,
    failed: bool,
    error: Option<String>,
}

/// One entry into a state, up to its `StepExited` / `StepFailed`.
struct Visit<'d> {
    node: NodeId,
    state: &'d State,
    list: usize,
    entered: i64,
    ended: Option<(i64, bool)>,
    attempts: u32,
    /// The latest attempt failed (so far).
    last_failed: bool,
    error: Option<String>,
    /// The event that started the latest attempt.
    attempt_started: i64,
    /// Branches / iterations of the latest attempt.
    children: Vec<usize>,
    map_run: Option<String>,
    /// An FDL choice: the list its option's steps run in, and the option its conditions
    /// chose when the names of the options' first steps cannot tell.
    body: Option<usize>,
    chosen: Option<Option<usize>>,
}

pub(super) struct Tracker<'i, 'd> {
    index: &'i Index<'d>,
    lists: Vec<ListRun>,
    visits: Vec<Visit<'d>>,
    list_by_opener: HashMap<i64, usize>,
    visit_by_entered: HashMap<i64, usize>,
    visit_by_attempt: HashMap<i64, usize>,
    execution_ended: bool,
}

#[derive(Deserialize)]
struct IndexDetail {
    index: usize,
}

#[derive(Deserialize)]
struct ErrorDetail {
    error: Option<String>,
}

#[derive(Deserialize)]
struct MapRunDetail {
    output: Option<MapRunOutput>,
}

#[derive(Deserialize)]
struct MapRunOutput {
    #[serde(rename = "MapRunName")]
    name: Option<String>,
}

fn error_of(detail: &str) -> Option<String> {
    serde_json::from_str::<ErrorDetail>(detail).ok()?.error
}

impl<'i, 'd> Tracker<'i, 'd> {
    pub(super) fn new(index: &'i Index<'d>) -> Self {
        let root = ListRun {
            path: String::new(),
            frame: None,
            parent: None,
            opened_by: 0,
            entered: 0,
            option_body: false,
            index: None,
            closed_by: None,
            failed: false,
            error: None,
        };
        Tracker {
            index,
            lists: vec![root],
            visits: Vec::new(),
            list_by_opener: HashMap::new(),
            visit_by_entered: HashMap::new(),
            visit_by_attempt: HashMap::new(),
            execution_ended: false,
        }
    }

    pub(super) fn apply(&mut self, event: &EventFacts<'_>) {
        let Some(event_type) = EventType::from_name(event.event_type) else {
            return;
        };
        let id = event.event_id;
        let opener = event.schedule_event_id;
        let by_entered = self.visit_by_entered.get(&opener).copied();
        match event_type {
            EventType::ExecutionSucceeded
            | EventType::ExecutionFailed
            | EventType::ExecutionTimedOut
            | EventType::ExecutionStopped => self.execution_ended = true,
            EventType::StepEntered => self.enter(event),
            EventType::StepExited => {
                if let Some(visit) = by_entered {
                    self.visits[visit].ended = Some((id, true));
                }
            }
            EventType::StepFailed => {
                if let Some(visit) = by_entered {
                    let error = error_of(event.detail);
                    let visit = &mut self.visits[visit];
                    visit.ended = Some((id, false));
                    visit.error = error.clone();
                    // The list it ran in fails with it, and so does that list's run of
                    // the Parallel / Map / choice above.
                    let list = &mut self.lists[visit.list];
                    list.failed = true;
                    list.error = error.clone();
                    if let Some(parent) = list.parent {
                        self.visits[parent].last_failed = true;
                        self.visits[parent].error = error;
                    }
                }
            }
            EventType::BranchEntered | EventType::IterationEntered => {
                let (Some(visit), Ok(detail)) = (
                    by_entered,
                    serde_json::from_str::<IndexDetail>(event.detail),
                ) else {
                    return;
                };
                let parent = &mut self.visits[visit];
                if detail.index == 0 || parent.children.is_empty() {
                    parent.attempts += 1;
                    parent.attempt_started = id;
                    parent.last_failed = false;
                    parent.children.clear();
                }
                let (path, frame) = if event_type == EventType::BranchEntered {
                    let lane = child_id(&parent.node, &detail.index.to_string());
                    (lane.clone(), Some(lane))
                } else {
                    (parent.node.clone(), None)
                };
                let list = self.open_list(path, frame, visit, id, Some(detail.index));
                self.visits[visit].children.push(list);
            }
            EventType::BranchExited | EventType::IterationExited => {
                if let Some(&list) = self.list_by_opener.get(&opener) {
                    self.lists[list].closed_by = Some(id);
                }
            }
            EventType::TaskScheduled | EventType::MapRunStarted => {
                if let Some(visit) = by_entered {
                    let visit_run = &mut self.visits[visit];
                    visit_run.attempts += 1;
                    visit_run.attempt_started = id;
                    visit_run.last_failed = false;
                    if event_type == EventType::MapRunStarted {
                        visit_run.map_run = serde_json::from_str::<MapRunDetail>(event.detail)
                            .ok()
                            .and_then(|detail| detail.output)
                            .and_then(|output| output.name);
                    } else {
                        self.visit_by_attempt.insert(id, visit);
                    }
                }
            }
            EventType::TaskFailed | EventType::TaskTimedOut | EventType::TaskSubmitFailed => {
                if let Some(&visit) = self.visit_by_attempt.get(&opener) {
                    self.visits[visit].last_failed = true;
                    self.visits[visit].error = error_of(event.detail);
                }
            }
            EventType::MapRunFailed | EventType::MapRunAborted => {
                if let Some(visit) = by_entered {
                    self.visits[visit].last_failed = true;
                    self.visits[visit].error = error_of(event.detail);
                }
            }
            EventType::ExecutionStarted
            | EventType::StepStarted
            | EventType::TaskStarted
            | EventType::TaskSubmitted
            | EventType::TaskSucceeded
            | EventType::MapRunSucceeded => {}
        }
    }

    fn open_list(
        &mut self,
        path: String,
        frame: Option<NodeId>,
        parent: usize,
        opened_by: i64,
        index: Option<usize>,
    ) -> usize {
        self.lists.push(ListRun {
            path,
            frame,
            parent: Some(parent),
            opened_by,
            entered: opened_by,
            option_body: false,
            index,
            closed_by: None,
            failed: false,
            error: None,
        });
        let list = self.lists.len() - 1;
        self.list_by_opener.insert(opened_by, list);
        list
    }

    /// `StepEntered`: a new visit of the state it names, in the list that opened it.
    fn enter(&mut self, event: &EventFacts<'_>) {
        let opener = event.schedule_event_id;
        let list = if opener == 0 {
            Some(0)
        } else if let Some(&list) = self.list_by_opener.get(&opener) {
            Some(list)
        } else if let Some(&choice) = self.visit_by_entered.get(&opener) {
            self.choice_body(choice, event)
        } else {
            None
        };
        let Some(list) = list else {
            return;
        };
        let node = state_id(&self.lists[list].path, event.step_name);
        let Some(&state) = self.index.states.get(&node) else {
            return;
        };
        let chosen = match &state.kind {
            StateKind::Choice(spec) if ambiguous(spec) => Some(choose(spec, event.detail)),
            _ => None,
        };
        self.visits.push(Visit {
            node,
            state,
            list,
            entered: event.event_id,
            ended: None,
            attempts: 0,
            last_failed: false,
            error: None,
            attempt_started: event.event_id,
            children: Vec::new(),
            map_run: None,
            body: None,
            chosen,
        });
        self.visit_by_entered
            .insert(event.event_id, self.visits.len() - 1);
    }

    /// The list an FDL choice's option steps run in, opened by the first of them.
    fn choice_body(&mut self, choice: usize, first: &EventFacts<'_>) -> Option<usize> {
        if let Some(body) = self.visits[choice].body {
            return Some(body);
        }
        let StateKind::Choice(spec) = &self.visits[choice].state.kind else {
            return None;
        };
        let option = match self.visits[choice].chosen {
            Some(chosen) => chosen,
            None => options(spec).find_map(|(option, target)| {
                let steps = target.steps.as_ref()?;
                let start = steps.states.get(steps.start)?;
                (start.name == first.step_name).then_some(option)
            })?,
        };
        let path = child_id(&self.visits[choice].node, &option_segment(option));
        let opened_by = self.visits[choice].entered;
        // Its later steps name the choice's `StepEntered` too, and find the list by it.
        let body = self.open_list(path.clone(), Some(path), choice, opened_by, None);
        self.lists[body].entered = first.event_id;
        self.lists[body].option_body = true;
        self.visits[choice].body = Some(body);
        Some(body)
    }
}

/// Two options of a choice whose steps begin with steps of the same name: the history's
/// names cannot tell which ran.
fn ambiguous(spec: &ChoiceSpec) -> bool {
    let mut firsts: Vec<&str> = options(spec)
        .filter_map(|(_, target)| target.steps.as_ref())
        .filter_map(|steps| steps.states.get(steps.start))
        .map(|state| state.name.as_str())
        .collect();
    let count = firsts.len();
    firsts.sort_unstable();
    firsts.dedup();
    firsts.len() != count
}

/// The option an FDL choice takes for the input in its `StepEntered` detail: the first
/// whose condition holds, else the default, as the interpreter decides.
fn choose(spec: &ChoiceSpec, detail: &str) -> Option<usize> {
    let input = serde_json::from_str::<Value>(detail)
        .ok()
        .and_then(|mut detail| detail.get_mut("input").map(Value::take))
        .unwrap_or(Value::Null);
    let scope = DollarScope(&input);
    spec.options
        .iter()
        .position(|option| data::eval_condition(&option.condition, &scope).unwrap_or(false))
}

impl Tracker<'_, '_> {
    /// The list has stopped running: it ended, or something above it did.
    fn over(&self, mut list: usize) -> bool {
        if self.execution_ended {
            return true;
        }
        loop {
            let run = &self.lists[list];
            if run.closed_by.is_some() || run.failed {
                return true;
            }
            let Some(parent) = run.parent else {
                return false;
            };
            let visit = &self.visits[parent];
            // Ended, or retried: a newer attempt started after this run.
            if visit.ended.is_some() || visit.attempt_started > run.opened_by {
                return true;
            }
            list = visit.list;
        }
    }

    fn visit_status(&self, visit: &Visit<'_>) -> Status {
        match visit.ended {
            Some((_, true)) if visit.last_failed => Status::Caught,
            Some((_, true)) if visit.attempts > 1 => Status::Retried,
            Some((_, true)) => Status::Succeeded,
            Some((_, false)) => Status::Failed,
            None if self.over(visit.list) => Status::Cancelled,
            None => Status::Running,
        }
    }

    fn list_status(&self, list: usize) -> Status {
        let run = &self.lists[list];
        let parent_ended = run
            .parent
            .and_then(|parent| self.visits[parent].ended)
            .map(|(_, ok)| ok);
        if run.closed_by.is_some() || (run.option_body && !run.failed && parent_ended == Some(true))
        {
            Status::Succeeded
        } else if run.failed {
            Status::Failed
        } else if self.over(list) {
            Status::Cancelled
        } else {
            Status::Running
        }
    }

    /// Branches / iterations of a visit's latest attempt.
    fn children(&self, visit: &Visit<'_>) -> (Option<ChildCounts>, Option<usize>) {
        let total = match &visit.state.kind {
            StateKind::Parallel(spec) => spec.branches.len(),
            StateKind::Map(spec) if spec.distributed.is_none() => visit.children.len(),
            _ => return (None, None),
        };
        let mut counts = ChildCounts {
            total,
            not_reached: total.saturating_sub(visit.children.len()),
            ..ChildCounts::default()
        };
        let mut first_failed: Option<usize> = None;
        for &list in &visit.children {
            match self.list_status(list) {
                Status::Failed => {
                    counts.failed += 1;
                    let index = self.lists[list].index;
                    first_failed = match (first_failed, index) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    };
                }
                Status::Cancelled => counts.cancelled += 1,
                Status::Running => counts.running += 1,
                _ => counts.succeeded += 1,
            }
        }
        (Some(counts), first_failed)
    }

    pub(super) fn finish(self) -> BTreeMap<NodeId, NodeStatus> {
        let mut result: BTreeMap<NodeId, NodeStatus> = self
            .index
            .states
            .keys()
            .chain(&self.index.frames)
            .map(|id| (id.clone(), NodeStatus::not_reached()))
            .collect();
        let mut show = |node: &NodeId, candidate: NodeStatus| {
            let Some(shown) = result.get_mut(node) else {
                return;
            };
            let visits = shown.visits + 1;
            let better = candidate.status.weight() > shown.status.weight()
                || (candidate.status.weight() == shown.status.weight()
                    && candidate.entered_event_id >= shown.entered_event_id);
            if better {
                *shown = candidate;
            }
            shown.visits = visits;
        };
        for visit in &self.visits {
            let (children, first_failed_child) = self.children(visit);
            show(
                &visit.node,
                NodeStatus {
                    status: self.visit_status(visit),
                    attempts: visit.attempts.max(1),
                    visits: 0,
                    entered_event_id: Some(visit.entered),
                    ended_event_id: visit.ended.map(|(id, _)| id),
                    error: visit.error.clone(),
                    children,
                    first_failed_child,
                    map_run: visit.map_run.clone(),
                },
            );
        }
        for (list, run) in self.lists.iter().enumerate() {
            let Some(frame) = &run.frame else {
                continue;
            };
            show(
                frame,
                NodeStatus {
                    status: self.list_status(list),
                    attempts: 1,
                    visits: 0,
                    entered_event_id: Some(run.entered),
                    ended_event_id: run.closed_by,
                    error: run.error.clone(),
                    ..NodeStatus::not_reached()
                },
            );
        }
        result
    }
}
