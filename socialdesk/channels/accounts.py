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
