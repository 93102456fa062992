"""The supervisor never leaves orphans: its children die with it, even when it is SIGKILLed."""

import os
import signal
import subprocess
import sys
import time

from tools.suite import REPO_ROOT

PARENT = """
import os, sys, time
from pathlib import Path
from tools.suite import ServiceProcess
child = ServiceProcess("child", "tests.supervisor_child", dict(os.environ), Path(sys.argv[1]))
child.start()
print(child.pid, flush=True)
time.sleep(120)
"""


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead for our purpose
        return stat.read().split()[2] != "Z"


def test_children_exit_when_the_supervisor_is_sigkilled(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", PARENT, str(tmp_path / "child.log")], cwd=REPO_ROOT,
                              stdout=subprocess.PIPE, text=True)
    child_pid = int(parent.stdout.readline())
    assert alive(child_pid)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while alive(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not alive(child_pid)
