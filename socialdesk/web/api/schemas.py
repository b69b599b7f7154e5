"""Request and response bodies of the REST API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Registers every network first: the Platform fields below accept only the names
# registered when the models are built (WhatsApp and plugins add theirs at run time).
from socialdesk.channels import networks as _networks  # noqa: F401
from socialdesk.domain.attachments import attachment_expired
from socialdesk.domain.enums import (
    AccountStatus,
    LoggedChannel,
    Platform,
    Priority,
    TicketStatus,
    Visibility,
)
from socialdesk.domain.personal_data import exposed_in_public
from socialdesk.web.api.params import DbId


def _drop_null(schema: dict[str, Any], cls: type[BaseModel]) -> None:
    """Publish what the validator enforces: a non-nullable PATCH field is not ``null``."""
    nullable: frozenset[str] = getattr(cls, "nullable", frozenset())
    for name, prop in schema.get("properties", {}).items():
        options = prop.get("anyOf")
        if name in nullable or not options:
            continue
        kept = [o for o in options if o.get("type") != "null"]
        prop.pop("anyOf")
        if len(kept) == 1:
            prop.update(kept[0])
        else:
            prop["anyOf"] = kept
        prop.pop("default", None)


class PatchModel(BaseModel):
    """A partial update: a field left out keeps its value; ``null`` is refused (422)
    unless the field is listed in ``nullable``, where it clears the value.

    Fields are declared ``X | None = None`` so they can be left out; without this rule a
    ``null`` would slip through as "not given" or reach a NOT NULL column as a 500."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_drop_null)
    nullable: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="before")
    @classmethod
    def _refuse_null(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for name, given in value.items():
                if given is None and name in cls.model_fields and name not in cls.nullable:
                    raise ValueError(f"{name} cannot be null; leave it out to keep its value")
        return value


class TokenRequest(BaseModel):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    # A label to tell this token apart in GET /auth/tokens ("CI", "laptop").
    name: str = Field(default="", max_length=100)


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_at: datetime
    id: int


class TokenOut(BaseModel):
    """A token as its owner sees it in a list: never the token itself."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    user_id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime
    current: bool = False


class PasswordChange(BaseModel):
    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class PasswordChangedOut(BaseModel):
    status: str = "changed"
    # Other browser sessions and API tokens of the user that were ended.
    ended: int


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    email: str
    name: str
    role: str
    is_active: bool
    time_zone: str | None = None


class ProfileIn(BaseModel):
    """What a person may change about themselves (``PATCH /api/v1/me``)."""

    model_config = ConfigDict(extra="forbid")
    time_zone: str = Field(max_length=64, description="IANA zone, e.g. Europe/Paris")


class ContactBrief(BaseModel):
    id: int
    display_name: str


class TicketSummary(BaseModel):
    id: int
    workspace_id: int
    subject: str
    status: str
    priority: str
    platform: str
    channel_account_id: int | None
    assignee_id: int | None
    team_id: int | None
    contact: ContactBrief | None
    needs_reply: bool
    awaiting_since: datetime | None
    message_count: int
    first_message_at: datetime
    last_message_at: datetime
    first_response_at: datetime | None
    first_response_due_at: datetime | None
    sla_breached: bool
    sentiment: float | None
    intent: str | None
    # The latest customer message's triage (docs/triage.md); labels an agent set win.
    sentiment_label: str | None = None
    urgency: int | None = None
    topic: str | None = None
    tags: list[str]
    created_at: datetime


class TicketPage(BaseModel):
    data: list[TicketSummary]
    next_cursor: str | None


class AttachmentOut(BaseModel):
    """One attachment of a message (``message_attachments``)."""

    model_config = ConfigDict(from_attributes=True)
    # image, video, audio, file, sticker, story_mention, shared_post, link, other
    kind: str
    mime_type: str | None = None
    size: int | None = None
    name: str | None = None
    # The network's link (may expire: Meta CDN links do) and a preview image.
    platform_url: str | None = None
    thumbnail_url: str | None = None
    caption: str | None = None
    # A reply's image: the description (alt text) the agent gave it.
    alt_text: str | None = None
    expires_at: datetime | None = None
    # True once the network's link has expired or fetching it failed.
    expired: bool = False
    # The desk's own copy (fetched by the attachment worker): where to read it, signed in.
    id: int | None = None
    stored: bool = False
    content_url: str | None = None
    stored_size: int | None = None
    sha256: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _expiry(cls, value: Any) -> Any:
        if isinstance(value, dict) or not hasattr(value, "kind"):
            return value
        fields = {name: getattr(value, name, None) for name in cls.model_fields}
        fields["expired"] = attachment_expired(value.expires_at, value.fetch_failed_at)
        fields["stored"] = bool(getattr(value, "stored_key", None))
        if fields["stored"]:
            fields["content_url"] = f"/api/v1/attachments/{value.id}/content"
        return fields


class MessageOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    direction: str
    visibility: str
    platform: str | None
    channel_account_id: int | None
    platform_message_id: str | None
    reply_to_platform_id: str | None
    conversation_id: str | None
    author_name: str
    author_contact_id: int | None
    author_user_id: int | None
    subject: str | None
    body: str
    created_at: datetime
    delivery_state: str
    delivery_error: str | None
    # When an agent hid this comment on the network; None while it is visible.
    hidden_at: datetime | None = None
    # The customer edited (the previous texts are in the ticket's events) or removed it.
    edited_at: datetime | None = None
    removed_at: datetime | None = None
    # What the network last said of our send: "sent", "delivered", "read" or "failed"
    # (WhatsApp statuses); None where the network does not say.
    network_status: str | None = None
    # A sent reply's approved template name (WhatsApp outside its 24-hour window).
    template: str | None = None
    # Media, files, stickers, shared posts and links the message carries, in order.
    attachments: list[AttachmentOut] = []
    # E-mail: the whole body as received when ``body`` is trimmed (quoted history,
    # signature), else None; the folded signature, else None.
    original_body: str | None = None
    signature: str | None = None
    # A customer's public post that gives away personal data: the kinds found
    # ("phone", "email", "card_number", "order_number", "street_address"), to hide it
    # and move to private. Empty for everything else.
    personal_data: list[str] = []
    # A customer message's triage: sentiment, sentiment_score, intent, urgency, signals,
    # language, topic (and refined/encoder values once the second pass ran); None for ours.
    triage: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _flag_personal_data(self) -> MessageOut:
        if not self.personal_data and self.hidden_at is None and self.removed_at is None:
            found = exposed_in_public(self.direction, self.visibility, self.body)
            self.personal_data = list(dict.fromkeys(str(f.kind) for f in found))
        return self

    @model_validator(mode="before")
    @classmethod
    def _from_meta(cls, value: Any) -> Any:
        meta = getattr(value, "meta", None)
        keys: tuple[str, ...] = ("edited_at", "removed_at", "network_status", "template")
        keys += ("full_body", "signature")
        if not isinstance(meta, dict) or not any(meta.get(k) for k in keys):
            return value
        fields = {name: getattr(value, name) for name in cls.model_fields if hasattr(value, name)}
        template = meta.get("template")
        return {
            **fields,
            "edited_at": meta.get("edited_at"),
            "removed_at": meta.get("removed_at"),
            "network_status": meta.get("network_status"),
            "template": template.get("name") if isinstance(template, dict) else None,
            "original_body": _text_or_none(meta.get("full_body")),
            "signature": _text_or_none(meta.get("signature")),
        }


def _text_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class IdentityOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    platform: str
    external_user_id: str
    handle: str | None
    display_name: str | None
    follower_count: int | None


class ContactOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    display_name: str
    email: str | None
    vip: bool
    identities: list[IdentityOut] = []


class PeerAnswerOut(BaseModel):
    """A fan's public reply that answered the ticket's customer (docs/triage.md)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    ticket_id: int
    message_id: int
    question_message_id: int | None
    fan_contact_id: int | None
    fan_handle: str
    score: float
    detected_at: datetime


class ThankFanRequest(BaseModel):
    # Unset: "@fan thank you for helping out, that's exactly right!"
    body: str | None = Field(default=None, min_length=1, max_length=10_000)
    # A second public reply within two minutes is refused (409 second_reply) unless true.
    confirm: bool = False


class TriageTrendOut(BaseModel):
    """How the customer's sentiment moved over their last messages (triage/trend.py)."""

    sentiment: Literal["worsening", "improving", "steady"] = "steady"
    # The last few sentiment scores (-1..1) and urgencies (0..100), oldest first.
    scores: list[float] = Field(default_factory=list)
    urgency: list[int] = Field(default_factory=list)


class TicketDetail(TicketSummary):
    messages: list[MessageOut]
    triage_trend: TriageTrendOut = Field(default_factory=TriageTrendOut)
    # The crisis radar's incidents this ticket belongs to (open or closed), oldest first.
    incident_ids: list[int] = Field(default_factory=list)
    peer_answers: list[PeerAnswerOut] = Field(default_factory=list)
    contact_detail: ContactOut | None = None
    follow_up_of_id: int | None = None
    solved_at: datetime | None = None


class LogContactRequest(BaseModel):
    """A phone call, walk-in visit or other off-line contact an agent handled."""

    channel: LoggedChannel
    summary: str = Field(min_length=1, max_length=5000)
    # Time spent with the customer (talk and wrap-up), the contact's handle time.
    handle_seconds: int = Field(ge=0, le=8 * 3600)
    name: str = Field(default="", max_length=200)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=320)
    # True: the contact settled it, the ticket is solved at once.
    solved: bool = False
    # When it began (ISO 8601 with a zone); unset: handle_seconds before now.
    started_at: datetime | None = None
    workspace_id: DbId | None = None


