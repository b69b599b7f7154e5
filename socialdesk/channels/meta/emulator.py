"""A local Meta Graph API (Page comments, Messenger, Instagram) with signed webhooks.

``create_meta_emulator(app_secret)`` returns a FastAPI app (state in
``app.state.meta``). Graph routes accept any ``/vNN.N/`` prefix:
``POST /{v}/{comment-or-post-id}/comments`` (multipart with one photo as ``source``:
``emulator_media``), ``POST /{v}/{ig-comment-id}/replies``,
``POST /{v}/{page-or-ig-id|me}/messages`` (text, or one image as multipart ``filedata``:
``emulator_media``; ``recipient.id``: a PSID/IGSID inside the messaging window;
``recipient.comment_id``: a private reply, text only, one per comment within 7 days, a
second one fails with code 10900), ``POST /{v}/{comment-id}`` (``is_hidden`` on
a Page comment, ``hide`` on an IG comment; the comment must be the token's account's).
The GET routes that read comments, conversations and messages back are in
``meta_reads`` (state in ``app.state.meta_messages``).
Errors use Graph's
``{"error": {message, type, code, error_subcode, fbtrace_id}}``; responses carry
``X-App-Usage`` and, for Page/IG tokens, ``X-Business-Use-Case-Usage``.

Control (``/_emulator``, plus the shared routes in ``common``):

- ``POST /_emulator/accounts`` ``{"kind": "page"|"instagram", "name", "id"?,
  "username"?}``; ``POST /_emulator/tokens`` ``{"account_id"}`` → ``{"access_token"}``;
  ``POST /_emulator/tokens/invalidate`` ``{"access_token"|"account_id", "subcode"?}``.
- ``PUT /_emulator/config`` ``{"verify_token", "require_appsecret_proof",
  "app_call_limit", "page_call_limit", "usage_window_seconds", "echo"}``.
- ``POST /_emulator/customer/page_comment`` ``{"customer": {"id"?, "name"}, "message",
  "page_id"?, "post_id"?, "parent_id"?, "wait"?}``; ``…/page_comment/{id}/edit``
  ``{"message"}``; ``…/page_comment/{id}/remove``.
- ``POST /_emulator/customer/messenger_dm`` ``{"customer": {"id"?}, "text",
  "page_id"?, "reply_to_mid"?}``; ``POST /_emulator/customer/ig_comment``
  ``{"customer": {"id"?, "username"}, "text", "ig_id"?, "media_id"?, "parent_id"?}``;
  ``POST /_emulator/customer/ig_dm`` ``{"customer": {…}, "text", "ig_id"?}``.
- ``POST /_emulator/history`` ``{"comments": [...], "messages": [...]}`` — posts from
  before the emulator started (``meta_history``).
- ``GET /_emulator/comments/{id}`` — the comment as stored, with ``hidden``.
- ``POST /_emulator/webhook/verify`` — Meta's ``hub.challenge`` GET against the URL.

With ``hold`` on, held updates are flushed as batched ``entry`` arrays.
"""

from __future__ import annotations

import json
import secrets
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
from socialdesk.channels.meta.emulator_history import add_history_routes
from socialdesk.channels.meta.emulator_media import (
    comment_image,
    dm_image,
    graph_params,
    hold_image,
)
from socialdesk.channels.meta.emulator_model import (
    HUMAN_AGENT_SECONDS,
    RETIRED_TAGS,
    TOKEN_ERRORS,
    VERSION,
    WINDOW_SECONDS,
    Account,
    Comment,
    GraphError,
    MetaState,
    combine,
    serialize,
    set_comment_hidden,
)
from socialdesk.channels.meta.emulator_reads import (
    DirectMessage,
    MessageStore,
    add_read_routes,
    private_reply,
)
from socialdesk.channels.signatures import (
    META_SIGNATURE_HEADER,
    appsecret_proof,
    constant_time_equals,
    meta_signature,
)

__all__ = ["create_meta_emulator", "emulator_for_cli"]


