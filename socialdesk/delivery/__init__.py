"""Outbound delivery: the transactional outbox and the worker that drains it."""
