#!/usr/bin/env python3
"""The mock file reloaded while the server runs, seen through the new Python SDK: on save, on
SIGHUP, and a broken file that leaves the previous mocks in place.

Besides sdkcheck.py's environment: FNF_MOCK_FILE (the server's mock file, rewritten here),
FNF_SERVER_PID (sent SIGHUP) and FNF_SERVER_LOG (its log, read to await each reload).
"""

import json
import os
import signal

from sdkcheck import TERMINAL, poll, run

from alibabacloud_fnf20190315 import models as m
from alibabacloud_fnf20190315.client import Client
from alibabacloud_tea_openapi.exceptions import ClientException
from alibabacloud_tea_openapi.models import Config

SCRIPT = "pymockreload"
FLOW = ("Type: StateMachine\nName: reloaded\nSpecVersion: v1\nStartAt: Work\nStates:\n"
        "  - Type: Task\n    Name: Work\n    Action: ECS:RunInstances\n    End: true\n")


def mock_file(cases):
    """A mock file whose test cases each answer Work with {"case": <name>}."""
    lines = ["Flows:", "  reloaded:", "    TestCases:"]
    lines += [f"      {case}: {{Work: {case}Answer}}" for case in cases]
    lines += ["MockedResponses:"]
    lines += [f"  {case}Answer: {{\"0\": {{Return: {{case: {case}}}}}}}" for case in cases]
    return "\n".join(lines) + "\n"


def main(env, c):
    path, pid, log = os.environ["FNF_MOCK_FILE"], int(os.environ["FNF_SERVER_PID"]), os.environ["FNF_SERVER_LOG"]
    client = Client(Config(access_key_id=env.access_key_id, access_key_secret=env.access_key_secret,
                           endpoint=env.endpoint, protocol="http"))
    client.create_flow(m.CreateFlowRequest(name="reloaded", definition=FLOW, description="", type="FDL"))
    runs = iter(range(1000))

    def run_case(case):
        """Starts reloaded#case; the output of the ended execution, or the API error code."""
        name = f"e{next(runs)}"
        try:
            client.start_execution(m.StartExecutionRequest(flow_name=f"reloaded#{case}", execution_name=name))
        except ClientException as e:
            return e.code
        done = poll(c, f"{name} ends", lambda: client.describe_execution(
            m.DescribeExecutionRequest(flow_name="reloaded", execution_name=name)).body,
            lambda b: b.status in TERMINAL)
        return json.loads(done.output or "null")

    def write(text):
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)  # as editors save

    def log_events(message):
        """The `fields` of the server's JSON log lines whose message starts with `message`."""
        found = []
        with open(log, encoding="utf-8", errors="replace") as f:
            for line in f:
                try:
                    fields = json.loads(line).get("fields", {})
                except ValueError:
                    continue
                if str(fields.get("message", "")).startswith(message):
                    found.append(fields)
        return found

    c.eq("the case of the file at start", run_case("First"), {"case": "First"})
    c.eq("a case not in the file yet", run_case("Saved"), "InvalidArgument")

    write(mock_file(["First", "Saved"]))
    got = poll(c, "a saved file is reloaded", lambda: run_case("Saved"), lambda r: r != "InvalidArgument",
               deadline_s=10)
    c.eq("the saved file's new case answers", got, {"case": "Saved"})

    broken = len(log_events("mock file not reloaded"))
    write("MockedResponses: {R: {\"1\": {Return: 1}}}\n")
    poll(c, "the broken file is reported", lambda: len(log_events("mock file not reloaded")),
         lambda n: n > broken, deadline_s=10)
    reported = log_events("mock file not reloaded")[-1].get("error", "")
    c.check("the report names the file, the place and the reason",
            reported.startswith(path) and 'MockedResponses.R."1": leaves a gap' in reported, reported)
    c.eq("the previous mocks stay in use", run_case("Saved"), {"case": "Saved"})

    # SIGHUP: the file is rewritten in place, then the signal asks for the reload.
    hups = lambda: [e for e in log_events("mock file reloaded") if e.get("reason") == "SIGHUP"]
    before = len(hups())
    with open(path, "w") as f:
        f.write(mock_file(["First", "Saved", "Hup"]))
    os.kill(pid, signal.SIGHUP)
    poll(c, "SIGHUP reloads", lambda: len(hups()), lambda n: n > before, deadline_s=10)
    c.eq("the case added before SIGHUP answers", run_case("Hup"), {"case": "Hup"})

if __name__ == "__main__":
    run(SCRIPT, main)
