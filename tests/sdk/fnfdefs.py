"""Flow definitions shared by the Python SDK conformance scripts (worked examples
also in tests/common/definitions.rs: CF-1, FDL-1, CF-12 adapted to a nested flow, Wait, Fail)."""

ACCOUNT_ID = "1234567890123456"  # the account part of an fnf ARN is not checked by the server


def pass_sm(name, states=1):
    """CF-1: one Pass (or a chain of them) that forwards its input; output = input."""
    lines = [
        "Type: StateMachine",
        f"Name: {name}",
        "SpecVersion: v1",
        "StartAt: Greet",
        "States:",
    ]
    for i in range(states):
        state = "Greet" if i == 0 else f"Again{i}"
        lines += ["  - Type: Pass", f"    Name: {state}"]
        lines += [f"    Next: Again{i + 1}"] if i + 1 < states else ["    End: true"]
    return "\n".join(lines) + "\n"


# FDL-1: a pass step; the execution output is the flow local, `{}`.
PASS_FDL = "version: v1\ntype: flow\nsteps:\n  - type: pass\n    name: p\n"


def wait_sm(name, seconds):
    return (
        "Type: StateMachine\n"
        f"Name: {name}\n"
        "SpecVersion: v1\n"
        "StartAt: Hold\n"
        "States:\n"
        "  - Type: Wait\n"
        "    Name: Hold\n"
        f"    Seconds: {seconds}\n"
        "    End: true\n"
    )


def fail_sm(name, code, detail):
    return (
        "Type: StateMachine\n"
        f"Name: {name}\n"
        "SpecVersion: v1\n"
        "StartAt: Boom\n"
        "States:\n"
        "  - Type: Fail\n"
        "    Name: Boom\n"
        f"    Code: {code}\n"
        f"    Detail: {detail}\n"
    )


def callback_sm(name, child_flow, region="cn-hangzhou"):
    """CF-12 with a nested flow instead of a function: the Task starts an execution of
    `child_flow` whose input carries the attempt's task token, then waits for
    ReportTaskSucceeded/ReportTaskFailed on that token."""
    return (
        "Type: StateMachine\n"
        f"Name: {name}\n"
        "SpecVersion: v1\n"
        "StartAt: Approve\n"
        "States:\n"
        "  - Type: Task\n"
        "    Name: Approve\n"
        "    Action: FNF:StartExecution\n"
        "    TaskMode: WaitForCustomCallback\n"
        "    Parameters:\n"
        f"      resourceArn: acs:fnf:{region}:{ACCOUNT_ID}:flow/{child_flow}\n"
        "      input:\n"
        "        token.$: $Context.Current.TaskToken\n"
        "        orderId.$: $Input.orderId\n"
        "    End: true\n"
    )


def find_key(value, key):
    """The first value stored under `key` anywhere in a parsed JSON value, else None."""
    if isinstance(value, dict):
        if key in value and isinstance(value[key], str):
            return value[key]
        children = value.values()
    elif isinstance(value, list):
        children = value
    else:
        return None
    for child in children:
        found = find_key(child, key)
        if found is not None:
            return found
    return None
