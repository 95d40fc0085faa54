#!/usr/bin/env python3
"""SDK conformance, later actions: the old Python core SDK `aliyun-python-sdk-fnf` against a live
fnf-server for StartSyncExecution and the schedule actions. Same conventions as python_old.py.

    FNF_ENDPOINT=127.0.0.1:8089 FNF_ACCESS_KEY_ID=… FNF_ACCESS_KEY_SECRET=… FNF_RUN_ID=r1 \
        [FNF_SDK_SECTIONS=sync,schedules] target/sdk-venv/bin/python tests/sdk/python_old_full_api.py

FNF_SDK_SECTIONS (comma-separated; default: all) selects the sections to run.

SDK details that matter here (installed source):
* StartSyncExecutionRequest calls `set_protocol_type('https')` in its constructor: against a
  plain-HTTP server the request must get `set_protocol_type('http')` or an endpoint carrying
  `http://` (a scheme in the endpoint wins; both ways are checked below).
* No `Qualifier` on StartSyncExecution/StartExecution, no `Environment`/`ExecutionMode` on
  UpdateFlow; CreateFlow has `ExecutionMode` but no `Environment`.
* CreateSchedule/UpdateSchedule put `Enable` in the body as `True`/`False`.
  CreateScheduleRequest.set_SignatureVersion writes a query parameter that the signer
  overwrites with `1.0`.
"""

import json
import os

from sdkcheck import run
from fnfdefs import fail_sm, pass_sm
from python_old import OldSdk, api_error

from aliyunsdkfnf.request.v20190315.CreateFlowRequest import CreateFlowRequest
from aliyunsdkfnf.request.v20190315.CreateScheduleRequest import CreateScheduleRequest
from aliyunsdkfnf.request.v20190315.DeleteFlowRequest import DeleteFlowRequest
from aliyunsdkfnf.request.v20190315.DeleteScheduleRequest import DeleteScheduleRequest
from aliyunsdkfnf.request.v20190315.DescribeScheduleRequest import DescribeScheduleRequest
from aliyunsdkfnf.request.v20190315.ListSchedulesRequest import ListSchedulesRequest
from aliyunsdkfnf.request.v20190315.StartExecutionRequest import StartExecutionRequest
from aliyunsdkfnf.request.v20190315.StartSyncExecutionRequest import StartSyncExecutionRequest
from aliyunsdkfnf.request.v20190315.UpdateScheduleRequest import UpdateScheduleRequest

SCRIPT = "pyoldfull"
SECTIONS = ("sync", "schedules")


def selected():
    raw = os.environ.get("FNF_SDK_SECTIONS", "").strip()
    if not raw:
        return set(SECTIONS)
    chosen = {s.strip() for s in raw.split(",") if s.strip()}
    if chosen - set(SECTIONS):
        raise SystemExit(f"FAIL {SCRIPT}: unknown FNF_SDK_SECTIONS {sorted(chosen - set(SECTIONS))}; "
                         f"known: {', '.join(SECTIONS)}")
    return chosen


