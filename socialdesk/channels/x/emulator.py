"""A local X (API v2 + Account Activity webhooks) that speaks the real wire format.

``create_x_emulator(consumer_secret)`` returns a FastAPI app; run it with
``socialdesk.emulators.server.serve_app``. State lives in ``app.state.x``.

API (as X): ``POST /2/tweets``, ``DELETE /2/tweets/{id}``, ``PUT /2/tweets/{id}/hidden``
(only replies in conversations the caller's tweet started),
``GET /2/users/{id}/mentions``, ``GET /2/users/{id}/tweets``, ``GET /2/tweets/search/recent``
(``query`` in X's syntax, ``channels/emulator_search.py``; ``since_id``, ``next_token``),
``POST /2/dm_conversations/with/{participant_id}/messages``,
``POST /2/dm_conversations/{dm_conversation_id}/messages``, ``GET /2/dm_events``
(newest first, ``pagination_token`` / ``meta.next_token``, 15 per 15 min). Bearer
user tokens expire by the emulator's clock (``POST /_emulator/clock``) and are refreshed
with ``POST /2/oauth2/token`` (``x_oauth``); every API response carries
``x-rate-limit-*`` headers and 429 once a window is spent.

Control (``/_emulator``, plus the shared routes in ``common``):

- ``POST /_emulator/users`` ``{"username", "name"?, "id"?, "followers_count"?}`` —
  a brand account subscribed to the webhook.
- ``POST /_emulator/tokens`` ``{"user_id", "expires_in"?, "client_id"?, "client_secret"?}``
  → ``{"access_token", "refresh_token", …}``; ``POST /_emulator/tokens/expire``
  ``{"access_token"}`` or ``{"user_id"}``; ``POST /_emulator/tokens/revoke``
  ``{"user_id"}`` (details in ``x_oauth``).
- ``POST /_emulator/history`` ``{"tweets": [{"id", "author": {"username", "id"?},
  "text", "in_reply_to_tweet_id"?}]}`` — tweets from before the emulator started (the
  demo's replayed history), so replies to them are accepted; no webhooks.
- ``PUT /_emulator/config`` ``{"rate_limits": {bucket: n}, "rate_limit_window_seconds",
  "daily_limits", "echo": "after"|"before"|"off"}``.
- ``POST /_emulator/customer/mention`` ``{"customer": {"username", …}, "text",
  "brand_user_id"?, "in_reply_to_tweet_id"?, "wait"?}`` — the customer tweets at the
  brand; the signed ``tweet_create_events`` payload is delivered to the webhook.
- ``POST /_emulator/customer/dm`` ``{"customer": {…}, "text", "brand_user_id"?}``.
- ``GET /_emulator/tweets/{id}`` — the tweet as stored, with ``hidden`` and ``deleted``.
- ``POST /_emulator/webhook/crc`` — X's CRC GET against the webhook URL.
"""

from __future__ import annotations

import base64
import json
import secrets
import unicodedata
from dataclasses import asdict
from typing import Any

import httpx
from fastapi import Body, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from socialdesk.channels.emulator_core import (
    DeliveryConfig,
    EmulatorCore,
    WebhookDeliverer,
    add_common_routes,
)
from socialdesk.channels.emulator_search import QuerySyntaxError, compile_query
from socialdesk.channels.signatures import (
    X_SIGNATURE_HEADER,
    constant_time_equals,
    x_crc_response_token,
    x_signature,
)
from socialdesk.channels.x.emulator_media import MediaStore, add_media_routes
from socialdesk.channels.x.emulator_model import (
    DM_KEYS,
    DUPLICATE_DETAIL,
    REPLY_KEYS,
    TWEET_KEYS,
    URL_RE,
    XState,
    csv_set,
    hide_refusal,
    invalid_request,
    problem,
    short_url,
)
from socialdesk.channels.x.emulator_oauth import add_oauth_routes
from socialdesk.domain.length_rules import x_weighted_length

__all__ = ["create_x_emulator", "emulator_for_cli"]


