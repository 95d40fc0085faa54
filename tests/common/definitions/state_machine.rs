//! The state machine worked examples (CF-1 … CF-16) and the variants the tests run.

pub const CF_1: &str = r#"
Type: StateMachine
Name: cf-pass
SpecVersion: v1
StartAt: Greet
States:
  - Type: Pass
    Name: Greet
    End: true
"#;

pub const CF_2: &str = r#"
Type: StateMachine
Name: cf-input-ctor
SpecVersion: v1
StartAt: Pass1
States:
  - Type: Pass
    Name: Pass1
    End: true
    InputConstructor:
      FieldA: 123
"#;

pub const CF_3: &str = r#"
Type: StateMachine
Name: cf-constructors
SpecVersion: v1
StartAt: Shape
States:
  - Type: Pass
    Name: Shape
    InputConstructor:
      user.$: $Input.profile.name
      literal: $Input.profile.name
      count.$: length($Input.items)
      greeting.$: format("hello {}", $Input.profile.name)
      nested:
        first.$: $Input.items[0]
      fromExecution.$: $Context.Execution.Input.profile.name
    OutputConstructor:
      echoed.$: $Input.user
      all.$: $Input
    End: true
"#;

pub const CF_4: &str = r#"
Type: StateMachine
Name: cf-choice
SpecVersion: v1
StartAt: Route
States:
  - Type: Choice
    Name: Route
    Branches:
      - Condition: $Input.status == "ready"
        Next: Ready
      - Condition: $Input.retries > 3 && $Input.status != "ready"
        Next: GiveUp
    Default: Other
  - Type: Pass
    Name: Ready
    OutputConstructor:
      path: ready
    End: true
  - Type: Pass
    Name: GiveUp
    OutputConstructor:
      path: giveup
    End: true
  - Type: Pass
    Name: Other
    End: true
"#;

pub const CF_5: &str = r#"
Type: StateMachine
Name: cf-parallel
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    Next: Join
    Branches:
      - StartAt: Pass1
        States:
          - Type: Pass
            Name: Pass1
            End: true
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            Name: Pass2
            InputConstructor:
              FieldA: 321
            End: true
  - Type: Pass
    Name: Join
    InputConstructor:
      sum.$: intAdd($Input.Branch0.FieldA, $Input.Branch1.FieldA)
      raw.$: $Input
    End: true
"#;

pub const CF_6: &str = r#"
Type: StateMachine
Name: cf-map
SpecVersion: v1
StartAt: Map1
States:
  - Type: Map
    Name: Map1
    ItemsPath: $Input.orders
    MaxConcurrency: 2
    Processor:
      StartAt: Tag
      States:
        - Type: Pass
          Name: Tag
          OutputConstructor:
            id.$: $Input.id
            tagged: true
          End: true
    End: true
"#;

pub const CF_6B_OUTPUT_CONSTRUCTOR: &str =
    "    OutputConstructor:\n      ids.$: $Output.Items[*].id\n      n.$: length($Output.Items)\n";

/// CF-6 with `CF_6B_OUTPUT_CONSTRUCTOR` on the Map.
pub fn cf_6b() -> String {
    // Before the Map's own `End: true` (the last line; the Processor's is deeper).
    let at = CF_6
        .rfind("\n    End: true\n")
        .map_or(CF_6.len(), |at| at + 1);
    format!("{}{CF_6B_OUTPUT_CONSTRUCTOR}{}", &CF_6[..at], &CF_6[at..])
}

pub const CF_7: &str = r#"
Type: StateMachine
Name: cf-wait
SpecVersion: v1
StartAt: Wait1
States:
  - Type: Wait
    Name: Wait1
    Seconds.$: $Input.delay
    End: true
"#;

pub const CF_8: &str = r#"
Type: StateMachine
Name: cf-succeed
SpecVersion: v1
StartAt: Parallel1
States:
  - Type: Parallel
    Name: Parallel1
    End: true
    Branches:
      - StartAt: Succeed1
        States:
          - Type: Succeed
            Name: Succeed1
            OutputConstructor:
              FieldA: 123
      - StartAt: Pass2
        States:
          - Type: Pass
            Name: Pass2
            InputConstructor:
              FieldA: 321
            End: true
"#;

pub const CF_9: &str = r#"
Type: StateMachine
Name: cf-fail
SpecVersion: v1
StartAt: Choice1
States:
  - Type: Choice
    Name: Choice1
    Branches:
      - Condition: $Input.status == "true"
        Next: Pass1
    Default: Fail1
  - Type: Fail
    Name: Fail1
    Code: customBizCode
    Detail: my custom error
    End: true
  - Type: Pass
    Name: Pass1
    End: true
