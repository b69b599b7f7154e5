"""The API test server and token fixtures, shared with tests/api."""

from tests.api.conftest import admin, agent, api

__all__ = ["admin", "agent", "api"]


import pytest

from socialdesk.config import reset_settings_cache


@pytest.fixture(autouse=True)
def _no_radar_worker(monkeypatch: pytest.MonkeyPatch) -> object:
    """These tests run the radar's pass themselves, at the times they choose."""
    monkeypatch.setenv("SOCIALDESK_RADAR_SECONDS", "0")
    reset_settings_cache()
    yield
    reset_settings_cache()
