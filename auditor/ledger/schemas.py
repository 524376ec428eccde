"""Request and response bodies of the ledger API (pydantic; the OpenAPI document comes from them)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, RootModel, Tag

from auditor.api import Body
from consent_ledger import EventIn, Evidence


class EvidenceBody(Body):
    """How consent was collected."""

    source_url: str | None = Field(None, max_length=2048)
    ip: str | None = Field(None, max_length=64)
    user_agent: str | None = Field(None, max_length=1024)
    notice_version: str | None = Field(None, max_length=200)
    notice_sha256: str | None = Field(None, max_length=64)
    separate_document: bool | None = None
    pre_ticked: bool | None = None
    bundled: bool | None = None


class ConsentEventBody(Body):
    """One consent event: give ``subject`` (email or phone) or ``pseudonym``."""

    type: Literal["granted", "confirmed", "withdrawn"]
    channel: str = Field(..., max_length=64, examples=["email", "sms", "messenger:telegram"],
                         description="`*` (withdrawn only): every channel")
    purpose: str = Field(..., max_length=100, examples=["marketing"],
                         description="`*` (withdrawn only): every purpose")
    subject: str | None = Field(None, max_length=320)
    pseudonym: str | None = Field(None, max_length=64)
    controller: str | None = Field(None, max_length=300)
    jurisdiction: str | None = Field(None, max_length=16)
    legal_basis: str | None = Field(None, max_length=100)
    method: str | None = Field(None, max_length=100)
    evidence: EvidenceBody | None = None
    claimed_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str | None = Field(None, max_length=500)

    def to_event(self) -> EventIn:
        """The ledger's EventIn."""
        data = self.model_dump(exclude={"evidence"})
        return EventIn(**data, evidence=Evidence(**self.evidence.model_dump()) if self.evidence else None)


class ConsentBatchBody(Body):
    """Several events appended in one transaction: all or none."""

    events: list[ConsentEventBody] = Field(..., min_length=1, max_length=10000)


def _kind(value: Any) -> str:
    return "batch" if isinstance(value, dict) and "events" in value else "event"


class ConsentsBody(RootModel[Annotated[Annotated[ConsentBatchBody, Tag("batch")]
                                       | Annotated[ConsentEventBody, Tag("event")],
                                       Discriminator(_kind)]]):
    """POST /consents: one event, or {"events": [...]} for a batch."""

    def items(self) -> tuple[list[ConsentEventBody], bool]:
        """The events, and whether they came as a batch."""
        root = self.root
        return (root.events, True) if isinstance(root, ConsentBatchBody) else ([root], False)


class AppendedOut(BaseModel):
    """An appended event; ``warning`` says why it left the consent as it was (it is recorded)."""

    seq: int
    pseudonym: str
    leaf_hash: str
    recorded_at: str
    warning: str | None = None


class AppendWarning(BaseModel):
    """An event the consent state machine recorded but did not act on, and why."""

    index: int
    seq: int
    warning: str


class AppendedList(BaseModel):
    """What a POST /consents answers: the appended events, in order, and warnings by index."""

    events: list[AppendedOut]
    seqs: list[int]
    warnings: list[AppendWarning] = Field(default_factory=list)


class StateOut(BaseModel):
    """The current consent for one channel and purpose."""

    channel: str
    purpose: str
    status: str
    confirmed: bool
    expires_at: datetime | None
    last_seq: int
    updated_at: datetime
    granted_at: datetime | None
    method: str | None
    evidence_complete: bool
    separate_document: bool | None
    pre_ticked: bool | None
    bundled: bool | None
    notice_version: str | None
    legal_basis: str | None = None


class SubjectOut(BaseModel):
    """A subject's consent: current states and the full history as hashed."""

    pseudonym: str
    states: list[StateOut]
    history: list[dict[str, Any]]


class CheckpointOut(BaseModel):
    """A signed checkpoint {size, root, time, key_id, signature}."""

    size: int
    root: str
    time: str
    key_id: str
    signature: str


class InclusionProofOut(BaseModel):
    """The INTERFACES.md inclusion proof file."""

    event: dict[str, Any]
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]
    checkpoint: CheckpointOut
    public_key: str


class ConsistencyProofOut(BaseModel):
    """An RFC 9162 §2.1.4 consistency proof."""

    first: int
    second: int
    first_root: str
    second_root: str
    path: list[str]


class InclusionQuery(Body):
    """Which event, against which tree size (default: the latest checkpoint)."""

    seq: int = Field(..., ge=1)
    size: int | None = Field(None, ge=1)


class ConsistencyQuery(Body):
    """Two tree sizes."""

    first: int = Field(..., ge=0)
    second: int = Field(..., ge=0)


class EraseBody(Body):
    """Who to erase (email, phone or pseudonym) and why."""

    subject: str = Field(..., min_length=1, max_length=320)
    reason: str | None = Field(None, max_length=500)
