"""What the public help centre shows and counts.

Reads: a workspace's published public articles by category, the promise per channel
("we answer on X within 1 hour, Mon-Fri 08:00-20:00 Europe/Berlin", from the SLA policy
that covers the channel) and where to reach the brand on each network. Writes: "was this
helpful?" answers and short-link clicks per channel. Those two are anonymous counters
bumped by the public, so they announce a live event but write no audit entry: the audit
log records what people of the desk did, and a counter per visit would drown it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from socialdesk.domain.enums import Platform, Priority
from socialdesk.live import LiveEvent, queue_live_event
from socialdesk.sla.policies import select_policy, spec_from_row, targets_for
from socialdesk.store.models import Article, ArticleClicks, ChannelAccount, SlaPolicy, Workspace

DASH = "\N{EN DASH}"  # between times and days, as in print
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CHANNEL = re.compile(r"^[a-z0-9_-]{1,32}$")
LABELS = {
    "x": "X",
    "facebook": "Facebook",
    "messenger": "Messenger",
    "instagram": "Instagram",
    "mastodon": "Mastodon",
    "bluesky": "Bluesky",
    "email": "e-mail",
    "web": "our web form",
    "whatsapp": "WhatsApp",
}


@dataclass(frozen=True)
class ChannelPromise:
    platform: str
    label: str
    handle: str
    url: str | None
    within: str | None  # "1 hour"; None when no first-response target applies
    hours: str  # "Mon-Fri 08:00-20:00 (Europe/Berlin)" or "around the clock"


def duration(minutes: int) -> str:
    """Minutes as people say them: 45 minutes, 1 hour, 1 hour 30 minutes, 2 days."""
    if minutes % 1440 == 0:
        days = minutes // 1440
        return f"{days} day{'s' if days != 1 else ''}"
    hours, rest = divmod(minutes, 60)
    parts = []
    if hours:
        parts.append(f"{hours} hour{'s' if hours != 1 else ''}")
    if rest or not hours:
        parts.append(f"{rest} minute{'s' if rest != 1 else ''}")
    return " ".join(parts)


def opening_hours(calendar: Mapping[str, Any] | None) -> str:
    """A business calendar in one line: days with the same hours grouped (Mon-Fri)."""
    if not calendar:
        return "around the clock"
    hours = calendar.get("hours") or {}
    spans = [
        ", ".join(f"{start}{DASH}{end}" for start, end in hours.get(day) or []) for day in DAYS
    ]
    groups: list[tuple[int, int, str]] = []
    for i, span in enumerate(spans):
        if groups and groups[-1][2] == span and groups[-1][1] == i - 1:
            groups[-1] = (groups[-1][0], i, span)
        else:
            groups.append((i, i, span))
    said = []
    for first, last, span in groups:
        if not span:
            continue
        days = (
            DAYS[first].title()
            if first == last
            else f"{DAYS[first].title()}{DASH}{DAYS[last].title()}"
        )
        said.append(f"{days} {span}")
    if not said:
        return "closed"
    zone = calendar.get("timezone")
    return ", ".join(said) + (f" ({zone})" if zone else "")


def profile_url(platform: str, handle: str, external_id: str = "") -> str | None:
    """Where a customer finds the brand's account on its network."""
    name = handle.lstrip("@")
    if not name:
        return None
    if platform == "x":
        return f"https://x.com/{name}"
    if platform == "instagram":
        return f"https://www.instagram.com/{name}"
    if platform in ("facebook", "messenger"):
        return f"https://www.facebook.com/{external_id or name}"
    if platform == "bluesky":
        return f"https://bsky.app/profile/{name}"
    if platform == "mastodon" and "@" in name:
        user, _, server = name.partition("@")
        return f"https://{server}/@{user}"
    if platform == "email" and "@" in name:
        return f"mailto:{name}"
    return None


def workspace_by_slug(session: Session, slug: str) -> Workspace | None:
    return session.scalar(select(Workspace).where(Workspace.slug == slug))


