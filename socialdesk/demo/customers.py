"""The customer simulator: post as a customer on any of the demo's networks.

It acts where a real customer would: on the network's emulator (which delivers a signed
webhook to the desk, or holds the post until the desk polls), in the brand's mailbox, or
on the desk's public web form. ``socialdesk demo`` writes where everything runs to a state
file (``DemoNetworks.describe``); ``socialdesk simulate-customer`` reads it.
"""

from __future__ import annotations

import imaplib
import re
import uuid
from email import policy
from typing import Any

import httpx

from socialdesk.channels.email.emulator import MailEmulator

# network → what the customer does there
NETWORKS: dict[str, str] = {
    "x": "a public mention of @AcmeSupport on X",
    "x-dm": "a direct message to @AcmeSupport on X",
    "facebook": "a comment on the Acme Facebook Page",
    "messenger": "a Messenger message to the Acme Page",
    "instagram": "a comment on an @acme Instagram post",
    "instagram-dm": "an Instagram direct message to @acme",
    "mastodon": "a Mastodon post mentioning @acmehelp",
    "bluesky": "a Bluesky post mentioning the brand",
    "email": "an e-mail to support@acme.test",
    "web": "the Acme contact form",
}


class SimulatorError(Exception):
    """The post did not reach its network; the message says why."""


def handle_of(name: str) -> str:
    """A network handle for a display name: "Maya Okafor" → "maya_okafor"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "customer"


def post_as_customer(
    state: dict[str, Any],
    network: str,
    text: str,
    *,
    customer: str = "Demo Customer",
    subject: str = "",
) -> str:
    """Post ``text`` as ``customer``; returns what happened, in a few words."""
    if network not in NETWORKS:
        raise SimulatorError(f"unknown network {network!r}; use one of {', '.join(NETWORKS)}")
    if not text.strip():
        raise SimulatorError("the post needs some text")
    handle = handle_of(customer)
    try:
        if network in ("x", "x-dm"):
            x = state["x"]
            path = "/_emulator/customer/mention" if network == "x" else "/_emulator/customer/dm"
            body = {
                "customer": {"username": handle, "name": customer},
                "text": text,
                "brand_user_id": x["brand_user_id"],
            }
            _post(x["url"], path, body)
        elif network in ("facebook", "messenger", "instagram", "instagram-dm"):
            meta = state["meta"]
            who = {"name": customer, "username": handle}
            path, body = {
                "facebook": (
                    "page_comment",
                    {"customer": who, "message": text, "page_id": meta["page_id"]},
                ),
                "messenger": (
                    "messenger_dm",
                    {"customer": who, "text": text, "page_id": meta["page_id"]},
                ),
                "instagram": (
                    "ig_comment",
                    {"customer": who, "text": text, "ig_id": meta["ig_id"]},
                ),
                "instagram-dm": ("ig_dm", {"customer": who, "text": text, "ig_id": meta["ig_id"]}),
            }[network]
            _post(meta["url"], f"/_emulator/customer/{path}", body)
        elif network == "mastodon":
            _post(
                state["mastodon"]["url"],
                "/_emulator/customer/mention",
                {"username": handle, "display_name": customer, "text": text},
            )
        elif network == "bluesky":
            _post(
                state["bluesky"]["url"],
                "/_emulator/customer/mention",
                {
                    "handle": f"{handle.replace('_', '-')}.bsky.social",
                    "display_name": customer,
                    "text": text,
                },
            )
        elif network == "email":
            _mail(state["email"], customer, handle, subject or _subject(text), text)
        else:
            _post(
                state["desk"],
                f"/hooks/web/{state['web']['form_id']}",
                {
                    "name": customer,
                    "email": f"{handle}@example.org",
                    "subject": subject or _subject(text),
                    "message": text,
                    "submission_id": uuid.uuid4().hex,
                },
            )
    except httpx.HTTPError as exc:
        raise SimulatorError(
            f"cannot reach the {network} side ({exc}): is `socialdesk demo` running?"
        ) from exc
    except (OSError, imaplib.IMAP4.error) as exc:
        raise SimulatorError(
            f"cannot deliver the e-mail ({exc}): is `socialdesk demo` running?"
        ) from exc
    return f"{customer} sent {NETWORKS[network]}"


def _subject(text: str) -> str:
    first = text.strip().split("\n", 1)[0]
    return first if len(first) <= 60 else first[:57].rstrip() + "..."


def _post(base_url: str, path: str, body: dict[str, Any]) -> None:
    response = httpx.post(base_url + path, json=body, timeout=30)
    if response.status_code >= 400:
        raise SimulatorError(f"{path} answered {response.status_code}: {response.text[:200]}")


def _mail(mailbox: dict[str, Any], customer: str, handle: str, subject: str, text: str) -> None:
    """Deliver as a mail server would: APPEND to the brand's INBOX, which the desk polls."""
    message = MailEmulator.customer_mail(
        f"{handle}@example.org", subject, text, to=mailbox["address"], sender_name=customer
    )
    client = imaplib.IMAP4(mailbox["host"], int(mailbox["imap_port"]), timeout=10)
    try:
        client.login(mailbox["address"], mailbox["password"])
        status, data = client.append("INBOX", None, None, message.as_bytes(policy=policy.SMTP))
        if status != "OK":
            raise SimulatorError(f"the mailbox refused the e-mail: {data!r}")
    finally:
        client.logout()
