"""Background jobs: inline when ``AUDITOR_BROKER_URL`` is unset, Celery workers when it is set.

An area declares a job with ``@job("area.name")`` on ``fn(app, **kwargs)`` in its ``tasks``
module and runs it with ``enqueue("area.name", **kwargs)``. Keyword arguments must be JSON
(they travel through the broker). The worker builds the Flask app once and runs each job in
its application context, so a job calls the same services as a request.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from flask import Flask, current_app

from auditor.services import services

log = logging.getLogger("auditor.jobs")
# Modules whose import registers jobs (missing ones are skipped, like the CLI's areas).
JOB_MODULES = ("auditor.monitoring.tasks", "auditor.reports.tasks", "auditor.integrations.tasks")

_JOBS: dict[str, Callable[..., Any]] = {}


class JobError(RuntimeError):
    """A job is unknown, or the broker cannot be used; the message says which."""


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``fn(app, **kwargs)`` as the job ``name``."""

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        _JOBS[name] = fn
        return fn

    return deco


def load_jobs() -> dict[str, Callable[..., Any]]:
    """Import every area's tasks module; the registered jobs by name."""
    for name in JOB_MODULES:
        try:
            import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
    return dict(_JOBS)


@dataclass(frozen=True)
class Enqueued:
    """A job handed over: run already (inline, with its result) or queued (with the Celery id)."""

    name: str
    inline: bool
    task_id: str | None = None
    result: Any = None


def celery_app(app: Flask | None = None) -> Any:
    """The Celery app bound to ``app`` (one per Flask app), with every job registered."""
    from celery import Celery

    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    svc = services(app)
    if "celery" in svc.extras:
        return svc.extras["celery"]
    url = svc.settings.broker_url
    if not url:
        raise JobError("AUDITOR_BROKER_URL is not set: jobs run inline, no worker is needed")
    celery = Celery("auditor", broker=url, set_as_current=False)
    celery.conf.update(
        task_serializer="json", accept_content=["json"], task_ignore_result=True,
        # A job is acknowledged when done, so a worker that dies mid-job leaves it for another;
        # jobs are safe to repeat (monitoring diffs against whatever was stored last).
        task_acks_late=True, task_reject_on_worker_lost=True, worker_prefetch_multiplier=1,
        broker_connection_retry_on_startup=True, worker_hijack_root_logger=False,
        broker_transport_options={"visibility_timeout": 3600},
    )
    for name, fn in load_jobs().items():
        celery.task(name=name, bind=False)(_bound(app, fn))
    svc.extras["celery"] = celery
    return celery


def _bound(app: Flask, fn: Callable[..., Any]) -> Callable[..., Any]:
    def run(**kwargs: Any) -> Any:
        with app.app_context():
            return fn(app, **kwargs)

    run.__name__ = fn.__name__
    run.__doc__ = fn.__doc__
    return run


