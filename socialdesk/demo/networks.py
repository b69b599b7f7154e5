"""The demo's networks: every emulator started in this process on free loopback ports,
and the demo's channel accounts connected to them with real credentials.

The emulators keep their state in memory, so each start issues fresh tokens and stores
them encrypted on the accounts (as re-authorizing an account does), and hands every
emulator the posts stored so far (the replayed X history, earlier runs' comments, DMs and
posts), so replies to them are accepted there as on the real network.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.admin import (
    create_channel_account,
    ensure_workspace,
    update_channel_account,
)
from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.email.emulator import MailEmulator
from socialdesk.channels.mastodon.emulator import create_mastodon_app
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.x.emulator import create_x_emulator
from socialdesk.channels.x.emulator_oauth import DEFAULT_CLIENT_ID, DEFAULT_SCOPE, issue_tokens
from socialdesk.domain.enums import AccountStatus, Direction, Platform
from socialdesk.loopback import BackgroundServer
from socialdesk.store.db import Database
from socialdesk.store.models import ChannelAccount, ContactIdentity, Message

# Fixed identities, so a second `socialdesk demo` finds the accounts it connected before.
X_BRAND = {"username": "AcmeSupport", "id": "4100000000000001", "name": "Acme Support"}
META_PAGE = {"kind": "page", "name": "Acme", "id": "150000000000001"}
META_INSTAGRAM = {
    "kind": "instagram",
    "name": "Acme",
    "username": "acme",
    "id": "17841400000000001",
}
MASTODON_DOMAIN = "mastodon.example"
MASTODON_BRAND = {"username": "acmehelp", "id": "110000000000000001"}
EMAIL_ADDRESS = "support@acme.test"
WEB_FORM_ID = "acme-contact"
# Customers' posts on polled networks show within this many seconds.
POLL_SECONDS = 2.0
# The replayed history goes to the X emulator in requests of this many tweets.
HISTORY_CHUNK = 2000
# Tokens outlive any demo session; the emulator's default (2 h) would need refreshes.
TOKEN_SECONDS = 30 * 86_400

NO_CREDENTIALS = "no credentials: the demo's emulators did not connect it"


@dataclass
class DemoNetworks:
    """The running emulators and what the desk and the customer simulator need to know."""

    desk_url: str
    app_secret: str
    verify_token: str
    x_url: str
    meta_url: str
    mastodon_url: str
    bluesky_url: str
    mail: MailEmulator
    servers: list[BackgroundServer] = field(default_factory=list)
    apps: dict[str, Any] = field(default_factory=dict)

    def settings_update(self) -> dict[str, Any]:
        """What the desk's settings change to, for its connectors to reach the emulators."""
        return {
            "x_consumer_secret": self.app_secret,
            "meta_app_secret": self.app_secret,
            "meta_verify_token": self.verify_token,
            "x_api_base_url": self.x_url,
            "meta_graph_base_url": self.meta_url,
            "bluesky_base_url": self.bluesky_url,
            # The emulators' media links are on this machine.
            "attachment_fetch_private_hosts": True,
        }

    def describe(self) -> dict[str, Any]:
        """The state file the customer simulator reads (``socialdesk simulate-customer``)."""
        return {
            "desk": self.desk_url,
            "x": {"url": self.x_url, "brand_user_id": X_BRAND["id"]},
            "meta": {
                "url": self.meta_url,
                "page_id": META_PAGE["id"],
                "ig_id": META_INSTAGRAM["id"],
            },
            "mastodon": {"url": self.mastodon_url},
            "bluesky": {"url": self.bluesky_url},
            "email": {
                "host": self.mail.host,
                "imap_port": self.mail.imap_port,
                "address": self.mail.address,
                "password": self.mail.password,
            },
            "web": {"form_id": WEB_FORM_ID},
        }

    def write_state(self, path: Path) -> None:
        path.write_text(json.dumps(self.describe(), indent=2) + "\n", encoding="utf-8")
        path.chmod(0o600)  # it holds the demo mailbox's password

    def stop(self) -> None:
        for server in reversed(self.servers):
            server.stop()
        self.mail.stop()


