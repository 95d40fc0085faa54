//! The typed form of a flow definition. Both languages (legacy FDL and the state machine)
//! parse into these types; the interpreter works on them alone.
//!
//! Differences between the languages that change run-time behaviour are kept explicit
//! (`Language`, `DataFlow`) rather than hidden in the parsers, so the interpreter can apply
//! each language's data-flow rules (docs/COMPATIBILITY.md#fdl-data-flow and docs/COMPATIBILITY.md#state-machine-data-flow) in one place.

use serde_json::Value;

use super::errors;
use super::expr::Expr;

/// Which definition language a flow is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Legacy FDL: `type: flow`, `steps:` (docs/COMPATIBILITY.md#legacy-fdl).
    Fdl,
    /// CloudFlow state machine: `Type: StateMachine`, `States:` (docs/COMPATIBILITY.md#state-machine).
    StateMachine,
}

/// A whole parsed definition.
#[derive(Debug, Clone)]
pub struct FlowDefinition {
    pub language: Language,
    /// FDL `timeoutSeconds`: the execution ends `TimedOut` when it runs longer.
    pub timeout_seconds: Option<u64>,
    /// FDL flow-level `inputMappings` (builds the flow input from the execution input).
    pub input_mappings: Option<Mappings>,
    /// FDL flow-level `outputMappings` (builds the execution output).
    pub output_mappings: Option<Mappings>,
    /// The top-level scope.
    pub root: Scope,
}

/// An ordered list of states/steps with its entry point: the top level, a parallel branch,
/// a foreach / Map processor, or an FDL choice option's `steps`.
#[derive(Debug, Clone)]
pub struct Scope {
    pub states: Vec<State>,
    /// Index of the first state to run (FDL: always 0; state machine: `StartAt`).
    pub start: usize,
}

/// One step (FDL) or state (state machine).
#[derive(Debug, Clone)]
pub struct State {
    pub name: String,
    pub kind: StateKind,
    /// Where control goes after the state finishes normally. FDL: the following sibling,
    /// or `End` for the last step and for `end: true`. State machine: `Next` / `End`.
    /// Choice, Succeed and Fail ignore it (they decide themselves).
    pub next: Next,
    pub data: DataFlow,
    /// Retry policies in written order (FDL: task only; state machine: Task, Parallel, Map).
    pub retry: Vec<RetryPolicy>,
    /// Catch policies in written order (same owners as `retry`).
    pub catch: Vec<CatchPolicy>,
}

/// A transition target inside the same scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Continue at the state with this index in the same `Scope::states`.
    State(usize),
    /// The scope is complete.
    End,
}

/// How a state's input and output are shaped.
#[derive(Debug, Clone)]
pub enum DataFlow {
    /// FDL (docs/COMPATIBILITY.md#fdl-data-flow): input = mappings over (parent input, parent local) or their shallow merge;
    /// output = mappings over (own input, own local) or the local; merged into the parent local.
    Fdl {
        input_mappings: Option<Mappings>,
        output_mappings: Option<Mappings>,
    },
    /// State machine (docs/COMPATIBILITY.md#state-machine-data-flow): the constructors replace the value; no merging.
    StateMachine {
        input_constructor: Option<Template>,
        output_constructor: Option<Template>,
        global_constructor: Option<Template>,
    },
}

#[derive(Debug, Clone)]
pub enum StateKind {
    Pass,
    Task(TaskSpec),
    Choice(ChoiceSpec),
    Wait(WaitSpec),
    Succeed,
    Fail(FailSpec),
    Parallel(ParallelSpec),
    /// FDL `foreach` and the state machine's inline `Map`.
    Map(MapSpec),
}

// ---------------------------------------------------------------------------------------
// Data shaping components
// ---------------------------------------------------------------------------------------

/// FDL mapping list (docs/COMPATIBILITY.md#fdl-data-flow): `target` keys built in order, later ones overwrite.
#[derive(Debug, Clone, Default)]
pub struct Mappings(pub Vec<Mapping>);

#[derive(Debug, Clone)]
pub struct Mapping {
    pub target: String,
    pub source: Source,
}

/// A value that is either a constant or computed by a `$`-path / expression.
#[derive(Debug, Clone)]
pub enum Source {
    Const(Value),
    Expr(Expr),
}

