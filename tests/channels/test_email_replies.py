"""E-mail reply extraction over the corpus in tests/fixtures/email_replies/: one body
per case (``.txt`` plain text, ``.eml`` whole messages with MIME and HTML) and the
visible reply an agent should read (``.expected.txt``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from socialdesk.channels.base import AccountRef
from socialdesk.channels.email.message import parse_email, trim_quoted_reply
from socialdesk.domain.email_reply import is_forward_subject, split_reply, visible_reply
from socialdesk.domain.enums import Platform

CORPUS = Path(__file__).parents[1] / "fixtures" / "email_replies"
CASES = sorted(
    path
    for path in CORPUS.iterdir()
    if path.suffix in {".txt", ".eml"} and not path.name.endswith(".expected.txt")
)
ACCOUNT = AccountRef(1, Platform.EMAIL, "support@acme.test", "support@acme.test")
CLIENTS = ("gmail", "outlook_desktop", "outlook_web", "applemail", "thunderbird", "yahoo")
LANGUAGES = ("en", "de", "fr", "es", "it", "nl", "pt", "ru", "pl", "ja", "zh", "sv")


def test_the_corpus_covers_the_clients_and_languages() -> None:
    names = [path.stem for path in CASES]
    assert len(names) >= 60
    for client in (*CLIENTS, "ios", "android"):
        assert any(client in name for name in names), client
    for language in LANGUAGES:
        assert any(f"_{language}_" in f"{name}_" for name in names), language


@pytest.mark.parametrize("path", CASES, ids=[path.name for path in CASES])
def test_visible_reply_matches_the_expected_text(path: Path) -> None:
    expected = path.with_suffix(".expected.txt").read_text(encoding="utf-8").strip()
    if path.suffix == ".eml":
        message = parse_email(path.read_bytes(), ACCOUNT)
        assert message is not None
        assert message.body == expected
        if message.body != expected or "forward" in path.name:
            return
        assert "full_body" in message.extra
    else:
        assert trim_quoted_reply(path.read_text(encoding="utf-8")) == expected


def test_parts_keep_what_was_folded() -> None:
    body = (CORPUS / "signature_regards_en.txt").read_text(encoding="utf-8")
    parts = split_reply(body)
    assert parts.trimmed and not parts.forwarded
    assert parts.signature.startswith("Best regards,\nJane Doe")
    assert parts.quoted.startswith("On Mon, Mar 4, 2024 at 10:15 AM Acme Support")
    assert "> thanks for your order 4411" in parts.quoted
    kept = visible_reply(body, keep_signature=True)
    assert kept == f"{parts.reply}\n\n{parts.signature}"
    assert visible_reply(body) == parts.reply


def test_forwards_are_kept_whole_by_marker_or_subject() -> None:
    body = (CORPUS / "gmail_en_forward.txt").read_text(encoding="utf-8")
    assert split_reply(body).forwarded
    outlook_style = "See below.\n\nFrom: Jane <j@x.test>\nSent: Monday\nTo: a@b.test\n\nOld text"
    assert split_reply(outlook_style).reply == "See below."
    assert split_reply(outlook_style, "FW: Broken charger").reply.endswith("Old text")
    for subject in ("Fwd: x", "FW: x", "WG: x", "TR : x", "RV: x", "I: x", "Пересл: x"):
        assert is_forward_subject(subject), subject
    for subject in ("Re: x", "AW: x", "Forward planning", None):
        assert not is_forward_subject(subject), subject


def test_nothing_but_a_quote_or_a_greeting_keeps_everything() -> None:
    assert split_reply("> only a quote").reply == "> only a quote"
    assert not split_reply("> only a quote").trimmed
    assert split_reply("").reply == ""
    greeting = (CORPUS / "outlook_bottom_post_greeting_only.txt").read_text(encoding="utf-8")
    assert split_reply(greeting).reply.endswith("it still blinks red.")