def create_meta_emulator(
    app_secret: str,
    *,
    verify_token: str = "verify-me",  # noqa: S107
    webhook_url: str | None = None,
    max_retries: int = 3,
    retry_delay_seconds: float = 5.0,
    require_appsecret_proof: bool = False,
    echo: str = "after",
    first_id: int = 0,
) -> FastAPI:
    """A Meta emulator signing webhooks with ``app_secret``. ``first_id`` starts its id
    sequence elsewhere, so a restarted emulator (the demo's) never reuses the ids of posts
    a desk already stored: the desk would drop them as already seen."""
    deliverer = WebhookDeliverer(
        serialize=serialize,
        sign=lambda raw: {META_SIGNATURE_HEADER: meta_signature(app_secret, raw)},
        combine=combine,
        config=DeliveryConfig(
            url=webhook_url, max_retries=max_retries, retry_delay_seconds=retry_delay_seconds
        ),
    )
    state = MetaState(app_secret=app_secret, core=EmulatorCore(deliverer, id_counter=first_id))
    state.verify_token = verify_token
    state.require_appsecret_proof = require_appsecret_proof
    state.echo = echo
    core = state.core
    store = MessageStore()
    app = FastAPI(title="Meta Graph emulator", docs_url=None, redoc_url=None)
    app.state.meta = state
    app.state.meta_messages = store
    add_common_routes(app, core)
    add_history_routes(app, state, store)

    def now_ms() -> int:
        return int(core.clock.time() * 1000)

    # -- request plumbing ------------------------------------------------------------

    def authenticate(request: Request, params: dict[str, Any]) -> Account:
        auth = request.headers.get("authorization", "")
        token = (
            auth[7:]
            if auth.lower().startswith("bearer ")
            else str(params.get("access_token") or "")
        )
        if not token:
            raise GraphError(104, "An access token is required to request this resource.")
        entry = state.tokens.get(token)
        if entry is None:
            raise GraphError(190, "Invalid OAuth access token - Cannot parse access token")
        account_id, dead_subcode = entry
        if dead_subcode is not None:
            message = TOKEN_ERRORS.get(dead_subcode, "Error validating access token.")
            raise GraphError(190, message, dead_subcode)
        if state.require_appsecret_proof:
            proof = str(params.get("appsecret_proof") or "")
            if not proof:
                raise GraphError(
                    100, "appsecret_proof argument must be passed", kind="GraphMethodException"
                )
            if not constant_time_equals(proof, appsecret_proof(app_secret, token)):
                raise GraphError(
                    100,
                    "Invalid appsecret_proof provided in the API argument",
                    kind="GraphMethodException",
                )
        return state.accounts[account_id]

    async def graph_call(request: Request, version: str, handler: Any) -> JSONResponse:
        headers: dict[str, str] = {}
        try:
            if not VERSION.match(version):
                raise GraphError(2500, "Unknown path components: /" + version)
            percent, _, app_ok = state.count_call("app", state.app_call_limit)
            headers["x-app-usage"] = json.dumps(
                {"call_count": percent, "total_cputime": percent // 2, "total_time": percent // 2}
            )
            fault = core.faults.take()
            if fault is not None:
                code = int(fault.extra.get("code", 2))
                subcode = fault.extra.get("error_subcode")
                message = str(fault.extra.get("message", "An unexpected error has occurred."))
                error = GraphError(code, message, subcode, "OAuthException")
                return JSONResponse(error.body(), fault.status, headers)
            if not app_ok:
                raise GraphError(4, "(#4) Application request limit reached")
            params = await graph_params(request)
            account = authenticate(request, params)
            percent, reset, page_ok = state.count_call(account.id, state.page_call_limit)
            regain = 0 if page_ok else max(1, int(reset // 60))
            usage = {"type": "pages", "call_count": percent, "total_cputime": percent // 2}
            usage |= {"total_time": percent // 2, "estimated_time_to_regain_access": regain}
            headers["x-business-use-case-usage"] = json.dumps({account.id: [usage]})
            if not page_ok:
                raise GraphError(32, "(#32) Page request limit reached")
            body = await handler(request, params, account)
            return JSONResponse(body, 200, headers)
        except GraphError as exc:
            status = 500 if exc.code in (1, 2) else 400
            return JSONResponse(exc.body(), status, headers)

    def record(request: Request, endpoint: str, params: dict[str, Any], new_id: str) -> None:
        hidden = ("access_token", "appsecret_proof")
        body = {k: v for k, v in params.items() if k not in hidden and not k.startswith("_")}
        entry = {"endpoint": endpoint, "path": request.url.path, "body": body, "id": new_id}
        core.sent.append(entry | {"at": core.clock.now().isoformat()})

    async def echo_payload(payload: dict[str, Any]) -> None:
        if state.echo == "before":
            await core.deliverer.deliver(payload)
        elif state.echo == "after":
            core.deliverer.deliver_later(payload, delay=0.01)

    async def deliver(payload: dict[str, Any], wait: bool) -> list[dict[str, Any]]:
        if wait:
            return await core.deliverer.deliver(payload)
        core.deliverer.deliver_later(payload)
        return []

    # -- webhook payloads --------------------------------------------------------------

    def feed_payload(comment: Comment, verb: str) -> dict[str, Any]:
        value: dict[str, Any] = {
            "from": {"id": comment.author_id, "name": comment.author_name},
            "post": {
                "status_type": "added_photos",
                "is_published": True,
                "updated_time": core.clock.now().strftime("%Y-%m-%dT%H:%M:%S+0000"),
                "promotion_status": "inactive",
                "id": comment.object_id,
            },
            "post_id": comment.object_id,
            "comment_id": comment.id,
            "created_time": int(comment.created),
            "item": "comment",
            "parent_id": comment.parent_id or comment.object_id,
            "verb": verb,
        }
        if verb != "remove":
            value["message"] = comment.text
        change = {"field": "feed", "value": value}
        entry = {"id": comment.owner_id, "time": int(core.clock.time()), "changes": [change]}
        return {"object": "page", "entry": [entry]}

    def ig_comment_payload(comment: Comment) -> dict[str, Any]:
        value: dict[str, Any] = {
            "from": {"id": comment.author_id, "username": comment.author_name},
            "media": {"id": comment.object_id, "media_product_type": "FEED"},
            "id": comment.id,
            "text": comment.text,
        }
        if comment.parent_id:
            value["parent_id"] = comment.parent_id
        change = {"field": "comments", "value": value}
        entry = {"id": comment.owner_id, "time": int(core.clock.time()), "changes": [change]}
        return {"object": "instagram", "entry": [entry]}

    def messaging_payload(
        owner: Account, sender: str, recipient: str, message: dict[str, Any]
    ) -> dict[str, Any]:
        event = {
            "sender": {"id": sender},
            "recipient": {"id": recipient},
            "timestamp": now_ms(),
            "message": message,
        }
        entry = {"id": owner.id, "time": now_ms(), "messaging": [event]}
        return {"object": "page" if owner.kind == "page" else "instagram", "entry": [entry]}

    def new_mid(owner: Account) -> str:
        prefix = "m_" if owner.kind == "page" else "aWdfZAG1faXRlbToxOklH"
        return prefix + secrets.token_urlsafe(30)

    # -- Graph endpoints ---------------------------------------------------------------

    async def reply_comment(
        request: Request, params: dict[str, Any], account: Account, object_id: str, edge: str
    ) -> dict[str, Any]:
        message = params.get("message")
        source = params.pop("_source", None)
        if source is not None and edge != "comments":
            raise GraphError(100, "(#100) Param source is not supported on this edge")
        image = await comment_image(source) if source is not None else None
        if not isinstance(message, str):
            message = ""
        if not message.strip() and image is None:
            raise GraphError(100, "(#100) Missing message or attachment", kind="OAuthException")
        parent = state.comments.get(object_id)
        expected_kind = "page" if edge == "comments" else "instagram"
        missing = GraphError(
            100,
            f"Unsupported post request. Object with ID '{object_id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.",  # noqa: E501
            33,
            "GraphMethodException",
        )
        if account.kind != expected_kind:
            raise missing
        if parent is None or parent.deleted:
            if edge == "replies" or not object_id.startswith(account.id + "_"):
                raise missing
            object_ref, parent_id = object_id, None  # a comment on the post itself
        else:
            if parent.owner_id != account.id:
                raise missing
            object_ref = parent.object_id
            parent_id = parent.parent_id or parent.id  # replies nest one level only
        comment = Comment(
            id=f"{object_ref.split('_')[-1]}_{state.new_id()}"
            if edge == "comments"
            else state.new_id(),
            owner_id=account.id,
            object_id=object_ref,
            parent_id=parent_id,
            author_id=account.id,
            author_name=account.name if edge == "comments" else account.username,
            text=message,
            created=core.clock.time(),
            image=image,
        )
        state.comments[comment.id] = comment
        record(
            request,
            f"POST /{{id}}/{edge}",
            params | ({"image": image} if image else {}),
            comment.id,
        )
        await echo_payload(
            feed_payload(comment, "add") if edge == "comments" else ig_comment_payload(comment)
        )
        return {"id": comment.id}

    @app.post("/{version}/{object_id}/comments")
    async def fb_comment_reply(version: str, object_id: str, request: Request) -> JSONResponse:
        async def handler(req: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            return await reply_comment(req, params, account, object_id, "comments")

        return await graph_call(request, version, handler)

    @app.post("/{version}/{object_id}/replies")
    async def ig_comment_reply(version: str, object_id: str, request: Request) -> JSONResponse:
        async def handler(req: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            return await reply_comment(req, params, account, object_id, "replies")

        return await graph_call(request, version, handler)

    def check_free_form_send(account: Account, params: dict[str, Any], customer: str) -> str:
        """Meta's rules for a message to a PSID/IGSID: messaging type, tag, window."""
        kind = params.get("messaging_type")
        tag = params.get("tag")
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG", "UTILITY"):
            raise GraphError(
                100,
                "(#100) param messaging_type must be one of "
                "{RESPONSE, UPDATE, MESSAGE_TAG, UTILITY}",
            )
        if kind == "MESSAGE_TAG" and tag != "HUMAN_AGENT":
            detail = "retired" if tag in RETIRED_TAGS else "invalid"
            raise GraphError(100, f"(#100) Param tag is {detail}: {tag}")
        last = state.last_inbound.get((account.id, customer))
        if last is None:
            raise GraphError(100, "(#100) No matching user found", 2018001)
        window = HUMAN_AGENT_SECONDS if kind == "MESSAGE_TAG" else WINDOW_SECONDS
        if core.clock.time() - last > window:
            raise GraphError(10, "(#10) This message is sent outside of allowed window.", 2018278)
        return customer

    @app.post("/{version}/{owner_id}/messages")
    async def send_message(version: str, owner_id: str, request: Request) -> JSONResponse:
        async def handler(req: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            if owner_id not in ("me", account.id):
                raise GraphError(100, "(#100) The page/account id does not match the access token")
            recipient = params.get("recipient")
            message = params.get("message")
            if not isinstance(recipient, dict) or not (
                recipient.get("id") or recipient.get("comment_id")
            ):
                raise GraphError(100, "(#100) param recipient must be non-empty.")
            data = None
            if isinstance(message, dict) and "attachment" in message:
                data = await dm_image(message, params, account.kind)
            elif not isinstance(message, dict) or not isinstance(message.get("text"), str):
                raise GraphError(100, "(#100) param message must be non-empty.")
            text = "" if data is not None else message["text"]
            too_long = len(text) > 2000 if account.kind == "page" else len(text.encode()) > 1000
            if too_long:
                raise GraphError(
                    100, "(#100) Length of param message[text] must be less than or equal to 2000"
                )
            if recipient.get("comment_id"):
                if data is not None:
                    raise GraphError(100, "(#100) A private reply carries text only")
                # A private reply: one per comment, within 7 days, no messaging window.
                comment_id = str(recipient["comment_id"])
                customer = private_reply(state, store, account, comment_id, state.new_id)
                mid = new_mid(account)
                store.private_replies[comment_id] = mid
            else:
                customer = check_free_form_send(account, params, str(recipient["id"]))
                mid = new_mid(account)
            echo: dict[str, Any] = {"mid": mid, "text": text}
            image = hold_image(core, mid, data, str(req.base_url)) if data else None
            if image is not None:
                echo = {"mid": mid, "attachments": [{"type": "image", "payload": image}]}
            record(req, "POST /{id}/messages", params | ({"image": image} if image else {}), mid)
            store.add(
                account,
                customer,
                DirectMessage(mid, text, account.id, customer, core.clock.time(), image),
            )
            echo |= {"is_echo": True, "app_id": int(state.app_id)}
            await echo_payload(messaging_payload(account, account.id, customer, echo))
            return {"recipient_id": customer, "message_id": mid}

        return await graph_call(request, version, handler)

    # -- control -----------------------------------------------------------------------

    @app.post("/_emulator/accounts", tags=["emulator"])
    async def add_account(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        kind = str(spec.get("kind", "page"))
        if kind not in ("page", "instagram"):
            raise HTTPException(400, "kind is page or instagram")
        account_id = str(spec.get("id") or state.new_id())
        name = str(spec.get("name") or f"{kind} {account_id}")
        account = Account(account_id, kind, name, str(spec.get("username") or name))
        state.accounts[account_id] = account
        return asdict(account)

    @app.post("/_emulator/tokens", tags=["emulator"])
    async def issue_token(spec: dict[str, Any] = Body(...)) -> dict[str, str]:
        account_id = str(spec.get("account_id", ""))
        if account_id not in state.accounts:
            raise HTTPException(404, "unknown account_id")
        token = "EAA" + secrets.token_urlsafe(40)
        state.tokens[token] = (account_id, None)
        return {"access_token": token, "token_type": "bearer"}

    @app.post("/_emulator/tokens/invalidate", tags=["emulator"])
    async def invalidate(spec: dict[str, Any] = Body(...)) -> dict[str, int]:
        subcode = int(spec.get("subcode", 460))
        hits = [
            token
            for token, (account_id, _) in state.tokens.items()
            if token == spec.get("access_token") or account_id == str(spec.get("account_id"))
        ]
        for token in hits:
            state.tokens[token] = (state.tokens[token][0], subcode)
        return {"invalidated": len(hits)}

    @app.put("/_emulator/config", tags=["emulator"])
    async def configure(changes: dict[str, Any] = Body(...)) -> dict[str, Any]:
        allowed = (
            "verify_token",
            "require_appsecret_proof",
            "app_call_limit",
            "page_call_limit",
            "usage_window_seconds",
            "echo",
        )
        for key, value in changes.items():
            if key not in allowed:
                raise HTTPException(400, f"unknown setting {key!r}")
            setattr(state, key, value)
        state.usage.clear()
        return {key: getattr(state, key) for key in allowed}

    known_customers: dict[str, str] = {}

    def customer_of(spec: dict[str, Any], default_name: str) -> tuple[str, str]:
        """The customer's (page-scoped) id and name; the same name keeps the same id."""
        customer = dict(spec.get("customer") or {})
        name = str(customer.get("name") or customer.get("username") or default_name)
        if customer.get("id"):
            return str(customer["id"]), name
        if name not in known_customers:
            known_customers[name] = str(2_000_000_000_000_000 + core.next_seq())
        return known_customers[name], name

    @app.post("/_emulator/customer/page_comment", tags=["emulator"])
    async def customer_page_comment(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        page = state.account(spec.get("page_id"), "page")
        customer_id, name = customer_of(spec, "Customer")
        parent = state.comments.get(str(spec.get("parent_id") or ""))
        post_id = (
            parent.object_id
            if parent
            else str(spec.get("post_id") or f"{page.id}_{state.new_id()}")
        )
        comment = Comment(
            id=f"{post_id.split('_')[-1]}_{state.new_id()}",
            owner_id=page.id,
            object_id=post_id,
            parent_id=(parent.parent_id or parent.id) if parent else None,
            author_id=customer_id,
            author_name=name,
            text=str(spec.get("message", "")),
            created=core.clock.time(),
        )
        state.comments[comment.id] = comment
        attempts = await deliver(feed_payload(comment, "add"), bool(spec.get("wait", True)))
        return {
            "comment_id": comment.id,
            "post_id": post_id,
            "from_id": customer_id,
            "deliveries": attempts,
        }

    @app.post("/_emulator/customer/page_comment/{comment_id}/{verb}", tags=["emulator"])
    async def customer_page_comment_change(
        comment_id: str, verb: str, spec: dict[str, Any] | None = Body(None)
    ) -> dict[str, Any]:
        comment = state.comments.get(comment_id)
        if comment is None or verb not in ("edit", "remove"):
            raise HTTPException(404, "unknown comment or verb")
        spec = spec or {}
        if verb == "edit":
            comment.text = str(spec.get("message", comment.text))
        else:
            comment.deleted = True
        payload = feed_payload(comment, "edited" if verb == "edit" else "remove")
        return {"deliveries": await deliver(payload, bool(spec.get("wait", True)))}

    async def customer_dm(owner: Account, spec: dict[str, Any]) -> dict[str, Any]:
        person_id, name = customer_of(spec, "Customer")
        store.names.setdefault(person_id, name)
        # A given id is the messaging id itself; a named person gets the Page's PSID.
        given = bool(dict(spec.get("customer") or {}).get("id"))
        customer_id = person_id if given else store.messaging_id(owner, person_id, state.new_id)
        mid = new_mid(owner)
        message: dict[str, Any] = {"mid": mid, "text": str(spec.get("text", ""))}
        if spec.get("reply_to_mid"):
            message["reply_to"] = {"mid": str(spec["reply_to_mid"])}
        state.last_inbound[(owner.id, customer_id)] = core.clock.time()
        store.add(
            owner,
            customer_id,
            DirectMessage(mid, message["text"], customer_id, owner.id, core.clock.time()),
        )
        payload = messaging_payload(owner, customer_id, owner.id, message)
        attempts = await deliver(payload, bool(spec.get("wait", True)))
        return {"mid": mid, "sender_id": customer_id, "deliveries": attempts}

    @app.post("/_emulator/customer/messenger_dm", tags=["emulator"])
    async def customer_messenger_dm(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return await customer_dm(state.account(spec.get("page_id"), "page"), spec)

    @app.post("/_emulator/customer/ig_dm", tags=["emulator"])
    async def customer_ig_dm(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return await customer_dm(state.account(spec.get("ig_id"), "instagram"), spec)

    @app.post("/_emulator/customer/ig_comment", tags=["emulator"])
    async def customer_ig_comment(spec: dict[str, Any] = Body(...)) -> dict[str, Any]:
        owner = state.account(spec.get("ig_id"), "instagram")
        customer_id, name = customer_of(spec, "customer")
        parent = state.comments.get(str(spec.get("parent_id") or ""))
        media_id = parent.object_id if parent else str(spec.get("media_id") or state.new_id())
        comment = Comment(
            id=state.new_id(),
            owner_id=owner.id,
            object_id=media_id,
            parent_id=(parent.parent_id or parent.id) if parent else None,
            author_id=customer_id,
            author_name=name,
            text=str(spec.get("text", "")),
            created=core.clock.time(),
        )
        state.comments[comment.id] = comment
        attempts = await deliver(ig_comment_payload(comment), bool(spec.get("wait", True)))
        return {
            "comment_id": comment.id,
            "media_id": media_id,
            "from_id": customer_id,
            "deliveries": attempts,
        }

    @app.post("/_emulator/webhook/verify", tags=["emulator"])
    async def verify_webhook() -> dict[str, Any]:
        url = core.deliverer.config.url
        if not url:
            raise HTTPException(400, "no webhook url configured")
        challenge = str(secrets.randbelow(10**9) + 10**9)
        params = {
            "hub.mode": "subscribe",
            "hub.challenge": challenge,
            "hub.verify_token": state.verify_token,
        }
        async with httpx.AsyncClient(timeout=5.0) as client:
            try:
                response = await client.get(url, params=params)
            except httpx.HTTPError as exc:
                return {"valid": False, "status": None, "error": type(exc).__name__}
        valid = response.status_code == 200 and response.text == challenge
        return {"valid": valid, "status": response.status_code}

    @app.get("/_emulator/comments/{comment_id}", tags=["emulator"])
    async def comment_state(comment_id: str) -> dict[str, Any]:
        """A comment as the emulator holds it, ``hidden`` and ``deleted`` included."""
        comment = state.comments.get(comment_id)
        if comment is None:
            raise HTTPException(404, "unknown comment")
        return asdict(comment)

    # Registered last: ``/{version}/{id}`` would otherwise also match ``/_emulator/…``.
    @app.post("/{version}/{comment_id}")
    async def hide_comment(version: str, comment_id: str, request: Request) -> JSONResponse:
        async def handler(req: Request, params: dict[str, Any], account: Account) -> dict[str, Any]:
            set_comment_hidden(state, account, comment_id, params)
            record(req, "POST /{comment-id}", params, comment_id)
            return {"success": True}

        return await graph_call(request, version, handler)

    add_read_routes(app, state, store, graph_call)
    return app


def emulator_for_cli(secret: str | None, *, webhook_url: str | None = None) -> FastAPI:
    """What ``socialdesk emulate meta`` serves (the descriptor's ``emulator``): signed with
    ``secret``, else the configured app secret, and the configured verify token, so the
    desk's subscription handshake and signature checks pass against it."""
    from socialdesk.config import get_settings

    settings = get_settings()
    return create_meta_emulator(
        secret or settings.meta_app_secret or "emulator-secret",
        verify_token=settings.meta_verify_token or "verify-me",
        webhook_url=webhook_url,
    )