"#;

pub const CF_10: &str = r#"
Type: StateMachine
Name: cf-fc
SpecVersion: v1
StartAt: Greet
States:
  - Type: Task
    Name: Greet
    Action: FC:InvokeFunction
    TaskMode: RequestComplete
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST
      invocationType: Sync
      body:
        who.$: $Input.name
        lang: en
    OutputConstructor:
      greeted.$: $Output.Body.who
      lang.$: $Output.Body.lang
    End: true
"#;

/// CF-11 with its retry rule's `BackoffRate` line and its `Catch` replaced by the variant's.
pub fn cf_11(backoff: &str, catch: &str) -> String {
    format!(
        r#"
Type: StateMachine
Name: cf-retry-catch
SpecVersion: v1
StartAt: Book
States:
  - Type: Task
    Name: Book
    Action: FC:InvokeFunction
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/fail/LATEST
      invocationType: Sync
      body:
        errorType: BookFlightError
        errorMessage: no seats
    Retry:
      - Description: retry booking
        Errors: [BookFlightError]
        MaxAttempts: 2
        IntervalSeconds: 1
{backoff}{catch}    End: true
  - Type: Pass
    Name: Compensate
    End: true
"#
    )
}

pub const CF_11_BACKOFF: &str = "        BackoffRate: 2\n";
pub const CF_11_CATCH: &str = "    Catch:\n      - Description: compensate\n        Errors: [FnF.ALL]\n        OutputConstructor:\n          failedWith.$: $Context.Current.Error.Code\n          reason.$: $Context.Current.Error.Detail\n        Next: Compensate\n";

pub const CF_12: &str = r#"
Type: StateMachine
Name: cf-callback
SpecVersion: v1
StartAt: Approve
States:
  - Type: Task
    Name: Approve
    Action: FC:InvokeFunction
    TaskMode: WaitForCustomCallback
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/echo/LATEST
      invocationType: Async
      body:
        token.$: $Context.Current.TaskToken
        orderId.$: $Input.orderId
    End: true
"#;

pub const CF_13: &str = r#"
Type: StateMachine
Name: cf-global
SpecVersion: v1
StartAt: Save
States:
  - Type: Pass
    Name: Save
    GlobalConstructor:
      orderId.$: $Input.orderId
    OutputConstructor:
      step: saved
    Next: Use
  - Type: Pass
    Name: Use
    InputConstructor:
      restored.$: $Global.orderId
      previous.$: $Input.step
    End: true
"#;

pub const CF_14: &str = r#"
Type: StateMachine
Name: cf-map-catch
SpecVersion: v1
StartAt: Each
States:
  - Type: Map
    Name: Each
    ItemsPath: $Input.items
    Processor:
      StartAt: Check
      States:
        - Type: Choice
          Name: Check
          Branches:
            - Condition: $Input.ok == true
              Next: Good
          Default: Bad
        - Type: Pass
          Name: Good
          End: true
        - Type: Fail
          Name: Bad
          Code: ItemRejected
          Detail: bad item
    Catch:
      - Errors: [ItemRejected]
        OutputConstructor:
          error.$: $Context.Current.Error.Code
        Next: Report
    End: true
  - Type: Pass
    Name: Report
    End: true
"#;

pub const CF_15: &str = r#"
Type: StateMachine
Name: cf-timeout
SpecVersion: v1
StartAt: Slow
States:
  - Type: Task
    Name: Slow
    Action: FC:InvokeFunction
    Timeout: 1
    Parameters:
      resourceArn: acs:fc:cn-hangzhou:123456789012:functions/sleep/LATEST
      invocationType: Sync
      body:
        seconds: 5
    Catch:
      - Errors: [FnF.TaskTimeout]
        OutputConstructor:
          timedOut: true
        Next: Done
    End: true
  - Type: Pass
    Name: Done
    End: true
"#;

/// CF-16's child: CF-2 named `cf-child`.
pub fn cf_16_child() -> String {
    CF_2.replace("Name: cf-input-ctor", "Name: cf-child")
}

pub const CF_16: &str = r#"
Type: StateMachine
Name: cf-parent
SpecVersion: v1
StartAt: Call
States:
  - Type: Task
    Name: Call
    Action: FNF:StartExecution
    TaskMode: WaitForSystemCallback
    Parameters:
      resourceArn: acs:fnf:cn-hangzhou:123456789012:flow/cf-child
      input:
        x.$: $Input.x
    End: true
"#;
