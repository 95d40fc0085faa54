"""Runs a command and writes the CPU time it used to a file, as JSON.

    python3 benches/cpu_of.py OUT.json COMMAND [ARG…]

The figure is the command's own user + system time from wait4(2), so it is exact even though
the process is gone by the time anyone could read /proc. SIGTERM and SIGINT are passed on to the
command; the exit status is the command's.
"""

import json
import os
import signal
import subprocess
import sys


def main() -> None:
    out, command = sys.argv[1], sys.argv[2:]
    child = subprocess.Popen(command)

    def forward(signum, _frame):
        try:
            os.kill(child.pid, signum)
        except ProcessLookupError:
            pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    _, status, usage = os.wait4(child.pid, 0)
    with open(out, "w") as file:
        json.dump({"user_ms": usage.ru_utime * 1000, "system_ms": usage.ru_stime * 1000}, file)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(128 - code if code < 0 else code)


if __name__ == "__main__":
    main()
