"""Read-only queries the pages need that no area service offers (counts, lists, pages)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from auditor.accounts.models import AuditEntry
from auditor.campaigns.models import STATUSES, Campaign, Review

PAGE_SIZE = 50


def campaign_counts(s: Session) -> dict[str, int]:
    """Number of campaigns in each status (every status present, zero when none)."""
    rows = dict(s.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all())
    return {status: int(rows.get(status, 0)) for status in STATUSES}


def campaigns_in(s: Session, status: str | None, limit: int = 200) -> list[Campaign]:
    """Campaigns of a status (all when None), oldest waiting first for the review queue."""
    q = select(Campaign)
    if status:
        q = q.where(Campaign.status == status)
    order = Campaign.id.asc() if status == "needs_review" else Campaign.id.desc()
    return list(s.scalars(q.order_by(order).limit(limit)))


def awaiting(s: Session, user_id: int, limit: int = 10) -> list[Campaign]:
    """Campaigns needing review that this user neither submitted nor reviewed yet."""
    mine = select(Review.campaign_id).where(Review.reviewer_id == user_id)
    q = (select(Campaign).where(Campaign.status == "needs_review", Campaign.submitter_id != user_id,
                                Campaign.id.not_in(mine)).order_by(Campaign.id).limit(limit))
    return list(s.scalars(q))


def submitted_by(s: Session, user_id: int, limit: int = 10) -> list[Campaign]:
    """A sender's latest campaigns."""
    return list(s.scalars(select(Campaign).where(Campaign.submitter_id == user_id)
                          .order_by(Campaign.id.desc()).limit(limit)))


def audit_page(s: Session, *, q: str = "", page: int = 1) -> tuple[list[AuditEntry], bool]:
    """One page of the audit log, newest first, filtered by a substring of actor/action/target."""
    stmt = select(AuditEntry)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(AuditEntry.actor.ilike(like), AuditEntry.action.ilike(like),
                              AuditEntry.target.ilike(like)))
    rows = list(s.scalars(stmt.order_by(AuditEntry.id.desc()).offset((page - 1) * PAGE_SIZE)
                          .limit(PAGE_SIZE + 1)))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def summary(entry: AuditEntry) -> dict[str, Any]:
    """Detail of an audit entry without empty values."""
    return {k: v for k, v in (entry.detail or {}).items() if v not in (None, "", [], {})}
