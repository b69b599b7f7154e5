"""Passwords, API tokens and encryption of channel secrets at rest."""
