"""A stored channel account as the connectors see it (secrets decrypted, in memory only)."""

from __future__ import annotations

from socialdesk.auth.secret_box import decrypt_secrets
from socialdesk.channels.base import AccountRef
from socialdesk.domain.enums import Platform
from socialdesk.store.models import ChannelAccount


def account_ref(account: ChannelAccount) -> AccountRef:
    return AccountRef(
        id=account.id,
        platform=Platform(account.platform),
        external_id=account.external_id,
        handle=account.handle,
        secrets=decrypt_secrets(account.secrets_encrypted),
        settings=account.settings,
    )


def service_base_url(
    platform: Platform, handle: str, configured: object, bluesky_default: str
) -> str | None:
    """Where a Mastodon or Bluesky account's API lives.

    The account's own ``settings["base_url"]`` wins. Otherwise a Mastodon handle of the
    form ``user@instance`` names its instance, and a Bluesky account uses the configured
    entryway (``SOCIALDESK_BLUESKY_BASE_URL``, bsky.social by default), which serves every
    account hosted there."""
    if isinstance(configured, str) and configured.strip():
        return configured.strip().rstrip("/")
    if platform == Platform.MASTODON:
        _user, _, host = handle.strip().lstrip("@").partition("@")
        return f"https://{host}" if host else None
    if platform == Platform.BLUESKY:
        return bluesky_default.rstrip("/")
    return None


def base_url_problem(platform: Platform, handle: str, configured: object) -> str | None:
    """Why an account's base URL cannot work (None when it can), said before saving it
    rather than discovered by a poller that never runs."""
    if configured is not None and configured != "":
        if not isinstance(configured, str) or not configured.strip().startswith(
            ("https://", "http://")
        ):
            return "settings.base_url must be an http(s) URL such as https://mastodon.social"
        return None
    if platform == Platform.MASTODON and "@" not in handle.strip().lstrip("@"):
        return (
            "a Mastodon account needs its instance: a handle such as support@mastodon.social, "
            "or settings.base_url"
        )
    return None
