#!/usr/bin/env python3
"""Mocked integrations through the new Python SDK: executions started with
`FlowName=<flow>#<TestCase>` against a server whose mock file is tests/engine/mocks.rs's MOCK_FILE.

Environment as for every script (sdkcheck.py). Prints `ok <n> <check>` per check and
`OK <n> checks` at the end; exits 1 naming the first failed check.
"""

import json

from sdkcheck import TERMINAL, poll, run

from alibabacloud_fnf20190315 import models as m
from alibabacloud_fnf20190315.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

SCRIPT = "pymocks"
FC = "acs:fc:cn-hangzhou:123456789012:functions/{}/LATEST"


def task(name, action, parameters, output, nxt, mode=None, extra=""):
    lines = [f"  - Type: Task", f"    Name: {name}", f"    Action: {action}"]
    if mode:
        lines.append(f"    TaskMode: {mode}")
    lines.append("    Parameters:")
    lines += [f"      {line}" for line in parameters]
    lines.append("    OutputConstructor:")
    lines += [f"      {key}.$: {value}" for key, value in output]
    lines.append(extra.rstrip("\n")) if extra else None
    lines.append(f"    Next: {nxt}" if nxt else "    End: true")
    return "\n".join(line for line in lines if line is not None) + "\n"


def orders_definition():
    keep = [("orderId", "$Input.orderId"), ("charged", "$Input.charged")]
    retry_catch = (
        "    Retry:\n"
        "      - Errors: [FC.ResourceThrottled]\n"
        "        MaxAttempts: 3\n"
        "        IntervalSeconds: 1\n"
        "        BackoffRate: 1\n"
        "    Catch:\n"
        "      - Errors: [Card.Declined]\n"
        "        OutputConstructor:\n"
        "          declined.$: $Context.Current.Error.Code\n"
        "          cause.$: $Context.Current.Error.Detail\n"
        "        Next: Declined\n"
    )
    return (
        "Type: StateMachine\nName: mock_orders\nSpecVersion: v1\nStartAt: Validate\nStates:\n"
        "  - Type: Pass\n    Name: Validate\n    Next: ChargeCard\n"
        + task("ChargeCard", "FC:InvokeFunction",
               [f"resourceArn: {FC.format('charge')}", "invocationType: Sync", "body:",
                "  amount.$: $Input.amount"],
               [("orderId", "$Input.orderId"), ("charged", "$Output.Body.charged")], "Notify",
               extra=retry_catch)
        + task("Notify", "HTTP:Request",
               ["url: http://127.0.0.1:9/notify", "method: POST", "body:", "  orderId.$: $Input.orderId"],
               keep + [("notified", "$Output.Code")], "Provision")
        + task("Provision", "ECS:RunInstances", ["RegionId: cn-hangzhou"],
               keep + [("notified", "$Input.notified"), ("instances", "$Output.InstanceIds")], "Child")
        + task("Child", "FNF:StartExecution",
               ["resourceArn: acs:fnf:cn-hangzhou:123456789012:flow/mock_child", "input:",
                "  orderId.$: $Input.orderId"],
               keep + [("notified", "$Input.notified"), ("instances", "$Input.instances"),
                       ("shipped", "$Output.shipped")], "Callback", mode="WaitForSystemCallback")
        + task("Callback", "FC:InvokeFunction",
               [f"resourceArn: {FC.format('approve')}", "invocationType: Sync", "body:",
                "  token.$: $Context.Current.TaskToken"],
               keep + [("notified", "$Input.notified"), ("instances", "$Input.instances"),
                       ("shipped", "$Input.shipped"), ("approved", "$Output.approved")],
               None, mode="WaitForCustomCallback")
        + "  - Type: Pass\n    Name: Declined\n    End: true\n"
    )


PASS_CHILD = ("Type: StateMachine\nName: mock_child\nSpecVersion: v1\nStartAt: P\nStates:\n"
              "  - Type: Pass\n    Name: P\n    End: true\n")

MIXED = ("Type: StateMachine\nName: mock_mixed\nSpecVersion: v1\nStartAt: Echo\nStates:\n"
         + task("Echo", "FC:InvokeFunction",
                [f"resourceArn: {FC.format('echo')}", "invocationType: Sync", "body:", "  n.$: $Input.n"],
                [("echoed", "$Output.Body.n")], "Charge")
         + task("Charge", "FC:InvokeFunction",
                [f"resourceArn: {FC.format('charge')}", "invocationType: Sync", "body: {}"],
                [("echoed", "$Input.echoed"), ("charged", "$Output.Body.charged")], None))

