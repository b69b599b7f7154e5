"""Both doors to the desk for tests that compare them: the API (a bearer token) and the
pages (a signed-in browser-like client with its CSRF token), over real HTTP."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.config import get_settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.store.models import Message, User
from socialdesk.web.app import create_app
from socialdesk.web.pages import inbox as inbox_page
from socialdesk.web.serving import serve
from tests.pipeline.helpers import ingest, make_account, post

PASSWORD = "correct horse battery"
ROLES = {
    "admin": Role.ADMIN,
    "lead": Role.LEAD,
    "agent": Role.AGENT,
    "marketing": Role.MARKETING,
    "viewer": Role.VIEWER,
}


@dataclass
class Desk:
    url: str
    db: Database
    ticket_id: int
    account_id: int

    def api(self, who: str) -> httpx.Client:
        """The API door: a client with a bearer token for ``who@example.com``."""
        with httpx.Client(base_url=self.url + "/api/v1", timeout=30) as c:
            r = c.post("/auth/token", json={"email": f"{who}@example.com", "password": PASSWORD})
            assert r.status_code == 200, r.text
            token = r.json()["access_token"]
        return httpx.Client(
            base_url=self.url + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )

    def page(self, who: str) -> Page:
        """The page door: a browser-like client signed in as ``who@example.com``."""
        c = httpx.Client(base_url=self.url, timeout=30, follow_redirects=False)
        login = c.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
        assert token
        r = c.post(
            "/login",
            data={"email": f"{who}@example.com", "password": PASSWORD, "csrf_token": token[1]},
        )
        assert r.status_code == 303, r.text
        csrf = re.search(r'data-csrf="([^"]+)"', c.get("/inbox").text)
        assert csrf
        return Page(c, csrf[1])

    def user_id(self, who: str) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(User.id).where(User.email == f"{who}@example.com")))

    def count(self, model: Any, *where: Any) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    def public_replies(self) -> list[str]:
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(Message.body)
                    .where(
                        Message.ticket_id == self.ticket_id,
                        Message.direction == "outbound",
                        Message.visibility == "public",
                    )
                    .order_by(Message.id)
                )
            )


@dataclass
class Page:
    client: httpx.Client
    csrf: str

    def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(path, data={**(data or {}), "csrf_token": self.csrf})

    def get(self, path: str) -> httpx.Response:
        return self.client.get(path)


@pytest.fixture(name="desk")
def desk_fixture(db: Database) -> Iterator[Desk]:
    with db.write() as s:
        ws = ensure_workspace(s)
        for name, role in ROLES.items():
            create_user(s, f"{name}@example.com", PASSWORD, role, name=name.title(), workspace=ws)
    account = make_account(db)
    ingest(db, post(account, "p1", "My parcel never arrived, can you help?", author="sarah"))
    with db.session() as s:
        ticket_id = int(
            s.scalar(select(Message.ticket_id).where(Message.platform_message_id == "p1"))
        )
    inbox_page.forget_counts()
    settings = get_settings().model_copy(update={"run_workers": False})
    with serve(create_app(settings, db)) as url:
        yield Desk(url, db, ticket_id, account)
