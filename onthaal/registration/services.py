"""The operator's post-chat registration."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.chat.models import Conversation, ConversationEvent, EventKind, Status
from onthaal.errors import Conflict, InvalidInput, NotFound
from onthaal.registration.models import Registration, Result, Topic
from onthaal.staff.models import User
from onthaal.text import text_check

MAX_NOTE_CHARS = 2000


def _ids(values: object, field: str) -> list[int]:
    if not isinstance(values, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) and 0 < v < 2**62 for v in values
    ):
        raise InvalidInput(
            _("Een lijst van id's verwacht."), code="invalid", fields={field: "list of ids"}
        )
    return sorted(set(values))


@transaction.atomic
def registration_save(
    *,
    conversation: Conversation,
    operator: User,
    topic_ids: list[int],
    result_ids: list[int],
    prank_suspected: bool,
    note: str = "",
    now: datetime | None = None,
) -> Registration:
    """Create or correct the registration of an ended chat.

    Preconditions: the conversation has ended after being accepted, and
    ``operator`` held it (a coordinator may correct any). Topics and results
    must exist; retired ones are accepted only if the registration already
    had them (so that a correction does not drop them).
    """
    now = now or timezone.now()
    topic_ids = _ids(topic_ids, "topic_ids")
    result_ids = _ids(result_ids, "result_ids")
    if not isinstance(prank_suspected, bool):
        raise InvalidInput(_("Kies ja of nee."), code="invalid", fields={"prank_suspected": ""})
    note = text_check((note or "").strip(), field="note")
    if len(note) > MAX_NOTE_CHARS:
        raise InvalidInput(
            _("De notitie mag hoogstens %(n)s tekens lang zijn.") % {"n": MAX_NOTE_CHARS},
            code="note_too_long",
        )
    if conversation.status != Status.ENDED or conversation.accepted_at is None:
        raise Conflict(_("Registreer een chat nadat hij afgelopen is."), code="not_registrable")
    if conversation.operator_id != operator.pk and not operator.is_coordinator:
        raise NotFound(_("Dit gesprek bestaat niet."))
    if not topic_ids and not result_ids:
        raise InvalidInput(_("Kies minstens één thema of resultaat."), code="registration_empty")
    existing = Registration.objects.filter(conversation=conversation).first()
    kept_topics = set(existing.topics.values_list("pk", flat=True)) if existing else set()
    kept_results = set(existing.results.values_list("pk", flat=True)) if existing else set()
    topics = list(Topic.objects.select_related("domain").filter(pk__in=topic_ids))
    results = list(Result.objects.filter(pk__in=result_ids))
    bad_topics = set(topic_ids) - {
        t.pk for t in topics if (t.is_active and t.domain.is_active) or t.pk in kept_topics
    }
    bad_results = set(result_ids) - {r.pk for r in results if r.is_active or r.pk in kept_results}
    if bad_topics or bad_results:
        raise InvalidInput(
            _("Onbekend thema of resultaat."),
            code="unknown_choice",
            fields={"topic_ids": sorted(bad_topics), "result_ids": sorted(bad_results)},
        )
    if existing is None:
        registration = Registration.objects.create(
            conversation=conversation,
            operator=operator,
            prank_suspected=prank_suspected,
            note=note,
            created_at=now,
            updated_at=now,
        )
    else:
        registration = existing
        registration.prank_suspected = prank_suspected
        registration.note = note
        registration.updated_at = now
        registration.save(update_fields=["prank_suspected", "note", "updated_at"])
    registration.topics.set(topics)
    registration.results.set(results)
    ConversationEvent.objects.create(
        conversation=conversation,
        kind=EventKind.REGISTERED,
        at=now,
        actor=operator,
        data={"correction": existing is not None},
    )
    return registration
