#!/usr/bin/env python3
"""SDK conformance: the new Python ("Tea"/Darabonba) SDK `alibabacloud-fnf20190315` against a
live fnf-server — the actions served in the base API (flows, executions, history, task
reports, regions) and their error behaviour.

    FNF_ENDPOINT=127.0.0.1:8089 FNF_ACCESS_KEY_ID=… FNF_ACCESS_KEY_SECRET=… FNF_RUN_ID=r1 \
        target/sdk-venv/bin/python tests/sdk/python_new.py

Prints `ok <n> <check>` per check and `OK <n> checks` at the end; exits 1 naming the first
failed check, 2 when FNF_ENDPOINT is unset or nothing listens there (sdkcheck.py).

What this SDK does on the wire (read from its installed source, 2.0.1 on tea-openapi 0.4.6):
* V1 signature (HMAC-SHA1): the generated Client sets `_signature_algorithm = 'v2'`, which sends
  it down `do_rpcrequest`. Common parameters always in the query (Format=json lower case);
  action parameters in the query for GET actions, in a form body for POST actions, except
  `TaskToken` (query) of ReportTaskSucceeded/ReportTaskFailed.
* Values are stringified with `str()`: booleans go out as `True`/`False`, floats as `12.5`.
  Structures (`Environment`, `RoutingConfigurations`) are "shrunk" to one JSON-string field.
* Spaces are `+` in both query and body (urlencode), `%20` only inside the signature.
* Default read timeout 10 s, connect 5 s (darabonba DEFAULT_READ_TIMEOUT / _CONNECT_TIMEOUT);
  raise it with RuntimeOptions(read_timeout=ms) for DescribeExecution long polls.
* A 4xx is a ClientException, a 5xx a ServerException (code, status_code, request_id, data =
  the parsed error body); `message` is rewritten to "code: <status>, <Message> request id: …".
  Any exception inside the request loop is swallowed and re-raised by UnretryableException's
  constructor when it is a ResponseException, so callers see the ClientException itself.
* The whole response body is dropped (`body` is None) when the JSON does not fit the
  model, e.g. a structure sent back as a string — hence the `body parsed` checks.
"""

import json
import time

from sdkcheck import RFC3339_MS, TERMINAL, poll, run
from fnfdefs import PASS_FDL, callback_sm, find_key, pass_sm, wait_sm

from alibabacloud_fnf20190315 import models as m
from alibabacloud_fnf20190315.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config
from darabonba.runtime import RuntimeOptions

SCRIPT = "pynew"
UNICODE_INPUT = '{"msg": "héllo wörld * ~ /+&=%", "n": 1}'


def make_client(env, secret=None):
    return Client(Config(
        access_key_id=env.access_key_id,
        access_key_secret=secret or env.access_key_secret,
        endpoint=env.endpoint,
        protocol="http",
    ))


def api_error(code, status, mentions=()):
    """A matcher for Checker.raises: a ClientException with this code and status, a request
    id, the parsed error body, and a message naming each of `mentions`."""
    def match(e):
        if not isinstance(e, ClientException):
            return "not a ClientException"
        if e.code != code:
            return f"code {e.code!r}, want {code!r}"
        if e.status_code != status:
            return f"HTTP status {e.status_code!r}, want {status}"
        if not e.request_id or e.request_id == "None":
            return "no request id"
        data = e.data or {}
        if data.get("Code") != code or not isinstance(data.get("Message"), str):
            return f"error body lacks string Code/Message: {data!r}"
        for word in mentions:
            if word not in data["Message"]:
                return f"message {data['Message']!r} does not mention {word!r}"
        return None
    return match


def header(resp, name):
    for key, value in (resp.headers or {}).items():
        if key.lower() == name:
            return value
    return None


