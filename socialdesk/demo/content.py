"""What the demo desk starts with besides the replayed history: canned answers in a short
and a long variant, teams, automation rules, and customers' first posts on every network
taken from real support conversations in ../shared/data."""

from __future__ import annotations

import csv
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.actions.admin import ensure_workspace
from socialdesk.actions.inbox import save_canned_response
from socialdesk.automation.admin import save_rule
from socialdesk.routing.actions import configure_team, create_team
from socialdesk.store.models import AutomationRule, CannedResponse, Team, User

# (shortcut, title, short body for X and Bluesky, long body for e-mail, forms and DMs)
CANNED: tuple[tuple[str, str, str, str], ...] = (
    (
        "thanks",
        "Thanks, glad it's sorted",
        "Glad we could help, {first_name}! Reach out any time. ^{agent_initials}",
        "Hi {first_name},\n\nThank you for letting us know, and I'm glad it's sorted. If "
        "anything else comes up, just reply to this message and it comes straight back to "
        "us.\n\nBest wishes,\n{agent_name}",
    ),
    (
        "dm",
        "Move to a private message",
        "Sorry to hear that, {first_name}. Please send us a DM with your order number so "
        "we can look into it. ^{agent_initials}",
        "Hi {first_name},\n\nSorry to hear about this. So that we can look into your account "
        "safely, please send us your order number and the e-mail address you ordered with "
        "in a private message (never in a public post).\n\nThanks,\n{agent_name}",
    ),
    (
        "delay",
        "Delivery delayed",
        "We're sorry your order is late, {first_name}. Let us check where it is: DM us "
        "the order number. ^{agent_initials}",
        "Hi {first_name},\n\nI'm sorry your order hasn't arrived yet. Parcels are taking a "
        "day or two longer than usual this week. If you send me the order number, I'll "
        "check with the carrier and come back to you today with where it is and when it "
        "will arrive.\n\nKind regards,\n{agent_name}",
    ),
    (
        "refund",
        "Refund on its way",
        "Your refund is on its way, {first_name}: it shows on your statement within 5-7 "
        "working days. ^{agent_initials}",
        "Hi {first_name},\n\nI've issued your refund today. Depending on your bank it shows "
        "on your statement within 5 to 7 working days; you'll also get a confirmation "
        "e-mail. If it hasn't arrived by then, reply here and I'll chase it for you.\n\n"
        "Kind regards,\n{agent_name}",
    ),
    (
        "outage",
        "Known problem, being fixed",
        "Thanks for flagging this, {first_name}. We know about the problem and are "
        "working on a fix; we'll update you here. ^{agent_initials}",
        "Hi {first_name},\n\nThank you for reporting this. Our engineers know about the "
        "problem and are working on a fix right now. You don't need to do anything: I'll "
        "write to you again as soon as it is resolved.\n\nApologies for the trouble,\n"
        "{agent_name}",
    ),
)

# (name, skills); members by e-mail
TEAMS: tuple[tuple[str, list[str], tuple[str, ...]], ...] = (
    ("Social care", [], ("agent@example.com", "lead@example.com")),
    ("E-mail and forms", ["channel:email"], ("agent@example.com",)),
    ("Escalations", [], ("lead@example.com",)),
)


def seed_content(session: Session, admin: User) -> None:
    """Canned answers, teams and rules, each created once (a second demo start keeps
    whatever was edited since)."""
    workspace_id = ensure_workspace(session).id
    for shortcut, title, short, long in CANNED:
        exists = session.scalar(
            select(CannedResponse.id).where(
                CannedResponse.workspace_id == workspace_id, CannedResponse.shortcut == shortcut
            )
        )
        if exists is None:
            save_canned_response(
                session,
                admin,
                workspace_id,
                shortcut=shortcut,
                title=title,
                body=long,
                short_body=short,
            )
    teams: dict[str, int] = {}
    for name, skills, members in TEAMS:
        team = session.scalar(
            select(Team).where(Team.workspace_id == workspace_id, Team.name == name)
        )
        if team is None:
            team = create_team(session, admin, workspace_id, name, skills)
            member_ids = list(session.scalars(select(User.id).where(User.email.in_(members))))
            configure_team(session, admin, team, members=member_ids)
        teams[name] = team.id
    if session.scalar(select(AutomationRule.id).where(AutomationRule.workspace_id == workspace_id)):
        return
    save_rule(
        session,
        admin,
        workspace_id,
        name="Urgent words first",
        event="ticket_created",
        conditions=[
            {
                "field": "text",
                "op": "matches",
                "value": r"(?i)\b(urgent|asap|emergency|stolen|fraud|hacked)\b",
            }
        ],
        actions=[
            {"type": "set_priority", "priority": "high"},
            {"type": "add_tag", "tag": "urgent"},
        ],
    )
    save_rule(
        session,
        admin,
        workspace_id,
        name="E-mail and forms to their team",
        event="ticket_created",
        conditions=[{"field": "channel", "op": "in", "value": ["email", "web"]}],
        actions=[{"type": "assign_team", "team_id": teams["E-mail and forms"]}],
        position=1,
    )