/// A state-machine constructor (docs/COMPATIBILITY.md#state-machine-data-flow): a JSON tree whose `.$` keys are expressions.
#[derive(Debug, Clone)]
pub enum Template {
    Literal(Value),
    Expr(Expr),
    /// Keys keep their written order; `.$` suffixes are already stripped.
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
}

// ---------------------------------------------------------------------------------------
// Errors: retry and catch (docs/COMPATIBILITY.md#retry-and-catch)
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Error names handled; may contain `FnF.ALL`.
    pub errors: Vec<String>,
    /// Delay before the first retry, seconds.
    pub interval_seconds: f64,
    /// Upper bound for any delay, seconds.
    pub max_interval_seconds: f64,
    /// Number of retries (not counting the first attempt).
    pub max_attempts: u32,
    /// Growth factor between consecutive delays.
    pub backoff_rate: f64,
}

impl RetryPolicy {
    /// FDL defaults (docs/COMPATIBILITY.md#retry-and-catch): interval 1 s, max interval 86400 s, 3 attempts, multiplier 2.
    pub fn fdl_default(errors: Vec<String>) -> Self {
        RetryPolicy {
            errors,
            interval_seconds: 1.0,
            max_interval_seconds: 86400.0,
            max_attempts: 3,
            backoff_rate: 2.0,
        }
    }

    pub fn matches(&self, error: &str) -> bool {
        self.errors.iter().any(|e| e == error || e == errors::ALL)
    }

    /// Delay before the retry numbered `k` (0-based) of this policy:
    /// `min(interval × rate^k, max_interval)` seconds (docs/COMPATIBILITY.md#retry-and-catch step 2, docs/COMPATIBILITY.md#retry-and-catch).
    pub fn delay_seconds(&self, k: u32) -> f64 {
        let delay = self.interval_seconds * self.backoff_rate.powi(k.min(1024) as i32);
        if delay.is_finite() {
            delay.min(self.max_interval_seconds)
        } else {
            self.max_interval_seconds
        }
    }
}

#[derive(Debug, Clone)]
pub struct CatchPolicy {
    pub errors: Vec<String>,
    /// The sibling state to continue at.
    pub next: usize,
    /// How the caught error becomes the state's output.
    pub output: CatchOutput,
}

impl CatchPolicy {
    pub fn matches(&self, error: &str) -> bool {
        self.errors.iter().any(|e| e == error || e == errors::ALL)
    }
}

#[derive(Debug, Clone)]
pub enum CatchOutput {
    /// FDL: the task's `errorMappings` over `$local = {"error","cause"}`; `{}` when absent.
    Fdl(Option<Mappings>),
    /// State machine: the rule's `OutputConstructor`; `{}` when absent.
    StateMachine(Option<Template>),
}

// ---------------------------------------------------------------------------------------
// State kinds
// ---------------------------------------------------------------------------------------

/// How a task waits for its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPattern {
    /// FDL `requestResponse` / state machine `RequestComplete`.
    RequestResponse,
    /// FDL `sync` / state machine `WaitForSystemCallback`: wait for the submitted job.
    Sync,
    /// FDL `waitForCallback` / state machine `WaitForCustomCallback`.
    WaitForCallback,
}

impl TaskPattern {
    /// The name written in the definition, for `TaskScheduled.pattern`.
    pub fn name(self, language: Language) -> &'static str {
        match (language, self) {
            (Language::Fdl, TaskPattern::RequestResponse) => "requestResponse",
            (Language::Fdl, TaskPattern::Sync) => "sync",
            (Language::Fdl, TaskPattern::WaitForCallback) => "waitForCallback",
            (Language::StateMachine, TaskPattern::RequestResponse) => "RequestComplete",
            (Language::StateMachine, TaskPattern::Sync) => "WaitForSystemCallback",
            (Language::StateMachine, TaskPattern::WaitForCallback) => "WaitForCustomCallback",
        }
    }
}

#[derive(Debug, Clone)]
pub struct TaskSpec {
    /// The resource as written (`resourceArn` or `action` / `Action`), for the history.
    pub resource: String,
    pub target: TaskTarget,
    pub pattern: TaskPattern,
    /// Per-attempt limit; `None` = no limit.
    pub timeout: Option<TimeoutSpec>,
}

