#!/usr/bin/env python3
"""SDK conformance, later actions: the new Python SDK `alibabacloud-fnf20190315` against a live
fnf-server for StartSyncExecution (Express flows), flow versions, aliases and `Qualifier`,
schedules, and map runs. Same conventions as python_new.py (env vars, `OK <n> checks`).

    FNF_ENDPOINT=127.0.0.1:8089 FNF_ACCESS_KEY_ID=… FNF_ACCESS_KEY_SECRET=… FNF_RUN_ID=r1 \
        [FNF_SDK_SECTIONS=sync,versions,aliases,schedules,mapruns] \
        target/sdk-venv/bin/python tests/sdk/python_new_full_api.py

FNF_SDK_SECTIONS (comma-separated; default: all) selects the sections to run, so each can be
enabled as the server learns its actions.

SDK details that matter here (installed source):
* CreateFlowAlias/UpdateFlowAlias send `RoutingConfigurations` as one JSON-string form field
  (`[{"Version": "1", "Weight": 80}]`, Python's json.dumps spacing); the responses must carry a
  JSON array of objects or the SDK drops the whole body.
* ListFlowVersionsRequest.limit is typed str; ListFlowAliases' Weight is typed str in the
  response model (the server sends an integer; Python does not convert either way).
* CreateSchedule/UpdateSchedule send `Enable` as `True`/`False`; CreateScheduleRequest has a
  `signature_version` field that collides with the common SignatureVersion (the SDK's own
  value `1.0` is set after it, in the query).
* UpdateMapRun is a GET; `ToleratedFailedPercentage` goes out as `str(float)`, e.g. `12.5`.
* DescribeRegions, PublishFlowVersion, DeleteFlowVersion and the alias mutations are POSTs.
"""

import json
import os

from sdkcheck import TERMINAL, poll, run
from fnfdefs import fail_sm, pass_sm

from alibabacloud_fnf20190315 import models as m
from python_new import api_error, make_client

SCRIPT = "pynewfull"
SECTIONS = ("sync", "versions", "aliases", "schedules", "mapruns")


def selected():
    raw = os.environ.get("FNF_SDK_SECTIONS", "").strip()
    if not raw:
        return set(SECTIONS)
    chosen = {s.strip() for s in raw.split(",") if s.strip()}
    unknown = chosen - set(SECTIONS)
    if unknown:
        raise SystemExit(f"FAIL {SCRIPT}: unknown FNF_SDK_SECTIONS {sorted(unknown)}; known: {', '.join(SECTIONS)}")
    return chosen


