"""Fixtures shared by every app's tests.

Data comes from the services (the same code paths the app uses) and from the
factories below; tests talk to the app through the HTTP client, the websocket
communicator and the CLI.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import datetime, time
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import factory
import pytest
from channels.layers import channel_layers
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from onthaal.chat import services as chat_services
from onthaal.chat.consumers import message_rate
from onthaal.chat.models import Conversation, EndReason
from onthaal.hours.models import ExtraOpening
from onthaal.hours.services import (
    extra_opening_create,
    school_calendar_generate,
    weekly_hours_seed_defaults,
)
from onthaal.staff.models import Availability, Discipline, Role, User
from onthaal.staff.services import operator_create

PASSWORD = "correct-horse-battery-staple"  # passes the password validators
FIREFOX_DESKTOP_UA = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
)


# --- database and speed --------------------------------------------------------


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On SQLite, test in a database file rather than in memory.

    Django's in-memory test database uses SQLite's shared cache, where a
    second writer fails at once with "database table is locked" instead of
    waiting for the busy timeout. A file behaves like production (WAL,
    IMMEDIATE transactions, a timeout), so tests with real concurrency (two
    operators taking one chat; websocket consumers writing from their worker
    thread) test the app and not the test database.
    """
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        test = database.setdefault("TEST", {})
        if not test.get("NAME"):
            test["NAME"] = str(tmp_path_factory.mktemp("db") / "onthaal-test.sqlite3")


