"""Schemas shared by every API router: the error body and the error statuses."""

from __future__ import annotations

from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel, ConfigDict


class Error(Schema):
    """Every error: a stable ``code``, a human ``message``, sometimes ``details``."""

    code: str
    message: str
    details: dict[str, Any] | None = None


# What any authenticated route may answer besides success (docs/api.md lists the codes).
ERRORS: dict[int, Any] = {
    400: Error,
    401: Error,
    403: Error,
    404: Error,
    409: Error,
    429: Error,
    500: Error,
}


def responses(ok: Any = dict[str, Any], status: int = 200) -> dict[int, Any]:
    return {status: ok, **ERRORS}


# --- success bodies -------------------------------------------------------------------
#
# The bodies the core routes answer, so that the OpenAPI schema describes them
# and schemathesis checks every answer against it (tests/fuzz). The fields
# named here are required and typed; a body may carry more (additionalProperties):
# django-ninja drops what a response schema does not allow, and features add
# fields to these frames (chat/events.py builds them) without having to
# change the schema in the same step.


class Body(BaseModel):
    """A response body: these fields at least.

    A plain pydantic model, not a ninja Schema: ninja's Schema reads its input
    through attribute access, which keeps only the declared fields.
    """

    model_config = ConfigDict(extra="allow")


class Helpline(Body):
    name: str
    phone: str
    url: str | None


class ChatStatusOut(Body):
    open: bool
    accepting: bool = Field(description="a new chat may start (false in the closing cut-off)")
    closes_at: str | None = Field(description="ISO 8601, when open")
    intake_closes_at: str | None = Field(description="ISO 8601, when open: last moment to start")
    next_opening: str | None = Field(description="ISO 8601; null if none is planned")
    helplines: list[Helpline]


class Receipts(Body):
    conversation_id: int
    visitor_delivered_id: int | None
    visitor_read_id: int | None
    operator_delivered_id: int | None
    operator_read_id: int | None


class VisitorConversation(Body):
    """What the visitor may know of their conversation (never the operator's account)."""

    id: int
    status: str = Field(description="queued | active | ended")
    end_reason: str = Field(description="'' until ended")
    operator_pseudonym: str | None
    queued_at: str | None
    accepted_at: str | None
    ended_at: str | None
    rating: int | None
    receipts: Receipts


class StaffConversation(VisitorConversation):
    """A conversation as staff see it: with the intake answers and the operator."""

    channel: str
    audience: str
    age: int | None
    gender: str
    referral_source: str
    device_class: str
    language: str
    operator_id: int | None


class QueueState(Body):
    position: int = Field(description="1 for the first in line")
    estimated_wait_seconds: int | None


class ConversationStateOut(Body):
    """Staff get the staff view, a visitor (bearer token) the visitor's."""

    conversation: StaffConversation | VisitorConversation
    queue: QueueState | None


class ConversationOut(Body):
    conversation: StaffConversation | VisitorConversation


class VisitorConversationOut(Body):
    conversation: VisitorConversation


class StaffConversationOut(Body):
    conversation: StaffConversation


class MessageFrame(Body):
    id: int
    conversation_id: int
    sender: str = Field(description="visitor | operator")
    body: str
    client_id: str
    created_at: str


class MessagesOut(Body):
    messages: list[MessageFrame]


class MessageOut(Body):
    message: MessageFrame


class ProfileOut(Body):
    id: int
    username: str
    pseudonym: str
    availability: str = Field(description="available | paused | offline")
    discipline: str
    role: str = Field(description="operator | coordinator | administrator | analyst")
    max_chats: int


class MyConversationsOut(Body):
    active: list[StaffConversation]
    todo: list[StaffConversation] = Field(description="ended, waiting for their registration")


class QueueEntry(Body):
    id: int
    queued_at: str
    waiting_seconds: int
    audience: str
    age: int | None
    gender: str
    referral_source: str
    device_class: str
    language: str


class QueueOut(Body):
    queue: list[QueueEntry]


class TopicOut(Body):
    id: int
    name: str


class DomainOut(Body):
    id: int
    code: str
    name: str
    topics: list[TopicOut]


class ResultOut(Body):
    id: int
    code: str
    name: str


class TaxonomyOut(Body):
    domains: list[DomainOut]
    results: list[ResultOut]


class RegistrationOut(Body):
    conversation_id: int
    topic_ids: list[int]
    result_ids: list[int]
    prank_suspected: bool
    note: str
    created_at: str
    updated_at: str
