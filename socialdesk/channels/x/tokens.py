"""OAuth 2.0 user-token refresh for the X connector.

X user access tokens last about two hours (../shared/specs/social-platform-apis.md §1.1).
An account whose secrets hold ``refresh_token`` and ``client_id`` (and ``client_secret``
for a confidential client) is refreshed when X answers 401: ``POST /2/oauth2/token``
``grant_type=refresh_token``. X rotates the refresh token on every refresh, so a refresh
token must be used exactly once, by one caller:

- per account, refreshes run under a lock, and a caller that waited finds the pair the
  first one obtained instead of refreshing again;
- the pair is handed to ``on_tokens`` to be stored, so the next operation (whose
  ``AccountRef`` is read from the database) starts from it, in this process or another;
- a stored access token this process knows to be superseded is never used again;
- before refreshing, and again when X refuses a refresh, the stored secrets are read
  afresh (``load_secrets``): a process that refreshed a moment earlier has stored the
  new pair there, and the refresh token we hold has already rotated.

Tokens are never logged, and never put into an error's reason.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from socialdesk.channels.base import AccountRef, SendError, SendFailure

log = logging.getLogger(__name__)

REFRESH_PATH = "/2/oauth2/token"
# (account id, {"access_token", "refresh_token"}) → stored; may return an awaitable.
TokensCallback = Callable[[int, dict[str, str]], object]
# account id → its secrets as stored now (another process may have refreshed meanwhile).
SecretsLoader = Callable[[int], Mapping[str, str]]
# Superseded access tokens remembered per account; a handful covers every AccountRef
# still in flight when a refresh happens.
RETIRED_KEPT = 8


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    refresh_token: str | None = None

    def __repr__(self) -> str:  # keeps tokens out of logs and tracebacks
        return "TokenPair(<redacted>)"


def stored_pair(account: AccountRef) -> TokenPair | None:
    access = account.secrets.get("access_token")
    if not access:
        return None
    return TokenPair(access, account.secrets.get("refresh_token") or None)


def can_refresh(account: AccountRef) -> bool:
    return bool(account.secrets.get("refresh_token") and account.secrets.get("client_id"))


def _oauth_reason(response: httpx.Response) -> str:
    """X's ``error_description`` (or ``error``, or the problem ``detail``)."""
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict):
        for key in ("error_description", "error", "detail", "title"):
            if isinstance(body.get(key), str) and body[key]:
                return str(body[key])
    return f"HTTP {response.status_code}"


class XTokenRefresher:
    """Refreshes X user tokens, once per account however many calls saw the 401."""

    def __init__(
        self,
        http: Callable[[], httpx.AsyncClient],
        base_url: str,
        classify_error: Callable[[httpx.Response], SendError],
        on_tokens: TokensCallback | None = None,
        load_secrets: SecretsLoader | None = None,
    ) -> None:
        self._http = http
        self.load_secrets = load_secrets
        self._classify_error = classify_error
        self._token_url = base_url.rstrip("/") + REFRESH_PATH
        self.on_tokens = on_tokens
        self._locks: dict[int, asyncio.Lock] = {}
        self._latest: dict[int, TokenPair] = {}
        self._retired: dict[int, deque[str]] = {}

    def current(self, account: AccountRef) -> TokenPair | None:
        """The pair to call X with: the stored one, unless this process has already
        replaced it (an ``AccountRef`` read before our refresh was stored)."""
        stored = stored_pair(account)
        latest = self._latest.get(account.id)
        if latest is not None and (
            stored is None or stored.access_token in self._retired.get(account.id, ())
        ):
            return latest
        return stored

    async def recover(self, account: AccountRef, refused: TokenPair) -> TokenPair:
        """A pair to retry with after X refused ``refused`` with 401.

        Another caller's newer pair when there is one (ours, or a stored one another
        process saved), else a refresh. SendError(AUTH_REVOKED) when X refuses the
        refresh: the grant is gone and the account needs to be connected again."""
        async with self._locks.setdefault(account.id, asyncio.Lock()):
            newer = self.current(account)
            if newer is not None and newer.access_token != refused.access_token:
                return newer
            stored_since = self._stored_since(account, refused)
            if stored_since is not None:
                return stored_since
            refresh_token = refused.refresh_token or account.secrets.get("refresh_token")
            client_id = account.secrets.get("client_id")
            if not refresh_token or not client_id:
                raise SendError(SendFailure.AUTH_REVOKED, "X refused the access token", code="401")
            try:
                pair = await self._refresh(
                    account, refresh_token, client_id, account.secrets.get("client_secret") or None
                )
            except SendError as refused_refresh:
                # Another process may have spent this refresh token a moment ago.
                stored_since = self._stored_since(account, refused)
                if refused_refresh.failure is SendFailure.AUTH_REVOKED and stored_since:
                    return stored_since
                raise
            retired = self._retired.setdefault(account.id, deque(maxlen=RETIRED_KEPT))
            retired.append(refused.access_token)
            self._latest[account.id] = pair
            await self._store(account, pair)
            return pair

    def _stored_since(self, account: AccountRef, refused: TokenPair) -> TokenPair | None:
        """A pair stored after ``account`` was read, if another process put one there."""
        if self.load_secrets is None:
            return None
        try:
            secrets = self.load_secrets(account.id)
        except Exception as exc:  # the database is a hint here, never a reason to fail
            log.warning("x: reading account %s's stored tokens failed: %s", account.id, exc)
            return None
        access = secrets.get("access_token")
        retired = self._retired.get(account.id, ())
        if not access or access == refused.access_token or access in retired:
            return None
        return TokenPair(access, secrets.get("refresh_token") or None)

    async def _refresh(
        self, account: AccountRef, refresh_token: str, client_id: str, client_secret: str | None
    ) -> TokenPair:
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        form["client_id"] = client_id
        try:
            if client_secret:  # a confidential client: HTTP Basic client_id:client_secret
                response = await self._http().post(
                    self._token_url, data=form, auth=(client_id, client_secret)
                )
            else:
                response = await self._http().post(self._token_url, data=form)
        except httpx.TimeoutException:
            raise SendError(SendFailure.RETRYABLE, "timed out refreshing the X token") from None
        except httpx.TransportError as exc:
            reason = f"network error refreshing the X token: {type(exc).__name__}"
            raise SendError(SendFailure.RETRYABLE, reason) from None
        status = response.status_code
        if status in (400, 401):
            reason = f"X refused the token refresh: {_oauth_reason(response)}"
            log.warning("x: token refresh refused for account %s (HTTP %s)", account.id, status)
            raise SendError(SendFailure.AUTH_REVOKED, reason, code=str(status))
        if status >= 400:
            raise self._classify_error(response)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        access = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(access, str) or not access:
            raise SendError(SendFailure.RETRYABLE, "X's token answer carries no access token")
        rotated = body.get("refresh_token") if isinstance(body, dict) else None
        log.info("x: refreshed the access token of account %s", account.id)
        # Without a new refresh token X did not rotate it: the old one still works.
        return TokenPair(access, rotated if isinstance(rotated, str) and rotated else refresh_token)

    async def _store(self, account: AccountRef, pair: TokenPair) -> None:
        if self.on_tokens is None:
            return
        secrets = {"access_token": pair.access_token, "refresh_token": pair.refresh_token or ""}
        try:
            outcome = self.on_tokens(account.id, secrets)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as exc:
            # The refresh token already rotated: this process keeps the pair in memory
            # and goes on; another process will need the account reconnected.
            log.error(
                "x: storing refreshed tokens of account %s failed: %s",
                account.id,
                type(exc).__name__,
            )
