"""The composer's server side: the exact per-network counter and thread preview, and
canned responses with their variables filled in."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from socialdesk.actions.recording import ActionError
from socialdesk.actions.uploads import MAX_ATTACHMENTS, store_upload
from socialdesk.channels.descriptor import EMAIL_IMAGES, ReplyImages
from socialdesk.channels.networks import find_descriptor
from socialdesk.domain.enums import Platform, Visibility
from socialdesk.domain.length_rules import (
    allows_threading,
    check_length,
    rule_for,
    split_into_thread,
)
from socialdesk.store.db import Database
from socialdesk.store.file_storage import FileStorage
from socialdesk.store.models import CannedResponse, Contact, ContactIdentity, User
from socialdesk.web.api.params import IdPath
from socialdesk.web.pages.common import PageError, action_error, load_ticket, render
from socialdesk.web.sessions import FormUser, PageUser, WebUser

router = APIRouter(include_in_schema=False)
SHORT_LIMIT = 500  # networks at or under this limit get a canned response's short variant


def visibility_of(kind: str) -> Visibility:
    return Visibility.PRIVATE if kind in ("dm", "email") else Visibility.PUBLIC


def preview(platform: str, kind: str, body: str) -> dict[str, Any]:
    # The e-mail mode is counted as e-mail (no hard limit), whatever the ticket's network.
    network = Platform.EMAIL if kind == "email" else Platform(platform)
    visibility = visibility_of(kind)
    check = check_length(body, network, visibility=visibility)
    parts: list[str] = []
    problem = ""
    if not check.fits:
        if visibility == Visibility.PUBLIC and allows_threading(network):
            parts = split_into_thread(body, network, visibility=visibility)
        else:
            problem = f"Too long for {network.value}: shorten it by {-(check.remaining or 0)}."
    return {"check": check, "parts": parts, "problem": problem, "empty": not body.strip()}


def images_hint(platform: str, email_route: object) -> str:
    """What the composer's file input says (empty: no input): the network's own limits,
    or e-mail's when the ticket can be answered by e-mail."""
    descriptor = find_descriptor(platform)
    rule = descriptor.reply_images if descriptor else None
    if not isinstance(rule, ReplyImages) and email_route is not None:
        rule = EMAIL_IMAGES
    if not isinstance(rule, ReplyImages):
        return ""
    names = {"public_reply": "public replies", "direct_message": "direct messages"}
    kinds = " and ".join(names.get(k.value, "e-mails") for k in rule.kinds)
    types = [label for mime, label in IMAGE_TYPE_NAMES if mime in rule.mime_types]
    listed = ", ".join(types[:-1]) + f" or {types[-1]}" if len(types) > 1 else "".join(types)
    alt = f"; descriptions up to {rule.max_alt} characters" if rule.max_alt else ""
    apart = ", each sent after the text as a message of its own" if rule.one_per_message else ""
    return (
        f"Up to {rule.max_count} {listed} images of "
        f"{rule.max_bytes // 1_000_000} MB at most, on {kinds}{apart}{alt}"
    )


IMAGE_TYPE_NAMES = (
    ("image/png", "PNG"),
    ("image/jpeg", "JPEG"),
    ("image/gif", "GIF"),
    ("image/webp", "WebP"),
)


def upload_images(
    session: Session, storage: FileStorage, actor: User, workspace_id: int,
    files: list[UploadFile], max_bytes: int, alts: str = "",
) -> list[int]:  # fmt: skip
    """The composer's chosen files kept as uploads (the same action as the API's); an
    empty file input sends one nameless, empty part, which is no image. ``alts``: the
    images' descriptions, one line each, in the order the files were chosen."""
    descriptions = alts.splitlines()
    ids: list[int] = []
    for file in files:
        if not file.filename:
            continue
        file.file.seek(0)  # read again when a confirmation keeps the files
        data = file.file.read(max_bytes + 1)
        alt = descriptions[len(ids)] if len(ids) < len(descriptions) else None
        upload = store_upload(
            session, storage, actor, workspace_id, data, file.filename, max_bytes=max_bytes,
            alt_text=alt,
        )  # fmt: skip
        ids.append(upload.id)
    return ids


