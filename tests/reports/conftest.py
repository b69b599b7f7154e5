"""The API test server and token fixtures, shared with tests/api."""

from tests.api.conftest import admin, agent, api

__all__ = ["admin", "agent", "api"]