def enqueue(task_name: str, *, app: Flask | None = None, **kwargs: Any) -> Enqueued:
    """Run the job now (no broker configured) or send it to the Celery workers."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    jobs = load_jobs()
    if task_name not in jobs:
        raise JobError(f"no job named {task_name!r}")
    if not services(app).settings.broker_url:
        with app.app_context():
            return Enqueued(task_name, True, None, jobs[task_name](app, **kwargs))
    sent = celery_app(app).send_task(task_name, kwargs=kwargs)
    return Enqueued(task_name, False, sent.id, None)


# A job asked for with ``request_job`` is pending (queued, not yet started) while this flag is set
# in a Redis broker; the job clears it when it starts (``job_started``). The expiry covers a job
# lost with its flag set: after it, the next request sends another.
PENDING_FLAG_TTL = 10  # seconds
SEND_INTERVAL = 0.02  # seconds between two sends of one job by one process (a burst: one send)
RETRY_FIRST, RETRY_MAX = 0.5, 30.0  # seconds before asking a down broker again, doubling up to the max


def _pending_flag(name: str) -> str:
    return f"auditor-job-pending:{name}"


def _redis(app: Flask) -> Any:
    """A Redis client of the broker (cached per app), or None when the broker is not Redis."""
    svc = services(app)
    if "job_redis" not in svc.extras:
        url = svc.settings.broker_url or ""
        client = None
        if url.startswith(("redis://", "rediss://")):
            import redis

            client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)
        svc.extras["job_redis"] = client
    return svc.extras["job_redis"]


def _send_unless_pending(app: Flask, task_name: str) -> bool:
    """Send ``task_name`` (no arguments) unless one is queued and not yet started; True if sent."""
    client = _redis(app)
    flag = _pending_flag(task_name)
    if client is not None and not client.set(flag, "1", nx=True, ex=PENDING_FLAG_TTL):
        return False
    try:
        celery_app(app).send_task(task_name)
    except Exception:
        if client is not None:
            client.delete(flag)
        raise
    return True


class _Requester:
    """One thread per process and job: sends the job when asked, one send for any number of asks
    made meanwhile, so the asking request never waits for the broker (nor wakes the thread when
    it is already due to send)."""

    def __init__(self, app: Flask, task_name: str) -> None:
        self.app, self.task_name = app, task_name
        self.wake = threading.Event()
        self.due = False
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.lock = threading.Lock()

    def ask(self) -> None:
        if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
            with self.lock:  # first ask in this process (or after a fork): start the sender
                if self.pid != os.getpid() or self.thread is None or not self.thread.is_alive():
                    self.wake, self.due = threading.Event(), False
                    self.thread = threading.Thread(target=self._run, args=(self.wake,), daemon=True,
                                                   name=f"request-{self.task_name}")
                    self.pid = os.getpid()
                    self.thread.start()
        if not self.due:
            self.due = True
            self.wake.set()

    def _run(self, wake: threading.Event) -> None:
        backoff = 0.0
        while True:
            wake.wait()
            wake.clear()
            self.due = False  # asks from here on send again: the job may have started already
            try:
                _send_unless_pending(self.app, self.task_name)
                backoff = 0.0
            except Exception:  # the broker is down: ask again until it is back (the work is durable)
                log.exception("could not send job %s", self.task_name)
                backoff = min(RETRY_MAX, max(RETRY_FIRST, backoff * 2))
                time.sleep(backoff)
                self.due = True
                wake.set()
                continue
            time.sleep(SEND_INTERVAL)  # a burst of asks: one send per interval at most


def request_job(task_name: str, *, app: Flask | None = None) -> None:
    """Ask for the job ``task_name`` (no arguments) to run soon, without waiting for the broker.

    For jobs that process whatever is left to do (e.g. drain the webhook inbox): a thread of this
    process sends it, once for any number of asks made while it sends; with a Redis broker, not at
    all while one is queued and not started yet (the job calls ``job_started`` first thing, so an
    ask after that sends another). Nothing asked for is lost when the broker is down, as long as
    the job's work is durable: the job's own sweep finds it. Needs a broker (``enqueue`` otherwise).
    """
    app = app or current_app
    app = getattr(app, "_get_current_object", lambda: app)()  # the thread outlives the request's proxy
    requesters = services(app).extras.setdefault("job_requesters", {})
    requester = requesters.get(task_name)
    if requester is None:
        requester = requesters.setdefault(task_name, _Requester(app, task_name))
    requester.ask()


def job_started(app: Flask, task_name: str) -> None:
    """Called by a job sent with ``request_job`` as it starts: asks from now on send another."""
    client = _redis(app)
    if client is not None:
        try:
            client.delete(_pending_flag(task_name))
        except Exception:  # the flag expires by itself
            log.warning("could not clear the pending flag of %s", task_name)


def run_worker(app: Flask, *, concurrency: int = 4, pool: str = "threads", loglevel: str = "INFO",
               queues: str | None = None) -> None:
    """Start a Celery worker for ``app`` in this process (returns when it stops)."""
    argv = ["worker", f"--loglevel={loglevel}", f"--pool={pool}", f"--concurrency={concurrency}",
            "--without-gossip", "--without-mingle", "--without-heartbeat"]
    if queues:
        argv.append(f"--queues={queues}")
    celery = celery_app(app)
    # Import the DNS checks (checkdmarc and its dependencies: seconds) before taking jobs, not
    # inside the first one.
    import_module("checks.domain_audit")
    if pool == "prefork":
        services(app).engine.dispose()  # no pooled connection may cross the fork into a child
    celery.worker_main(argv)
