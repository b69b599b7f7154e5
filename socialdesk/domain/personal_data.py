"""Find personal data in a text: e-mail addresses, phone numbers, card numbers, order or
tracking numbers and street addresses.

Used twice: a public reply that would publish one of these asks the agent first
(``actions.inbox.send_reply``), and a customer's "thanks" that carries one is new
information, not a bare thank-you (``domain.gratitude``). Pure: text in, findings out.
Phone numbers are read by ``phonenumbers`` (Google's libphonenumber rules), which knows
national formats far better than any pattern we would write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

import phonenumbers


class PersonalDataKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    CARD = "card_number"
    ORDER = "order_number"
    ADDRESS = "street_address"


LABELS: dict[PersonalDataKind, str] = {
    PersonalDataKind.EMAIL: "an e-mail address",
    PersonalDataKind.PHONE: "a phone number",
    PersonalDataKind.CARD: "a card number",
    PersonalDataKind.ORDER: "an order or tracking number",
    PersonalDataKind.ADDRESS: "a street address",
}


@dataclass(frozen=True, slots=True)
class Finding:
    kind: PersonalDataKind
    text: str
    start: int
    end: int

    @property
    def label(self) -> str:
        return LABELS[self.kind]


_MENTION = re.compile(r"(?<![\w.+-])@\w+")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
# 13 to 19 digits, optionally grouped by spaces or hyphens, as cards are written.
_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_ORDER_WORDS = (
    r"(?:order|tracking|shipment|parcel|package|reference|ref|confirmation|booking|invoice"
    r"|case|ticket|account|acct|membership|reservation|pnr)"
)
# The keyword, up to three filler words ("number is", "no.", "id:"), then a token with a
# digit in it: "Order 4411", "tracking number is 1Z999", "booking ref: AB12CD".
_ORDER = re.compile(
    rf"\b{_ORDER_WORDS}\b(?:[\s:#.-]+(?:number|no|num|nr|id|code|is|was|=)\b)*[\s:#.-]*"
    r"(#?(?=[A-Za-z0-9-]*\d)[A-Za-z0-9][A-Za-z0-9-]{2,})",
    re.IGNORECASE,
)
# Carrier formats that need no keyword: UPS 1Z…, and "#" followed by a long number.
_BARE_ORDER = re.compile(r"\b1Z[0-9A-Z]{6,16}\b|(?<![\w&])#\d{5,}\b")
_STREET_TYPES = (
    r"(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|way|court|ct|place|pl"
    r"|terrace|close|crescent|highway|hwy|parkway|pkwy|square|sq|gardens|grove)"
)
_ADDRESS = re.compile(
    rf"\b\d{{1,5}}[A-Za-z]?\s+((?:[A-Z][\w'-]*\.?\s+){{1,4}}){_STREET_TYPES}\b\.?",
    re.IGNORECASE,
)
# "17 to drive", "3 blocks the other way": a number before words that are not a name.
_NOT_STREET_NAME = frozenset(
    [
        "a",
        "an",
        "and",
        "at",
        "be",
        "for",
        "from",
        "in",
        "is",
        "it",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "safe",
        "that",
        "the",
        "their",
        "this",
        "to",
        "was",
        "we",
        "were",
        "with",
        "you",
        "your",
        "left",
        "other",
    ]
)
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s*\d[ABD-HJLNP-UW-Z]{2}\b")
# Regions tried for numbers written without a country code, most likely first; a number
# with "+" needs none.
_PHONE_REGIONS = ("US", "GB", "IN", "AU", "CA", "IE", "DE", "FR")
# A business's hotline is not personal data: brands post their toll-free and shared-cost
# numbers publicly all day (about one public reply in twenty in twcs).
_BUSINESS_NUMBER_TYPES = frozenset(
    {
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
        phonenumbers.PhoneNumberType.PREMIUM_RATE,
        phonenumbers.PhoneNumberType.UAN,
    }
)


def luhn_valid(digits: str) -> bool:
    """True when the digit string passes the Luhn checksum every payment card carries."""
    if not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 1:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return total % 10 == 0


def _overlaps(findings: list[Finding], start: int, end: int) -> bool:
    return any(f.start < end and start < f.end for f in findings)


def _phones(text: str, taken: list[Finding]) -> list[Finding]:
    # A span is personal when any region reads it as a personal number: "09024869363" is
    # premium-rate in the UK but a mobile in India.
    found: list[Finding] = []
    for region in _PHONE_REGIONS:
        for match in phonenumbers.PhoneNumberMatcher(text, region):
            if _overlaps(taken, match.start, match.end) or _overlaps(found, match.start, match.end):
                continue
            if phonenumbers.number_type(match.number) not in _BUSINESS_NUMBER_TYPES:
                found.append(
                    Finding(PersonalDataKind.PHONE, match.raw_string, match.start, match.end)
                )
    return found


def find_personal_data(text: str) -> list[Finding]:
    """Every piece of personal data in ``text``, in order of appearance, none overlapping."""
    # Handles are public, and anonymised ones are digits ("@115712"): blank them out,
    # keeping every offset.
    text = _MENTION.sub(lambda m: " " * len(m.group(0)), text)
    findings: list[Finding] = []

    def add(kind: PersonalDataKind, start: int, end: int) -> None:
        if not _overlaps(findings, start, end):
            findings.append(Finding(kind, text[start:end], start, end))

    for match in _EMAIL.finditer(text):
        add(PersonalDataKind.EMAIL, match.start(), match.end())
    for match in _CARD.finditer(text):
        digits = re.sub(r"\D", "", match.group(0))
        # Cards have 15 (Amex), 16 or 19 digits; other lengths are parcels and phones.
        if len(digits) in (15, 16, 19) and luhn_valid(digits):
            add(PersonalDataKind.CARD, match.start(), match.end())
    for match in _ORDER.finditer(text):
        add(PersonalDataKind.ORDER, match.start(1), match.end(1))
    for match in _BARE_ORDER.finditer(text):
        add(PersonalDataKind.ORDER, match.start(), match.end())
    for match in _ADDRESS.finditer(text):
        if _NOT_STREET_NAME.intersection(match.group(1).lower().split()):
            continue
        add(PersonalDataKind.ADDRESS, match.start(), match.end())
    for match in _UK_POSTCODE.finditer(text):
        add(PersonalDataKind.ADDRESS, match.start(), match.end())
    findings.extend(_phones(text, findings))
    return sorted(findings, key=lambda f: f.start)


def describe(findings: list[Finding]) -> str:
    """ "an e-mail address and a phone number": the kinds found, each named once."""
    labels = list(dict.fromkeys(f.label for f in findings))
    if len(labels) <= 1:
        return "".join(labels)
    return ", ".join(labels[:-1]) + " and " + labels[-1]


def exposed_in_public(direction: str, visibility: str, body: str) -> list[Finding]:
    """What a customer's own public post gives away (their phone, address, card…): the
    desk flags it so an agent can hide the post and move the conversation to private.
    Nothing for our replies, notes or private messages."""
    if direction != "inbound" or visibility != "public" or not body:
        return []
    return find_personal_data(body)
