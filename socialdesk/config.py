"""One settings object, read from the environment (prefix ``SOCIALDESK_``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOCIALDESK_", env_file=None, extra="ignore")

    database_url: str = "sqlite:///./socialdesk.db"
    redis_url: str | None = None
    # Fernet key (urlsafe base64, 32 bytes) that encrypts channel secrets at rest.
    # When unset, a key file next to the working directory is created on first use.
    secret_key: str | None = None
    secret_key_file: Path = Path("./socialdesk.key")
    # A customer's new post joins their open ticket when it came within this window.
    thread_window_hours: float = 72.0
    token_ttl_hours: float = 24.0 * 30
    # Reverse proxies whose X-Forwarded-For is believed (comma-separated addresses or
    # CIDRs, e.g. "127.0.0.1,10.0.0.0/8"). Empty: the peer address is the client, so no
    # client can choose the address the sign-in throttle and the web form limit count.
    trusted_proxies: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    # Channel apps (issue: channels). Read here so every connector sees one source.
    x_consumer_secret: str | None = None
    # Our X app's id: DMs whose source_app_id is ours are our own sends echoed back.
    x_app_id: str | None = None
    meta_app_secret: str | None = None
    meta_verify_token: str | None = None
    x_api_base_url: str = "https://api.x.com"
    meta_graph_base_url: str = "https://graph.facebook.com"
    # Bluesky accounts without a base_url of their own sign in here (accounts on other
    # PDSes set settings.base_url). Mastodon instances come from the handle or base_url.
    bluesky_base_url: str = "https://bsky.social"
    # X mention polling re-reads this much time before its cursor: X's search index can
    # make a post visible after later ones, and the overlap is deduplicated on ingest.
    x_poll_overlap_seconds: float = 60.0
    max_webhook_body_bytes: int = Field(default=1_000_000)
    # Any other request body (API, pages, the web form); JSON also nests at most 64 deep.
    max_request_body_bytes: int = Field(default=1_000_000, ge=1)
    # The web process also runs the raw-event, delivery and polling workers; turn off
    # when `socialdesk worker` runs them in processes of their own.
    run_workers: bool = True
    # How often each web process reads the live feed for other processes' changes;
    # 0 turns the relay off (one process with its workers inside needs none).
    live_relay_seconds: float = 0.5
    # How often the workers run the SLA scan and the time_elapsed rules.
    sla_scan_seconds: float = 60.0
    # How often closed days are folded into report rollups (docs/reports.md).
    reports_worker_seconds: float = 300.0
    # How often the crisis radar counts negative posts (docs/radar.md); 0 turns it off.
    radar_seconds: float = 60.0
    # E-mail notifications to agents (notify_email rule actions), sent by the
    # notification worker from a system sender. No host: rows wait as "not_configured".
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None  # a secret: never logged or shown
    smtp_starttls: bool = True
    notify_from: str = "socialdesk@localhost"
    # Where the desk is reached from a mail client (links in notification e-mails).
    public_url: str = "http://127.0.0.1:8000"
    # Operations (docs/operations.md). /metrics answers peers in metrics_allow
    # (comma-separated addresses or CIDRs) and, when a token is set, only requests
    # bearing it. Logs: "text" (as always) or "json", one object a line with the ids.
    metrics_token: SecretStr | None = None  # a secret: never logged or shown
    metrics_allow: str = "127.0.0.1,::1"
    log_format: Literal["text", "json"] = "text"
    log_level: str = "INFO"
    # Attachments' files (docs/channels.md, "Attachments"): inbound media are fetched from
    # the network's URL into this storage and served only to signed-in agents.
    # "folder" keeps them under attachment_folder; "s3" in an S3-compatible bucket.
    attachment_storage: Literal["folder", "s3"] = "folder"
    attachment_folder: Path = Path("./attachments")
    attachment_s3_endpoint: str | None = None  # e.g. https://s3.eu-west-1.amazonaws.com
    attachment_s3_bucket: str | None = None
    attachment_s3_region: str = "us-east-1"
    attachment_s3_access_key: str | None = None
    attachment_s3_secret_key: SecretStr | None = None  # a secret: never logged or shown
    # The fetch worker: off, nothing is downloaded (the network's link is shown instead).
    attachment_fetch: bool = True
    # Fetch media links that point at this machine or a private network. Off: a link in a
    # (signed) payload cannot make the worker read internal services (SSRF).
    attachment_fetch_private_hosts: bool = False
    attachment_max_bytes: int = Field(default=25_000_000, ge=1)
    # An image an agent uploads to attach to a reply (POST /api/v1/uploads, the composer);
    # each network's own limit (its descriptor's reply_images) is checked on the reply.
    reply_upload_max_bytes: int = Field(default=16_000_000, ge=1)
    # The second triage pass (the sentence encoder, ~10 posts/s a core): off, the inline
    # labels stand and `socialdesk replay` does not wait for the encoder.
    triage_encoder: bool = True

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in filter(None, (p.strip() for p in value.split(","))):
            try:
                ipaddress.ip_network(part, strict=False)
            except ValueError:
                raise ValueError(f"not an address or network: {part!r}") from None
        return value


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def reset_settings_cache() -> None:
    get_settings.cache_clear()
