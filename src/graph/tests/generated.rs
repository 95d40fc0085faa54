//! Large flows of both languages, generated from a seed: choices that jump forwards, loop
//! back and reach Fail states, tasks with Retry and Catch, waits, parallels and maps
//! nested two deep, and names that are long, wide (CJK) or contain `/`.

use serde_json::{Value, json};

use super::{check, parse};
use crate::graph::layout;
use crate::graph::layout::layout_within;

/// A small deterministic generator (xorshift64*).
struct Random(u64);

impl Random {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33) as usize % n.max(1)
    }
}

fn name(random: &mut Random, prefix: &str, index: usize) -> String {
    let base = format!("{prefix}{index}");
    match random.below(8) {
        0 => format!("Validate the customer's shipping address {base}"),
        1 => format!("检查库存 {base}"),
        2 => format!("a/b {base}"),
        _ => base,
    }
}

/// Counts states as they are generated.
struct Generator {
    random: Random,
    states: usize,
}

impl Generator {
    fn names(&mut self, prefix: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| name(&mut self.random, prefix, i))
            .collect()
    }

    /// Where a jump from state `i` goes: a little further on, or a little back (a loop).
    fn jumps<'n>(&mut self, names: &'n [String], i: usize) -> (&'n String, &'n String) {
        let forward = &names[(i + 2 + self.random.below(4)).min(names.len() - 1)];
        let backward = &names[i.saturating_sub(1 + self.random.below(4))];
        (forward, backward)
    }

    /// A state machine list of `count` states (plus a Fail state its choices may reach).
    fn sm_list(&mut self, prefix: &str, count: usize, depth: usize) -> (String, Vec<Value>) {
        let names = self.names(prefix, count);
        let fail = format!("{prefix}failed");
        let mut states = Vec::with_capacity(count + 1);
        for (i, own) in names.iter().enumerate() {
            let last = i + 1 == count;
            let (forward, backward) = self.jumps(&names, i);
            let mut state = match self.random.below(10) {
                3 | 4 => json!({
                    "Type": "Task", "Name": own, "Action": "FC:InvokeFunction",
                    "Parameters": {"resourceArn": "acs:fc:::functions/f/LATEST",
                                   "invocationType": "Sync", "body": {}},
                    "Retry": [{"Errors": ["Busy"], "MaxAttempts": 2, "IntervalSeconds": 1}],
                    "Catch": [{"Errors": ["FnF.ALL"], "Next": if i % 2 == 0 { forward } else { backward }}],
                }),
                5 if !last => json!({
                    "Type": "Choice", "Name": own,
                    "Branches": [
                        {"Condition": "$Input.x > 1", "Next": forward},
                        {"Condition": "$Input.loop == true && $Input.count < 10", "Next": backward},
                        {"Condition": "$Input.broken", "Next": fail},
                    ],
                    "Default": names[i + 1],
                }),
                6 => json!({"Type": "Wait", "Name": own, "Seconds": 1}),
                7 if depth < 2 => {
                    let branches: Vec<Value> = (0..2 + self.random.below(2))
                        .map(|b| {
                            let length = 2 + self.random.below(3);
                            let (start, states) =
                                self.sm_list(&format!("{prefix}{i}.{b}."), length, depth + 1);
                            json!({"StartAt": start, "States": states})
                        })
                        .collect();
                    json!({"Type": "Parallel", "Name": own, "Branches": branches})
                }
                8 if depth < 2 => {
                    let (start, body) = self.sm_list(&format!("{prefix}{i}."), 3, depth + 1);
                    json!({"Type": "Map", "Name": own, "ItemsPath": "$Input.items",
                           "Processor": {"StartAt": start, "States": body}})
                }
                _ => json!({"Type": "Pass", "Name": own}),
            };
            if state["Type"] != "Choice" {
                if last {
                    state["End"] = json!(true);
                } else {
                    state["Next"] = json!(names[i + 1]);
                }
            }
            states.push(state);
        }
        states.push(json!({"Type": "Fail", "Name": fail, "Code": "Broken"}));
        self.states += states.len();
        (names[0].clone(), states)
    }

    /// An FDL step list of `count` steps (plus a fail step its choices may reach).
    fn fdl_list(&mut self, prefix: &str, count: usize, depth: usize) -> Vec<Value> {
        let names = self.names(prefix, count);
        let fail = format!("{prefix}failed");
        let mut steps = Vec::with_capacity(count + 2);
        for (i, own) in names.iter().enumerate() {
            let (forward, backward) = self.jumps(&names, i);
            let step = match self.random.below(10) {
                3 | 4 => json!({
                    "type": "task", "name": own,
                    "resourceArn": "acs:fc:::services/s/functions/f",
                    "retry": [{"errors": ["Busy"]}],
                    "catch": [{"errors": ["FnF.ALL"], "goto": if i % 2 == 0 { forward } else { backward }}],
                }),
                5 => {
                    let inner = if depth < 2 {
                        self.fdl_list(&format!("{prefix}{i}.o."), 2, depth + 1)
                    } else {
                        vec![json!({"type": "pass", "name": format!("{prefix}{i}.o")})]
                    };
                    json!({
                        "type": "choice", "name": own,
                        "choices": [
                            {"condition": "$.x > 1", "goto": forward},
                            {"condition": "$.y == \"go\"", "steps": inner},
                            {"condition": "$.loop && $.count < 10", "goto": backward},
                            {"condition": "$.broken", "goto": fail},
                        ],
                        "default": {"steps": [{"type": "pass", "name": format!("{prefix}{i}.d")}]},
                    })
                }
                6 => json!({"type": "wait", "name": own, "duration": 1}),
                7 if depth < 2 => {
                    let branches: Vec<Value> = (0..2 + self.random.below(2))
                        .map(|b| {
                            let length = 2 + self.random.below(3);
                            let steps =
                                self.fdl_list(&format!("{prefix}{i}.{b}."), length, depth + 1);
                            json!({"steps": steps})
                        })
                        .collect();
                    json!({"type": "parallel", "name": own, "branches": branches})
                }
                8 if depth < 2 => json!({
                    "type": "foreach", "name": own,
                    "iterationMapping": {"collection": "$.items", "item": "item"},
                    "steps": self.fdl_list(&format!("{prefix}{i}."), 3, depth + 1),
                }),
                _ => json!({"type": "pass", "name": own}),
            };
            steps.push(step);
        }
        // Reached only by `goto`: the end of the list comes first.
        steps.push(json!({"type": "succeed", "name": format!("{prefix}done")}));
        steps.push(json!({"type": "fail", "name": fail, "error": "Broken"}));
        self.states += steps.len();
        steps
    }
}

