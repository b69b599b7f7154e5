"""``POST /_emulator/history`` on the Meta emulator: comments and direct messages written
before the emulator started (the demo's earlier runs), so replies to them are accepted
as Meta would: a comment that exists, a customer who wrote within the messaging window
(the window counts from the message's own time)."""

from __future__ import annotations

from typing import Any

from fastapi import Body, FastAPI, HTTPException

from socialdesk.channels.meta.emulator_model import Comment, MetaState
from socialdesk.channels.meta.emulator_reads import DirectMessage, MessageStore


def add_history_routes(app: FastAPI, state: MetaState, store: MessageStore) -> None:
    @app.post("/_emulator/history", tags=["emulator"])
    async def import_history(spec: dict[str, Any] = Body(...)) -> dict[str, int]:
        comments = messages = 0
        for item in spec.get("comments") or []:
            owner = state.accounts.get(str(item.get("owner_id")))
            comment_id = str(item.get("id") or "")
            if owner is None or not comment_id:
                raise HTTPException(400, "a comment needs an id and a known owner_id")
            state.comments.setdefault(
                comment_id,
                Comment(
                    id=comment_id,
                    owner_id=owner.id,
                    object_id=str(item.get("object_id") or ""),
                    parent_id=str(item["parent_id"]) if item.get("parent_id") else None,
                    author_id=str(item.get("author_id") or ""),
                    author_name=str(item.get("author_name") or ""),
                    text=str(item.get("text") or ""),
                    created=float(item.get("created") or state.core.clock.time()),
                ),
            )
            comments += 1
        for item in spec.get("messages") or []:
            owner = state.accounts.get(str(item.get("owner_id")))
            customer = str(item.get("customer_id") or "")
            if owner is None or not customer:
                raise HTTPException(400, "a message needs a customer_id and a known owner_id")
            created = float(item.get("created") or state.core.clock.time())
            key = (owner.id, customer)
            state.last_inbound[key] = max(state.last_inbound.get(key, 0.0), created)
            if item.get("name"):
                store.names.setdefault(customer, str(item["name"]))
            store.add(
                owner,
                customer,
                DirectMessage(
                    str(item.get("mid") or ""),
                    str(item.get("text") or ""),
                    customer,
                    owner.id,
                    created,
                ),
            )
            messages += 1
        return {"comments": comments, "messages": messages}
