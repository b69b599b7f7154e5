"""Automation rules (event → conditions → actions) and follow-through on promises."""
