from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from socialdesk.actions.admin import create_user, ensure_workspace
from socialdesk.config import get_settings
from socialdesk.domain.enums import Role
from socialdesk.store.db import Database
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

PASSWORD = "correct horse battery"


@dataclass
class Api:
    base_url: str
    db: Database

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url + "/api/v1", headers=headers, timeout=30)

    def token(self, email: str, password: str = PASSWORD) -> str:
        with self.client() as c:
            r = c.post("/auth/token", json={"email": email, "password": password})
            assert r.status_code == 200, r.text
            return str(r.json()["access_token"])


@pytest.fixture
def api(db: Database) -> Iterator[Api]:
    with db.write() as s:
        ws = ensure_workspace(s)
        for email, role in (
            ("admin@example.com", Role.ADMIN),
            ("agent@example.com", Role.AGENT),
            ("viewer@example.com", Role.VIEWER),
        ):
            create_user(s, email, PASSWORD, role, name=email.split("@")[0].title(), workspace=ws)
    with serve(create_app(get_settings(), db)) as url:
        yield Api(url, db)


@pytest.fixture
def admin(api: Api) -> Iterator[httpx.Client]:
    with api.client(api.token("admin@example.com")) as c:
        yield c


@pytest.fixture
def agent(api: Api) -> Iterator[httpx.Client]:
    with api.client(api.token("agent@example.com")) as c:
        yield c


from tests.api.doors import desk_fixture  # noqa: E402,F401  (the "desk" fixture)
