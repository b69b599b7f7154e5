"""The IBM customer-care document-prediction files, and the ranking measured on them.

`dev.json` is a list of conversations: `dialogHeader.company` (the brand),
`dialogContent` (the turns before the answer; customers under `client`/`client1`,
agents under `agent`) and `agentURL` (`doc_id` of the help page the agent linked and
`url_utterance`, the reply that linked it). Beside it, `docID_url.tsv` (doc id → URL)
and `company_docIDs.tsv` (brand → its doc ids, comma separated).

What a desk would have when a question comes in: the brand's past conversations with
the document each was answered with (and the reply), and the brand's documents by URL.
The question is the conversation's customer turns; the candidates are the brand's
documents.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from socialdesk.knowledge.ranking import (
    POPULARITY_ONLY,
    Example,
    Prepared,
    Scores,
    Signals,
    Weights,
    combine,
    measure,
)
from socialdesk.knowledge.text import url_words, words

CUSTOMER_KEYS = ("client", "client1", "customer")
_URL = r"https?://\S+"


class CdpFormatError(ValueError):
    """A file that is not in the document-prediction format; the message says where."""


@dataclass(frozen=True)
class Conversation:
    session: str
    brand: str
    question: str
    doc_id: str
    reply: str


@dataclass
class Documents:
    urls: dict[str, str] = field(default_factory=dict)
    by_brand: dict[str, list[str]] = field(default_factory=dict)


def _conversation(item: object, where: str) -> Conversation:
    if not isinstance(item, dict):
        raise CdpFormatError(f"{where}: a conversation must be an object")
    header, content, answer = (
        item.get("dialogHeader"),
        item.get("dialogContent"),
        item.get("agentURL"),
    )
    if not isinstance(header, dict) or not isinstance(header.get("company"), str):
        raise CdpFormatError(f"{where}: dialogHeader.company is missing")
    if not isinstance(content, list):
        raise CdpFormatError(f"{where}: dialogContent must be a list of turns")
    if not isinstance(answer, dict) or answer.get("doc_id") in (None, ""):
        raise CdpFormatError(f"{where}: agentURL.doc_id is missing")
    turns = []
    for turn in content:
        if isinstance(turn, dict) and any(key in turn for key in CUSTOMER_KEYS):
            turns.append(str(turn.get("message", "")))
    return Conversation(
        session=str(header.get("sessionID", where)),
        brand=header["company"],
        question="\n".join(turns),
        doc_id=str(answer["doc_id"]).strip(),
        reply=str(answer.get("url_utterance", "")),
    )


def load_conversations(path: Path) -> list[Conversation]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CdpFormatError(f"{path}: cannot read it ({error})") from error
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        data = _json_lines(text)  # one conversation per line, as some copies ship it
        if data is None:
            raise CdpFormatError(f"{path}: not JSON ({error})") from error
    if isinstance(data, dict):  # one conversation, or {"data": [...]} style
        data = data.get("data", [data])
    if not isinstance(data, list):
        raise CdpFormatError(f"{path}: expected a list of conversations")
    return [_conversation(item, f"{path.name}[{i}]") for i, item in enumerate(data)]


def _json_lines(text: str) -> list[object] | None:
    lines = [line for line in text.splitlines() if line.strip()]
    try:
        return [json.loads(line) for line in lines] if len(lines) > 1 else None
    except json.JSONDecodeError:
        return None


def _tsv_rows(path: Path) -> Iterable[tuple[str, str]]:
    if not path.exists():
        return
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("\t")
        if key.strip() and value.strip():
            yield key.strip(), value.strip()


def load_documents(folder: Path) -> Documents:
    """The document lists beside the index file; either may be absent (then: none)."""
    documents = Documents()
    for doc_id, url in _tsv_rows(folder / "docID_url.tsv"):
        documents.urls[doc_id] = url
    for brand, ids in _tsv_rows(folder / "company_docIDs.tsv"):
        documents.by_brand[brand] = [i.strip() for i in ids.split(",") if i.strip()]
    return documents


def _example(conversation: Conversation) -> Example:
    reply = conversation.reply
    return Example(
        answer=conversation.doc_id,
        words=tuple(words(conversation.question)),
        reply=tuple(words(_strip_links(reply))),
    )


def _strip_links(text: str) -> str:
    return re.sub(_URL, " ", text)


def question_signals(
    index: Sequence[Conversation],
    test: Sequence[Conversation],
    documents: Documents,
    k: int,
    leave_one_out: bool,
) -> list[tuple[Conversation, Signals]]:
    """For each test conversation, the signals over its brand's documents.

    With `leave_one_out` (index and test are the same list) a conversation never sees
    itself: not as a neighbour, not in its document's words, not in the popularity.
    """
    examples = [_example(c) for c in index]
    own = {doc_id: url_words(url) for doc_id, url in documents.urls.items()}
    prepared: dict[str, Prepared] = {}  # per brand, when no question is left out
    out = []
    for i, conversation in enumerate(test):
        query = words(conversation.question)
        if not leave_one_out and conversation.brand in prepared:
            out.append((conversation, prepared[conversation.brand].signals(query, k)))
            continue
        pool = [
            example
            for j, (example, past) in enumerate(zip(examples, index, strict=True))
            if past.brand == conversation.brand and not (leave_one_out and j == i)
        ]
        counts = Counter(example.answer for example in pool)
        candidates = [key for key, _ in counts.most_common()]
        candidates += documents.by_brand.get(conversation.brand, [])
        brand = Prepared(candidates, own, pool)
        if not leave_one_out:
            prepared[conversation.brand] = brand
        out.append((conversation, brand.signals(query, k)))
    return out


def position(conversation: Conversation, found: Signals, weights: Weights) -> int | None:
    """1-based place of the linked document in the ranking, None when not a candidate."""
    order = [r.key for r in combine(found, weights)]
    return order.index(conversation.doc_id) + 1 if conversation.doc_id in order else None


@dataclass(frozen=True)
class Evaluation:
    ranked: Scores
    popularity: Scores
    candidates: float  # mean number of candidates per question
    covered: float  # share of questions whose answer is among the candidates


def evaluate(
    index: Sequence[Conversation],
    test: Sequence[Conversation],
    documents: Documents,
    weights: Weights,
    leave_one_out: bool,
) -> Evaluation:
    """The ranking and the popularity baseline measured on the test conversations."""
    found = question_signals(index, test, documents, weights.k, leave_one_out)
    ranked = [position(c, f, weights) for c, f in found]
    popular = [position(c, f, POPULARITY_ONLY) for c, f in found]
    n = len(found) or 1
    return Evaluation(
        ranked=measure(ranked),
        popularity=measure(popular),
        candidates=sum(len(f.candidates) for _, f in found) / n,
        covered=sum(1 for c, f in found if c.doc_id in f.candidates) / n,
    )


def split(conversations: Sequence[Conversation], seed: int = 15) -> tuple[list[int], list[int]]:
    """Two halves of a file's positions, by a fixed seed: one to tune on, one held out."""
    positions = list(range(len(conversations)))
    random.Random(seed).shuffle(positions)
    half = len(positions) // 2
    return sorted(positions[:half]), sorted(positions[half:])
