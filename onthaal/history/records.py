"""One conversation of history, checked and normalised, ready to be written.

The import turns each row of a file into a :class:`ConversationRecord` with
:class:`RecordParser`; the demo generator builds records directly. Both then
go through the same bulk writer in :mod:`onthaal.history.services`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Choices
from django.utils import translation

from onthaal.chat.models import (
    Audience,
    Channel,
    DeviceClass,
    EndReason,
    Gender,
    ReferralSource,
)
from onthaal.chat.services import MAX_AGE, MIN_AGE
from onthaal.history.formats import LIST_SEPARATOR, SourceRow
from onthaal.hours.calendar_rules import HELPLINE_TIMEZONE
from onthaal.registration.models import Result, Topic
from onthaal.staff.models import User

MAX_EXTERNAL_ID_CHARS = 100  # Conversation.external_id
MAX_LANGUAGE_CHARS = 10  # Conversation.language
DEFAULT_LANGUAGE = "nl-be"

_NOT_ACCEPTED_REASONS = frozenset({EndReason.MISSED, EndReason.CLOSED})
_TRUE = frozenset({"true", "1", "yes", "y", "ja", "j", "waar"})
_FALSE = frozenset({"false", "0", "no", "n", "nee", "onwaar", ""})


@dataclass(slots=True)
class ConversationRecord:
    """An ended conversation and, if ``registered``, its registration.

    A registration is filed under ``operator_id``, or under the import's
    placeholder account when that is None. Registration and rating times
    default to the end of the chat.
    """

    line: int
    external_id: str | None
    channel: str
    queued_at: datetime
    accepted_at: datetime | None
    ended_at: datetime | None
    end_reason: str
    audience: str
    age: int | None
    gender: str
    referral_source: str
    device_class: str
    language: str
    rating: int | None
    operator_id: int | None
    topic_ids: tuple[int, ...]
    result_ids: tuple[int, ...]
    prank_suspected: bool
    registered: bool
    registered_at: datetime | None = None


class RowError(Exception):
    """Why one row cannot be imported (the message names the field)."""


class _Ambiguous:
    """A name that fits several rows (e.g. a pseudonym two operators share)."""


AMBIGUOUS = _Ambiguous()


def _choices_lookup(choices: type[Choices]) -> dict[str, str]:
    """Value by lower-cased code and by lower-cased Dutch label."""
    # The labels are lazy translations with Dutch as the source language;
    # with translations off, str() gives that Dutch source text.
    with translation.override(None):
        lookup = {str(label).lower(): value for value, label in choices.choices}
    lookup.update({value.lower(): value for value in choices.values})
    return lookup


def _text(values: Mapping[str, Any], field: str) -> str:
    value = values.get(field)
    if type(value) is str:  # the common case first: every CSV value
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise RowError(f"{field} must be text")
    return str(value).strip()


def _list(values: Mapping[str, Any], field: str) -> list[str]:
    value = values.get(field)
    if value is None:
        return []
    if isinstance(value, str):
        items: Iterable[Any] = value.split(LIST_SEPARATOR)
    elif isinstance(value, list):
        items = value
    else:
        raise RowError(f"{field} must be a list")
    out: list[str] = []
    for item in items:
        if not isinstance(item, str):
            raise RowError(f"{field} must be a list of texts")
        item = item.strip()
        if item and item not in out:
            out.append(item)
    return out


def _datetime(values: Mapping[str, Any], field: str) -> datetime | None:
    text = _text(values, field)
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise RowError(
            f"{field} '{text}' is not an ISO 8601 date and time (e.g. 2024-10-07T18:25:00+02:00)"
        ) from None
    if moment.tzinfo is None:
        # Naive times are Belgian wall-clock times, like the opening hours.
        moment = moment.replace(tzinfo=HELPLINE_TIMEZONE)
    return moment


def _integer(values: Mapping[str, Any], field: str) -> int | None:
    value = values.get(field)
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise RowError(f"{field} '{value}' is not a whole number")


def _boolean(values: Mapping[str, Any], field: str) -> bool:
    value = values.get(field)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise RowError(f"{field} '{value}' is not true or false")


class RecordParser:
    """Checks import rows against the taxonomy and the staff accounts.

    Loads topics, results and accounts once (three queries); parsing a row
    then runs no query.
    """

    def __init__(self, *, now: datetime) -> None:
        self.now = now
        self._channel = _choices_lookup(Channel)
        self._end_reason = _choices_lookup(EndReason)
        self._audience = _choices_lookup(Audience)
        self._gender = _choices_lookup(Gender)
        self._referral = _choices_lookup(ReferralSource)
        self._device = _choices_lookup(DeviceClass)

        # Retired topics and results are accepted: history used them.
        self._topics: dict[str, int | _Ambiguous] = {}
        by_name: dict[str, int | _Ambiguous] = {}
        for pk, code, name in Topic.objects.values_list("pk", "domain__code", "name"):
            self._topics[f"{code.lower()}:{name.lower()}"] = pk
            key = name.lower()
            by_name[key] = AMBIGUOUS if key in by_name else pk
        for key, value in by_name.items():
            self._topics.setdefault(key, value)

        results = list(Result.objects.values_list("pk", "code", "name"))
        self._results: dict[str, int] = {name.lower(): pk for pk, _code, name in results}
        # A code wins over a label that happens to read the same.
        self._results.update({code.lower(): pk for pk, code, _name in results})

        self._usernames: dict[str, int] = {}
        self._usernames_folded: dict[str, int | _Ambiguous] = {}
        self._pseudonyms: dict[str, int | _Ambiguous] = {}
        for pk, username, pseudonym in User.objects.values_list("pk", "username", "pseudonym"):
            self._usernames[username] = pk
            folded = username.lower()
            self._usernames_folded[folded] = AMBIGUOUS if folded in self._usernames_folded else pk
            if pseudonym:
                key = pseudonym.strip().lower()
                self._pseudonyms[key] = AMBIGUOUS if key in self._pseudonyms else pk

    # --- single fields ------------------------------------------------------------

    def _choice(self, values: Mapping[str, Any], field: str, lookup: dict[str, str]) -> str:
        text = _text(values, field)
        if not text:
            return ""
        try:
            return lookup[text.lower()]
        except KeyError:
            codes = sorted(set(lookup.values()))
            raise RowError(f"{field} '{text}' is unknown (one of: {', '.join(codes)})") from None

    def _topic(self, text: str) -> int:
        key = text.lower()
        found = self._topics.get(key)
        if found is None and ":" in key:
            code, _sep, name = key.partition(":")
            found = self._topics.get(f"{code.strip()}:{name.strip()}")
        if found is None:
            raise RowError(f"topic '{text}' is unknown")
        if isinstance(found, _Ambiguous):
            raise RowError(f"topic '{text}' exists in several domains: write DOMAIN:{text}")
        return found

    def _result(self, text: str) -> int:
        found = self._results.get(text.lower())
        if found is None:
            raise RowError(f"result '{text}' is unknown")
        return found

    def _operator(self, text: str) -> int | None:
        if not text:
            return None
        found: int | _Ambiguous | None = self._usernames.get(text)
        if found is None:
            found = self._usernames_folded.get(text.lower())
        if found is None:
            found = self._pseudonyms.get(text.lower())
        if found is None:
            raise RowError(
                f"operator '{text}' is unknown (no account has it as username or pseudonym)"
            )
        if isinstance(found, _Ambiguous):
            raise RowError(f"operator '{text}' fits several accounts: give the username")
        return found

    # --- a whole row --------------------------------------------------------------

    def parse(self, row: SourceRow) -> ConversationRecord:
        """The row as a record; raises RowError with the first problem found."""
        if row.error:
            raise RowError(row.error)
        values = row.values
        external_id = _text(values, "external_id")
        if not external_id:
            raise RowError("external_id is required")
        if len(external_id) > MAX_EXTERNAL_ID_CHARS:
            raise RowError(f"external_id is longer than {MAX_EXTERNAL_ID_CHARS} characters")

        queued_at = _datetime(values, "queued_at")
        if queued_at is None:
            raise RowError("queued_at is required")
        accepted_at = _datetime(values, "accepted_at")
        ended_at = _datetime(values, "ended_at")
        if accepted_at is not None and accepted_at < queued_at:
            raise RowError("accepted_at before queued_at")
        if ended_at is not None and ended_at < queued_at:
            raise RowError("ended_at before queued_at")
        if ended_at is not None and accepted_at is not None and ended_at < accepted_at:
            raise RowError("ended_at before accepted_at")
        latest = ended_at or accepted_at or queued_at
        if latest > self.now:
            raise RowError("a time lies in the future")

        accepted = accepted_at is not None
        channel = self._choice(values, "channel", self._channel) or Channel.CHAT
        audience = self._choice(values, "audience", self._audience)
        gender = self._choice(values, "gender", self._gender)
        referral_source = self._choice(values, "referral_source", self._referral)
        device_class = self._choice(values, "device_class", self._device)
        language = _text(values, "language") or DEFAULT_LANGUAGE
        if len(language) > MAX_LANGUAGE_CHARS:
            raise RowError(f"language '{language}' is longer than {MAX_LANGUAGE_CHARS} characters")

        age = _integer(values, "age")
        if age is not None and not MIN_AGE <= age <= MAX_AGE:
            raise RowError(f"age {age} is not {MIN_AGE}–{MAX_AGE}")
        rating = _integer(values, "rating")
        if rating is not None and not 1 <= rating <= 5:
            raise RowError(f"rating {rating} is not 1–5")
        if rating is not None and not accepted:
            raise RowError("rating given for a chat that was never accepted")

        operator_id = self._operator(_text(values, "operator"))
        if operator_id is not None and not accepted:
            raise RowError("operator given for a chat that was never accepted")

        topic_ids = tuple(dict.fromkeys(self._topic(t) for t in _list(values, "topics")))
        result_ids = tuple(dict.fromkeys(self._result(r) for r in _list(values, "results")))
        prank_suspected = _boolean(values, "prank_suspected")
        registered = bool(topic_ids or result_ids or prank_suspected)
        if registered and not accepted:
            raise RowError(
                "topics, results or prank_suspected given for a chat that was never accepted"
            )

        end_reason = self._choice(values, "end_reason", self._end_reason)
        if not end_reason:
            end_reason = self._default_end_reason(accepted=accepted, result_ids=result_ids)
        elif accepted and end_reason in _NOT_ACCEPTED_REASONS:
            raise RowError(
                f"end_reason {end_reason} but the chat was accepted (accepted_at is set)"
            )
        elif not accepted and end_reason not in _NOT_ACCEPTED_REASONS:
            raise RowError(
                f"end_reason {end_reason} needs accepted_at (unanswered chats are missed or closed)"
            )

        return ConversationRecord(
            line=row.line,
            external_id=external_id,
            channel=channel,
            queued_at=queued_at,
            accepted_at=accepted_at,
            ended_at=ended_at,
            end_reason=end_reason,
            audience=audience,
            age=age,
            gender=gender,
            referral_source=referral_source,
            device_class=device_class,
            language=language,
            rating=rating,
            operator_id=operator_id,
            topic_ids=topic_ids,
            result_ids=result_ids,
            prank_suspected=prank_suspected,
            registered=registered,
        )

    def _default_end_reason(self, *, accepted: bool, result_ids: tuple[int, ...]) -> str:
        if not accepted:
            return EndReason.MISSED
        if self._results.get("broke_off") in result_ids:
            return EndReason.BROKE_OFF
        return EndReason.VISITOR_ENDED