class ReplyRequest(BaseModel):
    body: str = Field(min_length=1, max_length=100_000)
    # Unset: the way the customer last wrote (a DM is answered by DM, a post publicly).
    visibility: Visibility | None = None
    # Status after the reply; "pending" (waiting on the customer) unless told otherwise.
    status: TicketStatus | None = TicketStatus.PENDING
    # The same key on a retried request returns the first reply instead of a second one.
    client_key: str | None = Field(default=None, max_length=100)
    # Scheduled send: ISO 8601 with a zone, in the future, at most 30 days ahead. The
    # reply waits as "scheduled" (status unchanged) until then; cancel it before.
    send_at: datetime | None = None
    # "email": answer by e-mail (the customer's address, the workspace's e-mail account)
    # whatever network the ticket came from; unset: on the ticket's own network.
    via: Literal["email"] | None = None
    # A second public reply within two minutes of another (409, code "second_reply") or a
    # public reply containing personal data (409, code "personal_data") is refused unless
    # confirmed with true.
    confirm: bool = False
    # An approved message template of the account (WhatsApp): required once the
    # network's 24-hour window has closed (422, code "outside_window", without one);
    # the reply's text fills its placeholder.
    template: str | None = Field(default=None, min_length=1, max_length=512)
    # The canned answers the reply was written with: each one's usage count goes up.
    canned_response_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=20
    )
    # Images uploaded first (POST /api/v1/uploads), attached in this order; 422 code
    # "images_not_allowed" where the network takes none on this kind of reply, or fewer.
    attachment_ids: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list, max_length=10
    )