def start_networks(desk_url: str) -> DemoNetworks:
    """Start the X, Meta, Mastodon, Bluesky and mail emulators on free loopback ports;
    X and Meta deliver signed webhooks to ``desk_url``."""
    app_secret = secrets.token_urlsafe(24)
    verify_token = secrets.token_urlsafe(12)
    apps = {
        # No echoes: the replayed brands' emulator users have numeric ids where the
        # replayed accounts are known by handle, so their echoes would fail as unknown.
        "x": create_x_emulator(app_secret, webhook_url=f"{desk_url}/hooks/x", echo="off"),
        "meta": create_meta_emulator(
            app_secret,
            verify_token=verify_token,
            webhook_url=f"{desk_url}/hooks/meta",
            # Ids above the last run's: the desk drops a post whose id it already stored.
            first_id=int(time.time() * 1000),
        ),
        "mastodon": create_mastodon_app(
            domain=MASTODON_DOMAIN,
            brand_username=MASTODON_BRAND["username"],
            brand_id=MASTODON_BRAND["id"],
            access_token=secrets.token_urlsafe(24),
        ),
        "bluesky": create_bluesky_app(),
    }
    servers: list[BackgroundServer] = []
    mail = MailEmulator(address=EMAIL_ADDRESS, password=secrets.token_urlsafe(16))
    try:
        urls = {}
        for name, app in apps.items():
            server = BackgroundServer(app)
            urls[name] = server.start()
            servers.append(server)
        mail.start()
    except BaseException:
        for server in servers:
            server.stop()
        raise
    return DemoNetworks(
        desk_url=desk_url,
        app_secret=app_secret,
        verify_token=verify_token,
        x_url=urls["x"],
        meta_url=urls["meta"],
        mastodon_url=urls["mastodon"],
        bluesky_url=urls["bluesky"],
        mail=mail,
        servers=servers,
        apps=apps,
    )


def _connect(
    session: Session,
    workspace_id: int,
    platform: Platform,
    *,
    handle: str,
    external_id: str,
    secrets: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> ChannelAccount:
    account = session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.platform == str(platform), ChannelAccount.external_id == external_id
        )
    )
    if account is None:
        return create_channel_account(
            session,
            None,
            workspace_id=workspace_id,
            platform=platform,
            handle=handle,
            external_id=external_id,
            secrets=secrets,
            settings=settings,
        )
    return update_channel_account(
        session,
        None,
        account,
        secrets=secrets,
        settings=settings,
        status=AccountStatus.ACTIVE,
    )


def connect_accounts(db: Database, networks: DemoNetworks) -> dict[str, int]:
    """Connect the demo accounts (one per network) and every replayed X brand to the
    emulators; an account left without credentials is marked as needing them rather than
    shown active. Returns the demo account ids by network."""
    connected: dict[str, int] = {}
    with (
        httpx.Client(base_url=networks.x_url, timeout=30) as x,
        httpx.Client(base_url=networks.meta_url, timeout=30) as meta,
    ):
        x.post("/_emulator/users", json=X_BRAND).raise_for_status()
        x_token = _x_token(x, X_BRAND["id"])
        page = meta.post("/_emulator/accounts", json=META_PAGE).json()
        instagram = meta.post("/_emulator/accounts", json=META_INSTAGRAM).json()
        meta_tokens = {
            account["id"]: meta.post(
                "/_emulator/tokens", json={"account_id": account["id"]}
            ).json()["access_token"]
            for account in (page, instagram)
        }
        with db.write() as s:
            workspace_id = ensure_workspace(s).id
            connected["x"] = _connect(
                s,
                workspace_id,
                Platform.X,
                handle=X_BRAND["username"],
                external_id=X_BRAND["id"],
                secrets=x_token,
                settings={"source": "demo"},
            ).id
            replayed = list(
                s.scalars(
                    select(ChannelAccount).where(
                        ChannelAccount.platform == str(Platform.X),
                        ChannelAccount.id != connected["x"],
                    )
                )
            )
            # Tens of brands: their emulator users and tokens are made on the emulator's
            # state in this process (no traffic reaches it yet), not one request each.
            x_state = networks.apps["x"].state.x
            for account in replayed:
                user = x_state.user({"username": account.handle}, subscribed=True)
                issued = issue_tokens(
                    x_state,
                    user.id,
                    client_id=DEFAULT_CLIENT_ID,
                    client_secret=None,
                    scope=DEFAULT_SCOPE,
                    expires_in=TOKEN_SECONDS,
                )
                update_channel_account(
                    s,
                    None,
                    account,
                    secrets={
                        "access_token": issued["access_token"],
                        "refresh_token": issued["refresh_token"],
                    },
                    status=AccountStatus.ACTIVE,
                )
            for platform, spec in ((Platform.FACEBOOK, page), (Platform.INSTAGRAM, instagram)):
                connected[str(platform)] = _connect(
                    s,
                    workspace_id,
                    platform,
                    handle=spec.get("username") or spec["name"],
                    external_id=spec["id"],
                    secrets={"access_token": meta_tokens[spec["id"]]},
                    settings={"source": "demo"},
                ).id
            mastodon = networks.apps["mastodon"].state.emulator
            connected["mastodon"] = _connect(
                s,
                workspace_id,
                Platform.MASTODON,
                handle=f"{MASTODON_BRAND['username']}@{MASTODON_DOMAIN}",
                external_id=MASTODON_BRAND["id"],
                secrets={"access_token": next(iter(mastodon.tokens))},
                settings={
                    "base_url": networks.mastodon_url,
                    "poll_interval_seconds": POLL_SECONDS,
                    "source": "demo",
                },
            ).id
            bluesky = networks.apps["bluesky"].state.emulator
            connected["bluesky"] = _connect(
                s,
                workspace_id,
                Platform.BLUESKY,
                handle=bluesky.brand_handle,
                external_id=bluesky.brand_did,
                # Secrets merge: the last run's session would be tried (and refused) first.
                secrets={"app_password": bluesky.app_password, "access_jwt": "", "refresh_jwt": ""},
                settings={
                    "base_url": networks.bluesky_url,
                    "poll_interval_seconds": POLL_SECONDS,
                    "source": "demo",
                },
            ).id
            connected["email"] = _connect(
                s,
                workspace_id,
                Platform.EMAIL,
                handle="Acme Support",
                external_id=networks.mail.address,
                secrets=networks.mail.account_secrets(),
                settings={
                    **networks.mail.account_settings(),
                    "poll_interval_seconds": POLL_SECONDS,
                    "source": "demo",
                },
            ).id
            connected["web"] = _web_form(s, workspace_id)
            _mark_unconnected(s, set(connected.values()) | {a.id for a in replayed})
        meta.put(
            "/_emulator/webhook", json={"url": f"{networks.desk_url}/hooks/meta"}
        ).raise_for_status()
        _import_x_history(db, x)
        _import_meta_history(db, meta, connected)
    _import_mastodon_history(db, networks.mastodon_url, connected["mastodon"])
    _import_bluesky_history(db, networks.bluesky_url, connected["bluesky"])
    return connected


