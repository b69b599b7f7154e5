"""The composition root: the one place that knows every feature, so the features need
not know each other. ``listeners`` connects the write side effects, ``pipeline`` the
inbound steps. Only entry points (web app, CLI, benchmarks) import from here."""