def create_x_emulator(
    consumer_secret: str,
    *,
    app_id: str = "4000001",
    webhook_url: str | None = None,
    max_retries: int = 3,
    retry_delay_seconds: float = 5.0,
    rate_limits: dict[str, int] | None = None,
    rate_limit_window_seconds: int = 900,
    echo: str = "after",
) -> FastAPI:
    """An X emulator signing webhooks with ``consumer_secret``."""
    deliverer = WebhookDeliverer(
        serialize=lambda p: json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode(),
        sign=lambda raw: {X_SIGNATURE_HEADER: x_signature(consumer_secret, raw)},
        config=DeliveryConfig(
            url=webhook_url, max_retries=max_retries, retry_delay_seconds=retry_delay_seconds
        ),
    )
    state = XState(consumer_secret=consumer_secret, app_id=app_id, core=EmulatorCore(deliverer))
    state.limits.update(rate_limits or {})
    state.window_seconds = rate_limit_window_seconds
    state.echo = echo
    app = FastAPI(title="X emulator", docs_url=None, redoc_url=None)
    app.state.x = state
    add_common_routes(app, state.core)
    add_oauth_routes(app, state)
    core = state.core
    media = MediaStore()

    def limit_headers(user_id: str, bucket: str) -> tuple[dict[str, str], bool]:
        now = core.clock.time()
        headers: dict[str, str] = {}
        allowed = True
        windows = [(bucket, state.limits.get(bucket, 900), state.window_seconds, "x-rate-limit")]
        if bucket in state.daily_limits:
            windows.append((bucket, state.daily_limits[bucket], 86_400, "x-user-limit-24hour"))
        for name, limit, length, prefix in windows:
            start, used = state.windows.get((user_id, name, length), (now, 0))
            if now >= start + length:
                start, used = now, 0
            if used >= limit:
                allowed = False
            headers[f"{prefix}-limit"] = str(limit)
            headers[f"{prefix}-reset"] = str(int(start + length))
            headers[f"{prefix}-remaining"] = str(max(0, limit - used - (1 if allowed else 0)))
            state.windows[(user_id, name, length)] = (start, used)
        if allowed:
            for name, _, length, _ in windows:
                start, used = state.windows[(user_id, name, length)]
                state.windows[(user_id, name, length)] = (start, used + 1)
        return headers, allowed

    def guard(
        request: Request, bucket: str
    ) -> tuple[str | None, dict[str, str], JSONResponse | None]:
        auth = request.headers.get("authorization", "")
        token = auth[7:] if auth.lower().startswith("bearer ") else ""
        entry = state.tokens.get(token)
        user_id = entry[0] if entry and entry[1] > core.clock.time() else None
        headers, allowed = limit_headers(user_id or "anonymous", bucket)
        fault = core.faults.take()
        if fault is not None:
            body = problem(fault.status, "Service Unavailable", "Injected failure")
            return None, headers, JSONResponse(body, fault.status, headers)
        if user_id is None:
            body = problem(401, "Unauthorized", "Unauthorized")
            return None, headers, JSONResponse(body, 401, headers)
        if not allowed:
            body = problem(429, "Too Many Requests", "Too Many Requests")
            return None, headers, JSONResponse(body, 429, headers)
        return user_id, headers, None

    async def json_object(request: Request) -> dict[str, Any] | None:
        try:
            body = json.loads(await request.body())
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    async def deliver(payload: dict[str, Any], wait: bool = True) -> list[dict[str, Any]]:
        if wait:
            return await core.deliverer.deliver(payload)
        core.deliverer.deliver_later(payload)
        return []

    async def echo_payload(payload: dict[str, Any]) -> None:
        if state.echo == "before":
            await core.deliverer.deliver(payload)
        elif state.echo == "after":
            core.deliverer.deliver_later(payload, delay=0.01)

    add_media_routes(app, media, guard, state.new_id, core.sent.append, invalid_request)

    @app.post("/2/tweets")
    async def create_tweet(request: Request) -> JSONResponse:
        user_id, headers, error = guard(request, "POST /2/tweets")
        if error is not None or user_id is None:
            return error or JSONResponse({}, 500)
        body = await json_object(request)
        if body is None:
            return JSONResponse(invalid_request("body is not a JSON object"), 400, headers)
        unknown = sorted(set(body) - TWEET_KEYS)
        reply = body.get("reply") or {}
        if isinstance(reply, dict):
            unknown += [f"reply.{k}" for k in sorted(set(reply) - REPLY_KEYS)]
        if unknown:
            message = f"$.{unknown[0]}: is not defined in the schema and the schema does not allow additional properties"  # noqa: E501
            return JSONResponse(invalid_request(message), 400, headers)
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return JSONResponse(invalid_request("$.text: must be a non-empty string"), 400, headers)
        attached = body.get("media")
        if attached is not None:
            ids = attached.get("media_ids") if isinstance(attached, dict) else None
            wrong = (
                "$.media.media_ids: must be a list of strings"
                if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids)
                else media.problem(user_id, ids, "tweet_image", 4)
            )
            if wrong:
                return JSONResponse(invalid_request(wrong), 400, headers)
        if x_weighted_length(text) > 280:
            return JSONResponse(invalid_request("$.text: text is too long"), 400, headers)
        parent = None
        if isinstance(reply, dict) and reply.get("in_reply_to_tweet_id"):
            parent = state.tweets.get(str(reply["in_reply_to_tweet_id"]))
            if parent is None or parent.deleted:
                detail = "You attempted to reply to a Tweet that is deleted or not visible to you."
                return JSONResponse(problem(403, "Forbidden", detail), 403, headers)
        normalized = unicodedata.normalize("NFC", text).strip()
        for tweet in state.tweets.values():
            if (
                tweet.author_id == user_id
                and not tweet.deleted
                and tweet.text
                == URL_RE.sub(lambda m: "https://t.co/" + short_url(m.group(0)), normalized)
            ):
                return JSONResponse(problem(403, "Forbidden", DUPLICATE_DETAIL), 403, headers)
        tweet = state.add_tweet(state.users[user_id], normalized, parent)
        core.sent.append(
            {
                "endpoint": "POST /2/tweets",
                "path": request.url.path,
                "body": body,
                "id": tweet.id,
                "user_id": user_id,
                "at": tweet.created_at.isoformat(),
            }
        )
        if state.users[user_id].subscribed:
            await echo_payload(
                {"for_user_id": user_id, "tweet_create_events": [state.v1_tweet(tweet)]}
            )
        data = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        return JSONResponse({"data": data}, 201, headers)

    @app.delete("/2/tweets/{tweet_id}")
    async def delete_tweet(tweet_id: str, request: Request) -> JSONResponse:
        user_id, headers, error = guard(request, "DELETE /2/tweets/:id")
        if error is not None:
            return error
        tweet = state.tweets.get(tweet_id)
        if tweet is None or tweet.deleted:
            body = problem(404, "Not Found Error", f"Could not find tweet with id: [{tweet_id}].")
            return JSONResponse(body, 404, headers)
        if tweet.author_id != user_id:
            detail = "You are not authorized to delete this Tweet."
            return JSONResponse(problem(403, "Forbidden", detail), 403, headers)
        tweet.deleted = True
        core.sent.append(
            {"endpoint": "DELETE /2/tweets/:id", "path": request.url.path, "id": tweet_id}
        )
        return JSONResponse({"data": {"deleted": True}}, 200, headers)

    @app.put("/2/tweets/{tweet_id}/hidden")
    async def hide_reply(tweet_id: str, request: Request) -> JSONResponse:
        user_id, headers, error = guard(request, "PUT /2/tweets/:id/hidden")
        if error is not None or user_id is None:
            return error or JSONResponse({}, 500)
        body = await json_object(request)
        if body is None or set(body) != {"hidden"} or not isinstance(body["hidden"], bool):
            message = "$.hidden: required boolean; no other keys"
            return JSONResponse(invalid_request(message), 400, headers)
        refusal = hide_refusal(state, user_id, tweet_id)
        if refusal is not None:
            return JSONResponse(refusal[1], refusal[0], headers)
        state.tweets[tweet_id].hidden = body["hidden"]
        core.sent.append(
            {
                "endpoint": "PUT /2/tweets/:id/hidden",
                "path": request.url.path,
                "body": body,
                "id": tweet_id,
                "user_id": user_id,
                "at": core.clock.now().isoformat(),
            }
        )
        return JSONResponse({"data": {"hidden": body["hidden"]}}, 200, headers)

    def timeline(request: Request, bucket: str, select: Any, *, fewest: int = 5) -> JSONResponse:
        _, headers, error = guard(request, bucket)
        if error is not None:
            return error
        q = request.query_params
        try:
            max_results = int(q.get("max_results", "10"))
        except ValueError:
            max_results = 0
        if not fewest <= max_results <= 100:
            message = f"The `max_results` query parameter value is not between {fewest} and 100"
            return JSONResponse(invalid_request(message), 400, headers)
        fields = csv_set(q.get("tweet.fields")) | csv_set(q.get("post.fields"))
        expansions = csv_set(q.get("expansions"))
        tweets = sorted(
            (t for t in state.tweets.values() if not t.deleted and select(t)),
            key=lambda t: int(t.id),
            reverse=True,
        )[:800]
        since, until = q.get("since_id"), q.get("until_id")
        token = q.get("pagination_token") or q.get("next_token")
        if token:
            try:
                until = base64.urlsafe_b64decode(token.encode()).decode()
            except ValueError:
                return JSONResponse(invalid_request("bad pagination_token"), 400, headers)
        tweets = [
            t
            for t in tweets
            if (not since or int(t.id) > int(since)) and (not until or int(t.id) < int(until))
        ]
        page, rest = tweets[:max_results], tweets[max_results:]
        if not page:
            return JSONResponse({"meta": {"result_count": 0}}, 200, headers)
        meta: dict[str, Any] = {
            "result_count": len(page),
            "newest_id": page[0].id,
            "oldest_id": page[-1].id,
        }
        if rest:
            meta["next_token"] = base64.urlsafe_b64encode(page[-1].id.encode()).decode()
        body: dict[str, Any] = {"data": [state.v2_tweet(t, fields) for t in page]}
        if "author_id" in expansions:
            user_fields = csv_set(q.get("user.fields"))
            authors = {t.author_id for t in page}
            body["includes"] = {
                "users": [state.v2_user(state.users[a], user_fields) for a in sorted(authors)]
            }
        body["meta"] = meta
        return JSONResponse(body, 200, headers)

    @app.get("/2/users/me")
    async def users_me(request: Request) -> JSONResponse:
        user_id, headers, error = guard(request, "GET /2/users/me")
        if error is not None or user_id is None:
            return error or JSONResponse(problem(401, "Unauthorized", "Unauthorized"), 401)
        user = state.users.get(user_id)
        data = (
            state.v2_user(user, set())
            if user is not None
            else {"id": user_id, "name": user_id, "username": f"user{user_id}"}
        )
        return JSONResponse({"data": data}, 200, headers)

    @app.get("/2/users/{user_id}/mentions")
    async def mentions(user_id: str, request: Request) -> JSONResponse:
        return timeline(
            request,
            "GET /2/users/:id/mentions",
            lambda t: user_id in t.mention_ids or t.in_reply_to_user_id == user_id,
        )

    @app.get("/2/users/{user_id}/tweets")
    async def user_tweets(user_id: str, request: Request) -> JSONResponse:
        return timeline(request, "GET /2/users/:id/tweets", lambda t: t.author_id == user_id)

    @app.get("/2/tweets/search/recent")
    async def search_recent(request: Request) -> JSONResponse:
        query = request.query_params.get("query") or ""
        if not query or len(query) > 512:
            message = "The `query` query parameter value is missing or longer than 512"
            return JSONResponse(invalid_request(message), 400)
        try:
            matches = compile_query(query)
        except QuerySyntaxError as exc:
            return JSONResponse(
                invalid_request(f"There were errors processing your request: {exc}"), 400
            )

        def found(tweet: Any) -> bool:
            author = state.users.get(tweet.author_id)
            return matches(tweet.text, author.username if author else "")

        return timeline(request, "GET /2/tweets/search/recent", found, fewest=10)

    async def send_dm(
        request: Request, participant_id: str | None, conversation: str | None
    ) -> JSONResponse:
        user_id, headers, error = guard(request, "POST /2/dm_conversations")
        if error is not None or user_id is None:
            return error or JSONResponse({}, 500)
        body = await json_object(request)
        if body is None or set(body) - DM_KEYS or not isinstance(body.get("text"), str):
            return JSONResponse(invalid_request("$.text: required; no other keys"), 400, headers)
        if conversation is not None:
            parts = conversation.split("-")
            if len(parts) != 2 or user_id not in parts:
                body = problem(403, "Forbidden", "You are not a participant of this conversation.")
                return JSONResponse(body, 403, headers)
            participant_id = parts[1] if parts[0] == user_id else parts[0]
        attachments = body.get("attachments")
        if attachments is not None:
            ids = (
                [a.get("media_id") for a in attachments if isinstance(a, dict)]
                if isinstance(attachments, list)
                else []
            )
            wrong = (
                "$.attachments: a list of {media_id}"
                if not ids or not all(isinstance(i, str) for i in ids)
                else media.problem(user_id, [str(i) for i in ids], "dm_image", 1)
            )
            if wrong:
                return JSONResponse(invalid_request(wrong), 400, headers)
        recipient = state.users.get(participant_id or "")
        if recipient is None:
            return JSONResponse(invalid_request("participant_id: unknown user"), 400, headers)
        sender = state.users[user_id]
        event_id = state.new_id()
        dm = state.add_dm(event_id, sender, recipient, body["text"])
        core.sent.append(
            {
                "endpoint": "POST /2/dm_conversations/with/:participant_id/messages"
                if conversation is None
                else "POST /2/dm_conversations/:dm_conversation_id/messages",
                "path": request.url.path,
                "body": body,
                "id": event_id,
                "user_id": user_id,
                "at": core.clock.now().isoformat(),
            }
        )
        if sender.subscribed:
            payload = state.dm_payload(sender, event_id, sender, recipient, body["text"], True)
            await echo_payload(payload)
        data = {"dm_conversation_id": dm.conversation_id, "dm_event_id": event_id}
        return JSONResponse({"data": data}, 201, headers)

    @app.post("/2/dm_conversations/with/{participant_id}/messages")
    async def dm_with(participant_id: str, request: Request) -> JSONResponse:
        return await send_dm(request, participant_id, None)

    @app.post("/2/dm_conversations/{conversation_id}/messages")
    async def dm_in(conversation_id: str, request: Request) -> JSONResponse:
        return await send_dm(request, None, conversation_id)

    @app.get("/2/dm_events")
    async def dm_events(request: Request) -> JSONResponse:
        """The user's DM events (sent and received), newest first, paged by
        ``pagination_token``; like X, there is no ``since_id``."""
        user_id, headers, error = guard(request, "GET /2/dm_events")
        if error is not None or user_id is None:
            return error or JSONResponse({}, 500)
        q = request.query_params
        try:
            max_results = int(q.get("max_results", "100"))
        except ValueError:
            max_results = 0
        if not 1 <= max_results <= 100:
            message = "The `max_results` query parameter value is not between 1 and 100"
            return JSONResponse(invalid_request(message), 400, headers)
        types = csv_set(q.get("event_types")) or {"MessageCreate"}
        events = sorted(
            (d for d in state.dms.values() if user_id in d.participant_ids),
            key=lambda d: int(d.id),
            reverse=True,
        )
        if "MessageCreate" not in types:
            events = []
        token = q.get("pagination_token")
        if token:
            try:
                until = int(base64.urlsafe_b64decode(token.encode()).decode())
            except ValueError:
                return JSONResponse(invalid_request("bad pagination_token"), 400, headers)
            events = [d for d in events if int(d.id) < until]
        page, rest = events[:max_results], events[max_results:]
        meta: dict[str, Any] = {"result_count": len(page)}
        if rest:
            meta["next_token"] = base64.urlsafe_b64encode(page[-1].id.encode()).decode()
        if not page:
            return JSONResponse({"meta": meta}, 200, headers)
        fields = csv_set(q.get("dm_event.fields"))
        body: dict[str, Any] = {"data": [state.v2_dm_event(d, fields) for d in page]}
        if "sender_id" in csv_set(q.get("expansions")):
            user_fields = csv_set(q.get("user.fields"))
            senders = sorted({d.sender_id for d in page})
            body["includes"] = {
                "users": [state.v2_user(state.users[u], user_fields) for u in senders]
            }
        body["meta"] = meta
        return JSONResponse(body, 200, headers)

    # -- control ---------------------------------------------------------------------

    @app.post("/_emulator/users", tags=["emulator"])
    async def add_user(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        user = state.user(spec, subscribed=bool(spec.get("subscribed", True)))
        user.subscribed = bool(spec.get("subscribed", True))
        return asdict(user)

    @app.post("/_emulator/history", tags=["emulator"])
    async def import_history(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        """Tweets posted before the emulator started (a replayed history), so replies
        to them are accepted as on X; no webhook is delivered."""
        imported = 0
        for item in spec.get("tweets") or []:
            tweet_id = str(item.get("id") or "")
            if not tweet_id.isdigit() or tweet_id in state.tweets:
                continue
            state.import_tweet(
                tweet_id,
                state.user(dict(item.get("author") or {})),
                str(item.get("text") or ""),
                str(item["in_reply_to_tweet_id"]) if item.get("in_reply_to_tweet_id") else None,
            )
            imported += 1
        return {"imported": imported}

    @app.put("/_emulator/config", tags=["emulator"])
    async def configure(changes: dict[str, Any] = Body(...)) -> dict[str, Any]:
        state.limits.update(changes.get("rate_limits") or {})
        state.daily_limits.update(changes.get("daily_limits") or {})
        if "rate_limit_window_seconds" in changes:
            state.window_seconds = int(changes["rate_limit_window_seconds"])
        if changes.get("echo") in ("after", "before", "off"):
            state.echo = changes["echo"]
        state.windows.clear()
        return {"rate_limits": state.limits, "daily_limits": state.daily_limits, "echo": state.echo}

    @app.post("/_emulator/customer/mention", tags=["emulator"])
    async def customer_mention(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        brand = state.brand(spec.get("brand_user_id"))
        customer = state.user(dict(spec.get("customer") or {}))
        text = str(spec.get("text", ""))
        parent = None
        if spec.get("in_reply_to_tweet_id"):
            parent = state.tweets.get(str(spec["in_reply_to_tweet_id"]))
            if parent is None:
                raise HTTPException(404, "unknown in_reply_to_tweet_id")
        if f"@{brand.username}".lower() not in text.lower():
            text = f"@{brand.username} {text}"
        tweet = state.add_tweet(customer, text, parent)
        payload = {
            "for_user_id": brand.id,
            "user_has_blocked": "false",
            "tweet_create_events": [state.v1_tweet(tweet)],
        }
        attempts = await deliver(payload, bool(spec.get("wait", True)))
        return {"tweet": payload["tweet_create_events"][0], "deliveries": attempts}

    @app.get("/_emulator/tweets/{tweet_id}", tags=["emulator"])
    async def tweet_state(tweet_id: str) -> dict[str, Any]:
        """A tweet as the emulator holds it, ``hidden`` and ``deleted`` included."""
        tweet = state.tweets.get(tweet_id)
        if tweet is None:
            raise HTTPException(404, "unknown tweet")
        return asdict(tweet)

    @app.post("/_emulator/customer/dm", tags=["emulator"])
    async def customer_dm(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        brand = state.brand(spec.get("brand_user_id"))
        customer = state.user(dict(spec.get("customer") or {}))
        event_id = state.new_id()
        state.add_dm(event_id, customer, brand, str(spec["text"]))
        payload = state.dm_payload(brand, event_id, customer, brand, str(spec["text"]), False)
        attempts = await deliver(payload, bool(spec.get("wait", True)))
        return {"event": payload["direct_message_events"][0], "deliveries": attempts}

    @app.post("/_emulator/webhook/crc", tags=["emulator"])
    async def crc_check() -> dict[str, Any]:
        url = core.deliverer.config.url
        if not url:
            raise HTTPException(400, "no webhook url configured")
        token = secrets.token_urlsafe(32)
        expected = x_crc_response_token(consumer_secret, token)
        async with httpx.AsyncClient(timeout=3.0) as client:
            try:
                response = await client.get(url, params={"crc_token": token, "nonce": "1"})
            except httpx.HTTPError as exc:
                return {"valid": False, "status": None, "error": type(exc).__name__}
        try:
            received = str(response.json().get("response_token", ""))
        except (ValueError, AttributeError):
            received = ""
        valid = response.status_code == 200 and constant_time_equals(received, expected)
        return {"valid": valid, "status": response.status_code}

    return app


def emulator_for_cli(secret: str | None, *, webhook_url: str | None = None) -> FastAPI:
    """What ``socialdesk emulate x`` serves (the descriptor's ``emulator``): webhooks
    signed with ``secret``, else the configured consumer secret, as the desk checks them."""
    from socialdesk.config import get_settings

    consumer_secret = secret or get_settings().x_consumer_secret or "emulator-secret"
    return create_x_emulator(consumer_secret, webhook_url=webhook_url)