class ApprovalDraftOut(BaseModel):
    """A reply waiting for a lead's approval (the author may not post on the account)."""

    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    ticket_id: int
    author_user_id: int | None
    body: str
    visibility: str
    solve_after: bool
    state: str
    created_at: datetime
    reviewer_user_id: int | None = None
    reviewed_at: datetime | None = None
    review_note: str | None = None
    message_id: int | None = None


class ApprovalDecision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # The reviewer's edit of the draft; unset or empty sends the draft as written.
    body: str | None = Field(default=None, max_length=100_000)
    # A public reply sent since the draft was written is refused (409, code
    # "answered_since_draft") unless confirmed with true.
    confirm: bool = False


class ApprovalRejection(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(default="", max_length=2000)


class NoteRequest(BaseModel):
    body: str = Field(min_length=1, max_length=100_000)


class TicketPatch(PatchModel):
    # null unassigns
    nullable = frozenset({"assignee_id", "team_id"})
    status: TicketStatus | None = None
    priority: Priority | None = None
    tags: list[str] | None = Field(default=None, max_length=50)
    assignee_id: DbId | None = None
    team_id: DbId | None = None
    # Triage labels set by hand; the pipeline never overrides them afterwards.
    sentiment: Literal["negative", "neutral", "positive"] | None = None
    intent: (
        Literal["question", "complaint", "request", "praise", "thanks", "feedback", "spam", "other"]
        | None
    ) = None
    topic: str | None = Field(default=None, min_length=1, max_length=80)


class AssignRequest(BaseModel):
    assignee_id: DbId | None = None
    team_id: DbId | None = None


class TicketEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    kind: str
    actor: str
    actor_user_id: int | None
    data: dict[str, Any]
    created_at: datetime


class ChannelAccountCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform
    handle: str = Field(min_length=1, max_length=320)
    external_id: str = Field(min_length=1, max_length=200)
    display_name: str = Field(default="", max_length=200)
    workspace_id: DbId | None = None
    secrets: dict[str, str] | None = None
    settings: dict[str, Any] | None = None


class ChannelAccountPatch(PatchModel):
    handle: str | None = Field(default=None, max_length=320)
    display_name: str | None = Field(default=None, max_length=200)
    secrets: dict[str, str] | None = None
    settings: dict[str, Any] | None = None
    status: AccountStatus | None = None


class CredentialIdentityOut(BaseModel):
    external_id: str
    handle: str
    name: str = ""


class CredentialCheckOut(BaseModel):
    """The last live check of an account's credentials. ``state``: confirmed, mismatch
    (they belong to another account), refused, unreachable or unsupported."""

    state: str
    ok: bool
    message: str
    checked_at: datetime
    identity: CredentialIdentityOut | None = None


class ChannelAccountOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    platform: str
    handle: str
    external_id: str
    display_name: str
    settings: dict[str, Any]
    status: str
    status_reason: str | None
    needs_reauthorization: bool
    has_secrets: bool
    secret_names: list[str]
    last_received_at: datetime | None
    last_sent_at: datetime | None
    created_at: datetime
    credential_check: CredentialCheckOut | None = None


class ContactPage(BaseModel):
    data: list[ContactOut]


class MergeRequest(BaseModel):
    other_contact_id: DbId


class TeamCreate(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    workspace_id: DbId | None = None
    skills: list[str] = []


class TeamOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int
    name: str
    skills: list[Any]


class AuditOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    workspace_id: int | None
    actor_user_id: int | None
    action: str
    object_type: str
    object_id: int | None
    data: dict[str, Any]
    created_at: datetime


class MoveToPrivateRequest(BaseModel):
    mode: Literal["invite", "dm"] = "invite"
    body: str | None = Field(default=None, max_length=10_000)


class SilenceOut(BaseModel):
    silent: bool
    usual_gap_seconds: float | None
    quiet_for_seconds: float | None
    reason: str


class ChannelHealthOut(BaseModel):
    account_id: int
    platform: str
    handle: str
    status: str
    needs_reauthorization: bool
    status_reason: str | None
    last_received_at: datetime | None
    last_sent_at: datetime | None
    last_polled_at: datetime | None
    rate_limit: dict[str, Any]
    silence: SilenceOut
    queued_replies: int
    failed_replies: int