def _x_token(x: httpx.Client, user_id: str) -> dict[str, str]:
    issued = x.post(
        "/_emulator/tokens", json={"user_id": user_id, "expires_in": TOKEN_SECONDS}
    ).json()
    return {"access_token": issued["access_token"], "refresh_token": issued["refresh_token"]}


def _web_form(session: Session, workspace_id: int) -> int:
    """The web form needs no credentials: it is served by the desk itself."""
    account = session.scalar(
        select(ChannelAccount).where(
            ChannelAccount.platform == str(Platform.WEB), ChannelAccount.external_id == WEB_FORM_ID
        )
    )
    if account is None:
        account = create_channel_account(
            session,
            None,
            workspace_id=workspace_id,
            platform=Platform.WEB,
            handle="Acme contact form",
            external_id=WEB_FORM_ID,
            settings={"source": "demo"},
        )
    return account.id


def _mark_unconnected(session: Session, connected: set[int]) -> None:
    """Accounts the emulators did not connect cannot send: they must not look active."""
    for account in session.scalars(
        select(ChannelAccount).where(
            ChannelAccount.id.not_in(connected),
            ChannelAccount.status == str(AccountStatus.ACTIVE),
        )
    ):
        account.status = str(AccountStatus.NEEDS_REAUTH)
        account.status_reason = NO_CREDENTIALS


def _import_x_history(db: Database, x: httpx.Client) -> None:
    """Every stored X post, so the emulator accepts replies to them as X would."""
    with db.session() as s:
        handles: dict[int, str] = {
            account_id: handle
            for account_id, handle in s.execute(
                select(ChannelAccount.id, ChannelAccount.handle).where(
                    ChannelAccount.platform == str(Platform.X)
                )
            )
        }
        rows = s.execute(
            select(
                Message.platform_message_id,
                Message.body,
                Message.direction,
                Message.reply_to_platform_id,
                Message.channel_account_id,
                ContactIdentity.external_user_id,
                ContactIdentity.handle,
            )
            .outerjoin(
                ContactIdentity,
                (ContactIdentity.contact_id == Message.author_contact_id)
                & (ContactIdentity.platform == str(Platform.X)),
            )
            .where(
                Message.channel_account_id.in_(list(handles)),
                Message.platform_message_id.is_not(None),
            )
            .order_by(Message.id)
        )
        tweets = []
        for pid, body, direction, parent, account_id, user_id, handle in rows:
            brand = handles[account_id or 0]  # the query asked for these accounts only
            if direction == str(Direction.OUTBOUND) or not user_id:
                author = {"username": brand}
                if brand == X_BRAND["username"]:
                    author["id"] = X_BRAND["id"]
            else:
                author = {"id": user_id, "username": handle or user_id}
            tweets.append(
                {"id": pid, "author": author, "text": body, "in_reply_to_tweet_id": parent}
            )
    for start in range(0, len(tweets), HISTORY_CHUNK):
        x.post(
            "/_emulator/history", json={"tweets": tweets[start : start + HISTORY_CHUNK]}
        ).raise_for_status()


