"""Many interviews on one port and every core: a primary process and K session workers.

One Python process tops out at about one core, so the WebSocket and phone servers run as
K worker processes (`--workers K`; 0 = one per core), each loading its own models once
and running many sessions. This primary owns the listening socket: it accepts each TCP
connection and hands the socket (SCM_RIGHTS, `bots/worker_channel.py`) to the worker
with the fewest running sessions, so no connection is proxied and no worker fills up
while another idles. Workers report sessions starting and ending and their loop lag;
every handed connection carries the pool's load, which `/health` shows per worker. A
dropped session waits in its worker: workers report the keys they hold, and a connection
that comes back with one (`?resume=`, a phone call back) goes to that worker
(`bots/resume_routing.py`).

Why not uvicorn's `--workers` (or gunicorn): they share one listening socket, so the
kernel (not the load) picks the worker, a full worker still takes connections, and the
supervisor does not know which sessions a dead worker had. Here a worker that dies is
replaced (with back-off if it keeps dying) and the records of its open sessions are
closed as `error` (what they wrote stays). SIGTERM goes to every worker (each session
says goodbye and finishes its record) and the primary exits when they have.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from loguru import logger

from bots.exit_codes import EXIT_SESSION_FAILED, exit_code_for
from bots.resume_routing import peek_routing_key
from bots.session_record import close_abandoned_record
from bots.worker_channel import Message, WorkerChannel, channel_pair

WORKER_CHANNEL_FLAG = "--worker-channel"
RESTART_BACKOFF_SECONDS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)


def worker_count(requested: int) -> int:
    """0 means one per core this process may run on."""
    return requested if requested > 0 else max(1, len(os.sched_getaffinity(0)))


@dataclass
class Worker:
    """The primary's view of one worker process: what it reported, and the records it has open."""

    index: int
    process: asyncio.subprocess.Process
    channel: WorkerChannel
    ready: bool = False
    active: int = 0
    handed: int = 0  # connections given to it, the tie-breaker: a burst alternates between equals
    open_records: set[str] = field(default_factory=set)
    load: dict[str, float] = field(default_factory=dict)  # its latest loop-lag report

    def state(self, max_sessions: int) -> dict[str, object]:
        return {
            "worker": self.index,
            "pid": self.process.pid,
            "ready": self.ready,
            "active_sessions": self.active,
            "max_sessions": max_sessions,
            **self.load,
        }