@pytest.fixture(scope="session", autouse=True)
def _close_database_threads(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """The websocket consumers' database threads (onthaal/ops/dbcalls.py)
    hand their connections back, and the event loops' own connections
    (onthaal/ops/loopdb.py) close, before the test database is dropped."""
    yield
    from onthaal.ops import dbcalls, loopdb

    with django_db_blocker.unblock():
        dbcalls.close_connections()
    loopdb.close_all()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings: Any) -> None:
    """The production hasher costs half a second per password; tests make many."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- isolation ------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    """Rate limits live in the cache: every test starts with none counted."""
    cache.clear()
    message_rate.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_channel_layer() -> Iterator[None]:
    """A new in-memory channel layer per test: group memberships and queues
    (bound to the previous test's event loop) must not leak across tests."""
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def frozen_rate_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pin the rate limiter's clock, so that a fixed window cannot roll over
    in the middle of a test that counts hits."""
    from onthaal import ratelimit

    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))


# --- opening hours -------------------------------------------------------------


@pytest.fixture
def chat_open(db: None, settings: Any) -> ExtraOpening:
    """An extra opening today from 00:00 to 23:59 (Brussels), so the chat is open now.

    (In the last minute before midnight the chat is closed: tests then fail
    with chat_closed, which says why.) The intake's closing cut-off is set to
    0 minutes, so that it does not refuse visitors before 23:59 as well.
    """
    settings.ONTHAAL_CLOSING_CUTOFF_MINUTES = 0
    return extra_opening_create(
        date=timezone.localdate(), opens=time(0, 0), closes=time(23, 59), note="tests"
    )


# A school Tuesday evening (Brussels): open 17:00-21:00 under the default hours.
SCHOOL_TUESDAY_18H = datetime(2026, 10, 6, 18, 0, tzinfo=ZoneInfo("Europe/Brussels"))


@pytest.fixture
def school_tuesday_evening(db: None) -> datetime:
    """18:00 on Tuesday 6 October 2026, a school day: the chat is open by the
    regular weekly hours. Re-seeds what a transactional test may have flushed."""
    weekly_hours_seed_defaults()
    school_calendar_generate(school_year=2026)
    return SCHOOL_TUESDAY_18H


# --- staff ---------------------------------------------------------------------

_usernames = itertools.count(1)


def make_staff(
    *,
    username: str | None = None,
    pseudonym: str = "Lotte",
    role: str = Role.OPERATOR,
    availability: str = Availability.AVAILABLE,
    discipline: str = Discipline.PSYCHO_PEDAGOGUE,
    password: str = PASSWORD,
) -> User:
    """A staff account made by the service, then set to ``availability``.

    The availability is written directly, not through ``operator_update``, so
    that tests can also build states that service refuses (available without
    a pseudonym) and check what the other services then do.
    """
    user = operator_create(
        username=username or f"medewerker{next(_usernames)}",
        password=password,
        discipline=discipline,
        role=role,
        pseudonym=pseudonym,
    )
    if availability != user.availability:
        user.availability = availability
        user.save(update_fields=["availability"])
    return user


class StaffFactory(factory.Factory):
    """``StaffFactory(pseudonym="Jan", role="coordinator")``: through ``operator_create``."""

    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"staff{n}")
    pseudonym = factory.Sequence(lambda n: f"Medewerker {n}")
    role = Role.OPERATOR
    availability = Availability.AVAILABLE
    discipline = Discipline.SOCIAL_WORKER

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return make_staff(**kwargs)


@pytest.fixture
def staff_password() -> str:
    """The password every staff account made by these fixtures has."""
    return PASSWORD


@pytest.fixture
def staff_factory(db: None) -> type[StaffFactory]:
    return StaffFactory


@pytest.fixture
def operator(db: None) -> User:
    """An available operator with a pseudonym."""
    return make_staff(username="lotte", pseudonym="Lotte")


@pytest.fixture
def other_operator(db: None) -> User:
    return make_staff(username="jonas", pseudonym="Jonas")


@pytest.fixture
def coordinator(db: None) -> User:
    return make_staff(username="coordinator", pseudonym="Coördinator", role=Role.COORDINATOR)


def logged_in_client(user: User, *, enforce_csrf_checks: bool = False) -> Client:
    client = Client(enforce_csrf_checks=enforce_csrf_checks)
    client.force_login(user)
    return client


@pytest.fixture
def operator_client(operator: User) -> Client:
    return logged_in_client(operator)


@pytest.fixture
def other_operator_client(other_operator: User) -> Client:
    return logged_in_client(other_operator)


@pytest.fixture
def coordinator_client(coordinator: User) -> Client:
    return logged_in_client(coordinator)


# --- conversations -------------------------------------------------------------

MakeConversation = Callable[..., tuple[Conversation, str]]


@pytest.fixture
def make_conversation(db: None) -> MakeConversation:
    """Open a conversation through the service; returns (conversation, token).

    Needs the chat to be open at ``now`` (use ``chat_open``, or pass ``now=``
    at an open time).
    """

    def make(
        *,
        audience: str = "pupil",
        age: int | None = 15,
        gender: str = "girl",
        referral_source: str = "smartschool",
        user_agent: str = FIREFOX_DESKTOP_UA,
        language: str = "nl-be",
        now: datetime | None = None,
    ) -> tuple[Conversation, str]:
        return chat_services.conversation_open(
            intake=chat_services.Intake(
                audience=audience, age=age, gender=gender, referral_source=referral_source
            ),
            user_agent=user_agent,
            language=language,
            now=now,
        )

    return make


@pytest.fixture
def make_active_conversation(make_conversation: MakeConversation) -> MakeConversation:
    """``make_active_conversation(operator, **intake)``: opened, then accepted by ``operator``."""

    def make(operator: User, **kwargs: Any) -> tuple[Conversation, str]:
        conversation, token = make_conversation(**kwargs)
        accepted = chat_services.conversation_accept(
            conversation_id=conversation.pk, operator=operator, now=kwargs.get("now")
        )
        return accepted, token

    return make


@pytest.fixture
def make_ended_conversation(make_active_conversation: MakeConversation) -> MakeConversation:
    """``make_ended_conversation(operator)``: accepted by ``operator``, then ended by them."""

    def make(operator: User, **kwargs: Any) -> tuple[Conversation, str]:
        conversation, token = make_active_conversation(operator, **kwargs)
        ended = chat_services.conversation_end(
            conversation=conversation,
            reason=EndReason.OPERATOR_ENDED,
            actor=operator,
            now=kwargs.get("now"),
        )
        return ended, token

    return make


class VisitorClient:
    """The visitor's side of the HTTP API, holding the token as a bearer."""

    def __init__(self, token: str, conversation_id: int) -> None:
        self.token = token
        self.conversation_id = conversation_id
        self.client = Client()

    @property
    def auth(self) -> dict[str, str]:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, **extra: Any) -> Any:
        return self.client.get(path, **self.auth, **extra)

    def post(self, path: str, data: Any = None, **extra: Any) -> Any:
        return self.client.post(
            path,
            data if data is not None else {},
            content_type="application/json",
            **self.auth,
            **extra,
        )

    def url(self, suffix: str = "") -> str:
        return f"/api/v1/conversations/{self.conversation_id}{suffix}"


@pytest.fixture
def visitor_client() -> Callable[[str, int], VisitorClient]:
    """``visitor_client(token, conversation_id)``: a client that sends the bearer token."""
    return VisitorClient
