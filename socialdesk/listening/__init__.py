"""Listening beyond mentions: saved searches run against the networks' search APIs, the
posts they find kept in a Mentions stream apart from tickets (docs/listening.md)."""