def keep_images(
    request: Request, user: WebUser, ticket_id: int, files: list[UploadFile], alts: str
) -> list[int]:
    """The chosen files stored as the agent's uploads in a transaction of their own (the
    reply's rolled back when it asked for confirmation), for the confirmation to carry."""
    if not files:
        return []
    database: Database = request.app.state.db
    try:
        with database.write() as session:
            ticket = load_ticket(session, user, ticket_id)
            actor = session.get(User, user.id)
            assert actor is not None
            return upload_images(
                session, request.app.state.attachment_storage, actor, ticket.workspace_id,
                files, request.app.state.settings.reply_upload_max_bytes, alts,
            )  # fmt: skip
    except ActionError as exc:
        raise action_error(exc) from exc


def carried_upload_ids(value: str) -> list[int]:
    """The upload ids a confirmation form carries (comma-separated); the reply action
    checks each is the agent's own, in the ticket's workspace and unused."""
    try:
        ids = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise PageError(422, "The images to send are a list of numbers.") from None
    if len(ids) > MAX_ATTACHMENTS or any(not 0 < i < 2**62 for i in ids):
        raise PageError(422, f"A reply carries at most {MAX_ATTACHMENTS} images.")
    return ids


def fill_variables(text: str, *, customer: str, handle: str, agent: WebUser) -> str:
    first = (customer or handle or "there").split()[0]
    values = {
        "first_name": first,
        "name": customer or handle or "there",
        "handle": f"@{handle}" if handle else "",
        "agent_name": agent.label,
        "agent_initials": agent.initials,
    }
    for key, value in values.items():
        text = text.replace("{" + key + "}", value)
    return text


@router.post("/tickets/{ticket_id}/composer", response_class=HTMLResponse)
def composer_preview(
    request: Request,
    ticket_id: IdPath,
    user: FormUser,
    body: Annotated[str, Form(max_length=20_000)] = "",
    kind: Annotated[str, Form()] = "public",
) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        platform = load_ticket(session, user, ticket_id).platform
    return render(request, "composer_preview.html", user, **preview(platform, kind, body))


@router.get("/tickets/{ticket_id}/canned", response_class=HTMLResponse)
def canned(
    request: Request,
    ticket_id: IdPath,
    user: PageUser,
    q: Annotated[str, Query(max_length=40)] = "",
    kind: str = "public",
) -> Response:
    database: Database = request.app.state.db
    with database.session() as session:
        ticket = load_ticket(session, user, ticket_id)
        query = select(CannedResponse).where(CannedResponse.workspace_id == ticket.workspace_id)
        if q:
            pattern = f"%{q.lower()}%"
            query = query.where(
                or_(CannedResponse.shortcut.like(pattern), CannedResponse.title.ilike(pattern))
            )
        found = list(session.scalars(query.order_by(CannedResponse.shortcut).limit(8)))
        customer, handle = "", ""
        if ticket.contact_id:
            contact = session.get(Contact, ticket.contact_id)
            customer = contact.display_name if contact else ""
            handle = (
                session.scalar(
                    select(ContactIdentity.handle)
                    .where(ContactIdentity.contact_id == ticket.contact_id)
                    .where(ContactIdentity.platform == ticket.platform)
                    .limit(1)
                )
                or ""
            )
        network = Platform.EMAIL if kind == "email" else Platform(ticket.platform)
        limit = rule_for(network, visibility_of(kind)).limit
        small = limit is not None and limit <= SHORT_LIMIT
        items = [
            (
                c.id,
                c.shortcut,
                c.title,
                fill_variables(
                    c.short_body if small and c.short_body else c.body,
                    customer=customer,
                    handle=handle,
                    agent=user,
                ),
            )
            for c in found
        ]
    return render(request, "canned_menu.html", user, items=items, q=q)
