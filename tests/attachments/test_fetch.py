"""Inbound media fetched into storage and served only behind a sign-in, end to end: a
signed Messenger DM whose photo lives on the Meta emulator's CDN, the fetch worker over
real HTTP into a folder or the S3 emulator, then the API and page routes reading it."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from socialdesk.actions.admin import create_channel_account, create_user, ensure_workspace
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.channels.signatures import meta_signature
from socialdesk.config import Settings
from socialdesk.domain.enums import Platform, Role
from socialdesk.emulators.s3 import S3State, create_s3_emulator
from socialdesk.emulators.server import serve_app
from socialdesk.pipeline.attachment_fetch import (
    AttachmentFetchWorker,
    FetchPolicy,
    internal_address_problem,
)
from socialdesk.store.db import Database, utcnow
from socialdesk.store.file_storage import storage_from_settings
from socialdesk.store.models import MessageAttachment, Ticket
from socialdesk.web.app import create_app
from socialdesk.web.serving import serve

SECRET = "fetch-app-secret"
PAGE_ID = "1029384756"
CUSTOMER = "6543210987654321"
PASSWORD = "correct horse battery"
FAR = "7F000000"  # oe= expiry in 2037
PAST = "5F000000"  # oe= expiry in 2020


def png(width: int = 4, height: int = 3) -> bytes:
    row = b"\x00" + bytes((240, 140, 40)) * width

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


@dataclass
class Stage:
    desk: httpx.Client
    cdn: httpx.Client
    db: Database
    settings: Settings
    headers: dict[str, str]

    def media(self, name: str, data: bytes, content_type: str) -> str:
        r = self.cdn.post(
            "/_emulator/media",
            json={
                "name": name,
                "content_type": content_type,
                "data_base64": base64.b64encode(data).decode(),
            },
        )
        assert r.status_code == 200, r.text
        return str(r.json()["url"])

    def dm(self, mid: str, attachments: list[dict[str, Any]]) -> dict[str, Any]:
        body = {
            "object": "page",
            "entry": [
                {
                    "id": PAGE_ID,
                    "time": 1_764_950_400,
                    "messaging": [
                        {
                            "sender": {"id": CUSTOMER},
                            "recipient": {"id": PAGE_ID},
                            "timestamp": 1_764_950_400_000,
                            "message": {"mid": mid, "attachments": attachments},
                        }
                    ],
                }
            ],
        }
        raw = json.dumps(body).encode()
        r = self.desk.post(
            "/hooks/meta",
            content=raw,
            headers={
                "content-type": "application/json",
                "X-Hub-Signature-256": meta_signature(SECRET, raw),
            },
        )
        assert r.status_code == 200, r.text
        return self.ticket()

    def ticket(self) -> dict[str, Any]:
        for _ in range(200):
            listed = self.desk.get("/api/v1/tickets", headers=self.headers).json()["data"]
            if listed:
                r = self.desk.get(f"/api/v1/tickets/{listed[0]['id']}", headers=self.headers)
                detail: dict[str, Any] = r.json()
                if detail["messages"]:
                    return detail
            time.sleep(0.05)
        raise AssertionError("the DM made no ticket")

    def worker(self, **policy: Any) -> AttachmentFetchWorker:
        return AttachmentFetchWorker(
            self.db,
            storage_from_settings(self.settings),
            FetchPolicy(**{"private_hosts": True, **policy}),  # the emulator is on loopback
            client=httpx.Client(timeout=5),
        )

    def rows(self) -> list[MessageAttachment]:
        with self.db.session() as s:
            return list(s.scalars(select(MessageAttachment).order_by(MessageAttachment.position)))


def _token(client: httpx.Client, email: str) -> dict[str, str]:
    r = client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _stage(db: Database, settings: Settings) -> Iterator[Stage]:
    with db.write() as s:
        ws = ensure_workspace(s)
        create_channel_account(
            s,
            None,
            workspace_id=ws.id,
            platform=Platform.MESSENGER,
            handle="Acme",
            external_id=PAGE_ID,
        )
        create_user(s, "agent@example.com", PASSWORD, Role.AGENT, workspace=ws)
        other = ensure_workspace(s, "other-brand")
        create_user(s, "stranger@example.com", PASSWORD, Role.ADMIN, workspace=other)
    with (
        serve_app(create_meta_emulator(SECRET)) as cdn_url,
        httpx.Client(base_url=cdn_url, timeout=30) as cdn,
        serve(create_app(settings, db)) as url,
        httpx.Client(base_url=url, timeout=30) as desk,
    ):
        yield Stage(desk, cdn, db, settings, _token(desk, "agent@example.com"))


@pytest.fixture
def stage(db: Database, tmp_path: Path) -> Iterator[Stage]:
    settings = Settings(
        meta_app_secret=SECRET, attachment_folder=tmp_path / "files", attachment_fetch=False
    )
    yield from _stage(db, settings)


def test_a_photo_is_fetched_stored_and_served_only_to_its_workspace(
    stage: Stage, tmp_path: Path
) -> None:
    photo = png()
    url = stage.media("parcel.png", photo, "image/png")
    detail = stage.dm(
        "m_photo", [{"type": "image", "payload": {"url": f"{url}?_nc_sid=1&oe={FAR}"}}]
    )
    [before] = detail["messages"][0]["attachments"]
    assert before["stored"] is False and before["content_url"] is None

    assert stage.worker().run_pass() is False
    [row] = stage.rows()
    digest = hashlib.sha256(photo).hexdigest()
    assert (row.stored_size, row.sha256, row.stored_mime_type) == (len(photo), digest, "image/png")
    assert row.stored_key == f"ws{detail['workspace_id']}/{digest}"
    assert (tmp_path / "files" / row.stored_key).read_bytes() == photo
    assert row.fetch_failed_at is None and row.fetch_attempts == 1

    [listed] = stage.ticket()["messages"][0]["attachments"]
    assert (
        listed["stored"] is True
        and listed["sha256"] == digest
        and listed["stored_size"] == len(photo)
    )
    assert listed["content_url"] == f"/api/v1/attachments/{row.id}/content"
    r = stage.desk.get(listed["content_url"], headers=stage.headers)
    assert r.status_code == 200 and r.content == photo
    assert r.headers["content-type"] == "image/png"
    assert r.headers["content-disposition"].startswith("inline")
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in r.headers["content-security-policy"]

    # Never public: no token, a stranger's token, a bad id.
    assert stage.desk.get(listed["content_url"]).status_code == 401
    stranger = _token(stage.desk, "stranger@example.com")
    refused = stage.desk.get(listed["content_url"], headers=stranger)
    assert refused.status_code == 404 and "no stored file" in refused.text
    assert stage.desk.get("/api/v1/attachments/0/content", headers=stage.headers).status_code == 422

    # The page route: a session, not a token; signed out it sends you to the login.
    page_url = f"/attachments/{row.id}/content"
    signed_out = stage.desk.get(page_url, follow_redirects=False)
    assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")
    form = stage.desk.get("/login").text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert csrf
    login = stage.desk.post(
        "/login",
        data={"email": "agent@example.com", "password": PASSWORD, "csrf_token": csrf.group(1)},
    )
    assert login.status_code in (200, 303), login.text
    page = stage.desk.get(page_url)
    assert page.status_code == 200 and page.content == photo
    conversation = stage.desk.get(f"/tickets/{detail['id']}").text
    assert f'src="/attachments/{row.id}/content"' in conversation
    assert (
        "fbcdn" not in conversation and url not in conversation.split("attachment-thumb")[0][-400:]
    )


def test_expired_missing_too_large_and_unreachable_links_are_recorded_not_retried_forever(
    stage: Stage,
) -> None:
    big = stage.media("big.png", png(200, 200) + b"\x00" * 5000, "image/png")
    page = stage.media("page.png", b"<html><script>alert(1)</script></html>", "image/png")
    expired = stage.media("old.png", png(), "image/png")
    stage.dm(
        "m_many",
        [
            {"type": "image", "payload": {"url": f"{expired}?oe={PAST}"}},
            {
                "type": "image",
                "payload": {"url": f"{str(stage.cdn.base_url).rstrip('/')}/media/gone.png"},
            },
            {"type": "image", "payload": {"url": big}},
            {"type": "file", "payload": {"url": "http://127.0.0.1:9/unreachable.pdf"}},
            {"type": "image", "payload": {"url": page}},
        ],
    )
    before = dict(stage.cdn.get("/_emulator/requests").json())
    now = utcnow()
    clock = [now]
    worker = stage.worker(max_bytes=4000, max_attempts=2, first_backoff=timedelta(minutes=1))
    worker.clock = lambda: clock[0]
    worker.run_pass()
    old, gone, large, unreachable, fake = stage.rows()
    assert old.fetch_failed_at is not None and "expired before it was fetched" in (
        old.fetch_error or ""
    )
    after = dict(stage.cdn.get("/_emulator/requests").json())
    assert after.get("GET /media/old.png", 0) == before.get("GET /media/old.png", 0)  # not asked
    assert gone.fetch_failed_at is not None and gone.fetch_error == "the network answered HTTP 404"
    assert large.fetch_failed_at is not None and "4000-byte limit" in (large.fetch_error or "")
    # A network error is tried again later, with backoff, not at once.
    assert unreachable.fetch_failed_at is None and unreachable.fetch_attempts == 1
    assert unreachable.next_fetch_at is not None and unreachable.next_fetch_at > now
    assert "ConnectError" in (unreachable.fetch_error or "")
    # Bytes that are not an image are stored, but never as one.
    assert fake.stored_key is not None and fake.stored_mime_type == "image/png"
    r = stage.desk.get(f"/api/v1/attachments/{fake.id}/content", headers=stage.headers)
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert not r.headers["content-type"].startswith("text/html")

    worker.run_pass()  # not due yet: nothing changes
    assert stage.rows()[3].fetch_attempts == 1
    clock[0] = now + timedelta(minutes=2)
    worker.run_pass()
    last = stage.rows()[3]
    assert last.fetch_attempts == 2 and last.fetch_failed_at is not None  # given up
    clock[0] = now + timedelta(days=1)
    assert worker.due(clock[0]) == []
    detail = stage.ticket()
    flags = [(a["expired"], a["stored"]) for a in detail["messages"][0]["attachments"]]
    assert flags == [(True, False), (True, False), (True, False), (True, False), (False, True)]


@pytest.fixture
def s3_stage(db: Database) -> Iterator[tuple[Stage, S3State]]:
    state = S3State(access_key="desk-key", secret_key="desk-secret")
    with serve_app(create_s3_emulator(state)) as s3_url:
        settings = Settings(
            meta_app_secret=SECRET,
            attachment_fetch=False,
            attachment_storage="s3",
            attachment_s3_endpoint=s3_url,
            attachment_s3_bucket="desk-files",
            attachment_s3_access_key="desk-key",
            attachment_s3_secret_key=SecretStr("desk-secret"),
        )
        for stage in _stage(db, settings):
            yield stage, state


def test_with_s3_storage_the_photo_lands_in_the_bucket_and_is_read_back(
    s3_stage: tuple[Stage, S3State],
) -> None:
    stage, state = s3_stage
    photo = png(7, 5)
    url = stage.media("s3.png", photo, "image/png")
    stage.dm("m_s3", [{"type": "image", "payload": {"url": url}}])
    stage.worker().run_pass()
    [row] = stage.rows()
    assert row.stored_key is not None
    assert state.objects[("desk-files", row.stored_key)] == (photo, "image/png")
    r = stage.desk.get(f"/api/v1/attachments/{row.id}/content", headers=stage.headers)
    assert r.status_code == 200 and r.content == photo
    assert state.refused == []


def test_the_web_process_runs_the_fetch_worker_when_asked(db: Database, tmp_path: Path) -> None:
    settings = Settings(
        meta_app_secret=SECRET,
        attachment_folder=tmp_path / "files",
        attachment_fetch=True,
        attachment_fetch_private_hosts=True,  # the emulator's CDN is on loopback
    )
    for stage in _stage(db, settings):
        url = stage.media("auto.png", png(), "image/png")
        stage.dm("m_auto", [{"type": "image", "payload": {"url": url}}])
        for _ in range(200):
            [row] = stage.rows()
            if row.stored_key:
                break
            time.sleep(0.05)
        assert row.stored_key and (tmp_path / "files" / row.stored_key).exists()
        with stage.db.session() as s:
            assert s.scalar(select(Ticket.id)) is not None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:8000/admin", "non-public address (127.0.0.1)"),
        ("http://localhost/x", "non-public address"),
        ("http://10.1.2.3/x.png", "non-public address (10.1.2.3)"),
        ("http://169.254.169.254/latest/meta-data/", "non-public address (169.254.169.254)"),
        ("http://[::1]/x", "non-public address (::1)"),
        ("ftp://93.184.216.34/x.png", "not an http(s) link"),
        ("https://93.184.216.34/photo.jpg", None),
    ],
)
def test_which_media_links_the_worker_may_fetch(url: str, problem: str | None) -> None:
    found = internal_address_problem(url)
    assert found == problem if problem is None else (found is not None and problem in found)


def test_a_link_to_this_machine_is_refused_without_being_requested(stage: Stage) -> None:
    url = stage.media("inside.png", png(), "image/png")
    stage.dm("m_inside", [{"type": "image", "payload": {"url": url}}])
    before = dict(stage.cdn.get("/_emulator/requests").json())
    worker = AttachmentFetchWorker(  # the product's default policy and client
        stage.db, storage_from_settings(stage.settings), FetchPolicy()
    )
    worker.run_pass()
    [row] = stage.rows()
    assert row.stored_key is None and row.fetch_failed_at is not None
    assert row.fetch_error is not None and "non-public address (127.0.0.1)" in row.fetch_error
    assert dict(stage.cdn.get("/_emulator/requests").json()) == before  # never fetched