#[derive(Debug, Clone)]
pub enum TimeoutSpec {
    Seconds(u64),
    /// `Timeout.$`: evaluated when the attempt starts.
    Expr(Expr),
}

/// What a task calls. FDL resolves most of this at parse time from `resourceArn`; the state
/// machine carries the resource inside `Parameters`, evaluated per attempt.
#[derive(Debug, Clone)]
pub enum TaskTarget {
    /// FDL: a Function Compute function; the event is the step input.
    FdlFunction(FunctionRef),
    /// FDL: a subflow (`acs:fnf:::flow/NAME` or `action: fnf:StartExecution`). `params` are the
    /// `serviceParams` (`Input`, `ExecutionName`, `FlowName` for the action form).
    FdlFlow {
        flow_name: Option<String>,
        params: Vec<(String, Source)>,
    },
    /// State machine `FC:InvokeFunction` with its `Parameters`
    /// (`resourceArn`, `invocationType`, `body`).
    FcInvoke(Template),
    /// State machine `FNF:StartExecution` with its `Parameters`
    /// (`resourceArn`, `executionName`, `input`).
    StartExecution(Template),
    /// State machine `HTTP:Request` / `HTTP:Invoke` with its `Parameters`
    /// (`url`, `method`, `headers`, `body`).
    Http(Template),
    /// Any other integration: fails at run time with `FnF.ActionNotSupported` (docs/COMPATIBILITY.md#state-machine-tasks, docs/COMPATIBILITY.md#q16).
    Unsupported { action: String },
}

/// A Function Compute function named by one of the two ARN forms (Appendix C).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FunctionRef {
    /// `acs:fc:{region}:{account}:services/{service}[.{qualifier}]/functions/{function}`.
    Service {
        service: String,
        qualifier: Option<String>,
        function: String,
    },
    /// `acs:fc:{region}:{account}:functions/{function}[/{qualifier}]`.
    Function {
        function: String,
        qualifier: Option<String>,
    },
}

impl FunctionRef {
    /// Reads either ARN form of Appendix C; region and account may be empty.
    pub fn parse_arn(arn: &str) -> Option<FunctionRef> {
        let rest = arn.strip_prefix("acs:fc:")?;
        let mut parts = rest.splitn(3, ':');
        let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
        let non_empty = |s: &str| (!s.is_empty()).then(|| s.to_string());
        if let Some(path) = resource.strip_prefix("services/") {
            let (service, function) = path.split_once("/functions/")?;
            let (service, qualifier) = match service.split_once('.') {
                Some((service, qualifier)) => (service, non_empty(qualifier)),
                None => (service, None),
            };
            if service.is_empty() || function.is_empty() || function.contains('/') {
                return None;
            }
            return Some(FunctionRef::Service {
                service: service.to_string(),
                qualifier,
                function: function.to_string(),
            });
        }
        let path = resource.strip_prefix("functions/")?;
        let (function, qualifier) = match path.split_once('/') {
            Some((function, qualifier)) => (function, non_empty(qualifier)),
            None => (path, None),
        };
        if function.is_empty() || qualifier.as_deref().is_some_and(|q| q.contains('/')) {
            return None;
        }
        Some(FunctionRef::Function {
            function: function.to_string(),
            qualifier,
        })
    }

    pub fn function_name(&self) -> &str {
        match self {
            FunctionRef::Service { function, .. } | FunctionRef::Function { function, .. } => {
                function
            }
        }
    }
}

/// Reads a flow ARN `acs:fnf:{region}:{account}:flow/{name}` into the flow name.
pub fn parse_flow_arn(arn: &str) -> Option<String> {
    let rest = arn.strip_prefix("acs:fnf:")?;
    let mut parts = rest.splitn(3, ':');
    let (_region, _account, resource) = (parts.next()?, parts.next()?, parts.next()?);
    let name = resource.strip_prefix("flow/")?;
    (!name.is_empty() && !name.contains('/')).then(|| name.to_string())
}

/// FDL `choice` and state machine `Choice`.
#[derive(Debug, Clone)]
pub struct ChoiceSpec {
    /// Tried in order; the first whose condition is `true` is taken.
    pub options: Vec<ChoiceOption>,
    /// Used when no condition holds. FDL may omit it (then the choice just completes).
    pub default: Option<ChoiceTarget>,
}

