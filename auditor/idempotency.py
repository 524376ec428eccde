"""``Idempotency-Key`` for write endpoints: the same key and request replay the first answer.

The answer is stored in its language-neutral form (findings as the database holds them, in
English) and shown in each request's own language: a client that retries with another
``Accept-Language`` or ``?lang=`` gets the same status and resource in the language it asked for
now (the language is how the answer reads, not what the request did, so ``?lang=`` is not part of
the fingerprint either).

The key is claimed before the handler runs: a pending row (``status`` 0) is committed under the
unique constraint (actor, key), so of concurrent requests with one key exactly one runs; the
others get 409 while it runs and the stored answer after (draft-ietf-httpapi-idempotency-key-header,
section 2.6). A failed or refused request releases its claim so the client may retry.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Response
from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from auditor.db import Base, begin_write, utcnow
from auditor.errors import ApiError

# ``status`` of a claimed key whose request still runs.
PENDING = 0
# A claim older than this is taken to belong to a request that died (worker killed mid-request).
STALE_AFTER = timedelta(minutes=5)


class IdempotentResponse(Base):
    """A claimed key (status 0) or the stored first answer to a keyed write."""

    __tablename__ = "idempotent_responses"
    __table_args__ = (UniqueConstraint("actor", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    actor: Mapped[str] = mapped_column(String(400))
    key: Mapped[str] = mapped_column(String(200))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    created_at = mapped_column(DateTime(timezone=True), default=utcnow)


def _claim(factory, actor: str, key: str, fp: str) -> IdempotentResponse | None:
    """Claim (actor, key); None when this request owns it now, else the row that holds it."""
    try:
        with factory() as s, s.begin():
            begin_write(s)
            s.add(IdempotentResponse(actor=actor, key=key, fingerprint=fp, status=PENDING, body="",
                                     created_at=utcnow()))
        return None
    except IntegrityError:
        pass
    with factory() as s, s.begin():
        begin_write(s)
        prior = s.scalar(select(IdempotentResponse).where(IdempotentResponse.actor == actor,
                                                          IdempotentResponse.key == key))
        if prior is None:  # released meanwhile: try once more
            s.add(IdempotentResponse(actor=actor, key=key, fingerprint=fp, status=PENDING, body="",
                                     created_at=utcnow()))
            return None
        if prior.status == PENDING:
            cutoff = utcnow() - STALE_AFTER
            took = s.execute(update(IdempotentResponse)
                             .where(IdempotentResponse.id == prior.id, IdempotentResponse.status == PENDING,
                                    IdempotentResponse.created_at < cutoff)
                             .values(fingerprint=fp, created_at=utcnow())
                             .execution_options(synchronize_session=False)).rowcount
            if took == 1:
                return None
        return prior


def _release(factory, actor: str, key: str) -> None:
    with factory() as s, s.begin():
        begin_write(s)
        s.execute(delete(IdempotentResponse).where(IdempotentResponse.actor == actor,
                                                   IdempotentResponse.key == key,
                                                   IdempotentResponse.status == PENDING))


def replay_or_run(actor: str, key: str, run: Callable[[], Response], *,
                  present: Callable[[Response], Response] | None = None, ignore: tuple[str, ...] = ()) -> Response:
    """Return the stored answer for (actor, key), or claim the key, run, and store a 2xx answer.

    ``run`` answers in the stored form (language-neutral); ``present`` turns that form into this
    request's answer (its language), for the first answer and every replay alike. Query parameters
    in ``ignore`` are not part of the request's fingerprint.
    """
    from auditor.api import request_fingerprint
    from auditor.services import services

    show = present or (lambda resp: resp)
    if len(key) > 200:
        raise ApiError(400, "Bad Request", "Idempotency-Key is longer than 200 characters")
    fp = request_fingerprint(ignore)
    factory = services().sessions
    prior = _claim(factory, actor, key, fp)
    if prior is not None:
        if prior.fingerprint != fp:
            raise ApiError(422, "Idempotency key reused", "this Idempotency-Key was used with a different request")
        if prior.status == PENDING:
            raise ApiError(409, "Request in progress",
                           "a request with this Idempotency-Key is still running; retry to get its answer",
                           headers={"Retry-After": "1"})
        resp = show(Response(prior.body, status=prior.status, mimetype="application/json"))
        resp.headers["Idempotent-Replayed"] = "true"
        return resp
    try:
        resp = run()
    except BaseException:
        _release(factory, actor, key)
        raise
    if 200 <= resp.status_code < 300:
        with factory() as s, s.begin():
            begin_write(s)
            s.execute(update(IdempotentResponse)
                      .where(IdempotentResponse.actor == actor, IdempotentResponse.key == key)
                      .values(status=resp.status_code, body=resp.get_data(as_text=True)))
        return show(resp)
    _release(factory, actor, key)
    return resp
