"""Background jobs: inline when ``AUDITOR_BROKER_URL`` is unset, Celery workers when it is set.

An area declares a job with ``@job("area.name")`` on ``fn(app, **kwargs)`` in its ``tasks``
module and runs it with ``enqueue("area.name", **kwargs)``. Keyword arguments must be JSON
(they travel through the broker). The worker builds the Flask app once and runs each job in
its application context, so a job calls the same services as a request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from flask import Flask, current_app

from auditor.services import services

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