@dataclass(frozen=True, slots=True)
class CustomerPost:
    network: str  # a network the customer simulator knows (demo/customers.py)
    customer: str
    text: str
    subject: str = ""


# Posts on each network: (network, how many). Social ones come from TweetSumm's
# dialogs, e-mails and the web form from BANKING77's customer queries.
SOCIAL_NETWORKS = ("facebook", "messenger", "instagram", "instagram-dm", "mastodon", "bluesky")
PER_NETWORK = 2
_LEADING_MENTIONS = re.compile(r"^(?:@\w+[\s,:]*)+")
_MENTION = re.compile(r"@\w+")
# Some real customers swear; the demo's first screen need not show it.
_RUDE = re.compile(r"(?i)\b(shit|fuck\w*|crap|damn|wtf|ass)\b")
_CUSTOMER_NAMES = (
    "Maya Okafor",
    "Jonas Berg",
    "Priya Nair",
    "Lucas Moreau",
    "Aiko Tanaka",
    "Sam Rivera",
    "Elena Petrova",
    "Tom Becker",
    "Nadia Haddad",
    "Chris Evans-Lee",
    "Ines Duarte",
    "Omar Farouk",
    "Grace Kim",
    "Leo Novak",
    "Hana Sato",
    "Ruth Adler",
)


def clean_text(text: str) -> str:
    """A post as the customer would write it to the brand: entities decoded, the
    anonymised @mentions of the original thread dropped."""
    text = _LEADING_MENTIONS.sub("", html.unescape(text)).strip()
    return re.sub(r"\s{2,}", " ", _MENTION.sub("", text)).strip()


def customer_posts(data_dir: Path) -> list[CustomerPost]:
    """Real first posts for every network other than X (X has the replayed history)."""
    texts = _social_texts(data_dir / "tweetsumm" / "tweetsumm_train_dialogs.jsonl")
    queries = _bank_queries(data_dir / "banking77" / "train.csv")
    names = iter(_CUSTOMER_NAMES * 2)
    posts = []
    for network in SOCIAL_NETWORKS:
        for _ in range(PER_NETWORK):
            if texts:
                posts.append(CustomerPost(network, next(names), texts.pop(0)))
    for network in ("email", "web"):
        for _ in range(PER_NETWORK):
            if queries:
                text, subject = queries.pop(0)
                posts.append(CustomerPost(network, next(names), text, subject))
    return posts


def _social_texts(path: Path) -> list[str]:
    if not path.is_file():
        return []
    found = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            turns = json.loads(line).get("turns") or []
            first = next((t["text"] for t in turns if t.get("role") == "customer"), "")
            text = clean_text(first)
            if 40 <= len(text) <= 260 and not _RUDE.search(text) and "http" not in text:
                found.append(text)
            if len(found) >= len(SOCIAL_NETWORKS) * PER_NETWORK:
                break
    return found


def _bank_queries(path: Path) -> list[tuple[str, str]]:
    """Longer queries, one per intent, with the intent as a subject line."""
    if not path.is_file():
        return []
    found: list[tuple[str, str]] = []
    seen: set[str] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            text, intent = html.unescape(row["text"]).strip(), row["category"]
            if intent in seen or len(text) < 60:
                continue
            seen.add(intent)
            found.append((text, intent.replace("_", " ").capitalize()))
            if len(found) >= 2 * PER_NETWORK:
                break
    return found
