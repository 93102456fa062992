"""Entry point of every supervised child: it dies with its supervisor, then becomes the real process.

    python -m tools.child <supervisor pid> -m services.edge          # run a module as __main__
    python -m tools.child <supervisor pid> /path/to/redis-server ...  # exec a binary

The child asks the kernel to SIGTERM it when the supervisor dies, however it dies (even SIGKILL), so
nothing is ever orphaned. It does so itself, after exec: running code in the supervisor between fork and
exec (`preexec_fn`) can deadlock when the supervisor has other threads (gRPC's). If the supervisor already
died before the request was made, the child exits at once. The death signal survives exec. Linux only;
elsewhere the child simply runs.
"""

from __future__ import annotations

import ctypes
import os
import runpy
import signal
import sys

_PR_SET_PDEATHSIG = 1


def die_with(supervisor_pid: int) -> None:
    try:
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        return
    if os.getppid() != supervisor_pid:  # it died before the request took effect
        sys.exit(1)


def main(argv: list[str]) -> None:
    supervisor_pid, target, *rest = argv
    die_with(int(supervisor_pid))
    if target == "-m":
        module, *args = rest
        sys.argv = [module, *args]
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    else:
        os.execv(target, [target, *rest])


if __name__ == "__main__":
    main(sys.argv[1:])
