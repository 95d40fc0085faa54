#!/usr/bin/env python3
"""SDK conformance: the old Python ("core") SDK `aliyun-python-sdk-fnf` (request classes on
`aliyun-python-sdk-core`) against a live fnf-server — its actions of the base API: flows,
executions, history and task reports. (Its schedule actions and StartSyncExecution are in
python_old_full_api.py.)

    FNF_ENDPOINT=127.0.0.1:8089 FNF_ACCESS_KEY_ID=… FNF_ACCESS_KEY_SECRET=… FNF_RUN_ID=r1 \
        target/sdk-venv/bin/python tests/sdk/python_old.py

Prints `ok <n> <check>` per check and `OK <n> checks` at the end; exits 1 naming the first
failed check, 2 when FNF_ENDPOINT is unset or nothing listens there (sdkcheck.py).

What this SDK does on the wire (read from its installed source, fnf 1.8.3 on core 2.16.1):
* `AcsClient(ak, secret, region)`; every request gets `set_endpoint("host:port")` and
  `set_protocol_type("http")` (http is the core's default, but StartSyncExecutionRequest forces
  https in its constructor). A scheme in the endpoint wins over the protocol type.
* V1 signature; common parameters in the query, including `RegionId` and an empty
  `SignatureType=`, `Format=JSON`; action parameters where each request class puts them
  (GET actions: query; POST actions: form body, `TaskToken` in the query).
* Query values are `str()`-ed and urlencoded with `+` rewritten to `%20`; the body is plain
  urlencode (spaces as `+`). Booleans go out as `True`/`False`.
* Sends `Accept-Encoding: identity`, `x-sdk-client: python/2.0.0`, a `Content-MD5` of the body.
* Read timeout 10 s by default (`request.set_read_timeout(seconds)` raises it), connect 5 s.
* Errors: any status outside 200–299 → `ServerException(code, message, http_status,
  request_id)` from the exact-case `Code`/`Message`/`RequestId` of a JSON body. On 400 with
  code `SignatureDoesNotMatch` it indexes `Message.split(':')[1]` (IndexError without a colon).
  Every error is also logged at ERROR level by `aliyunsdkcore.client` (silenced below).
* It honours HTTP(S)_PROXY from the environment (sdkcheck removes them).
* No ListExecutions `MetadataOnly` setter; `add_query_param` sends it anyway (checked below).
"""

import json
import logging
import time

from sdkcheck import RFC3339_MS, TERMINAL, poll, run
from fnfdefs import PASS_FDL, callback_sm, find_key, pass_sm, wait_sm

from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkfnf.request.v20190315.CreateFlowRequest import CreateFlowRequest
from aliyunsdkfnf.request.v20190315.DeleteFlowRequest import DeleteFlowRequest
from aliyunsdkfnf.request.v20190315.DescribeExecutionRequest import DescribeExecutionRequest
from aliyunsdkfnf.request.v20190315.DescribeFlowRequest import DescribeFlowRequest
from aliyunsdkfnf.request.v20190315.GetExecutionHistoryRequest import GetExecutionHistoryRequest
from aliyunsdkfnf.request.v20190315.ListExecutionsRequest import ListExecutionsRequest
from aliyunsdkfnf.request.v20190315.ListFlowsRequest import ListFlowsRequest
from aliyunsdkfnf.request.v20190315.ReportTaskFailedRequest import ReportTaskFailedRequest
from aliyunsdkfnf.request.v20190315.ReportTaskSucceededRequest import ReportTaskSucceededRequest
from aliyunsdkfnf.request.v20190315.StartExecutionRequest import StartExecutionRequest
from aliyunsdkfnf.request.v20190315.StopExecutionRequest import StopExecutionRequest
from aliyunsdkfnf.request.v20190315.UpdateFlowRequest import UpdateFlowRequest

SCRIPT = "pyold"
UNICODE_INPUT = '{"msg": "héllo wörld * ~ /+&=%", "n": 1}'

logging.getLogger("aliyunsdkcore").setLevel(logging.CRITICAL)