def promises(session: Session, workspace_id: int) -> list[ChannelPromise]:
    """One line per connected channel: how fast and when the team answers there."""
    accounts = session.scalars(
        select(ChannelAccount)
        .where(ChannelAccount.workspace_id == workspace_id, ChannelAccount.status != "disabled")
        .order_by(ChannelAccount.platform, ChannelAccount.id)
    ).all()
    rows = session.scalars(select(SlaPolicy).where(SlaPolicy.workspace_id == workspace_id)).all()
    specs, calendars = [], {}
    for row in rows:
        try:
            specs.append(spec_from_row(row))
        except ValueError:
            continue  # a policy broken since it was saved promises nothing
        calendars[row.id] = row.calendar
    out = []
    for account in accounts:
        policy = select_policy(specs, account.platform)
        within = hours = None
        if policy is not None:
            first = targets_for(policy.targets, account.platform, Priority.NORMAL).first_response
            within = duration(int(first.total_seconds() // 60)) if first else None
            hours = opening_hours(calendars.get(policy.id))
        out.append(
            ChannelPromise(
                platform=account.platform,
                label=LABELS.get(account.platform, account.platform.title()),
                handle=account.handle,
                url=profile_url(account.platform, account.handle, account.external_id),
                within=within,
                hours=hours or "around the clock",
            )
        )
    return out


def public_articles(session: Session, workspace_id: int) -> list[Article]:
    return list(
        session.scalars(
            select(Article)
            .where(
                Article.workspace_id == workspace_id,
                Article.status == "published",
                Article.visibility == "public",
            )
            .order_by(Article.category, Article.title)
        )
    )


def by_category(articles: Sequence[Article]) -> list[tuple[str, list[Article]]]:
    groups: dict[str, list[Article]] = {}
    for article in articles:
        groups.setdefault(article.category or "General", []).append(article)
    return sorted(groups.items(), key=lambda item: item[0].lower())


def public_article(session: Session, workspace_id: int, slug: str) -> Article | None:
    return session.scalar(
        select(Article).where(
            Article.workspace_id == workspace_id,
            Article.slug == slug,
            Article.status == "published",
            Article.visibility == "public",
        )
    )


def record_feedback(session: Session, article: Article, helpful: bool) -> None:
    column = Article.helpful_yes if helpful else Article.helpful_no
    session.execute(update(Article).where(Article.id == article.id).values({column: column + 1}))
    queue_live_event(
        session,
        LiveEvent(
            "kb_article.feedback",
            article.workspace_id,
            {"article_id": article.id, "helpful": helpful},
        ),
    )


def click_channel(given: str | None) -> str:
    """The channel a short link was shared on (`?c=x`): a known network, `direct` when
    none is given, `other` for anything else (no free text from the public is stored)."""
    if not given:
        return "direct"
    given = given.strip().lower()
    known = {p.value for p in Platform} | {"whatsapp", "newsletter", "sms"}
    return given if _CHANNEL.match(given) and given in known else "other"


def record_click(session: Session, article: Article, channel: str) -> None:
    """Count one visit through the short link; concurrent visits add up (upsert)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(ArticleClicks).values(article_id=article.id, channel=channel, clicks=1)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["article_id", "channel"],
            set_={"clicks": ArticleClicks.clicks + 1},
        )
    )
    queue_live_event(
        session,
        LiveEvent("kb_article.clicked", article.workspace_id, {"article_id": article.id}),
    )


def article_by_code(session: Session, code: str) -> Article | None:
    return session.scalar(
        select(Article).where(
            Article.short_code == code,
            Article.status == "published",
            Article.visibility == "public",
        )
    )


def clicks(session: Session, article_id: int) -> dict[str, int]:
    rows = session.execute(
        select(ArticleClicks.channel, ArticleClicks.clicks).where(
            ArticleClicks.article_id == article_id
        )
    )
    return {channel: count for channel, count in rows}
