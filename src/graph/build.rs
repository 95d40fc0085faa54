//! What one list of states draws, read from the IR: its items (start and end markers, the
//! states, the bodies of FDL choice options) and its transitions.

use super::model::EdgeKind;
use crate::engine::ir::{ChoiceTarget, Language, Next, Scope, State, StateKind};

/// The start marker is item 0, the end marker item 1, state `i` item `2 + i`.
pub(super) const START: usize = 0;
pub(super) const END: usize = 1;
const FIRST_STATE: usize = 2;

pub(super) enum Item<'d> {
    Start,
    End,
    State(&'d State),
    /// The `steps` of option `option` (`None`: the default) of the choice at `choice`.
    ChoiceSteps {
        choice: &'d State,
        option: Option<usize>,
        steps: &'d Scope,
    },
}

pub(super) struct Transition {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    pub label: Option<String>,
}

pub(super) struct Plan<'d> {
    pub items: Vec<Item<'d>>,
    pub transitions: Vec<Transition>,
}

pub(super) fn plan(scope: &Scope) -> Plan<'_> {
    let mut items = vec![Item::Start, Item::End];
    items.extend(scope.states.iter().map(Item::State));
    let mut transitions = Vec::new();
    let mut link = |from: usize, to: usize, kind: EdgeKind, label: Option<String>| {
        transitions.push(Transition {
            from,
            to,
            kind,
            label,
        });
    };
    let item_of = |next: Next| match next {
        Next::State(index) => FIRST_STATE + index,
        Next::End => END,
    };
    link(START, FIRST_STATE + scope.start, EdgeKind::Next, None);
    for (index, state) in scope.states.iter().enumerate() {
        let from = FIRST_STATE + index;
        match &state.kind {
            StateKind::Choice(spec) => {
                let mut branches: Vec<(&ChoiceTarget, Option<usize>, EdgeKind, String)> = spec
                    .options
                    .iter()
                    .enumerate()
                    .map(|(option, choice)| {
                        let condition = choice.condition.source().to_string();
                        (&choice.target, Some(option), EdgeKind::Choice, condition)
                    })
                    .collect();
                match &spec.default {
                    Some(target) => {
                        branches.push((target, None, EdgeKind::Default, "Default".into()))
                    }
                    // No condition holds and no default: the choice goes on to its next.
                    None => link(
                        from,
                        item_of(state.next),
                        EdgeKind::Default,
                        Some("Default".into()),
                    ),
                }
                for (target, option, kind, label) in branches {
                    // FDL: without `goto`, the step after the choice.
                    let after = item_of(target.goto.map_or(state.next, Next::State));
                    match &target.steps {
                        Some(steps) => {
                            items.push(Item::ChoiceSteps {
                                choice: state,
                                option,
                                steps,
                            });
                            let body = items.len() - 1;
                            link(from, body, kind, Some(label));
                            link(body, after, EdgeKind::Next, None);
                        }
                        None => link(from, after, kind, Some(label)),
                    }
                }
            }
            StateKind::Fail(_) => {}
            _ => link(from, item_of(state.next), EdgeKind::Next, None),
        }
        for catch in &state.catch {
            let errors = catch.errors.join(", ");
            link(
                from,
                FIRST_STATE + catch.next,
                EdgeKind::Catch,
                Some(errors),
            );
        }
    }
    Plan { items, transitions }
}

/// A state's type as its language writes it.
pub(super) fn type_label(state: &State, language: Language) -> &'static str {
    let fdl = language == Language::Fdl;
    match &state.kind {
        StateKind::Pass if fdl => "pass",
        StateKind::Pass => "Pass",
        StateKind::Task(_) if fdl => "task",
        StateKind::Task(_) => "Task",
        StateKind::Choice(_) if fdl => "choice",
        StateKind::Choice(_) => "Choice",
        StateKind::Wait(_) if fdl => "wait",
        StateKind::Wait(_) => "Wait",
        StateKind::Succeed if fdl => "succeed",
        StateKind::Succeed => "Succeed",
        StateKind::Fail(_) if fdl => "fail",
        StateKind::Fail(_) => "Fail",
        StateKind::Parallel(_) if fdl => "parallel",
        StateKind::Parallel(_) => "Parallel",
        StateKind::Map(_) if fdl => "foreach",
        StateKind::Map(spec) if spec.distributed.is_some() => "Map (distributed)",
        StateKind::Map(_) => "Map",
    }
}