def main(env, c):
    client = make_client(env)
    sections = selected()
    flows = []
    missing = env.name("missing")

    def create_flow(name, definition, **kw):
        c.at(f"CreateFlow {name}")
        body = client.create_flow(m.CreateFlowRequest(
            name=name, definition=definition, description=kw.pop("description", f"{name} flow"),
            type="FDL", **kw)).body
        flows.append(name)
        return body

    def describe(flow, execution):
        c.at(f"DescribeExecution {flow}/{execution}")
        return client.describe_execution(m.DescribeExecutionRequest(flow_name=flow, execution_name=execution)).body

    def start(flow, name=None, input=None, qualifier=None):
        c.at(f"StartExecution {flow}/{name} qualifier={qualifier}")
        return client.start_execution(m.StartExecutionRequest(
            flow_name=flow, execution_name=name, input=input, qualifier=qualifier)).body

    def wait_terminal(flow, execution, name):
        return poll(c, name, lambda: describe(flow, execution), lambda b: b.status in TERMINAL)

    # --- StartSyncExecution (Express flows) ------------------------------------------------
    if "sync" in sections:
        x_name = env.name("express")
        body = create_flow(x_name, pass_sm(x_name), execution_mode="Express",
                           environment=m.CreateFlowRequestEnvironment(variables=[
                               m.CreateFlowRequestEnvironmentVariables(name="K", value="V", description="")]))
        c.eq("CreateFlow ExecutionMode=Express", body.execution_mode, "Express")
        c.at("StartSyncExecution")
        body = client.start_sync_execution(m.StartSyncExecutionRequest(
            flow_name=x_name, execution_name="sync1", input='{"a": [1, "two"]}')).body
        c.check("StartSyncExecution body parsed (Environment as a structure)", body is not None)
        c.eq("StartSyncExecution Status", body.status, "Succeeded")
        c.json_eq("StartSyncExecution Output", body.output, {"a": [1, "two"]})
        c.check("StartSyncExecution Name is <ExecutionName>:<uuid>", (body.name or "").startswith("sync1:"),
                f"{body.name!r}")
        c.eq("StartSyncExecution FlowName", body.flow_name, x_name)
        c.time("StartSyncExecution StartedTime", body.started_time)
        c.time("StartSyncExecution StoppedTime", body.stopped_time)
        c.eq("StartSyncExecution Environment", body.to_map().get("Environment"),
             {"Variables": [{"Name": "K", "Value": "V"}]})
        sync_name = body.name
        body = client.start_sync_execution(m.StartSyncExecutionRequest(flow_name=x_name)).body
        c.check("StartSyncExecution without a name or input", body.status == "Succeeded" and bool(body.name),
                f"{body.to_map()!r}")
        c.raises("DescribeExecution of a synchronous execution -> 404 ExecutionNotExists",
                 lambda: describe(x_name, sync_name),
                 api_error("ExecutionNotExists", 404))
        c.at("ListExecutions Express flow")
        body = client.list_executions(m.ListExecutionsRequest(flow_name=x_name)).body
        c.eq("ListExecutions does not list synchronous executions", body.executions, [])

        xf_name = env.name("express_fail")
        create_flow(xf_name, fail_sm(xf_name, "Boom", "it broke"), execution_mode="Express")
        c.at("StartSyncExecution failing flow")
        body = client.start_sync_execution(m.StartSyncExecutionRequest(flow_name=xf_name, input="{}")).body
        c.eq("StartSyncExecution of a failing flow: HTTP 200, Status Failed", body.status, "Failed")
        c.eq("StartSyncExecution ErrorCode/ErrorMessage", (body.error_code, body.error_message), ("Boom", "it broke"))

        c.raises("StartExecution on an Express flow -> ActionNotSupported",
                 lambda: start(x_name, "nope", "{}"),
                 api_error("ActionNotSupported", 400))
        std = env.name("standard")
        create_flow(std, pass_sm(std))
        c.raises("StartSyncExecution on a Standard flow -> ActionNotSupported",
                 lambda: client.start_sync_execution(m.StartSyncExecutionRequest(flow_name=std)),
                 api_error("ActionNotSupported", 400))
        c.raises("StartSyncExecution missing flow -> 404 FlowNotExists",
                 lambda: client.start_sync_execution(m.StartSyncExecutionRequest(flow_name=missing)),
                 api_error("FlowNotExists", 404))
        c.raises("StartSyncExecution Input not an object -> InvalidArgument naming Input",
                 lambda: client.start_sync_execution(m.StartSyncExecutionRequest(flow_name=x_name, input="3")),
                 api_error("InvalidArgument", 400, ["Input"]))

    # --- Versions --------------------------------------------------------------------
    v_name = env.name("versioned")
    v1_def = pass_sm(v_name)
    v2_def = pass_sm(v_name, states=2)
    if sections & {"versions", "aliases"}:
        create_flow(v_name, v1_def)
        c.at("PublishFlowVersion 1")
        body = client.publish_flow_version(m.PublishFlowVersionRequest(flow_name=v_name, description="first")).body
        c.eq("PublishFlowVersion returns Version \"1\" (a string)", body.version, "1")
        c.eq("PublishFlowVersion FlowName/Description", (body.flow_name, body.description), (v_name, "first"))
        c.time("PublishFlowVersion CreatedTime", body.created_time)
        client.update_flow(m.UpdateFlowRequest(name=v_name, definition=v2_def))
        c.at("PublishFlowVersion 2")
        body = client.publish_flow_version(m.PublishFlowVersionRequest(flow_name=v_name, description="second")).body
        c.eq("PublishFlowVersion numbers versions in order", body.version, "2")

    if "versions" in sections:
        c.at("ListFlowVersions")
        body = client.list_flow_versions(m.ListFlowVersionsRequest(flow_name=v_name, limit="1")).body
        c.check("ListFlowVersions Limit=\"1\" gives one version and a NextToken",
                len(body.flow_versions or []) == 1 and bool(body.next_token), f"{body.to_map()!r}")
        body = client.list_flow_versions(m.ListFlowVersionsRequest(flow_name=v_name)).body
        c.eq("ListFlowVersions", [(v.version, v.description) for v in body.flow_versions],
             [("1", "first"), ("2", "second")])
        c.at("DescribeFlow FlowVersion=1")
        body = client.describe_flow(m.DescribeFlowRequest(name=v_name, flow_version="1")).body
        c.eq("DescribeFlow FlowVersion=1 returns the snapshot", (body.name, body.definition), (v_name, v1_def))
        c.raises("DescribeFlow unknown FlowVersion -> 404 FlowVersionNotExists",
                 lambda: client.describe_flow(m.DescribeFlowRequest(name=v_name, flow_version="99")),
                 api_error("FlowVersionNotExists", 404))
        start(v_name, "q_v1", "{}", qualifier="1")
        body = wait_terminal(v_name, "q_v1", "execution of version 1 finishes")
        c.eq("StartExecution Qualifier=1 runs version 1", (body.status, body.flow_definition), ("Succeeded", v1_def))
        start(v_name, "q_latest", "{}")
        body = wait_terminal(v_name, "q_latest", "execution of the latest definition finishes")
        c.eq("StartExecution without Qualifier runs the latest definition", body.flow_definition, v2_def)
        c.at("ListExecutions Qualifier=1")
        body = client.list_executions(m.ListExecutionsRequest(flow_name=v_name, qualifier="1")).body
        c.eq("ListExecutions Qualifier=1", [e.name for e in body.executions], ["q_v1"])
        c.raises("StartExecution Qualifier of an unknown version -> 404 FlowVersionNotExists",
                 lambda: start(v_name, "q_bad", "{}", qualifier="99"),
                 api_error("FlowVersionNotExists", 404))
        c.raises("PublishFlowVersion missing flow -> 404 FlowNotExists",
                 lambda: client.publish_flow_version(m.PublishFlowVersionRequest(flow_name=missing)),
                 api_error("FlowNotExists", 404))
        c.raises("DeleteFlowVersion unknown version -> 404 FlowVersionNotExists",
                 lambda: client.delete_flow_version(m.DeleteFlowVersionRequest(flow_name=v_name, flow_version="99")),
                 api_error("FlowVersionNotExists", 404))

    # --- Aliases -----------------------------------------------------------------------
    if "aliases" in sections:
        c.at("CreateFlowAlias")
        body = client.create_flow_alias(m.CreateFlowAliasRequest(
            flow_name=v_name, name="prod", description="production",
            routing_configurations=[m.CreateFlowAliasRequestRoutingConfigurations(version="2", weight=100)])).body
        c.check("CreateFlowAlias body parsed (RoutingConfigurations as a JSON array)", body is not None)
        c.eq("CreateFlowAlias", (body.flow_name, body.name, body.description), (v_name, "prod", "production"))
        c.eq("CreateFlowAlias RoutingConfigurations", body.to_map().get("RoutingConfigurations"),
             [{"Version": "2", "Weight": 100}])
        c.check("CreateFlowAlias Weight is a JSON integer, Version a string",
                type(body.routing_configurations[0].weight) is int and body.routing_configurations[0].version == "2")
        c.time("CreateFlowAlias CreatedTime", body.created_time)
        c.raises("CreateFlowAlias existing name -> 409 FlowAliasAlreadyExists",
                 lambda: client.create_flow_alias(m.CreateFlowAliasRequest(
                     flow_name=v_name, name="prod",
                     routing_configurations=[m.CreateFlowAliasRequestRoutingConfigurations(version="1", weight=1)])),
                 api_error("FlowAliasAlreadyExists", 409))
        c.raises("CreateFlowAlias unknown version -> 404 FlowVersionNotExists",
                 lambda: client.create_flow_alias(m.CreateFlowAliasRequest(
                     flow_name=v_name, name="canary",
                     routing_configurations=[m.CreateFlowAliasRequestRoutingConfigurations(version="42", weight=1)])),
                 api_error("FlowVersionNotExists", 404))
        client.create_flow_alias(m.CreateFlowAliasRequest(
            flow_name=v_name, name="beta",
            routing_configurations=[m.CreateFlowAliasRequestRoutingConfigurations(version="1", weight=100)]))

        c.at("DescribeFlowAlias")
        body = client.describe_flow_alias(m.DescribeFlowAliasRequest(flow_name=v_name, name="prod")).body
        c.eq("DescribeFlowAlias returns the Alias structure", body.to_map().get("Alias", {}).get("RoutingConfigurations"),
             [{"Version": "2", "Weight": 100}])
        c.eq("DescribeFlowAlias Name/Description", (body.alias.name, body.alias.description), ("prod", "production"))

        start(v_name, "q_prod", "{}", qualifier="prod")
        body = wait_terminal(v_name, "q_prod", "execution through alias prod finishes")
        c.eq("StartExecution Qualifier=prod runs the routed version", (body.status, body.flow_definition),
             ("Succeeded", v2_def))
        c.at("ListExecutions Qualifier=prod")
        body = client.list_executions(m.ListExecutionsRequest(flow_name=v_name, qualifier="prod")).body
        c.check("ListExecutions Qualifier=prod lists the execution started through it",
                "q_prod" in [e.name for e in body.executions], f"{[e.name for e in body.executions]}")
        c.raises("StartExecution Qualifier of an unknown alias -> 404 FlowAliasNotExists",
                 lambda: start(v_name, "q_nope", "{}", qualifier="nosuch"),
                 api_error("FlowAliasNotExists", 404))

        c.at("UpdateFlowAlias")
        body = client.update_flow_alias(m.UpdateFlowAliasRequest(
            flow_name=v_name, name="prod",
            routing_configurations=[m.UpdateFlowAliasRequestRoutingConfigurations(version="1", weight=30),
                                    m.UpdateFlowAliasRequestRoutingConfigurations(version="2", weight=70)])).body
        c.check("UpdateFlowAlias body parsed", body is not None and body.alias is not None)
        c.eq("UpdateFlowAlias replaces RoutingConfigurations, keeps Description",
             (body.to_map()["Alias"]["RoutingConfigurations"], body.alias.description),
             ([{"Version": "1", "Weight": 30}, {"Version": "2", "Weight": 70}], "production"))
        c.raises("UpdateFlowAlias the same version twice -> InvalidArgument",
                 lambda: client.update_flow_alias(m.UpdateFlowAliasRequest(
                     flow_name=v_name, name="prod",
                     routing_configurations=[m.UpdateFlowAliasRequestRoutingConfigurations(version="1", weight=50),
                                             m.UpdateFlowAliasRequestRoutingConfigurations(version="1", weight=50)])),
                 api_error("InvalidArgument", 400, ["RoutingConfigurations"]))
        c.raises("UpdateFlowAlias unknown alias -> 404 FlowAliasNotExists",
                 lambda: client.update_flow_alias(m.UpdateFlowAliasRequest(
                     flow_name=v_name, name="nosuch", description="x")),
                 api_error("FlowAliasNotExists", 404))

        c.at("ListFlowAliases")
        body = client.list_flow_aliases(m.ListFlowAliasesRequest(flow_name=v_name, limit=1)).body
        c.check("ListFlowAliases Limit=1 gives one alias and a NextToken",
                len(body.aliases or []) == 1 and bool(body.next_token), f"{body.to_map()!r}")
        body = client.list_flow_aliases(m.ListFlowAliasesRequest(flow_name=v_name)).body
        c.eq("ListFlowAliases in name order", [a.name for a in body.aliases], ["beta", "prod"])
        c.check("ListFlowAliases Weight is a JSON integer",
                all(type(r.weight) is int for a in body.aliases for r in a.routing_configurations),
                f"{body.to_map()!r}")

        c.raises("DeleteFlowVersion routed by an alias -> InvalidArgument naming the alias",
                 lambda: client.delete_flow_version(m.DeleteFlowVersionRequest(flow_name=v_name, flow_version="1")),
                 lambda e: api_error("InvalidArgument", 400)(e) or (
                     None if "beta" in e.data["Message"] or "prod" in e.data["Message"]
                     else f"message {e.data['Message']!r} names no alias"))
        c.at("DeleteFlowAlias")
        body = client.delete_flow_alias(m.DeleteFlowAliasRequest(flow_name=v_name, name="beta")).body
        c.request_id("DeleteFlowAlias RequestId", body.request_id)
        c.raises("DescribeFlowAlias after DeleteFlowAlias -> 404 FlowAliasNotExists",
                 lambda: client.describe_flow_alias(m.DescribeFlowAliasRequest(flow_name=v_name, name="beta")),
                 api_error("FlowAliasNotExists", 404))
        client.delete_flow_alias(m.DeleteFlowAliasRequest(flow_name=v_name, name="prod"))

    if "versions" in sections:
        c.at("DeleteFlowVersion 2")
        body = client.delete_flow_version(m.DeleteFlowVersionRequest(flow_name=v_name, flow_version="2")).body
        c.request_id("DeleteFlowVersion RequestId", body.request_id)
        c.raises("DescribeFlow of a deleted version -> 404 FlowVersionNotExists",
                 lambda: client.describe_flow(m.DescribeFlowRequest(name=v_name, flow_version="2")),
                 api_error("FlowVersionNotExists", 404))
        body = client.publish_flow_version(m.PublishFlowVersionRequest(flow_name=v_name)).body
        c.eq("Version numbers are never reused", body.version, "3")

    # --- Schedules -----------------------------------------------------------------------
    if "schedules" in sections:
        s_flow = env.name("scheduled")
        create_flow(s_flow, pass_sm(s_flow))
        c.at("CreateSchedule daily")
        body = client.create_schedule(m.CreateScheduleRequest(
            flow_name=s_flow, schedule_name="daily", cron_expression="0 0 12 * * *",
            payload='{"a": 1}', enable=True, description="noon")).body
        c.check("CreateSchedule body parsed", body is not None)
        c.eq("CreateSchedule fields", (body.schedule_name, body.cron_expression, body.description, body.enable),
             ("daily", "0 0 12 * * *", "noon", True))
        c.check("CreateSchedule Enable is a JSON boolean (sent as 'True')", type(body.enable) is bool)
        c.json_eq("CreateSchedule Payload", body.payload, {"a": 1})
        c.check("CreateSchedule ScheduleId", bool(body.schedule_id))
        c.time("CreateSchedule CreatedTime", body.created_time)
        c.time("CreateSchedule LastModifiedTime", body.last_modified_time)
        daily_id = body.schedule_id
        body = client.create_schedule(m.CreateScheduleRequest(
            flow_name=s_flow, schedule_name="every", cron_expression="@every 5m")).body
        c.eq("CreateSchedule without Enable is disabled", body.enable, False)
        body = client.create_schedule(m.CreateScheduleRequest(
            flow_name=s_flow, schedule_name="tz", cron_expression="CRON_TZ=Asia/Shanghai 0 0 12 * * *",
            enable=False)).body
        c.eq("CreateSchedule CRON_TZ expression, Enable=False", (body.cron_expression, body.enable),
             ("CRON_TZ=Asia/Shanghai 0 0 12 * * *", False))
        c.raises("CreateSchedule existing name -> 409 ScheduleAlreadyExists",
                 lambda: client.create_schedule(m.CreateScheduleRequest(
                     flow_name=s_flow, schedule_name="daily", cron_expression="@every 5m")),
                 api_error("ScheduleAlreadyExists", 409, ["daily"]))
        for cron in ("*/1 * * * * *", "@every 30s", "0 0 12 * * * 2030", "not a cron"):
            c.raises(f"CreateSchedule CronExpression {cron!r} -> InvalidArgument naming CronExpression",
                     lambda cron=cron: client.create_schedule(m.CreateScheduleRequest(
                         flow_name=s_flow, schedule_name="bad", cron_expression=cron)),
                     api_error("InvalidArgument", 400, ["CronExpression"]))
        c.raises("CreateSchedule Payload not an object -> InvalidArgument naming Payload",
                 lambda: client.create_schedule(m.CreateScheduleRequest(
                     flow_name=s_flow, schedule_name="bad", cron_expression="@every 5m", payload="[1]")),
                 api_error("InvalidArgument", 400, ["Payload"]))
        c.raises("CreateSchedule missing flow -> 404 FlowNotExists",
                 lambda: client.create_schedule(m.CreateScheduleRequest(
                     flow_name=missing, schedule_name="x", cron_expression="@every 5m")),
                 api_error("FlowNotExists", 404))

        c.at("UpdateSchedule")
        body = client.update_schedule(m.UpdateScheduleRequest(
            flow_name=s_flow, schedule_name="daily", enable=False, cron_expression="@every 10m")).body
        c.eq("UpdateSchedule changes only what is given",
             (body.enable, body.cron_expression, body.description, body.schedule_id),
             (False, "@every 10m", "noon", daily_id))
        c.json_eq("UpdateSchedule keeps Payload", body.payload, {"a": 1})
        c.at("DescribeSchedule")
        body = client.describe_schedule(m.DescribeScheduleRequest(flow_name=s_flow, schedule_name="daily")).body
        c.eq("DescribeSchedule after UpdateSchedule", (body.enable, body.cron_expression), (False, "@every 10m"))
        c.raises("UpdateSchedule unknown schedule -> 404 ScheduleNotExists",
                 lambda: client.update_schedule(m.UpdateScheduleRequest(
                     flow_name=s_flow, schedule_name="nosuch", enable=True)),
                 api_error("ScheduleNotExists", 404, ["nosuch"]))
        c.raises("DescribeSchedule unknown schedule -> 404 ScheduleNotExists",
                 lambda: client.describe_schedule(m.DescribeScheduleRequest(flow_name=s_flow, schedule_name="nosuch")),
                 api_error("ScheduleNotExists", 404))

        c.at("ListSchedules")
        body = client.list_schedules(m.ListSchedulesRequest(flow_name=s_flow, limit=1)).body
        c.check("ListSchedules Limit=1 gives one schedule and a NextToken",
                len(body.schedules or []) == 1 and bool(body.next_token), f"{body.to_map()!r}")
        names, token = [], None
        for _ in range(10):
            body = client.list_schedules(m.ListSchedulesRequest(flow_name=s_flow, limit=2, next_token=token)).body
            names += [s.schedule_name for s in body.schedules]
            token = body.next_token
            if not token:
                break
        c.eq("ListSchedules pages in name order", names, ["daily", "every", "tz"])
        c.check("ListSchedules Enable values are JSON booleans",
                all(type(s.enable) is bool for s in body.schedules))

        c.at("DeleteSchedule")
        body = client.delete_schedule(m.DeleteScheduleRequest(flow_name=s_flow, schedule_name="every")).body
        c.request_id("DeleteSchedule RequestId", body.request_id)
        c.raises("DescribeSchedule after DeleteSchedule -> 404 ScheduleNotExists",
                 lambda: client.describe_schedule(m.DescribeScheduleRequest(flow_name=s_flow, schedule_name="every")),
                 api_error("ScheduleNotExists", 404))
        c.raises("DeleteSchedule again -> 404 ScheduleNotExists",
                 lambda: client.delete_schedule(m.DeleteScheduleRequest(flow_name=s_flow, schedule_name="every")),
                 api_error("ScheduleNotExists", 404))
        client.delete_flow(m.DeleteFlowRequest(name=s_flow))
        flows.remove(s_flow)
        c.raises("ListSchedules of a deleted flow -> 404 FlowNotExists",
                 lambda: client.list_schedules(m.ListSchedulesRequest(flow_name=s_flow)),
                 api_error("FlowNotExists", 404))

    # --- Map runs ----------------------------------------------------------------------
    if "mapruns" in sections:
        mr_flow = env.name("maprun")
        create_flow(mr_flow, pass_sm(mr_flow))
        start(mr_flow, "plain", "{}")
        wait_terminal(mr_flow, "plain", "execution without map runs finishes")
        e = c.raises("DescribeMapRun unknown map run -> 404 MapRunNotExists",
                     lambda: client.describe_map_run(m.DescribeMapRunRequest(
                         flow_name=mr_flow, execution_name="plain", map_run_name="nosuch",
                         request_id="SDK-MAPRUN-REQUEST-1")),
                     api_error("MapRunNotExists", 404, ["nosuch"]))
        c.eq("DescribeMapRun echoes the RequestId parameter", e.request_id, "SDK-MAPRUN-REQUEST-1")
        c.raises("DescribeMapRun unknown execution -> 404 ExecutionNotExists",
                 lambda: client.describe_map_run(m.DescribeMapRunRequest(
                     flow_name=mr_flow, execution_name="nope", map_run_name="x")),
                 api_error("ExecutionNotExists", 404))
        c.raises("UpdateMapRun (GET, float percentage) unknown map run -> 404 MapRunNotExists",
                 lambda: client.update_map_run(m.UpdateMapRunRequest(
                     flow_name=mr_flow, execution_name="plain", map_run_name="nosuch", concurrency=5,
                     tolerated_failed_count=1, tolerated_failed_percentage=12.5)),
                 api_error("MapRunNotExists", 404))
        c.raises("UpdateMapRun missing flow -> 404 FlowNotExists",
                 lambda: client.update_map_run(m.UpdateMapRunRequest(
                     flow_name=missing, execution_name="plain", map_run_name="x")),
                 api_error("FlowNotExists", 404))
        c.at("ListExecutions MapRunName")
        body = client.list_executions(m.ListExecutionsRequest(flow_name=mr_flow, map_run_name="nosuch")).body
        c.eq("ListExecutions MapRunName of no map run is empty", body.executions, [])

    for name in list(flows):
        c.at(f"DeleteFlow {name}")
        client.delete_flow(m.DeleteFlowRequest(name=name))
        flows.remove(name)
    c.check("cleanup: every flow deleted", not flows)


if __name__ == "__main__":
    run(SCRIPT, main)
