"""Shared plumbing of the Python SDK conformance scripts (tests/sdk/python_*.py).

Environment (all scripts):
  FNF_ENDPOINT           host:port of the fnf-server under test, e.g. 127.0.0.1:8089 (required)
  FNF_ACCESS_KEY_ID      AccessKey ID it accepts     (default: the public development key)
  FNF_ACCESS_KEY_SECRET  AccessKey secret it accepts (default: the public development key)
  FNF_RUN_ID             suffix for flow names, so runs against one server don't collide
                         (default: random)
  FNF_REGION             region the server serves (default cn-hangzhou; only DescribeRegions reads it)
  FNF_SDK_ALLOW_REMOTE   set to 1 to allow an endpoint that is not a loopback address

A script prints one `ok <n> <check>` line per passed check and finally `OK <n> checks`.
The first failed check prints `FAIL <check>: <why>` on stderr and exits 1; nothing
listening on FNF_ENDPOINT exits 2 before any SDK call.
"""

import ipaddress
import json
import os
import re
import socket
import sys
import time
import traceback
import uuid

DEV_ACCESS_KEY_ID = "fnf-dev-access-key-id"
DEV_ACCESS_KEY_SECRET = "fnf-dev-access-key-secret"

RFC3339_MS = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$")
REQUEST_ID = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")
TERMINAL = ("Succeeded", "Failed", "Stopped", "TimedOut")

# Proxies from the environment must never carry test traffic anywhere: the SDKs read
# HTTP(S)_PROXY (the old SDK itself, the new one through requests).
for _var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
    os.environ.pop(_var, None)
os.environ["NO_PROXY"] = os.environ["no_proxy"] = "*"


class CheckFailed(Exception):
    pass


class Env:
    def __init__(self, script):
        self.script = script
        self.endpoint = os.environ.get("FNF_ENDPOINT", "").strip()
        if not self.endpoint:
            die(script, "FNF_ENDPOINT is not set (want host:port of the fnf-server under test, e.g. 127.0.0.1:8089)")
        if "://" in self.endpoint:
            die(script, f"FNF_ENDPOINT={self.endpoint!r} must be host:port without a scheme")
        self.host, _, port = self.endpoint.rpartition(":")
        self.host = self.host.strip("[]")
        if not self.host or not port.isdigit():
            die(script, f"FNF_ENDPOINT={self.endpoint!r} is not host:port")
        self.port = int(port)
        guard_endpoint(script, self.host)
        self.access_key_id = os.environ.get("FNF_ACCESS_KEY_ID") or DEV_ACCESS_KEY_ID
        self.access_key_secret = os.environ.get("FNF_ACCESS_KEY_SECRET") or DEV_ACCESS_KEY_SECRET
        raw = os.environ.get("FNF_RUN_ID") or uuid.uuid4().hex[:12]
        self.run_id = re.sub(r"[^A-Za-z0-9_-]", "_", raw)[:40]
        self.region = os.environ.get("FNF_REGION") or "cn-hangzhou"

    def name(self, tag):
        """A flow/execution name unique to this script and run (valid per docs/COMPATIBILITY.md#names)."""
        return f"{self.script}_{self.run_id}_{tag}"[:128]


def guard_endpoint(script, host):
    if host.endswith("aliyuncs.com") or host.endswith("aliyun.com"):
        die(script, f"refusing to point the SDKs at {host}: the target must be a local fnf-server")
    if host == "localhost" or os.environ.get("FNF_SDK_ALLOW_REMOTE") == "1":
        return
    try:
        if ipaddress.ip_address(host).is_loopback:
            return
    except ValueError:
        pass
    die(script, f"FNF_ENDPOINT host {host} is not a loopback address (set FNF_SDK_ALLOW_REMOTE=1 to allow it)")


def die(script, message, code=2):
    print(f"FAIL {script}: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def preflight(env):
    """Fails fast, naming the endpoint, when nothing accepts connections there."""
    try:
        with socket.create_connection((env.host, env.port), timeout=3):
            pass
    except OSError as e:
        die(env.script, f"nothing listens on FNF_ENDPOINT={env.endpoint} ({e.__class__.__name__}: {e}); "
                        "start fnf-server there first")


class Checker:
    def __init__(self, env):
        self.env = env
        self.count = 0
        self.step = "start"

    def at(self, step):
        """Names what the script is doing, for the message of an unexpected exception."""
        self.step = step

    def ok(self, name):
        self.count += 1
        print(f"ok {self.count} {name}", flush=True)

    def fail(self, name, why):
        raise CheckFailed(f"{name}: {why}")

    def check(self, name, cond, why="condition is false"):
        if not cond:
            self.fail(name, why)
        self.ok(name)

    def eq(self, name, got, want):
        if got != want:
            self.fail(name, f"got {got!r}, want {want!r}")
        self.ok(name)

    def json_eq(self, name, text, want):
        try:
            got = json.loads(text)
        except (TypeError, ValueError) as e:
            self.fail(name, f"not JSON text ({e}): {text!r}")
        if got != want:
            self.fail(name, f"got {got!r}, want {want!r}")
        self.ok(name)

    def time(self, name, value):
        if not isinstance(value, str) or not RFC3339_MS.match(value):
            self.fail(name, f"not an RFC 3339 UTC time: {value!r}")
        self.ok(name)

    def request_id(self, name, value):
        if not isinstance(value, str) or not REQUEST_ID.match(value):
            self.fail(name, f"not an upper-case UUID request id: {value!r}")
        self.ok(name)

    def raises(self, name, fn, match):
        """Runs fn, which must raise; match(exception) returns None if it is the expected
        one, else a reason. Returns the exception."""
        try:
            result = fn()
        except CheckFailed:
            raise
        except Exception as e:  # noqa: BLE001 - any SDK exception is examined by match
            why = match(e)
            if why:
                self.fail(name, f"{why} (got {e.__class__.__name__}: {e})")
            self.ok(name)
            return e
        self.fail(name, f"expected an error, got success: {result!r}")


def poll(c, name, fetch, done, deadline_s=20.0, interval_s=0.25):
    """Calls fetch() until done(result) or the deadline; returns the last result."""
    end = time.monotonic() + deadline_s
    while True:
        result = fetch()
        if done(result):
            return result
        if time.monotonic() >= end:
            c.fail(name, f"not reached within {deadline_s:.0f} s; last: {result!r}")
        time.sleep(interval_s)


def run(script, main):
    """Runs main(env, checker) and turns its outcome into the exit status and final line."""
    env = Env(script)
    preflight(env)
    c = Checker(env)
    try:
        main(env, c)
    except CheckFailed as e:
        print(f"FAIL {e}  [{script} against FNF_ENDPOINT={env.endpoint}]", file=sys.stderr, flush=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
        print(f"FAIL {c.step}: unexpected {e.__class__.__name__}: {e}  "
              f"[{script} against FNF_ENDPOINT={env.endpoint}]", file=sys.stderr, flush=True)
        sys.exit(1)
    print(f"OK {c.count} checks", flush=True)
