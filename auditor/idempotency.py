"""``Idempotency-Key`` for write endpoints: the same key and body replay the first answer."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from auditor.db import Base, utcnow
from auditor.errors import ApiError


class IdempotentResponse(Base):
    """The stored first answer to a keyed write."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(400))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(DateTime(timezone=True), default=utcnow)


def replay_or_run(actor: str, key: str, run: Callable[[], Response]) -> Response:
    """Return the stored answer for (actor, key), or run and store a successful answer."""
    from auditor.api import request_fingerprint
    from auditor.services import services

    if len(key) > 200:
        raise ApiError(400, "Bad Request", "Idempotency-Key is longer than 200 characters")
    fp = request_fingerprint()
    factory = services().sessions
    with factory() as s:
        prior = s.scalar(select(IdempotentResponse).where(IdempotentResponse.actor == actor,
                                                          IdempotentResponse.key == key))
    if prior is not None:
        if prior.fingerprint != fp:
            raise ApiError(422, "Idempotency key reused", "this Idempotency-Key was used with a different request")
        resp = Response(prior.body, status=prior.status, mimetype="application/json")
        resp.headers["Idempotent-Replayed"] = "true"
        return resp
    resp = run()
    if 200 <= resp.status_code < 300:
        try:
            with factory() as s, s.begin():
                s.add(IdempotentResponse(actor=actor, key=key, fingerprint=fp, status=resp.status_code,
                                         body=resp.get_data(as_text=True)))
        except IntegrityError:
            pass
    return resp