class WorkerPool:
    """Start K workers running `worker_argv` (bot.py's own flags), accept on host:port, dispatch."""

    def __init__(
        self,
        worker_argv: Sequence[str],
        *,
        workers: int,
        max_sessions_per_worker: int,
        host: str,
        port: int,
        cwd: Path | None = None,
    ) -> None:
        self.worker_argv = list(worker_argv)
        self.size = workers
        self.max_sessions = max_sessions_per_worker
        self.host, self.port = host, port
        self.cwd = cwd
        self.workers: dict[int, Worker] = {}
        self.closed_records: list[str] = []  # records this primary closed for dead workers
        self.replaced = 0
        self._stopping = False
        self._stop_requested = asyncio.Event()
        self._all_ready = asyncio.Event()
        self._failed_starts: dict[int, int] = {}  # worker index -> deaths in a row before it got ready
        self._exit_code: int | None = None  # set when the pool gives up (a worker could never start)
        self._tasks: set[asyncio.Task[None]] = set()
        self.held: dict[str, tuple[int, str]] = {}  # resume key -> (worker index, record) of a dropped session

    def snapshot(self) -> list[dict[str, object]]:
        return [w.state(self.max_sessions) for w in sorted(self.workers.values(), key=lambda w: w.index)]

    async def serve(self, on_ready: Callable[[int], None]) -> int:
        """Run until SIGTERM/SIGINT; returns the exit code (15 stopped, else the workers' worst)."""
        listener = socket.create_server((self.host, self.port), backlog=512, reuse_port=False)
        listener.setblocking(False)
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)
        try:
            for index in range(self.size):
                await self._start_worker(index)
            ready = asyncio.create_task(self._all_ready.wait())
            await asyncio.wait({ready, asyncio.create_task(self._stop_requested.wait())}, return_when="FIRST_COMPLETED")
            if self._exit_code is not None or not ready.done():
                await self._wait_workers_exit()
                return self._exit_code if self._exit_code is not None else exit_code_for("stopped")
            on_ready(listener.getsockname()[1])
            accepting = asyncio.create_task(self._accept(listener))
            await self._stop_requested.wait()
            accepting.cancel()
            listener.close()
            await self._wait_workers_exit()
        finally:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
        if any(w.process.returncode == EXIT_SESSION_FAILED for w in self.workers.values()):
            return EXIT_SESSION_FAILED
        return exit_code_for("stopped")

    def stop(self) -> None:
        """SIGTERM every worker: sessions end with a goodbye and a record; then the primary exits."""
        if self._stopping:
            return
        self._stopping = True
        self._stop_requested.set()
        logger.info("worker pool: stopping, SIGTERM to every worker")
        for worker in self.workers.values():
            if worker.process.returncode is None:
                worker.process.send_signal(signal.SIGTERM)

    # --- workers ------------------------------------------------------------------------

    async def _start_worker(self, index: int) -> Worker:
        primary_end, worker_end = channel_pair()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.worker_argv,
            WORKER_CHANNEL_FLAG,
            str(worker_end.fileno()),
            pass_fds=(worker_end.fileno(),),
            cwd=self.cwd,
            start_new_session=True,  # Ctrl-C reaches the primary only, which stops every worker gracefully
        )
        worker_end.close()
        worker = Worker(index, process, WorkerChannel(primary_end))
        self.workers[index] = worker
        worker.channel.listen(lambda message, _sock: self._on_report(worker, message))
        self._spawn(self._watch(worker))
        logger.info(f"worker pool: worker {index} started, pid {process.pid}")
        if self._stopping:  # SIGTERM came while it was being started: it must not outlive the pool
            process.send_signal(signal.SIGTERM)
        return worker

    def _on_report(self, worker: Worker, message: Message) -> None:
        kind = message.get("type")
        if kind == "ready":
            worker.ready = True
            self._failed_starts.pop(worker.index, None)
            if all(w.ready for w in self.workers.values()) and len(self.workers) == self.size:
                self._all_ready.set()
        elif kind == "session_started":
            worker.open_records.add(str(message["record"]))
        elif kind == "session_ended":
            worker.open_records.discard(str(message["record"]))
        elif kind == "session_held":
            self.held[str(message["key"])] = (worker.index, str(message["record"]))
        elif kind == "session_released":
            self.held.pop(str(message["key"]), None)
        if "active" in message:
            worker.active = int(message["active"])
        if "load" in message:
            worker.load = dict(message["load"])

    async def _watch(self, worker: Worker) -> None:
        code = await worker.process.wait()
        worker.channel.close()
        if self._stopping:
            return
        if not self._all_ready.is_set():  # a first start failed: a setting or a model, which a restart will not fix
            logger.error(f"worker pool: worker {worker.index} could not start (exit code {code}); stopping")
            self._exit_code = code
            self.stop()
            return
        logger.error(f"worker pool: worker {worker.index} (pid {worker.process.pid}) died with exit code {code}")
        for record in sorted(worker.open_records):
            why = f"the session's worker process (pid {worker.process.pid}) died with exit code {code}"
            if close_abandoned_record(Path(record), why):
                self.closed_records.append(record)
                logger.error(f"worker pool: closed the record {record} as error")
                print(f"Session record: {record}", flush=True)
        for key, (index, record) in list(self.held.items()):
            if index != worker.index:
                continue
            del self.held[key]  # nobody can come back to a session whose process is gone
            why = (
                f"the worker process (pid {worker.process.pid}) holding the dropped session died with exit code {code}"
            )
            if close_abandoned_record(Path(record), why):
                self.closed_records.append(record)
                logger.error(f"worker pool: closed the held record {record} as error")
                print(f"Session record: {record}", flush=True)
        del self.workers[worker.index]
        delay = 0.0
        if not worker.ready:  # it never got going: back off, it may be the machine (memory, a model file)
            failures = self._failed_starts[worker.index] = self._failed_starts.get(worker.index, 0) + 1
            delay = RESTART_BACKOFF_SECONDS[min(failures, len(RESTART_BACKOFF_SECONDS)) - 1]
        await asyncio.sleep(delay)
        if not self._stopping:
            self.replaced += 1
            await self._start_worker(worker.index)

    async def _wait_workers_exit(self) -> None:
        while self.workers and any(w.process.returncode is None for w in self.workers.values()):
            await asyncio.gather(*(w.process.wait() for w in list(self.workers.values())))
        for task in list(self._tasks):
            task.cancel()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)  # the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    # --- connections ----------------------------------------------------------------------

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            conn, _peer = await loop.sock_accept(listener)
            self._spawn(self._route(conn))  # peeking may wait for the request line: never hold up the next accept

    async def _route(self, conn: socket.socket) -> None:
        try:
            key = await peek_routing_key(conn) if self.held else None
            self._dispatch(conn, key)
        finally:
            conn.close()  # the worker holds its own copy now

    def _dispatch(self, conn: socket.socket, key: str | None = None) -> None:
        """To the worker holding the session `key` resumes, else to the least loaded."""
        holder = self.held.get(key) if key is not None else None
        while candidates := [w for w in self.workers.values() if w.ready and w.process.returncode is None]:
            holding = [w for w in candidates if holder is not None and w.index == holder[0]]
            worker = holding[0] if holding else min(candidates, key=lambda w: (w.active, w.handed))
            worker.handed += 1
            if worker.channel.send({"type": "connection", "pool": self.snapshot()}, attach=conn):
                return
            worker.ready = False  # its channel is gone: it is dying; try the next one
        logger.warning("worker pool: no live worker for a connection; closing it")
