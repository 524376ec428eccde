"""Service glue: one Ledger per app, built from the app's engine, keys and settings."""

from __future__ import annotations

import threading

from flask import Flask

from auditor.services import services
from consent_ledger import Ledger

_build_lock = threading.Lock()


def get_ledger(app: Flask | None = None) -> Ledger:
    """The app's Ledger (built once, kept in ``services().extras['ledger']``)."""
    svc = services(app)
    ledger = svc.extras.get("ledger")
    if ledger is None:
        with _build_lock:
            ledger = svc.extras.get("ledger")
            if ledger is None:
                ledger = svc.extras["ledger"] = Ledger(
                    svc.engine, ledger_key=svc.ledger_key, signing_key=svc.signing_key,
                    checkpoint_every_events=svc.settings.checkpoint_every_events,
                    checkpoint_every_seconds=svc.settings.checkpoint_every_seconds)
    return ledger
