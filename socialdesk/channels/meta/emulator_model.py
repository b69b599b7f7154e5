"""State and wire helpers of the Meta Graph emulator: accounts, comments, tokens,
Graph errors, webhook serialisation and batching. The HTTP app is in
``socialdesk.channels.meta.emulator``."""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from socialdesk.channels.emulator_core import EmulatorCore

VERSION = re.compile(r"^v\d+\.\d+$")
WINDOW_SECONDS = 24 * 3600
HUMAN_AGENT_SECONDS = 7 * 24 * 3600
RETIRED_TAGS = frozenset({"ACCOUNT_UPDATE", "CONFIRMED_EVENT_UPDATE", "POST_PURCHASE_UPDATE"})
MAX_BATCH = 1000
TOKEN_ERRORS = {
    460: "Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.",  # noqa: E501
    463: "Error validating access token: Session has expired.",
    458: "Error validating access token: The user has not authorized application.",
    467: "Error validating access token: The user is not logged in.",
}


class GraphError(Exception):
    def __init__(
        self, code: int, message: str, subcode: int | None = None, kind: str = "OAuthException"
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.subcode, self.kind = code, message, subcode, kind

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(15)
        return {"error": error}


@dataclass
class Account:
    id: str
    kind: str  # "page" | "instagram"
    name: str
    username: str = ""


@dataclass
class Comment:
    id: str
    owner_id: str
    object_id: str  # FB post id or IG media id
    parent_id: str | None  # None for a top-level comment
    author_id: str
    author_name: str
    text: str
    created: float
    deleted: bool = False
    hidden: bool = False  # hidden from the public by the page / IG account
    # A Page's reply may carry one photo (``emulator_media``): kind, type, size, digest.
    image: dict[str, Any] | None = None


@dataclass
class MetaState:
    app_secret: str
    core: EmulatorCore
    verify_token: str = "verify-me"  # noqa: S105 (an emulator default, not a secret)
    app_id: str = "7000001"
    require_appsecret_proof: bool = False
    echo: str = "after"
    app_call_limit: int = 10_000
    page_call_limit: int = 10_000
    usage_window_seconds: int = 3600
    accounts: dict[str, Account] = field(default_factory=dict)
    tokens: dict[str, tuple[str, int | None]] = field(default_factory=dict)
    comments: dict[str, Comment] = field(default_factory=dict)
    last_inbound: dict[tuple[str, str], float] = field(default_factory=dict)
    usage: dict[str, tuple[float, int]] = field(default_factory=dict)

    def new_id(self) -> str:
        return str(100_000_000_000_000 + self.core.next_seq())

    def account(self, account_id: object, kind: str) -> Account:
        if account_id:
            found = self.accounts.get(str(account_id))
            if found is None or found.kind != kind:
                raise HTTPException(404, f"unknown {kind} id")
            return found
        for found in self.accounts.values():
            if found.kind == kind:
                return found
        raise HTTPException(400, f"no {kind} account: POST /_emulator/accounts first")

    def count_call(self, key: str, limit: int) -> tuple[int, float, bool]:
        """Percent used, seconds to reset, and whether this call is allowed."""
        now = self.core.clock.time()
        start, used = self.usage.get(key, (now, 0))
        if now >= start + self.usage_window_seconds:
            start, used = now, 0
        allowed = used < limit
        used += 1 if allowed else 0
        self.usage[key] = (start, used)
        return (
            min(100, used * 100 // max(1, limit)),
            start + self.usage_window_seconds - now,
            allowed,
        )


def set_comment_hidden(
    state: MetaState, account: Account, comment_id: str, params: dict[str, Any]
) -> None:
    """``POST /{comment-id}`` with ``is_hidden`` (Page) or ``hide`` (IG): the comment must
    be on one of the token's own pages or IG accounts, as Graph checks."""
    key = "is_hidden" if account.kind == "page" else "hide"
    comment = state.comments.get(comment_id)
    if comment is None or comment.deleted or comment.owner_id != account.id:
        raise GraphError(
            100,
            f"Unsupported post request. Object with ID '{comment_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",  # noqa: E501
            33,
            "GraphMethodException",
        )
    value = str(params.get(key, "")).lower()
    if value not in ("true", "false"):
        raise GraphError(100, f"(#100) param {key} must be a boolean", kind="OAuthException")
    comment.hidden = value == "true"


def serialize(payload: dict[str, Any]) -> bytes:
    # Meta escapes non-ASCII (\u00e4, lowercase hex) and signs those exact bytes.
    return json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def combine(payloads: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Held updates become batches: one body per ``object`` with many entries."""
    batches: list[dict[str, Any]] = []
    current: dict[str, dict[str, Any]] = {}
    for payload in payloads:
        kind = payload["object"]
        batch = current.get(kind)
        if batch is None or len(batch["entry"]) >= MAX_BATCH:
            batch = {"object": kind, "entry": []}
            current[kind] = batch
            batches.append(batch)
        batch["entry"].extend(payload["entry"])
    return batches