SYNC = ("Type: StateMachine\nName: mock_sync\nSpecVersion: v1\nStartAt: Work\nStates:\n"
        "  - Type: Task\n    Name: Work\n    Action: ECS:DescribeInstances\n    End: true\n")

FDL = ("version: v1\ntype: flow\nsteps:\n  - type: task\n    name: work\n"
       "    resourceArn: acs:fc:cn-hangzhou:123456789012:services/s/functions/f\n")

STRICT = ("Type: StateMachine\nName: mock_strict\nSpecVersion: v1\nStartAt: P\nStates:\n"
          "  - Type: Pass\n    Name: P\n    End: true\n")


def api_error(code, mentions=()):
    def match(e):
        if not isinstance(e, ClientException):
            return "not a ClientException"
        if e.code != code:
            return f"code {e.code!r}, want {code!r}"
        message = (e.data or {}).get("Message", "")
        for word in mentions:
            if word not in message:
                return f"message {message!r} does not mention {word!r}"
        return None
    return match


def main(env, c):
    client = Client(Config(access_key_id=env.access_key_id, access_key_secret=env.access_key_secret,
                           endpoint=env.endpoint, protocol="http"))

    def create(name, definition, mode="Standard"):
        c.at(f"CreateFlow {name}")
        client.create_flow(m.CreateFlowRequest(name=name, definition=definition, description="",
                                               type="FDL", execution_mode=mode))

    def start(flow, name, data):
        c.at(f"StartExecution {flow}/{name}")
        return client.start_execution(m.StartExecutionRequest(
            flow_name=flow, execution_name=name, input=json.dumps(data))).body

    def finished(flow, name):
        def fetch():
            return client.describe_execution(m.DescribeExecutionRequest(flow_name=flow, execution_name=name)).body
        return poll(c, f"{flow}/{name} ends", fetch, lambda b: b.status in TERMINAL)

    def events(flow, name):
        body = client.get_execution_history(m.GetExecutionHistoryRequest(
            flow_name=flow, execution_name=name, limit=100)).body
        return [(e.type, e.step_name, json.loads(e.event_detail or "{}")) for e in body.events]

    def task_events(evs, step):
        return [(t, d) for t, s, d in evs if s == step and t.startswith("Task")]

    for name, definition in [("mock_child", PASS_CHILD), ("mock_orders", orders_definition()),
                             ("mock_mixed", MIXED)]:
        create(name, definition)
    create("mock_sync", SYNC, mode="Express")
    create("mock_fdl", FDL)

    # --- the happy path: every kind of task answered by its mock --------------------------
    body = start("mock_orders#HappyPath", "happy", {"orderId": 7, "amount": 12})
    c.eq("StartExecution with a test case runs the flow itself", body.flow_name, "mock_orders")
    done = finished("mock_orders", "happy")
    c.eq("happy path succeeds", done.status, "Succeeded")
    c.json_eq("mocked results go through OutputConstructor", done.output,
              {"orderId": 7, "charged": True, "notified": 202, "instances": ["i-1"], "shipped": True,
               "approved": True})
    evs = events("mock_orders", "happy")
    c.eq("ExecutionStarted names the test case", (evs[0][0], evs[0][2].get("testCase")),
         ("ExecutionStarted", "HappyPath"))
    for step, expected in [("ChargeCard", ["TaskScheduled", "TaskStarted", "TaskSucceeded"]),
                           ("Notify", ["TaskScheduled", "TaskStarted", "TaskSucceeded"]),
                           ("Provision", ["TaskScheduled", "TaskStarted", "TaskSucceeded"]),
                           ("Child", ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"]),
                           ("Callback", ["TaskScheduled", "TaskStarted", "TaskSubmitted", "TaskSucceeded"])]:
        got = task_events(evs, step)
        c.eq(f"{step}: the events of a real call, in order", [t for t, _ in got], expected)
        c.check(f"{step}: every event is marked mocked", all(d.get("mocked") is True for _, d in got), f"{got!r}")
    c.eq("the mocked result is in TaskSucceeded",
         task_events(evs, "ChargeCard")[-1][1]["output"], {"Code": 200, "Header": {}, "Body": {"charged": True, "id": "c-1"}})
    c.eq("TaskScheduled shows what would have been sent",
         task_events(evs, "ChargeCard")[0][1]["input"]["body"], {"amount": 12})
    children = client.list_executions(m.ListExecutionsRequest(flow_name="mock_child")).body.executions or []
    c.eq("a mocked nested flow starts no child", len(children), 0)

    # --- retries counted per attempt, then the catch ----------------------------------------
    start("mock_orders#CardDeclined", "declined", {"orderId": 8, "amount": 12})
    done = finished("mock_orders", "declined")
    c.eq("declined card ends in the catch handler", done.status, "Succeeded")
    c.json_eq("the catch sees the thrown error", done.output, {"declined": "Card.Declined", "cause": "insufficient funds"})
    evs = events("mock_orders", "declined")
    charge = task_events(evs, "ChargeCard")
    c.eq("one TaskScheduled per attempt", [d["attempt"] for t, d in charge if t == "TaskScheduled"], [1, 2, 3])
    c.eq("attempts 0-1 throttled, attempt 2 declined",
         [(d["error"], d["cause"]) for t, d in charge if t == "TaskFailed"],
         [("FC.ResourceThrottled", "busy"), ("FC.ResourceThrottled", "busy"), ("Card.Declined", "insufficient funds")])
    c.check("the Catch target runs", any(t == "StepEntered" and s == "Declined" for t, s, _ in evs))
    c.check("states after the catch do not run", not task_events(evs, "Notify"))

    # --- listed states are mocked, the others run for real (FC stub) ------------------------
    start("mock_mixed#ChargeOnly", "mixed", {"n": 5})
    done = finished("mock_mixed", "mixed")
    c.eq("mixed flow succeeds", done.status, "Succeeded")
    c.json_eq("the real call and the mock both answer", done.output, {"echoed": 5, "charged": True})
    evs = events("mock_mixed", "mixed")
    c.check("the unlisted state was really called (no mocked mark)",
            all("mocked" not in d for _, d in task_events(evs, "Echo")), f"{task_events(evs, 'Echo')!r}")

    # --- without a test case, nothing is mocked ---------------------------------------------
    start("mock_orders", "plain", {"orderId": 9, "amount": 1})
    done = finished("mock_orders", "plain")
    c.eq("without # the flow runs unmocked (and fails here)", done.status, "Failed")
    evs = events("mock_orders", "plain")
    c.check("no event is marked mocked", all("mocked" not in d for _, _, d in evs))
    c.check("ExecutionStarted names no test case", "testCase" not in evs[0][2])

    # --- FDL and synchronous executions ------------------------------------------------------
    start("mock_fdl#Local", "fdl", {})
    done = finished("mock_fdl", "fdl")
    c.eq("FDL task mocked", (done.status, json.loads(done.output).get("fromMock")), ("Succeeded", "yes"))
    c.at("StartSyncExecution mock_sync#Quick")
    body = client.start_sync_execution(m.StartSyncExecutionRequest(flow_name="mock_sync#Quick", input="{}")).body
    c.eq("StartSyncExecution with a test case", (body.status, json.loads(body.output or "null")),
         ("Succeeded", {"done": 1}))
    body = client.start_sync_execution(m.StartSyncExecutionRequest(flow_name="mock_sync", input="{}")).body
    c.eq("StartSyncExecution without: the integration is not supported",
         (body.status, body.error_code), ("Failed", "FnF.ActionNotSupported"))

    # --- errors -------------------------------------------------------------------------------
    c.raises("an unknown test case is InvalidArgument naming it",
             lambda: start("mock_orders#Nope", "nope", {}), api_error("InvalidArgument", ["Nope", "FlowName"]))
    c.raises("an unknown flow is FlowNotExists as always",
             lambda: start("mock_absent#HappyPath", "absent", {}), api_error("FlowNotExists", ["mock_absent"]))
    c.raises("StartSyncExecution with an unknown test case",
             lambda: client.start_sync_execution(m.StartSyncExecutionRequest(flow_name="mock_sync#Nope", input="{}")),
             api_error("InvalidArgument", ["Nope"]))
    c.raises("CreateFlow without a state the mock file names",
             lambda: create("mock_strict", STRICT),
             api_error("InvalidArgument", ["mocks.yaml", "Flows.mock_strict.TestCases.Bad.Missing", "has no state"]))


if __name__ == "__main__":
    run(SCRIPT, main)