/// Top-level list lengths to try: growing by a tenth, so a large flow is found quickly.
fn lengths() -> impl Iterator<Item = usize> {
    std::iter::successors(Some(10usize), |count| Some(count + count / 10 + 1))
}

/// A state machine with at least `states` states in all.
pub(in crate::graph) fn state_machine(states: usize, seed: u64) -> String {
    lengths()
        .map(|count| {
            let mut generator = Generator {
                random: Random(seed),
                states: 0,
            };
            let (start, list) = generator.sm_list("S", count, 0);
            let document = json!({"Type": "StateMachine", "Name": "generated",
                                  "SpecVersion": "v1", "StartAt": start, "States": list});
            (generator.states, document.to_string())
        })
        .find(|(count, _)| *count >= states)
        .map(|(_, text)| text)
        .unwrap_or_default()
}

/// An FDL flow with at least `steps` steps in all.
pub(in crate::graph) fn fdl(steps: usize, seed: u64) -> String {
    lengths()
        .map(|count| {
            let mut generator = Generator {
                random: Random(seed),
                states: 0,
            };
            let list = generator.fdl_list("s", count, 0);
            let document = json!({"version": "v1", "type": "flow", "steps": list});
            (generator.states, document.to_string())
        })
        .find(|(count, _)| *count >= steps)
        .map(|(_, text)| text)
        .unwrap_or_default()
}

#[test]
fn generated_hundred_state_flows_lay_out_cleanly() {
    for seed in 1..=8 {
        let text = state_machine(100, seed);
        let definition = parse(&text, "generated");
        let graph = layout(&definition);
        assert!(graph.nodes.len() >= 100);
        check(&format!("state machine, seed {seed}"), &definition, &graph);
        assert!(graph.edges.iter().all(|edge| !edge.elided));
        assert!(graph.edges.iter().any(|edge| edge.back_edge));

        let text = fdl(100, seed);
        let definition = parse(&text, "generated");
        let graph = layout(&definition);
        check(&format!("FDL, seed {seed}"), &definition, &graph);
        assert!(graph.edges.iter().all(|edge| !edge.elided));
    }
}

#[test]
fn past_the_bend_budget_long_edges_become_labelled_stubs() {
    let text = state_machine(100, 7);
    let definition = parse(&text, "generated");
    let graph = layout_within(&definition, 150);
    check("state machine on a small budget", &definition, &graph);
    let stubs: Vec<_> = graph.edges.iter().filter(|edge| edge.elided).collect();
    assert!(!stubs.is_empty());
    for stub in stubs {
        assert!(
            stub.label
                .as_ref()
                .is_some_and(|label| label.text.contains('→')),
            "{stub:?}"
        );
    }
}

#[test]
fn a_huge_flow_is_laid_out_within_the_budget() {
    let text = state_machine(3000, 5);
    let definition = parse(&text, "generated");
    let graph = layout(&definition);
    assert!(graph.nodes.len() >= 3000);
    assert!(graph.edges.iter().any(|edge| edge.elided));
}