def main(env, c):
    sdk = OldSdk(env)
    sections = selected()
    flows = []
    missing = env.name("missing")

    def create_flow(name, definition, **kw):
        c.at(f"CreateFlow {name}")
        body = sdk(CreateFlowRequest(), Name=name, Definition=definition, Description="", Type="FDL", **kw)
        flows.append(name)
        return body

    if "sync" in sections:
        x_name = env.name("express")
        body = create_flow(x_name, pass_sm(x_name), ExecutionMode="Express")
        c.eq("CreateFlow ExecutionMode=Express", body["ExecutionMode"], "Express")
        c.check("StartSyncExecutionRequest forces https (the trap this script works around)",
                StartSyncExecutionRequest().get_protocol_type() == "https")
        c.at("StartSyncExecution (protocol http)")
        body = sdk(StartSyncExecutionRequest(), FlowName=x_name, ExecutionName="sync1", Input='{"a": "b c+d"}')
        c.eq("StartSyncExecution Status", body["Status"], "Succeeded")
        c.json_eq("StartSyncExecution Output", body["Output"], {"a": "b c+d"})
        c.check("StartSyncExecution Name is <ExecutionName>:<uuid>", body["Name"].startswith("sync1:"), body["Name"])
        c.check("StartSyncExecution success body has no Code/ErrorCode", "Code" not in body and "ErrorCode" not in body,
                f"{body!r}")

        c.at("StartSyncExecution (endpoint with http:// scheme, protocol left at https)")
        request = StartSyncExecutionRequest()
        request.set_FlowName(x_name)
        request.set_endpoint("http://" + env.endpoint)
        body = json.loads(sdk.client.do_action_with_exception(request))
        c.eq("StartSyncExecution through an endpoint that carries the scheme", body["Status"], "Succeeded")

        xf_name = env.name("express_fail")
        create_flow(xf_name, fail_sm(xf_name, "Boom", "it broke"), ExecutionMode="Express")
        c.at("StartSyncExecution failing flow")
        body = sdk(StartSyncExecutionRequest(), FlowName=xf_name)
        c.eq("StartSyncExecution of a failing flow answers 200 with Status Failed",
             (body["Status"], body.get("ErrorCode"), body.get("ErrorMessage")), ("Failed", "Boom", "it broke"))
        c.raises("StartExecution on an Express flow -> ActionNotSupported",
                 lambda: sdk(StartExecutionRequest(), FlowName=x_name),
                 api_error("ActionNotSupported", 400))
        c.raises("StartSyncExecution missing flow -> 404 FlowNotExists",
                 lambda: sdk(StartSyncExecutionRequest(), FlowName=missing),
                 api_error("FlowNotExists", 404))

    if "schedules" in sections:
        s_flow = env.name("scheduled")
        create_flow(s_flow, pass_sm(s_flow))
        c.at("CreateSchedule")
        body = sdk(CreateScheduleRequest(), FlowName=s_flow, ScheduleName="daily", CronExpression="0 0 12 * * *",
                   Payload='{"a": 1}', Enable=True, Description="noon")
        c.eq("CreateSchedule fields", [body.get(k) for k in ("ScheduleName", "CronExpression", "Description", "Enable")],
             ["daily", "0 0 12 * * *", "noon", True])
        c.check("CreateSchedule Enable (sent as 'True') comes back a JSON boolean", type(body["Enable"]) is bool)
        c.check("CreateSchedule ScheduleId", bool(body.get("ScheduleId")))
        c.time("CreateSchedule CreatedTime", body.get("CreatedTime"))
        body = sdk(CreateScheduleRequest(), FlowName=s_flow, ScheduleName="every", CronExpression="@every 5m",
                   Enable=False)
        c.eq("CreateSchedule Enable=False", body["Enable"], False)
        c.raises("CreateSchedule existing name -> 409 ScheduleAlreadyExists",
                 lambda: sdk(CreateScheduleRequest(), FlowName=s_flow, ScheduleName="daily", CronExpression="@every 5m"),
                 api_error("ScheduleAlreadyExists", 409))
        c.raises("CreateSchedule bad CronExpression -> InvalidArgument naming CronExpression",
                 lambda: sdk(CreateScheduleRequest(), FlowName=s_flow, ScheduleName="bad", CronExpression="every day"),
                 api_error("InvalidArgument", 400, ["CronExpression"]))
        c.at("UpdateSchedule")
        body = sdk(UpdateScheduleRequest(), FlowName=s_flow, ScheduleName="daily", Enable=False,
                   CronExpression="@every 10m")
        c.eq("UpdateSchedule changes only what is given",
             [body.get(k) for k in ("Enable", "CronExpression", "Description")], [False, "@every 10m", "noon"])
        c.at("DescribeSchedule")
        body = sdk(DescribeScheduleRequest(), FlowName=s_flow, ScheduleName="daily")
        c.eq("DescribeSchedule after UpdateSchedule", (body["Enable"], body["CronExpression"]), (False, "@every 10m"))
        c.raises("DescribeSchedule unknown schedule -> 404 ScheduleNotExists",
                 lambda: sdk(DescribeScheduleRequest(), FlowName=s_flow, ScheduleName="nosuch"),
                 api_error("ScheduleNotExists", 404))
        c.at("ListSchedules")
        body = sdk(ListSchedulesRequest(), FlowName=s_flow, Limit=1)
        c.check("ListSchedules Limit=1 gives one schedule and a NextToken",
                len(body["Schedules"]) == 1 and bool(body.get("NextToken")), f"{body!r}")
        body = sdk(ListSchedulesRequest(), FlowName=s_flow)
        c.eq("ListSchedules in name order", [s["ScheduleName"] for s in body["Schedules"]], ["daily", "every"])
        c.at("DeleteSchedule")
        body = sdk(DeleteScheduleRequest(), FlowName=s_flow, ScheduleName="every")
        c.request_id("DeleteSchedule RequestId", body.get("RequestId"))
        c.raises("DeleteSchedule again -> 404 ScheduleNotExists",
                 lambda: sdk(DeleteScheduleRequest(), FlowName=s_flow, ScheduleName="every"),
                 api_error("ScheduleNotExists", 404))
        c.raises("CreateSchedule missing flow -> 404 FlowNotExists",
                 lambda: sdk(CreateScheduleRequest(), FlowName=missing, ScheduleName="x", CronExpression="@every 5m"),
                 api_error("FlowNotExists", 404))

    for name in list(flows):
        c.at(f"DeleteFlow {name}")
        sdk(DeleteFlowRequest(), Name=name)
        flows.remove(name)
    c.check("cleanup: every flow deleted", not flows)


if __name__ == "__main__":
    run(SCRIPT, main)
