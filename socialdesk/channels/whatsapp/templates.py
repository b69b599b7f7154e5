"""The message templates an account may send: approved by Meta, listed in the account's
settings (``settings["templates"]``) by whoever connected it.

Each entry is ``{"name", "language", "body"}``; ``body`` is the approved text with at
most one placeholder ``{{1}}``, which the agent's reply fills. The desk stores the text
as the customer will read it, so the conversation shows what went out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from socialdesk.channels.base import MessageTemplate

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True, slots=True)
class ApprovedTemplate:
    name: str
    language: str
    body: str

    @property
    def placeholders(self) -> int:
        return len(set(_PLACEHOLDER.findall(self.body)))


def approved_templates(settings: Mapping[str, object]) -> list[ApprovedTemplate]:
    """The account's templates; malformed entries are left out rather than guessed at."""
    listed = settings.get("templates")
    found: list[ApprovedTemplate] = []
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict):
            continue
        name, language, body = item.get("name"), item.get("language", "en_US"), item.get("body")
        if isinstance(name, str) and name and isinstance(language, str) and isinstance(body, str):
            found.append(ApprovedTemplate(name, language, body))
    return found


def template_names(settings: Mapping[str, object]) -> list[str]:
    return [t.name for t in approved_templates(settings)]


def fill_template(
    settings: Mapping[str, object], name: str, text: str
) -> tuple[MessageTemplate, str] | str:
    """The template to send and the text the customer will read, or why it cannot be
    used: not approved for this account, or more placeholders than a reply can fill."""
    chosen = next((t for t in approved_templates(settings) if t.name == name), None)
    if chosen is None:
        names = ", ".join(template_names(settings)) or "none"
        return f"{name!r} is not an approved template of this account (approved: {names})"
    if chosen.placeholders > 1:
        return f"template {name!r} has {chosen.placeholders} placeholders; a reply fills one"
    text = text.strip()
    if chosen.placeholders == 1:
        if not text:
            return f"template {name!r} needs the reply's text for its placeholder"
        rendered = _PLACEHOLDER.sub(lambda _m: text, chosen.body)
        return MessageTemplate(chosen.name, chosen.language, (text,)), rendered
    return MessageTemplate(chosen.name, chosen.language), chosen.body
