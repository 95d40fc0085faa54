//! The worked examples of both definition languages (the FDL and state machine examples of
//! the project's definition reference), shared by the tests that run them end to end
//! (`tests/engine/fdl_examples.rs`, `tests/engine/cf_examples.rs`) and the flow graph's layout tests
//! (`src/graph/tests`), which include this module by path. It depends on `serde_json` alone.

mod fdl;
mod state_machine;

pub use fdl::*;
pub use state_machine::*;

/// One worked example: its name in the reference, the flow name its definition must be
/// created under (a state machine's `Name`), and the definition text.
pub struct WorkedExample {
    pub name: &'static str,
    pub flow_name: &'static str,
    pub definition: String,
}

/// Every worked example of both languages, with the variants the end-to-end tests run.
pub fn worked_examples() -> Vec<WorkedExample> {
    let fdl_5_conditions: Vec<&str> = FDL_5_ROWS.iter().map(|(condition, _)| *condition).collect();
    let fdl = |name: &'static str, definition: &str| WorkedExample {
        name,
        flow_name: "example",
        definition: definition.to_string(),
    };
    let cf = |name: &'static str, flow_name: &'static str, definition: &str| WorkedExample {
        name,
        flow_name,
        definition: definition.to_string(),
    };
    vec![
        fdl("FDL-1", FDL_1),
        fdl("FDL-2", FDL_2),
        fdl("FDL-3", FDL_3),
        fdl("FDL-4", FDL_4),
        fdl("FDL-5", &fdl_5_definition(&fdl_5_conditions)),
        fdl("FDL-6", FDL_6),
        fdl("FDL-7", FDL_7),
        fdl("FDL-8", FDL_8),
        fdl("FDL-9", FDL_9),
        fdl("FDL-10", FDL_10),
        fdl("FDL-11", FDL_11),
        fdl("FDL-12", FDL_12),
        fdl("FDL-12b", FDL_12B),
        fdl("FDL-13", &fdl_13(FDL_13_CATCH, FDL_13_ERROR_MAPPINGS)),
        fdl("FDL-13b", &fdl_13(FDL_13_CATCH_ALL, "")),
        fdl("FDL-13c", &fdl_13("", "")),
        fdl("FDL-14", FDL_14),
        fdl("FDL-15", FDL_15),
        fdl("FDL-16", FDL_16),
        fdl("FDL-17", FDL_17),
        fdl("FDL-18", FDL_18),
        fdl("FDL-19", FDL_19),
        fdl("FDL-19 child", FDL_19_CHILD),
        fdl("FDL-19 failing child", FDL_19_FAILING_CHILD),
        fdl("FDL-19 catching", FDL_19_CATCHING),
        cf("CF-1", "cf-pass", CF_1),
        cf("CF-2", "cf-input-ctor", CF_2),
        cf("CF-3", "cf-constructors", CF_3),
        cf("CF-4", "cf-choice", CF_4),
        cf("CF-5", "cf-parallel", CF_5),
        cf("CF-6", "cf-map", CF_6),
        cf("CF-6b", "cf-map", &cf_6b()),
        cf("CF-7", "cf-wait", CF_7),
        cf("CF-8", "cf-succeed", CF_8),
        cf("CF-9", "cf-fail", CF_9),
        cf("CF-10", "cf-fc", CF_10),
        cf(
            "CF-11",
            "cf-retry-catch",
            &cf_11(CF_11_BACKOFF, CF_11_CATCH),
        ),
        cf("CF-11b", "cf-retry-catch", &cf_11("", CF_11_CATCH)),
        cf("CF-11c", "cf-retry-catch", &cf_11(CF_11_BACKOFF, "")),
        cf("CF-12", "cf-callback", CF_12),
        cf("CF-13", "cf-global", CF_13),
        cf("CF-14", "cf-map-catch", CF_14),
        cf("CF-15", "cf-timeout", CF_15),
        cf("CF-16", "cf-parent", CF_16),
        cf("CF-16 child", "cf-child", &cf_16_child()),
    ]
}
