"""Identifiers are normalised one way (email-validator, phonenumbers) or refused with a reason."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import given, settings
from hypothesis import strategies as st

from consent_ledger.identifiers import InvalidIdentifier, KeyedHash, normalise_identifier


def pseudonym(key: bytes, normalised: str) -> str:
    return KeyedHash(key).pseudonym(normalised)


@pytest.mark.parametrize(("raw", "channel", "expected"), [
    ("  User.Name+tag@Example.ORG ", "email", "user.name+tag@example.org"),
    ("ivan@пример.рф", "email", "ivan@xn--e1afmkfd.xn--p1ai"),
    ("Üser@MÜNCHEN.de", "email", "üser@xn--mnchen-3ya.de"),
    ("8 (916) 123-45-67", "sms", "+79161234567"),
    ("+7 916 123 45 67", "voice", "+79161234567"),
    ("+1 650 253 0000", "sms", "+16502530000"),
    ("+79161234567", "messenger:whatsapp", "+79161234567"),
    ("A@B.example.com", "messenger:telegram", "a@b.example.com"),
    ("dev-token-123", "push", "push:dev-token-123"),
])
def test_identifiers_are_normalised(raw, channel, expected):
    assert normalise_identifier(raw, channel) == expected


@pytest.mark.parametrize(("raw", "channel", "reason"), [
    ("not-an-address", "email", "not a valid email address"),
    ("a@@b.org", "email", "not a valid email address"),
    ("user@localhost", "email", "not a valid email address"),
    ("12345", "sms", "not a valid phone number"),
    ("call me", "sms", "not a phone number"),
    ("", "email", "empty identifier"),
    ("x@y.org", "fax", "unknown channel"),
])
def test_bad_identifiers_are_refused_with_a_reason(raw, channel, reason):
    with pytest.raises(InvalidIdentifier, match=reason):
        normalise_identifier(raw, channel)


def test_pseudonym_is_keyed_and_stable():
    a = pseudonym(b"k1" * 16, "user@example.org")
    assert a == pseudonym(b"k1" * 16, "user@example.org")
    assert a != pseudonym(b"k2" * 16, "user@example.org")
    assert len(a) == 64 and int(a, 16) >= 0


def test_the_same_person_gets_one_pseudonym_however_written():
    key = b"k" * 32
    forms = ["User@Example.org", "user@EXAMPLE.ORG", " user@example.org "]
    assert len({pseudonym(key, normalise_identifier(f)) for f in forms}) == 1


local = st.text(alphabet="abcXYZ019.!#$%&'*+/=?^_`{|}~-\"", min_size=1, max_size=70)
domain = st.sampled_from(["example.org", "EXAMPLE.com", "xn--e1afmkfd.xn--p1ai", "sub.domain.co.uk",
                          "a-b.io", "-bad.org", "localhost", "bad_domain.org", "x.y"])


@settings(max_examples=400, deadline=None)
@given(local, domain)
def test_fast_path_agrees_with_email_validator(loc, dom):
    raw = f"{loc}@{dom}"
    try:
        v = validate_email(raw.lower(), check_deliverability=False)
        expected = v.local_part.lower() + "@" + v.ascii_domain.lower()
    except EmailNotValidError:
        expected = None
    try:
        got = normalise_identifier(raw, "email")
    except InvalidIdentifier:
        got = None
    assert got == expected


@pytest.mark.parametrize("key_len", [0, 1, 32, 64, 65, 200])
def test_keyed_hash_is_hmac_sha256(key_len):
    import hashlib
    import hmac
    import os

    key = os.urandom(key_len)
    mac = KeyedHash(key)
    for message in (b"", b"anna@example.org", os.urandom(1000)):
        assert mac.digest(message) == hmac.new(key, message, hashlib.sha256).digest()
    assert mac.pseudonym("anna@example.org") == hmac.new(key, b"anna@example.org", hashlib.sha256).hexdigest()


def test_every_name_the_package_exports_resolves():
    import consent_ledger

    for name in consent_ledger.__all__:
        assert getattr(consent_ledger, name) is not None, name
