"""Parse a raw RFC 5322 / MIME message or build one from parts; header validity (RFC 5322 §3.6)."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from typing import Any

from checks.catalogue import finding
from checks.findings import Finding
from checks.i18n import msg


class MessageInputError(ValueError):
    """The input is not a message at all (wrong type, or an empty document)."""


def as_bytes(raw: bytes | str | Message) -> bytes:
    """The message's bytes as they would go on the wire (CRLF), untouched when already bytes."""
    if isinstance(raw, bytes | bytearray):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    if isinstance(raw, Message):
        return raw.as_bytes(policy=email.policy.default.clone(linesep="\r\n"))
    raise MessageInputError(f"a message must be bytes, str or EmailMessage, not {type(raw).__name__}")


def parse_message(raw: bytes | str | Message) -> EmailMessage:
    """An EmailMessage (policy.default) from raw bytes or text; an EmailMessage is returned as is."""
    if isinstance(raw, EmailMessage):
        return raw
    data = as_bytes(raw)
    if not data.strip():
        raise MessageInputError("the message is empty")
    return email.message_from_bytes(data, policy=email.policy.default)  # type: ignore[return-value]


class BuiltMessage(EmailMessage):
    """A message built from parts: the sender's MTA adds its DKIM signature at send time."""


def build_message(*, from_: str, subject: str, html: str | None = None, text: str | None = None,
                  headers: dict[str, str] | None = None) -> EmailMessage:
    """A message from its parts: text and/or HTML (multipart/alternative), extra headers, Date and Message-ID."""
    if html is None and text is None:
        raise MessageInputError("a message needs html, text or both")
    msg = BuiltMessage()
    msg["From"] = from_
    msg["Subject"] = subject
    extra = dict(headers or {})
    lower = {k.lower() for k in extra}
    if "date" not in lower:
        msg["Date"] = format_datetime(datetime.now(UTC))
    if "message-id" not in lower:
        msg["Message-ID"] = make_msgid(domain=_domain_of(from_) or "localhost")
    for name, value in extra.items():
        if name.lower() in ("from", "subject", "content-type", "content-transfer-encoding", "mime-version"):
            if name.lower() in ("from", "subject"):
                del msg[name]
                msg[name] = value
            continue
        msg[name] = value
    if text is not None:
        msg.set_content(text)
        if html is not None:
            msg.add_alternative(html, subtype="html")
    else:
        msg.set_content(html, subtype="html")
    return msg


def _domain_of(value: str) -> str | None:
    pairs = getaddresses([value])
    if len(pairs) == 1 and "@" in pairs[0][1]:
        return pairs[0][1].rsplit("@", 1)[1].lower().rstrip(".") or None
    return None


def raw_values(msg: Message, name: str) -> list[str]:
    """Unparsed values of every ``name`` header (the stdlib's parsers are applied separately)."""
    want = name.lower()
    return [str(v) for k, v in msg.raw_items() if k.lower() == want]


def parsed(msg: Message, name: str, value: str) -> Any:
    """A header value through policy.default's parser, or None when the parser gives up.

    The stdlib's header parsers raise assorted errors (IndexError, AttributeError, ...) on
    hostile input (CPython issues with _header_value_parser); a check must report, not crash.
    """
    try:
        return msg.policy.header_factory(name, value)  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001
        return None


def from_mailbox(message: Message) -> tuple[Address | None, str | None]:
    """The single From mailbox and the reason it is unusable (None when it is fine)."""
    values = raw_values(message, "From")
    if not values:
        return None, msg("no From header")
    if len(values) > 1:
        return None, msg("{count} From headers (RFC 5322 §3.6 allows one)", count=len(values))
    header = parsed(message, "From", values[0])
    shown = " ".join(values[0].split())
    try:
        addresses = list(header.addresses) if header is not None else None
        defects = list(getattr(header, "defects", ()))
    except Exception:  # noqa: BLE001 - see parsed()
        addresses = None
    if addresses is None:
        return None, msg("From does not parse: {value}", value=repr(shown))
    if len(addresses) != 1:
        return None, (msg("From names {count} mailboxes", count=len(addresses)) if addresses
                      else msg("From has no mailbox: {value}", value=repr(shown)))
    addr = addresses[0]
    if not addr.username or not addr.domain or "." not in addr.domain or defects:
        why = "; ".join(str(d) for d in defects) or msg("no local part or domain")
        return None, msg("From does not parse ({why}): {value}", why=why, value=repr(shown))
    return addr, None


def header_findings(message: Message) -> tuple[list[Finding], Address | None]:
    """MSG-HEADER-INVALID findings, and the From mailbox when there is exactly one valid one."""
    problems: list[str] = []
    addr, why = from_mailbox(message)
    if why:
        problems.append(why)
    dates = raw_values(message, "Date")
    if not dates:
        problems.append(msg("no Date header"))
    elif len(dates) > 1:
        problems.append(msg("{count} Date headers", count=len(dates)))
    elif not _valid_date(str(dates[0])):
        problems.append(msg("Date does not parse: {value}", value=repr(str(dates[0]))))
    ids = raw_values(message, "Message-ID")
    if not ids:
        problems.append(msg("no Message-ID header (Gmail rejects bulk mail without one)"))
    elif len(ids) > 1:
        problems.append(msg("{count} Message-ID headers", count=len(ids)))
    elif not str(ids[0]).strip().startswith("<") or "@" not in str(ids[0]):
        problems.append(msg("Message-ID is not <id@domain>: {value}", value=repr(str(ids[0]))))
    found = [finding("MSG-HEADER-INVALID", p, evidence={"problem": p}) for p in problems]
    return found, addr


def _valid_date(value: str) -> bool:
    try:
        return parsedate_to_datetime(value) is not None
    except (TypeError, ValueError, IndexError, OverflowError):
        return False


def header_text(msg: Message, name: str) -> str | None:
    """The first ``name`` header's decoded value (unfolded raw text if it does not parse), or None."""
    values = raw_values(msg, name)
    if not values:
        return None
    header = parsed(msg, name, values[0])
    return str(header) if header is not None else " ".join(values[0].split())


def body_parts(msg: Message) -> tuple[str | None, str | None]:
    """(HTML, text) of the first text/html and text/plain parts that are not attachments."""
    html = text = None
    for part in msg.walk():
        try:
            if part.is_multipart() or part.get_content_disposition() == "attachment":
                continue
            ctype = part.get_content_type()
        except Exception:  # noqa: BLE001 - see parsed()
            continue
        if ctype not in ("text/html", "text/plain"):
            continue
        body = _decoded(part)
        if ctype == "text/html" and html is None:
            html = body
        elif ctype == "text/plain" and text is None:
            text = body
    return html, text


def _decoded(part: Message) -> str:
    try:
        return part.get_content()  # type: ignore[attr-defined]
    except Exception:  # noqa: BLE001 - unknown charset, broken encoding, or a parser bug
        pass
    try:  # keep what can be read
        payload = part.get_payload(decode=True) or b""
    except Exception:  # noqa: BLE001
        payload = str(part.get_payload() or "")
    return payload.decode("utf-8", "replace") if isinstance(payload, bytes) else str(payload)