#[derive(Debug, Clone)]
pub struct ChoiceOption {
    pub condition: Expr,
    pub target: ChoiceTarget,
}

#[derive(Debug, Clone)]
pub struct ChoiceTarget {
    /// FDL option `steps`, run as a child list before moving on. Never set for state machines.
    pub steps: Option<Scope>,
    /// FDL `goto` / state machine `Next`. `None` (FDL only): continue with the choice's `next`.
    pub goto: Option<usize>,
}

#[derive(Debug, Clone)]
pub enum WaitSpec {
    /// Seconds to wait: FDL `duration`, state machine `Seconds` / `Seconds.$`.
    Seconds(ValueSpec),
    /// FDL `timestamp`: an RFC 3339 instant.
    Timestamp(ValueSpec),
}

/// A scalar written either as a constant or as an expression over the state input.
#[derive(Debug, Clone)]
pub enum ValueSpec {
    Const(Value),
    Expr(Expr),
}

#[derive(Debug, Clone)]
pub struct FailSpec {
    /// FDL `error` / state machine `Code`; `FnF.Fail` when absent (docs/COMPATIBILITY.md#q9).
    pub error: Option<String>,
    /// FDL `cause` / state machine `Detail`.
    pub cause: Option<String>,
}

#[derive(Debug, Clone)]
pub struct ParallelSpec {
    pub branches: Vec<Scope>,
}

#[derive(Debug, Clone)]
pub struct MapSpec {
    /// FDL `iterationMapping.collection` (over `$`) / state machine `ItemsPath`.
    pub items: Expr,
    /// FDL `iterationMapping.item`: key under which the element is merged into the
    /// iteration input. `None` for the state machine, where the element *is* the input.
    pub item_key: Option<String>,
    /// FDL `iterationMapping.index`.
    pub index_key: Option<String>,
    pub processor: Scope,
    /// Iterations running at once (FDL: 100; state machine: `MaxConcurrency`, 0 → 40, capped at
    /// 40 inline and at 1000 distributed).
    pub max_concurrency: usize,
    /// Distributed mode (docs/COMPATIBILITY.md#distributed-map): every item (or batch) runs as a child execution.
    pub distributed: Option<Box<DistributedSpec>>,
}

/// A distributed Map (docs/COMPATIBILITY.md#distributed-map). Items come from the state's input (`ItemsPath`); reading
/// them from or writing results to object storage is not supported.
#[derive(Debug, Clone)]
pub struct DistributedSpec {
    /// The Processor as a state machine document of its own: what each child runs.
    pub child_definition: String,
    /// `ItemConstructor`: builds each item; `$Item` is the original item.
    pub item_constructor: Option<Template>,
    /// `ItemBatcher.MaxItemsPerBatch`: children get `{"Items": [...]}` batches.
    pub batch_size: Option<usize>,
    /// `MaxItems`: items beyond it are ignored.
    pub max_items: Option<usize>,
    /// `ToleratedFailureCount`: failed children allowed before the Map fails. With neither
    /// tolerance set, any failed child fails the Map.
    pub tolerated_failure_count: Option<u64>,
    /// `ToleratedFailurePercentage` (0–100).
    pub tolerated_failure_percentage: Option<f64>,
}

