"""Inline triage of customer posts: sentiment, intent, urgency, language and topic.

Pure functions over text and a little context (no database, no network): the pipeline's
triage step (``pipeline/triage_step.py``) and ``socialdesk eval triage`` both call
``triage``. The sentiment weights ship in ``sentiment_weights.npz``, trained by
``scripts/train_triage.py``; docs/triage.md has the figures.
"""

from socialdesk.triage.analysis import Context, Signal, Triage, triage
from socialdesk.triage.rules import DEFAULT_TOPICS, INTENTS

__all__ = ["DEFAULT_TOPICS", "INTENTS", "Context", "Signal", "Triage", "triage"]
