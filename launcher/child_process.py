"""How the launcher spawns a bot so that it cannot outlive the launcher, and writes privately.

Why: children are started in their own session (a Ctrl-C reaches only the launcher, which
ends them itself), so a launcher killed with SIGKILL or by the OOM killer used to leave its
bots running: unreachable, unstoppable, still spending. On Linux each child asks the kernel
for SIGTERM when its parent dies (`prctl(PR_SET_PDEATHSIG)`); SIGTERM is the bot's "say
goodbye and finish the record". Elsewhere this is a no-op and the launcher's shutdown hook is
all there is. The child's umask is 077, so whatever it writes (records, reports, logs) is its
owner's only.
"""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

PR_SET_PDEATHSIG = 1
CHILD_UMASK = 0o077


def child_setup() -> Callable[[], None]:
    """A `preexec_fn` for a bot child: SIGTERM when the launcher dies, umask 077."""
    launcher_pid = os.getpid()
    libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None

    def setup() -> None:  # runs in the child between fork and exec: no locks, no logging
        os.umask(CHILD_UMASK)
        if libc is not None:
            libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)
            if os.getppid() != launcher_pid:  # the launcher died before the prctl: act on it now
                os.kill(os.getpid(), signal.SIGTERM)

    return setup


async def spawn_bot(
    command: Sequence[str], env: dict[str, str], cwd: Path, *, stdin: int, listener: socket.socket | None = None
) -> asyncio.subprocess.Process:
    """A bot child: output piped (stderr too), its own session, dies with the launcher, `listener` inherited."""
    return await asyncio.create_subprocess_exec(
        *command,
        cwd=cwd,
        env=env,
        stdin=stdin,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        start_new_session=True,  # a Ctrl-C on the launcher reaches the launcher, which ends children itself
        preexec_fn=child_setup(),  # ...and a launcher that dies any other way still ends them (SIGTERM)
        pass_fds=(listener.fileno(),) if listener is not None else (),
    )
