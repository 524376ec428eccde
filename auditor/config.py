"""Settings from the environment (``AUDITOR_*``) and a ``.env`` file, validated once at start-up."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A setting is missing, malformed or unusable; the message names the setting."""


def parse_nameservers(value: str | list[str] | None) -> list[tuple[str, int]]:
    """Parse ``ip``, ``ip:port`` and ``[v6]:port`` items into (address, port) pairs."""
    import ipaddress

    if not value:
        return []
    items = value if isinstance(value, list) else [v for v in value.split(",")]
    out: list[tuple[str, int]] = []
    for raw in (i.strip() for i in items):
        if not raw:
            continue
        host, port = raw, 53
        if raw.startswith("["):
            host, _, rest = raw[1:].partition("]")
            port = int(rest[1:]) if rest.startswith(":") else 53
        elif raw.count(":") == 1:
            host, p = raw.split(":")
            port = int(p)
        ipaddress.ip_address(host)
        if not 0 < port < 65536:
            raise ValueError(f"port out of range in {raw!r}")
        out.append((host, port))
    return out


class Settings(BaseSettings):
    """Every ``AUDITOR_*`` variable of INTERFACES.md, typed."""

    model_config = SettingsConfigDict(
        env_prefix="AUDITOR_", env_file=".env", extra="ignore", case_sensitive=False
    )

    instance_path: Path = Path("instance")
    database_url: str | None = None
    secret_key: str | None = None
    ledger_key: str | None = None
    signing_key: str | None = None
    dns_nameservers: str | None = None
    dns_timeout: float = Field(2.0, gt=0, le=60)
    blocklists: str | None = None
    broker_url: str | None = None
    public_url: str = "http://127.0.0.1:8000"
    max_body_bytes: int = Field(10 * 1024 * 1024, gt=1024)
    checkpoint_every_events: int = Field(1000, ge=1)
    checkpoint_every_seconds: int = Field(300, ge=1)
    approval_ttl_hours: int = Field(72, ge=1)
    posture_max_age_minutes: int = Field(60, ge=0)
    policy_file: Path | None = None
    alert_webhook: str | None = None
    alert_webhook_secret: str | None = None  # HMAC-SHA256 key of the alert webhook's signature
    smtp_url: str | None = None
    alert_email_to: str | None = None
    dmarc_mailbox: str | None = None  # imap(s)://user:pass@host/FOLDER of the rua mail (issue 18)
    log_level: str = "INFO"
    trusted_proxies: int = Field(0, ge=0, le=5)
    ratelimit_enabled: bool = True
    ratelimit_storage_url: str | None = None
    ratelimit_api_key: str = "600/minute"
    ratelimit_api_address: str = "1200/minute"
    ratelimit_gate: str = "12000/minute"  # POST /api/v1/gate/check, per API key and per address
    ratelimit_public: str = "30/minute"
    ratelimit_hooks: str = "12000/minute"  # /hooks/<provider>/<token>, per integration (URL token)
    ratelimit_hooks_address: str = "60/minute"  # /hooks/ with an unknown token, per client address

    @field_validator("dns_nameservers")
    @classmethod
    def _nameservers(cls, v: str | None) -> str | None:
        parse_nameservers(v)
        return v

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: str | None) -> str | None:
        if v and not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("must be a sqlite:/// or postgresql+psycopg:// URL")
        if v and v.startswith("postgresql://"):
            v = "postgresql+psycopg://" + v[len("postgresql://") :]
        return v

    @field_validator("alert_webhook")
    @classmethod
    def _webhook(cls, v: str | None) -> str | None:
        if v and not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v or None

    @field_validator("smtp_url")
    @classmethod
    def _smtp(cls, v: str | None) -> str | None:
        if v and not v.startswith(("smtp://", "smtps://", "smtp+starttls://")):
            raise ValueError("must be smtp://, smtp+starttls:// or smtps://[user:pass@]host[:port]")
        return v or None

    @field_validator("log_level")
    @classmethod
    def _level(cls, v: str) -> str:
        if v.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return v.upper()

    @field_validator("ratelimit_api_key", "ratelimit_api_address", "ratelimit_gate", "ratelimit_public",
                     "ratelimit_hooks", "ratelimit_hooks_address")
    @classmethod
    def _limit(cls, v: str) -> str:
        from limits import parse_many

        try:
            if not parse_many(v):
                raise ValueError
        except ValueError:
            raise ValueError("must be limits like 100/minute or 10/second;1000/hour") from None
        return v

    @field_validator("ratelimit_storage_url")
    @classmethod
    def _limit_storage(cls, v: str | None) -> str | None:
        if v and not v.startswith(("memory://", "redis://", "rediss://", "redis+unix://")):
            raise ValueError("must be memory://, redis://, rediss:// or redis+unix://")
        return v or None

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")


def load_settings(overrides: dict[str, Any] | None = None) -> Settings:
    """Build settings from the environment with ``overrides`` on top; raise ConfigError."""
    data = {k.lower(): v for k, v in (overrides or {}).items() if not k.isupper() or k.startswith("AUDITOR_")}
    data = {k.removeprefix("auditor_"): v for k, v in data.items() if k.removeprefix("auditor_") in Settings.model_fields}
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = "AUDITOR_" + str(err["loc"][0]).upper() if err["loc"] else "AUDITOR_*"
        raise ConfigError(f"{name}: {err['msg']}") from None
    settings.instance_path = Path(os.path.abspath(settings.instance_path))
    return settings