class OldSdk:
    """Sends request objects to the server under test and parses the JSON answer."""

    def __init__(self, env, secret=None, key_id=None):
        self.env = env
        self.client = AcsClient(key_id or env.access_key_id, secret or env.access_key_secret, "cn-hangzhou")

    def __call__(self, request, read_timeout=None, **params):
        for key, value in params.items():
            if value is not None:
                getattr(request, f"set_{key}")(value)
        request.set_endpoint(self.env.endpoint)
        request.set_protocol_type("http")
        if read_timeout:
            request.set_read_timeout(read_timeout)
        raw = self.client.do_action_with_exception(request)
        return json.loads(raw)


def api_error(code, status, mentions=()):
    def match(e):
        if not isinstance(e, ServerException):
            return "not a ServerException"
        if e.get_error_code() != code:
            return f"code {e.get_error_code()!r}, want {code!r}"
        if e.get_http_status() != status:
            return f"HTTP status {e.get_http_status()!r}, want {status}"
        if not e.get_request_id():
            return "no request id"
        for word in mentions:
            if word not in (e.get_error_msg() or ""):
                return f"message {e.get_error_msg()!r} does not mention {word!r}"
        return None
    return match


def main(env, c):
    sdk = OldSdk(env)
    flows = []

    def create_flow(name, definition, **kw):
        c.at(f"CreateFlow {name}")
        body = sdk(CreateFlowRequest(), Name=name, Definition=definition,
                   Description=kw.pop("Description", f"{name} flow"), Type=kw.pop("Type", "FDL"), **kw)
        flows.append(name)
        return body

    def describe(flow, execution, **kw):
        c.at(f"DescribeExecution {flow}/{execution}")
        return sdk(DescribeExecutionRequest(), FlowName=flow, ExecutionName=execution, **kw)

    def wait_terminal(flow, execution, name):
        return poll(c, name, lambda: describe(flow, execution), lambda b: b["Status"] in TERMINAL)

    def start(flow, name=None, input=None):
        c.at(f"StartExecution {flow}/{name}")
        return sdk(StartExecutionRequest(), FlowName=flow, ExecutionName=name, Input=input)

    def list_executions(flow, **kw):
        c.at(f"ListExecutions {flow} {kw}")
        request = ListExecutionsRequest()
        metadata_only = kw.pop("MetadataOnly", None)
        if metadata_only is not None:
            request.add_query_param("MetadataOnly", metadata_only)
        return sdk(request, FlowName=flow, **kw)

    def all_events(flow, execution):
        events, token = [], None
        for _ in range(100):
            c.at(f"GetExecutionHistory {flow}/{execution}")
            page = sdk(GetExecutionHistoryRequest(), FlowName=flow, ExecutionName=execution, Limit=100,
                       NextToken=token)
            events += page["Events"]
            token = page.get("NextToken")
            if not token:
                return events
        c.fail("GetExecutionHistory pages", "more than 100 pages")

    missing = env.name("missing")

    # --- CreateFlow / DescribeFlow / UpdateFlow ---------------------------------------------
    p_name = env.name("pass")
    p_def = pass_sm(p_name)
    body = create_flow(p_name, p_def, Description="pass flow")
    c.request_id("CreateFlow RequestId", body.get("RequestId"))
    c.eq("CreateFlow returns the flow object",
         {k: body.get(k) for k in ("Name", "Definition", "Description", "Type", "ExecutionMode")},
         {"Name": p_name, "Definition": p_def, "Description": "pass flow", "Type": "FDL", "ExecutionMode": "Standard"})
    c.time("CreateFlow CreatedTime", body.get("CreatedTime"))
    c.check("CreateFlow has no Code member", "Code" not in body, f"{body!r}")
    c.check("CreateFlow omits absent fields instead of null", None not in body.values(), f"{body!r}")
    p_id = body["Id"]

    f_name = env.name("fdl")
    body = create_flow(f_name, PASS_FDL, ExecutionMode="Standard")
    c.eq("CreateFlow FDL definition with ExecutionMode=Standard", (body["Definition"], body["ExecutionMode"]),
         (PASS_FDL, "Standard"))

    c.raises("CreateFlow existing name -> 409 FlowAlreadyExists",
             lambda: sdk(CreateFlowRequest(), Name=p_name, Definition=p_def, Description="", Type="FDL"),
             api_error("FlowAlreadyExists", 409, [p_name]))
    c.raises("CreateFlow bad name -> InvalidArgument naming Name",
             lambda: sdk(CreateFlowRequest(), Name="bad name", Definition=PASS_FDL, Description="", Type="FDL"),
             api_error("InvalidArgument", 400, ["Name"]))

    c.at("DescribeFlow")
    body = sdk(DescribeFlowRequest(), Name=p_name)
    c.eq("DescribeFlow returns the flow", (body["Name"], body["Id"], body["Definition"]), (p_name, p_id, p_def))
    e = c.raises("DescribeFlow missing flow -> 404 FlowNotExists (ServerException)",
                 lambda: sdk(DescribeFlowRequest(), Name=missing),
                 api_error("FlowNotExists", 404, [missing]))
    c.request_id("ServerException request id is the server's RequestId", e.get_request_id())

    p_def2 = pass_sm(p_name, states=2)
    c.at("UpdateFlow")
    body = sdk(UpdateFlowRequest(), Name=p_name, Definition=p_def2, Description="updated with spaces & symbols +*~")
    c.eq("UpdateFlow changes Definition and Description", (body["Definition"], body["Description"]),
         (p_def2, "updated with spaces & symbols +*~"))
    c.eq("UpdateFlow keeps the Id", body["Id"], p_id)
    c.raises("UpdateFlow missing flow -> 404 FlowNotExists",
             lambda: sdk(UpdateFlowRequest(), Name=missing, Description="x"),
             api_error("FlowNotExists", 404))

    # --- ListFlows ----------------------------------------------------------------------
    listed = [env.name(f"list_{i}") for i in (1, 2, 3)]
    for name in listed:
        create_flow(name, pass_sm(name))
    c.at("ListFlows")
    body = sdk(ListFlowsRequest(), Limit=1)
    c.check("ListFlows Limit=1 gives one flow and a NextToken", len(body["Flows"]) == 1 and body.get("NextToken"),
            f"{body!r}")
    prefix = env.name("list_")
    seen, token, pages = [], prefix, 0
    while token and pages < 50:
        body = sdk(ListFlowsRequest(), Limit=2, NextToken=token)
        pages += 1
        names = [f["Name"] for f in body["Flows"]]
        seen += [n for n in names if n.startswith(prefix)]
        if any(not n.startswith(prefix) for n in names):
            break
        token = body.get("NextToken")
    c.eq("ListFlows pages (Limit=2, NextToken) in name order", seen, listed)
    c.raises("ListFlows Limit=0 -> InvalidArgument naming Limit",
             lambda: sdk(ListFlowsRequest(), Limit=0),
             api_error("InvalidArgument", 400, ["Limit"]))

    # --- Executions ---------------------------------------------------------------------
    body = start(p_name, "x1", UNICODE_INPUT)
    c.eq("StartExecution Name/FlowName", (body["Name"], body["FlowName"]), ("x1", p_name))
    c.json_eq("StartExecution echoes Input (non-ASCII and reserved characters in a form body)",
              body["Input"], json.loads(UNICODE_INPUT))
    body = wait_terminal(p_name, "x1", "x1 finishes")
    c.eq("DescribeExecution Succeeded", body["Status"], "Succeeded")
    c.json_eq("Pass flow output = input", body["Output"], json.loads(UNICODE_INPUT))
    c.eq("DescribeExecution FlowDefinition", body["FlowDefinition"], p_def2)
    c.time("DescribeExecution StoppedTime", body["StoppedTime"])

    body = start(p_name)
    gen = body["Name"]
    c.check("StartExecution without ExecutionName generates a name", isinstance(gen, str) and len(gen) >= 32)
    body = wait_terminal(p_name, gen, "generated execution finishes")
    c.eq("Execution without Input has Input \"\"", body["Input"], "")

    start(f_name, "f1", '{"a": 1}')
    body = wait_terminal(f_name, "f1", "FDL execution finishes")
    c.json_eq("FDL-1 output {}", body["Output"], {})

    c.raises("StartExecution of a finished name -> 400 ExecutionAlreadyExists",
             lambda: start(p_name, "x1", "{}"),
             api_error("ExecutionAlreadyExists", 400, ["x1"]))
    c.raises("StartExecution bad ExecutionName -> InvalidArgument naming ExecutionName",
             lambda: start(p_name, "bad name", "{}"),
             api_error("InvalidArgument", 400, ["ExecutionName"]))
    c.raises("StartExecution missing flow -> 404 FlowNotExists",
             lambda: start(missing, "x", "{}"),
             api_error("FlowNotExists", 404))
    c.raises("DescribeExecution missing execution -> 404 ExecutionNotExists",
             lambda: describe(p_name, "nope"),
             api_error("ExecutionNotExists", 404, ["nope"]))

    w2 = env.name("wait2")
    create_flow(w2, wait_sm(w2, 2))
    start(w2, "lp", "{}")
    began = time.monotonic()
    body = describe(w2, "lp", WaitTimeSeconds=15, read_timeout=30)
    took = time.monotonic() - began
    c.eq("DescribeExecution WaitTimeSeconds=15 returns the finished execution", body["Status"], "Succeeded")
    c.check("DescribeExecution long poll answers when the execution ends", took < 12, f"took {took:.1f} s")

    for name in ("a_1", "a_2", "b_1"):
        start(p_name, name, "{}")
    for name in ("a_1", "a_2", "b_1"):
        wait_terminal(p_name, name, f"{name} finishes")
    everything = {"x1", gen, "a_1", "a_2", "b_1"}
    body = list_executions(p_name, ExecutionNamePrefix="a_")
    c.eq("ListExecutions ExecutionNamePrefix", sorted(e["Name"] for e in body["Executions"]), ["a_1", "a_2"])
    body = list_executions(p_name, Status="Succeeded")
    c.eq("ListExecutions Status=Succeeded", {e["Name"] for e in body["Executions"]}, everything)
    names, token, pages = [], None, 0
    while pages < 20:
        body = list_executions(p_name, Limit=2, NextToken=token)
        pages += 1
        names += [e["Name"] for e in body["Executions"]]
        token = body.get("NextToken")
        if not token:
            break
    c.check("ListExecutions pages (Limit=2, NextToken)", sorted(names) == sorted(everything) and pages == 3,
            f"{pages} pages: {names}")
    c.check("ListExecutions omits NextToken on the last page", "NextToken" not in body, f"{body!r}")
    body = list_executions(p_name, MetadataOnly=True)
    c.check("ListExecutions MetadataOnly=True in the query (as 'True') omits Input/Output/FlowDefinition",
            len(body["Executions"]) == 5
            and not any(k in e for e in body["Executions"] for k in ("Input", "Output", "FlowDefinition")),
            f"{body['Executions']!r}")
    c.raises("ListExecutions missing flow -> 404 FlowNotExists",
             lambda: list_executions(missing),
             api_error("FlowNotExists", 404))

    events = all_events(p_name, "x1")
    c.eq("GetExecutionHistory EventIds 1..n (JSON integers)", [e["EventId"] for e in events],
         list(range(1, len(events) + 1)))
    c.check("GetExecutionHistory EventId is a JSON integer", all(type(e["EventId"]) is int for e in events))
    c.eq("GetExecutionHistory starts with ExecutionStarted, ends with ExecutionSucceeded",
         (events[0]["Type"], events[-1]["Type"]), ("ExecutionStarted", "ExecutionSucceeded"))
    c.check("GetExecutionHistory Time/EventDetail", all(RFC3339_MS.match(e["Time"]) and isinstance(e["EventDetail"], str)
                                                       for e in events))
    c.at("GetExecutionHistory Limit=1")
    body = sdk(GetExecutionHistoryRequest(), FlowName=p_name, ExecutionName="x1", Limit=1)
    c.check("GetExecutionHistory Limit=1 gives one event and NextToken \"2\"",
            len(body["Events"]) == 1 and body.get("NextToken") == "2", f"{body!r}")

    # --- StopExecution --------------------------------------------------------------------
    w60 = env.name("wait60")
    create_flow(w60, wait_sm(w60, 60))
    start(w60, "s_1", "{}")
    poll(c, "s_1 is Running", lambda: describe(w60, "s_1"), lambda b: b["Status"] == "Running")
    body = list_executions(w60, Status="Running")
    c.eq("ListExecutions Status=Running", [e["Name"] for e in body["Executions"]], ["s_1"])
    c.at("StopExecution")
    body = sdk(StopExecutionRequest(), FlowName=w60, ExecutionName="s_1", Error="Halted", Cause="by the old sdk")
    c.eq("StopExecution returns Stopped", (body["Name"], body["Status"]), ("s_1", "Stopped"))
    events = all_events(w60, "s_1")
    c.eq("History ends with ExecutionStopped", events[-1]["Type"], "ExecutionStopped")
    c.raises("StopExecution again -> 400 ExecutionAlreadyCompleted",
             lambda: sdk(StopExecutionRequest(), FlowName=w60, ExecutionName="s_1"),
             api_error("ExecutionAlreadyCompleted", 400))

    # --- ReportTaskSucceeded / ReportTaskFailed ---------------------------------------------
    child = env.name("child")
    create_flow(child, pass_sm(child))
    parent = env.name("callback")
    create_flow(parent, callback_sm(parent, child, env.region))

    def token_of(execution):
        events = poll(c, f"{execution}: task submitted", lambda: all_events(parent, execution),
                      lambda evs: any(e["Type"] == "TaskSubmitted" for e in evs)
                      or any(e["Type"].startswith("Execution") and e["Type"] != "ExecutionStarted" for e in evs))
        for e in events:
            if e["Type"] == "TaskScheduled":
                found = find_key(json.loads(e["EventDetail"]), "token")
                if found:
                    return found
        for e in list_executions(child, Limit=100)["Executions"]:
            found = find_key(json.loads(describe(child, e["Name"]).get("Input") or "{}"), "token")
            if found:
                return found
        c.fail(f"{execution}: task token", f"not found in {events!r}")

    start(parent, "ok_1", '{"orderId": "o-1"}')
    token = token_of("ok_1")
    c.at("ReportTaskSucceeded")
    body = sdk(ReportTaskSucceededRequest(), TaskToken=token, Output='{"approved": true}')
    c.check("ReportTaskSucceeded returns an integer EventId", type(body.get("EventId")) is int, f"{body!r}")
    body = wait_terminal(parent, "ok_1", "ok_1 finishes")
    c.eq("Parent Succeeded", body["Status"], "Succeeded")
    c.json_eq("Parent output is the reported Output", body["Output"], {"approved": True})
    c.raises("ReportTaskSucceeded on a finished execution -> 400 ExecutionAlreadyCompleted",
             lambda: sdk(ReportTaskSucceededRequest(), TaskToken=token, Output="{}"),
             api_error("ExecutionAlreadyCompleted", 400))

    start(parent, "fail_1", '{"orderId": "o-2"}')
    token = token_of("fail_1")
    c.at("ReportTaskFailed")
    body = sdk(ReportTaskFailedRequest(), TaskToken=token, Error="Rejected", Cause="no")
    c.check("ReportTaskFailed returns an integer EventId", type(body.get("EventId")) is int, f"{body!r}")
    body = wait_terminal(parent, "fail_1", "fail_1 finishes")
    c.eq("Parent Failed", body["Status"], "Failed")
    c.raises("ReportTaskFailed with a forged token -> InvalidArgument",
             lambda: sdk(ReportTaskFailedRequest(), TaskToken="forged", Error="E"),
             api_error("InvalidArgument", 400))

    # --- Authentication errors ---------------------------------------------------------------
    wrong = OldSdk(env, secret=env.access_key_secret + "-wrong")
    c.raises("Wrong secret -> 403 SignatureNotMatch (the SDK does not crash on it)",
             lambda: wrong(DescribeFlowRequest(), Name=p_name),
             api_error("SignatureNotMatch", 403))
    unknown = OldSdk(env, key_id="no-such-key-id", secret="x")
    c.raises("Unknown AccessKeyId -> 403 InvalidAccessKeyID",
             lambda: unknown(DescribeFlowRequest(), Name=p_name),
             api_error("InvalidAccessKeyID", 403))

    # --- DeleteFlow --------------------------------------------------------------------
    for name in list(flows):
        c.at(f"DeleteFlow {name}")
        body = sdk(DeleteFlowRequest(), Name=name)
        c.request_id(f"DeleteFlow {name}", body.get("RequestId"))
        flows.remove(name)
    c.raises("DescribeFlow after DeleteFlow -> 404 FlowNotExists",
             lambda: sdk(DescribeFlowRequest(), Name=p_name),
             api_error("FlowNotExists", 404))
    c.raises("DeleteFlow missing flow -> 404 FlowNotExists",
             lambda: sdk(DeleteFlowRequest(), Name=p_name),
             api_error("FlowNotExists", 404))


if __name__ == "__main__":
    run(SCRIPT, main)