def _stored(db: Database, account_ids: list[int]) -> list[dict[str, Any]]:
    """The customers' stored posts on these accounts, with who wrote them."""
    with db.session() as s:
        rows = s.execute(
            select(
                Message.platform_message_id,
                Message.body,
                Message.visibility,
                Message.reply_to_platform_id,
                Message.conversation_id,
                Message.created_at,
                Message.meta,
                ContactIdentity.external_user_id,
                ContactIdentity.handle,
                ContactIdentity.display_name,
            )
            .outerjoin(
                ContactIdentity,
                (ContactIdentity.contact_id == Message.author_contact_id)
                & (ContactIdentity.platform == Message.platform),
            )
            .where(
                Message.channel_account_id.in_(account_ids),
                Message.direction == str(Direction.INBOUND),
                Message.platform_message_id.is_not(None),
            )
            .order_by(Message.id)
        )
        keys = [
            "id",
            "text",
            "visibility",
            "reply_to",
            "conversation",
            "created",
            "meta",
            "user_id",
            "handle",
            "name",
        ]
        found = [dict(zip(keys, row, strict=True)) for row in rows]
    for post in found:
        post["created"] = post["created"].timestamp()
        post["meta"] = post["meta"] or {}
    return found


def _import_meta_history(db: Database, meta: httpx.Client, connected: dict[str, int]) -> None:
    """Earlier runs' comments and DMs, so the restarted emulator accepts their replies."""
    comments, messages = [], []
    for post in _stored(db, [connected["facebook"], connected["instagram"]]):
        if post["visibility"] == "private":
            owner, _, customer = (post["conversation"] or "").partition(":")
            if customer:
                messages.append(
                    {
                        "owner_id": owner,
                        "customer_id": customer,
                        "name": post["name"],
                        "mid": post["id"],
                        "text": post["text"],
                        "created": post["created"],
                    }
                )
            continue
        facebook = "post_id" in post["meta"]
        on = post["meta"].get("post_id") if facebook else post["meta"].get("media_id")
        comments.append(
            {
                "id": post["id"],
                "owner_id": META_PAGE["id"] if facebook else META_INSTAGRAM["id"],
                "object_id": on,
                "parent_id": post["reply_to"] if post["reply_to"] != on else None,
                "author_id": post["user_id"] or "",
                "author_name": post["name"] or post["handle"] or "",
                "text": post["text"],
                "created": post["created"],
            }
        )
    if comments or messages:
        meta.post(
            "/_emulator/history", json={"comments": comments, "messages": messages}
        ).raise_for_status()


def _import_mastodon_history(db: Database, url: str, account_id: int) -> None:
    statuses = [
        {
            "id": post["id"],
            "username": (post["handle"] or "customer").lstrip("@").partition("@")[0],
            "domain": (post["handle"] or "").lstrip("@").partition("@")[2] or None,
            "display_name": post["name"],
            "text": post["text"],
            "visibility": post["meta"].get("mastodon_visibility") or "public",
            "in_reply_to_id": post["reply_to"],
        }
        for post in _stored(db, [account_id])
    ]
    if statuses:
        httpx.post(
            url + "/_emulator/history", json={"statuses": statuses}, timeout=30
        ).raise_for_status()


def _import_bluesky_history(db: Database, url: str, account_id: int) -> None:
    posts = [
        {
            "uri": post["id"],
            "cid": post["meta"].get("cid"),
            "handle": post["handle"],
            "display_name": post["name"],
            "text": post["text"],
        }
        for post in _stored(db, [account_id])
        if post["meta"].get("cid")
    ]
    if posts:
        httpx.post(url + "/_emulator/history", json={"posts": posts}, timeout=30).raise_for_status()