/// Limits the parsers and the interpreter share.
pub mod limits {
    /// FDL wait (docs/COMPATIBILITY.md#fdl-steps): 2 days.
    pub const FDL_MAX_WAIT_SECONDS: u64 = 172_800;
    /// An execution's longest run, as the service documents it: one year.
    pub const MAX_EXECUTION_SECONDS: u64 = 365 * 24 * 3600;
    /// State machine Wait in standard mode (docs/COMPATIBILITY.md#state-machine-states).
    pub const SM_MAX_WAIT_SECONDS: u64 = 300;
    /// State machine Wait in express mode (docs/COMPATIBILITY.md#state-machine-states).
    pub const SM_MAX_WAIT_SECONDS_EXPRESS: u64 = 20;
    /// State machine Task `Timeout` (docs/COMPATIBILITY.md#state-machine-states).
    pub const SM_MAX_TASK_TIMEOUT_SECONDS: u64 = 604_800;
    /// Retry interval and max interval (docs/COMPATIBILITY.md#retry-and-catch).
    pub const MAX_RETRY_INTERVAL_SECONDS: u64 = 86_400;
    /// FDL parallel branches (docs/COMPATIBILITY.md#limits).
    pub const FDL_MAX_BRANCHES: usize = 100;
    /// State machine Parallel branches (docs/COMPATIBILITY.md#limits).
    pub const SM_MAX_BRANCHES: usize = 50;
    /// FDL foreach concurrency (docs/COMPATIBILITY.md#fdl-steps).
    pub const FDL_FOREACH_CONCURRENCY: usize = 100;
    /// State machine Map concurrency (docs/COMPATIBILITY.md#state-machine-states).
    pub const SM_MAP_CONCURRENCY: usize = 40;
    /// Distributed Map: children running at once, at most (docs/COMPATIBILITY.md#distributed-map).
    pub const DISTRIBUTED_MAP_CONCURRENCY: usize = 1000;
    /// Distributed Map: items per map run (docs/COMPATIBILITY.md#distributed-map).
    pub const DISTRIBUTED_MAP_ITEMS: usize = 10_000;
    /// Nesting depth of parallel/foreach/choice bodies (docs/COMPATIBILITY.md#limits).
    pub const MAX_NESTING: usize = 32;
    /// FDL: step input + output + local (docs/COMPATIBILITY.md#fdl-data-flow).
    pub const FDL_STEP_DATA_BYTES: usize = 32 * 1024;
    /// State machine: a state's input and output, each (docs/COMPATIBILITY.md#state-machine-data-flow).
    pub const SM_STATE_DATA_BYTES: usize = 64 * 1024;
    /// Nesting of the data a state receives or produces (and of `$Global` values). JSON
    /// inputs nest at most 128 levels, but a loop can wrap a value once more on each round;
    /// unbounded, walking it would overflow the stack.
    pub const MAX_DATA_DEPTH: usize = 256;
    /// History events per execution (docs/COMPATIBILITY.md#history-events).
    pub const MAX_EVENTS: i64 = 5000;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_arns_of_both_forms() {
        assert_eq!(
            FunctionRef::parse_arn(
                "acs:fc:cn-hangzhou:123:services/fixtures.LATEST/functions/echo"
            ),
            Some(FunctionRef::Service {
                service: "fixtures".into(),
                qualifier: Some("LATEST".into()),
                function: "echo".into()
            })
        );
        assert_eq!(
            FunctionRef::parse_arn("acs:fc:::services/s/functions/f"),
            Some(FunctionRef::Service {
                service: "s".into(),
                qualifier: None,
                function: "f".into()
            })
        );
        assert_eq!(
            FunctionRef::parse_arn("acs:fc:cn-hangzhou:123:functions/echo/LATEST"),
            Some(FunctionRef::Function {
                function: "echo".into(),
                qualifier: Some("LATEST".into())
            })
        );
        assert_eq!(FunctionRef::parse_arn("acs:fc:::functions/"), None);
        assert_eq!(FunctionRef::parse_arn("acs:mns:::/queues/q/messages"), None);
    }

    #[test]
    fn flow_arns() {
        assert_eq!(parse_flow_arn("acs:fnf:::flow/child"), Some("child".into()));
        assert_eq!(
            parse_flow_arn("acs:fnf:cn-hangzhou:123:flow/cf-child"),
            Some("cf-child".into())
        );
        assert_eq!(parse_flow_arn("acs:fnf:::flows/child"), None);
    }

    #[test]
    fn backoff_arithmetic() {
        let policy = RetryPolicy {
            errors: vec!["E".into()],
            interval_seconds: 10.0,
            max_interval_seconds: 30.0,
            max_attempts: 3,
            backoff_rate: 2.0,
        };
        assert_eq!(policy.delay_seconds(0), 10.0);
        assert_eq!(policy.delay_seconds(1), 20.0);
        assert_eq!(policy.delay_seconds(2), 30.0);
        assert_eq!(policy.delay_seconds(5000), 30.0);
        assert!(policy.matches("E") && !policy.matches("F"));
        let all = RetryPolicy::fdl_default(vec![errors::ALL.into()]);
        assert!(all.matches("anything"));
        assert_eq!(all.delay_seconds(2), 4.0);
    }
}
