"""Meta and Bluesky end to end through the REST API: the customer acts on the emulator,
the ticket appears in the API, the agent replies through the API, and the reply lands
at the emulator under the right parent."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from socialdesk.channels.bluesky.emulator import create_bluesky_app
from socialdesk.channels.meta.emulator import create_meta_emulator
from socialdesk.config import Settings
from socialdesk.emulators.server import serve_app
from tests.delivery.helpers import admin_api, connect_bluesky_brand
from tests.delivery.helpers import eventually as _eventually

__all__ = ["admin_api"]  # a pytest fixture

META_SECRET = "emulated_app_secret"


def test_facebook_comment_reply_via_api(admin_api: Callable[[Settings], Any]) -> None:
    with (
        serve_app(
            create_meta_emulator(META_SECRET, verify_token="vt", retry_delay_seconds=0.05)
        ) as meta_url,
        httpx.Client(base_url=meta_url) as meta,
    ):
        page = meta.post("/_emulator/accounts", json={"kind": "page", "name": "Acme"}).json()
        token = meta.post("/_emulator/tokens", json={"account_id": page["id"]}).json()[
            "access_token"
        ]
        settings = Settings(
            meta_app_secret=META_SECRET, meta_verify_token="vt", meta_graph_base_url=meta_url
        )
        base, api = admin_api(settings)
        assert (
            api.post(
                "/channel-accounts",
                json={
                    "platform": "facebook",
                    "handle": "Acme",
                    "external_id": page["id"],
                    "secrets": {"access_token": token},
                },
            ).status_code
            == 201
        )
        meta.put("/_emulator/webhook", json={"url": base + "/hooks/meta"})
        assert meta.post("/_emulator/webhook/verify").status_code == 200
        comment = meta.post(
            "/_emulator/customer/page_comment",
            json={
                "page_id": page["id"],
                "message": "Mi pedido llegó roto",
                "from": {"name": "Lucía"},
            },
        ).json()

        tickets = _eventually(
            lambda: api.get("/tickets", params={"channel": "facebook"}).json()["data"]
        )
        assert tickets[0]["subject"] == "Mi pedido llegó roto"
        assert (
            api.post(
                f"/tickets/{tickets[0]['id']}/replies",
                json={"body": "¡Lo sentimos! Te escribimos por privado."},
            ).status_code
            == 201
        )
        sent = _eventually(
            lambda: [s for s in meta.get("/_emulator/sent").json() if "comments" in s["endpoint"]]
        )
        assert comment["comment_id"] in sent[0]["path"]
        assert sent[0]["body"]["message"] == "¡Lo sentimos! Te escribimos por privado."
        detail = _eventually(
            lambda: (
                (d := api.get(f"/tickets/{tickets[0]['id']}").json())["messages"][-1][
                    "delivery_state"
                ]
                == "sent"
                and d
            )
        )
        assert [m["direction"] for m in detail["messages"]] == ["inbound", "outbound"]


def test_bluesky_mention_reply_via_api(admin_api: Callable[[Settings], Any]) -> None:
    pds_app = create_bluesky_app()
    with serve_app(pds_app) as pds_url, httpx.Client(base_url=pds_url) as pds:
        _base, api = admin_api(Settings())
        emulator = pds_app.state.emulator
        connect_bluesky_brand(api, emulator, pds_url)
        mention = pds.post(
            "/_emulator/customer/mention",
            json={
                "handle": "carol.bsky.social",
                "text": f"@{emulator.brand_handle} my export keeps failing",
            },
        ).json()

        tickets = _eventually(
            lambda: api.get("/tickets", params={"channel": "bluesky"}).json()["data"]
        )
        assert "export keeps failing" in tickets[0]["subject"]
        assert (
            api.post(
                f"/tickets/{tickets[0]['id']}/replies",
                json={"body": "Sorry Carol! Which file type?"},
            ).status_code
            == 201
        )
        sent = _eventually(
            lambda: [s for s in pds.get("/_emulator/sent").json() if "createRecord" in str(s)]
        )
        record = str(sent[0])
        assert mention["uri"] in record and "Which file type?" in record
