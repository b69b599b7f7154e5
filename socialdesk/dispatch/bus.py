"""The listener registry. The composition root (:mod:`socialdesk.wiring.listeners`) is
loaded by the first ``emit``, so every door (web app, worker, CLI, a test calling an
action) gets the same listeners without having to remember a start-up call."""

from __future__ import annotations

import importlib
from collections import defaultdict
from collections.abc import Callable
from typing import Any, TypeVar

E = TypeVar("E")

WIRING_MODULE = "socialdesk.wiring.listeners"

_listeners: defaultdict[type, list[Callable[[Any], None]]] = defaultdict(list)
_wired = False


def listen(event_type: type[E], listener: Callable[[E], None]) -> None:
    """Call ``listener`` for every ``event_type`` emitted; registering twice is a no-op."""
    if listener not in _listeners[event_type]:
        _listeners[event_type].append(listener)


def forget(event_type: type[E], listener: Callable[[E], None]) -> None:
    if listener in _listeners[event_type]:
        _listeners[event_type].remove(listener)


def listeners_of(event_type: type) -> list[Callable[[Any], None]]:
    _ensure_wired()
    return list(_listeners[event_type])


def emit(event: object) -> None:
    for listener in listeners_of(type(event)):
        listener(event)


def _ensure_wired() -> None:
    global _wired
    if not _wired:
        _wired = True
        importlib.import_module(WIRING_MODULE)