def main(env, c):
    client = make_client(env)
    flows = []  # every flow created, deleted at the end

    def create_flow(name, definition, **kw):
        c.at(f"CreateFlow {name}")
        resp = client.create_flow(m.CreateFlowRequest(
            name=name, definition=definition, description=kw.pop("description", f"{name} flow"),
            type=kw.pop("type", "FDL"), **kw))
        flows.append(name)
        return resp.body

    def describe(flow, execution, wait=None, read_timeout_ms=None):
        c.at(f"DescribeExecution {flow}/{execution}")
        req = m.DescribeExecutionRequest(flow_name=flow, execution_name=execution, wait_time_seconds=wait)
        if read_timeout_ms:
            return client.describe_execution_with_options(req, RuntimeOptions(read_timeout=read_timeout_ms)).body
        return client.describe_execution(req).body

    def wait_terminal(flow, execution, name):
        return poll(c, name, lambda: describe(flow, execution), lambda b: b.status in TERMINAL)

    def history(flow, execution, limit=None, token=None):
        c.at(f"GetExecutionHistory {flow}/{execution}")
        return client.get_execution_history(m.GetExecutionHistoryRequest(
            flow_name=flow, execution_name=execution, limit=limit, next_token=token)).body

    def all_events(flow, execution):
        events, token = [], None
        for _ in range(100):
            page = history(flow, execution, limit=100, token=token)
            events += page.events or []
            token = page.next_token
            if not token:
                return events
        c.fail("GetExecutionHistory pages", "more than 100 pages")

    def start(flow, name=None, input=None):
        c.at(f"StartExecution {flow}/{name}")
        return client.start_execution(m.StartExecutionRequest(
            flow_name=flow, execution_name=name, input=input)).body

    # --- DescribeRegions -------------------------------------------------------------
    c.at("DescribeRegions")
    resp = client.describe_regions(m.DescribeRegionsRequest(accept_language="en-US"))
    c.check("DescribeRegions body parsed", resp.body is not None)
    c.request_id("DescribeRegions RequestId", resp.body.request_id)
    c.eq("success x-acs-request-id header equals RequestId", header(resp, "x-acs-request-id"), resp.body.request_id)
    regions = resp.body.regions.region if resp.body.regions else None
    c.check("DescribeRegions returns one region", regions is not None and len(regions) == 1, f"{regions!r}")
    c.eq("DescribeRegions RegionId", regions[0].region_id, env.region)
    c.check("DescribeRegions RegionEndpoint", bool(regions[0].region_endpoint), f"{regions[0].to_map()!r}")

    # --- CreateFlow --------------------------------------------------------------------
    p_name = env.name("pass")
    p_def = pass_sm(p_name)
    body = create_flow(p_name, p_def, description="pass flow")
    c.check("CreateFlow body parsed", body is not None)
    c.request_id("CreateFlow RequestId", body.request_id)
    c.eq("CreateFlow Name", body.name, p_name)
    c.eq("CreateFlow Definition", body.definition, p_def)
    c.eq("CreateFlow Description", body.description, "pass flow")
    c.eq("CreateFlow Type", body.type, "FDL")
    c.eq("CreateFlow ExecutionMode defaults to Standard", body.execution_mode, "Standard")
    c.check("CreateFlow Id", isinstance(body.id, str) and len(body.id) >= 32, f"{body.id!r}")
    c.time("CreateFlow CreatedTime", body.created_time)
    c.time("CreateFlow LastModifiedTime", body.last_modified_time)
    c.check("CreateFlow omits Environment when none", body.environment is None, f"{body.environment!r}")
    p_id = body.id

    f_name = env.name("fdl")
    body = create_flow(f_name, PASS_FDL, type="DEFAULT")
    c.eq("CreateFlow FDL definition, Type DEFAULT", (body.name, body.type, body.definition), (f_name, "DEFAULT", PASS_FDL))

    e_name = env.name("env")
    body = create_flow(e_name, pass_sm(e_name), environment=m.CreateFlowRequestEnvironment(variables=[
        m.CreateFlowRequestEnvironmentVariables(name="GREETING", value="hello world", description="d")]))
    c.check("CreateFlow with Environment: body parsed (Environment came back as a structure)", body is not None)
    c.eq("CreateFlow Environment round trip",
         body.to_map().get("Environment"),
         {"Variables": [{"Description": "d", "Name": "GREETING", "Value": "hello world"}]})

    c.raises("CreateFlow existing name -> 409 FlowAlreadyExists",
             lambda: client.create_flow(m.CreateFlowRequest(name=p_name, definition=p_def, description="", type="FDL")),
             api_error("FlowAlreadyExists", 409, [p_name]))
    c.raises("CreateFlow bad name -> InvalidArgument naming Name",
             lambda: client.create_flow(m.CreateFlowRequest(
                 name="1 bad name", definition=pass_sm("1 bad name"), description="", type="FDL")),
             api_error("InvalidArgument", 400, ["Name"]))
    c.raises("CreateFlow unparsable definition -> InvalidArgument",
             lambda: client.create_flow(m.CreateFlowRequest(
                 name=env.name("broken"), definition="Type: StateMachine\nStates: 5\n", description="", type="FDL")),
             api_error("InvalidArgument", 400))
    c.raises("CreateFlow bad Type -> InvalidArgument naming Type",
             lambda: client.create_flow(m.CreateFlowRequest(
                 name=env.name("badtype"), definition=PASS_FDL, description="", type="YAML")),
             api_error("InvalidArgument", 400, ["Type"]))

    # --- DescribeFlow / UpdateFlow ----------------------------------------------------------
    c.at("DescribeFlow")
    body = client.describe_flow(m.DescribeFlowRequest(name=p_name)).body
    c.eq("DescribeFlow returns the flow", (body.name, body.id, body.definition, body.type),
         (p_name, p_id, p_def, "FDL"))
    missing = env.name("missing")
    c.raises("DescribeFlow missing flow -> 404 FlowNotExists",
             lambda: client.describe_flow(m.DescribeFlowRequest(name=missing)),
             api_error("FlowNotExists", 404, [missing]))

    p_def2 = pass_sm(p_name, states=2)
    time.sleep(0.01)
    c.at("UpdateFlow")
    body = client.update_flow(m.UpdateFlowRequest(name=p_name, definition=p_def2, description="updated")).body
    c.eq("UpdateFlow changes Definition and Description", (body.definition, body.description), (p_def2, "updated"))
    c.eq("UpdateFlow keeps Id and Type", (body.id, body.type), (p_id, "FDL"))
    c.check("UpdateFlow bumps LastModifiedTime", body.last_modified_time >= body.created_time,
            f"{body.last_modified_time} < {body.created_time}")
    body = client.describe_flow(m.DescribeFlowRequest(name=p_name)).body
    c.eq("DescribeFlow after UpdateFlow", (body.definition, body.description), (p_def2, "updated"))
    c.at("UpdateFlow description only")
    body = client.update_flow(m.UpdateFlowRequest(name=p_name, description="")).body
    c.eq("UpdateFlow with only Description keeps Definition", (body.definition, body.description), (p_def2, ""))
    c.raises("UpdateFlow missing flow -> 404 FlowNotExists",
             lambda: client.update_flow(m.UpdateFlowRequest(name=missing, description="x")),
             api_error("FlowNotExists", 404))

    # --- ListFlows ----------------------------------------------------------------------
    listed = [env.name(f"list_{i}") for i in (1, 2, 3)]
    for name in listed:
        create_flow(name, pass_sm(name))
    c.at("ListFlows")
    page = client.list_flows(m.ListFlowsRequest(limit=1)).body
    c.check("ListFlows Limit=1 gives one flow and a NextToken",
            len(page.flows or []) == 1 and bool(page.next_token), f"{page.to_map()!r}")
    prefix = env.name("list_")
    seen, token, pages = [], prefix, 0
    while token and pages < 50:
        page = client.list_flows(m.ListFlowsRequest(limit=2, next_token=token)).body
        pages += 1
        names = [f.name for f in page.flows or []]
        seen += [n for n in names if n.startswith(prefix)]
        if any(not n.startswith(prefix) for n in names):
            break
        token = page.next_token
    c.eq("ListFlows pages (Limit=2, NextToken) in name order", seen, listed)
    c.check("ListFlows needed two pages for three flows", pages >= 2, f"{pages} page(s)")
    seen, token = {}, None
    for _ in range(200):
        page = client.list_flows(m.ListFlowsRequest(limit=100, next_token=token)).body
        for f in page.flows or []:
            seen[f.name] = seen.get(f.name, 0) + 1
            if f.name == p_name:
                c.eq("ListFlows item carries the flow object", (f.id, f.definition, f.type), (p_id, p_def2, "FDL"))
        token = page.next_token
        if not token:
            break
    c.check("ListFlows walk lists every flow once", all(seen.get(n) == 1 for n in flows),
            f"{ {n: seen.get(n) for n in flows} }")
    c.raises("ListFlows Limit=0 -> InvalidArgument naming Limit",
             lambda: client.list_flows(m.ListFlowsRequest(limit=0)),
             api_error("InvalidArgument", 400, ["Limit"]))

    # --- StartExecution / DescribeExecution ------------------------------------------------------
    body = start(p_name, "x1", UNICODE_INPUT)
    c.check("StartExecution body parsed", body is not None)
    c.eq("StartExecution Name/FlowName", (body.name, body.flow_name), ("x1", p_name))
    c.check("StartExecution Status", body.status in ("Starting", "Running", "Succeeded"), f"{body.status!r}")
    c.json_eq("StartExecution echoes Input (non-ASCII, reserved characters)", body.input, json.loads(UNICODE_INPUT))
    c.time("StartExecution StartedTime", body.started_time)
    body = wait_terminal(p_name, "x1", "x1 finishes")
    c.eq("DescribeExecution Status Succeeded", body.status, "Succeeded")
    c.json_eq("Pass flow output = input (CF-1)", body.output, json.loads(UNICODE_INPUT))
    c.eq("DescribeExecution FlowDefinition is the definition it started with", body.flow_definition, p_def2)
    c.time("DescribeExecution StoppedTime", body.stopped_time)
    c.check("DescribeExecution StoppedTime set on a finished execution", not body.stopped_time.startswith("1970"),
            body.stopped_time)
    c.check("DescribeExecution omits Environment when the flow has none", body.environment is None)

    body = start(p_name)
    gen = body.name
    c.check("StartExecution without ExecutionName generates a name", isinstance(gen, str) and len(gen) >= 32, f"{gen!r}")
    body = wait_terminal(p_name, gen, "generated execution finishes")
    c.eq("Execution without Input: Input is \"\"", body.input, "")
    c.json_eq("Execution without Input: output {}", body.output, {})

    start(f_name, "f1", '{"a": 1}')
    body = wait_terminal(f_name, "f1", "FDL execution finishes")
    c.eq("FDL execution Succeeded", body.status, "Succeeded")
    c.json_eq("FDL-1 output is the flow local {}", body.output, {})

    start(e_name, "e1", "{}")
    body = wait_terminal(e_name, "e1", "env execution finishes")
    c.check("DescribeExecution with Environment: body parsed", body is not None)
    c.eq("DescribeExecution Environment (Name/Value)", body.to_map().get("Environment"),
         {"Variables": [{"Name": "GREETING", "Value": "hello world"}]})

    c.raises("StartExecution of a finished name -> 400 ExecutionAlreadyExists",
             lambda: start(p_name, "x1", "{}"),
             api_error("ExecutionAlreadyExists", 400, ["x1"]))
    c.raises("StartExecution bad ExecutionName -> InvalidArgument naming ExecutionName",
             lambda: start(p_name, "bad name!", "{}"),
             api_error("InvalidArgument", 400, ["ExecutionName"]))
    c.raises("StartExecution Input not an object -> InvalidArgument naming Input",
             lambda: start(p_name, "arr", "[1, 2]"),
             api_error("InvalidArgument", 400, ["Input"]))
    c.raises("StartExecution missing flow -> 404 FlowNotExists",
             lambda: start(missing, "x", "{}"),
             api_error("FlowNotExists", 404, [missing]))
    c.raises("DescribeExecution missing execution -> 404 ExecutionNotExists",
             lambda: describe(p_name, "nope"),
             api_error("ExecutionNotExists", 404, ["nope"]))
    c.raises("DescribeExecution missing flow -> 404 FlowNotExists",
             lambda: describe(missing, "nope"),
             api_error("FlowNotExists", 404))

    # --- DescribeExecution long poll --------------------------------------------------------
    w2 = env.name("wait2")
    create_flow(w2, wait_sm(w2, 2))
    start(w2, "lp", "{}")
    began = time.monotonic()
    body = describe(w2, "lp", wait=15, read_timeout_ms=30000)
    took = time.monotonic() - began
    c.eq("DescribeExecution WaitTimeSeconds=15 returns the finished execution", body.status, "Succeeded")
    c.check("DescribeExecution long poll answers when the execution ends, not at the wait's end",
            took < 12, f"took {took:.1f} s")
    c.raises("DescribeExecution WaitTimeSeconds=61 -> InvalidArgument naming WaitTimeSeconds",
             lambda: describe(w2, "lp", wait=61),
             api_error("InvalidArgument", 400, ["WaitTimeSeconds"]))

    # --- ListExecutions ----------------------------------------------------------------
    for name in ("a_1", "a_2", "b_1"):
        start(p_name, name, '{"k": "v"}')
    for name in ("a_1", "a_2", "b_1"):
        wait_terminal(p_name, name, f"{name} finishes")
    everything = {"x1", gen, "a_1", "a_2", "b_1"}

    def list_executions(**kw):
        c.at(f"ListExecutions {kw}")
        return client.list_executions(m.ListExecutionsRequest(flow_name=kw.pop("flow", p_name), **kw)).body

    body = list_executions(execution_name_prefix="a_")
    c.eq("ListExecutions ExecutionNamePrefix filter", sorted(e.name for e in body.executions or []), ["a_1", "a_2"])
    body = list_executions(status="Succeeded", limit=100)
    c.check("ListExecutions Status=Succeeded filter",
            {e.name for e in body.executions} == everything and all(e.status == "Succeeded" for e in body.executions),
            f"{[(e.name, e.status) for e in body.executions]}")
    body = list_executions(status="Running")
    c.eq("ListExecutions Status=Running on a finished flow is empty", body.executions, [])
    names, token, pages = [], None, 0
    while pages < 20:
        body = list_executions(limit=2, next_token=token)
        pages += 1
        names += [e.name for e in body.executions or []]
        token = body.next_token
        if not token:
            break
    c.check("ListExecutions pages (Limit=2, NextToken) list each execution once",
            sorted(names) == sorted(everything) and pages == 3, f"{pages} pages: {names}")
    body = list_executions(metadata_only=True)
    c.check("ListExecutions MetadataOnly=True (sent as 'True') omits FlowDefinition/Input/Output",
            len(body.executions) == 5 and all(e.flow_definition is None and e.input is None and e.output is None
                                              for e in body.executions),
            f"{[e.to_map() for e in body.executions]}")
    c.check("ListExecutions MetadataOnly items keep Name/Status/StartedTime",
            all(e.name and e.status and RFC3339_MS.match(e.started_time or "") for e in body.executions))
    body = list_executions(metadata_only=False, execution_name_prefix="b_")
    c.check("ListExecutions MetadataOnly=False (sent as 'False') includes Input/Output",
            len(body.executions) == 1 and body.executions[0].input is not None
            and body.executions[0].output is not None and body.executions[0].flow_definition == p_def2,
            f"{[e.to_map() for e in body.executions]}")
    c.raises("ListExecutions missing flow -> 404 FlowNotExists",
             lambda: list_executions(flow=missing),
             api_error("FlowNotExists", 404))
    c.raises("ListExecutions bad Status -> InvalidArgument naming Status",
             lambda: list_executions(status="Bogus"),
             api_error("InvalidArgument", 400, ["Status"]))
    c.raises("ListExecutions Limit=101 -> InvalidArgument naming Limit",
             lambda: list_executions(limit=101),
             api_error("InvalidArgument", 400, ["Limit"]))

    # --- GetExecutionHistory ----------------------------------------------------------------
    events = all_events(p_name, "x1")
    c.check("GetExecutionHistory has events", len(events) >= 2, f"{len(events)}")
    c.eq("GetExecutionHistory EventIds are 1..n integers",
         [e.event_id for e in events], list(range(1, len(events) + 1)))
    c.check("GetExecutionHistory EventId/ScheduleEventId are JSON integers",
            all(type(e.event_id) is int and type(e.schedule_event_id) is int for e in events),
            f"{[e.to_map() for e in events[:3]]}")
    c.eq("GetExecutionHistory first event ExecutionStarted", events[0].type, "ExecutionStarted")
    c.eq("GetExecutionHistory last event ExecutionSucceeded", events[-1].type, "ExecutionSucceeded")
    c.check("GetExecutionHistory times are RFC 3339", all(RFC3339_MS.match(e.time or "") for e in events))
    c.json_eq("ExecutionStarted EventDetail carries the input", events[0].event_detail,
              {"input": json.loads(UNICODE_INPUT)})
    c.check("GetExecutionHistory step events name their state",
            any(e.step_name == "Greet" for e in events), f"{[(e.type, e.step_name) for e in events]}")
    paged, token = [], None
    for _ in range(50):
        page = history(p_name, "x1", limit=2, token=token)
        c.check(f"GetExecutionHistory page of at most 2 (after {token})", len(page.events or []) <= 2)
        paged += page.events or []
        token = page.next_token
        if not token:
            break
    c.eq("GetExecutionHistory pages (Limit=2, NextToken) give the same events",
         [e.event_id for e in paged], [e.event_id for e in events])
    c.raises("GetExecutionHistory missing execution -> 404 ExecutionNotExists",
             lambda: history(p_name, "nope"),
             api_error("ExecutionNotExists", 404))

    # --- StopExecution ------------------------------------------------------------------
    w60 = env.name("wait60")
    create_flow(w60, wait_sm(w60, 60))
    body = start(w60, "s_1", '{"hold": true}')
    poll(c, "s_1 is Running", lambda: describe(w60, "s_1"), lambda b: b.status == "Running")
    body = describe(w60, "s_1")
    c.check("Running execution StoppedTime is the zero time", (body.stopped_time or "").startswith("1970-01-01T00:00:00"),
            f"{body.stopped_time!r}")
    c.eq("Running execution Output is \"\"", body.output, "")
    body = list_executions(flow=w60, status="Running")
    c.eq("ListExecutions Status=Running lists the waiting execution", [e.name for e in body.executions], ["s_1"])
    body = start(w60, "s_1", '{"other": 1}')
    c.check("StartExecution of a running name returns the existing execution",
            body.name == "s_1" and body.status in ("Starting", "Running") and json.loads(body.input) == {"hold": True},
            f"{body.to_map()!r}")
    c.at("StopExecution")
    body = client.stop_execution(m.StopExecutionRequest(
        flow_name=w60, execution_name="s_1", error="Halted", cause="stopped by the sdk test")).body
    c.eq("StopExecution returns the Stopped execution", (body.name, body.status), ("s_1", "Stopped"))
    c.time("StopExecution StoppedTime", body.stopped_time)
    body = describe(w60, "s_1")
    c.eq("DescribeExecution after StopExecution", body.status, "Stopped")
    events = all_events(w60, "s_1")
    c.eq("Stopped execution history ends with ExecutionStopped", events[-1].type, "ExecutionStopped")
    c.json_eq("ExecutionStopped EventDetail carries Error/Cause", events[-1].event_detail,
              {"error": "Halted", "cause": "stopped by the sdk test"})
    body = list_executions(flow=w60, status="Stopped")
    c.eq("ListExecutions Status=Stopped", [e.name for e in body.executions], ["s_1"])
    c.raises("StopExecution of a finished execution -> 400 ExecutionAlreadyCompleted",
             lambda: client.stop_execution(m.StopExecutionRequest(flow_name=w60, execution_name="s_1")),
             api_error("ExecutionAlreadyCompleted", 400, ["s_1"]))
    c.raises("StopExecution missing execution -> 404 ExecutionNotExists",
             lambda: client.stop_execution(m.StopExecutionRequest(flow_name=w60, execution_name="nope")),
             api_error("ExecutionNotExists", 404))

    # --- ReportTaskSucceeded / ReportTaskFailed (WaitForCustomCallback on a nested flow) ---------
    child = env.name("child")
    create_flow(child, pass_sm(child))
    parent = env.name("callback")
    create_flow(parent, callback_sm(parent, child, env.region))

    def token_of(execution):
        events = poll(c, f"{execution}: task submitted and waiting for its callback",
                      lambda: all_events(parent, execution),
                      lambda evs: any(e.type == "TaskSubmitted" for e in evs)
                      or any(e.type.startswith("Execution") and e.type != "ExecutionStarted" for e in evs))
        for e in events:
            if e.type == "TaskScheduled":
                found = find_key(json.loads(e.event_detail), "token")
                if found:
                    return found
        # Else read it where the child got it: the child execution's input.
        for e in list_executions(flow=child, limit=100).executions or []:
            found = find_key(json.loads(describe(child, e.name).input or "{}"), "token")
            if found and e.name in json.dumps([ev.event_detail for ev in events]):
                return found
        c.fail(f"{execution}: task token", f"not in TaskScheduled nor in the child's input: "
                                           f"{[(e.type, e.event_detail) for e in events]}")

    start(parent, "ok_1", '{"orderId": "o-1"}')
    token = token_of("ok_1")
    c.eq("Callback task keeps the parent Running", describe(parent, "ok_1").status, "Running")
    c.raises("ReportTaskSucceeded with a forged token -> InvalidArgument",
             lambda: client.report_task_succeeded(m.ReportTaskSucceededRequest(task_token="forged-token", output="{}")),
             api_error("InvalidArgument", 400))
    c.at("ReportTaskSucceeded")
    body = client.report_task_succeeded(m.ReportTaskSucceededRequest(task_token=token, output='{"approved": true}')).body
    c.check("ReportTaskSucceeded returns an integer EventId", type(body.event_id) is int and body.event_id > 0,
            f"{body.to_map()!r}")
    c.request_id("ReportTaskSucceeded RequestId", body.request_id)
    reported = body.event_id
    body = wait_terminal(parent, "ok_1", "ok_1 finishes after the report")
    c.eq("ReportTaskSucceeded completes the task: parent Succeeded", body.status, "Succeeded")
    c.json_eq("Parent output is the reported Output", body.output, {"approved": True})
    events = all_events(parent, "ok_1")
    c.check("History has TaskSucceeded with the reported EventId",
            any(e.type == "TaskSucceeded" and e.event_id == reported for e in events),
            f"{[(e.event_id, e.type) for e in events]}")
    c.raises("ReportTaskSucceeded on a finished execution -> 400 ExecutionAlreadyCompleted",
             lambda: client.report_task_succeeded(m.ReportTaskSucceededRequest(task_token=token, output="{}")),
             api_error("ExecutionAlreadyCompleted", 400))

    start(parent, "fail_1", '{"orderId": "o-2"}')
    token = token_of("fail_1")
    c.at("ReportTaskFailed")
    body = client.report_task_failed(m.ReportTaskFailedRequest(task_token=token, error="Rejected", cause="no")).body
    c.check("ReportTaskFailed returns an integer EventId", type(body.event_id) is int and body.event_id > 0,
            f"{body.to_map()!r}")
    body = wait_terminal(parent, "fail_1", "fail_1 finishes after the report")
    c.eq("ReportTaskFailed fails the parent", body.status, "Failed")
    events = all_events(parent, "fail_1")
    c.eq("Failed execution history ends with ExecutionFailed", events[-1].type, "ExecutionFailed")
    c.json_eq("ExecutionFailed EventDetail carries the reported error", events[-1].event_detail,
              {"error": "Rejected", "cause": "no"})
    c.raises("ReportTaskFailed on a finished execution -> 400 ExecutionAlreadyCompleted",
             lambda: client.report_task_failed(m.ReportTaskFailedRequest(task_token=token, error="Again")),
             api_error("ExecutionAlreadyCompleted", 400))

    # --- Signature ------------------------------------------------------------------------
    bad = make_client(env, secret=env.access_key_secret + "-wrong")
    c.raises("Wrong secret -> 403 SignatureNotMatch",
             lambda: bad.describe_flow(m.DescribeFlowRequest(name=p_name)),
             api_error("SignatureNotMatch", 403))
    unknown = Client(Config(access_key_id="no-such-key-id", access_key_secret="x",
                            endpoint=env.endpoint, protocol="http"))
    c.raises("Unknown AccessKeyId -> 403 InvalidAccessKeyID",
             lambda: unknown.describe_flow(m.DescribeFlowRequest(name=p_name)),
             api_error("InvalidAccessKeyID", 403, ["no-such-key-id"]))

    # --- DeleteFlow -----------------------------------------------------------------------
    for name in list(flows):
        c.at(f"DeleteFlow {name}")
        body = client.delete_flow(m.DeleteFlowRequest(name=name)).body
        c.request_id(f"DeleteFlow {name}", body.request_id)
        flows.remove(name)
    c.raises("DescribeFlow after DeleteFlow -> FlowNotExists",
             lambda: client.describe_flow(m.DescribeFlowRequest(name=p_name)),
             api_error("FlowNotExists", 404))
    c.raises("ListExecutions of a deleted flow -> FlowNotExists",
             lambda: list_executions(flow=p_name),
             api_error("FlowNotExists", 404))
    c.raises("DeleteFlow missing flow -> 404 FlowNotExists",
             lambda: client.delete_flow(m.DeleteFlowRequest(name=p_name)),
             api_error("FlowNotExists", 404))
    body = create_flow(p_name, p_def)
    c.check("A deleted flow's name is reusable, with a new Id", body.id != p_id, f"{body.id} == {p_id}")
    c.eq("The re-created flow has no executions", list_executions().executions, [])
    client.delete_flow(m.DeleteFlowRequest(name=p_name))
    flows.remove(p_name)


if __name__ == "__main__":
    run(SCRIPT, main)
