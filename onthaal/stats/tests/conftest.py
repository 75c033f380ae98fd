"""A small set of chats built by hand, so that every figure can be checked exactly.

Rows are written directly (tests may): the services refuse to open a chat
outside opening hours or in the past, and the figures must hold for imported
history too. Times are Brussels wall-clock times.

School year 2024-2025 (1 Sep 2024 – 31 Aug 2025):

====  ===================  ======  =========  ====  ======  =====  ======================
chat  queued (Brussels)    who     held by    wait  length  stars  registered
====  ===================  ======  =========  ====  ======  =====  ======================
c1    Tue 1 Oct 18:00      pupil   Anna (PP)  2m    20m     5      suicide, bullying;
                                                                   support, referral CLB
                                                                   (end: broke_off)
c2    Wed 2 Oct 23:50      pupil   Anna       4m    40m     –      bullying; broke off
                                                (ends 00:34 next day)
c3    Mon 4 Nov 17:30      parent  Bart (N)   6m    60m     3      study choice;
                                                                   info, referral CLB
c4    Thu 13 Mar 19:00     pupil   Anna       8m    10m     4      motivation (renamed
                                                                   later); info; prank
c5    Tue 1 Oct 18:30      pupil   –          missed (gave up)
c6    Mon 4 Nov 20:55      parent  –          missed (closed at closing time)
c7    Wed 14 May 15:00     pupil   –          still queued
====  ===================  ======  =========  ====  ======  =====  ======================

Around it: school year 2023-2024 has p1 (Tue 10 Oct 2023, a retired topic
"corona"), p2 (Tue 5 Mar 2024) and b1 (Sat 31 Aug 2024 23:30 Brussels, the
last half hour of that school year); b2 (Mon 1 Sep 2025 00:30) opens 2025-2026.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from onthaal.chat.models import Conversation
from onthaal.hours.services import school_calendar_generate, weekly_hours_seed_defaults
from onthaal.registration.models import Domain, Registration, Result, Topic
from onthaal.staff.models import Discipline, Role, User
from onthaal.staff.services import operator_create

BRUSSELS = ZoneInfo("Europe/Brussels")
PASSWORD = "correct-horse-battery-staple"

_tokens = itertools.count(1)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Brussels wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=BRUSSELS)


def make_chat(
    queued_at: datetime,
    *,
    operator: User | None = None,
    wait: timedelta | None = None,
    duration: timedelta | None = None,
    end_reason: str = "visitor_ended",
    status: str = "ended",
    audience: str = "pupil",
    age: int | None = None,
    gender: str = "",
    referral_source: str = "",
    device_class: str = "desktop",
    channel: str = "chat",
    rating: int | None = None,
    topics: list[Topic] | None = None,
    results: list[Result] | None = None,
    prank: bool = False,
) -> Conversation:
    """One conversation; held when ``operator`` is given, registered when
    ``topics`` or ``results`` are given."""
    accepted_at = queued_at + wait if operator is not None and wait is not None else None
    if accepted_at is not None:
        ended_at = accepted_at + duration if duration is not None else None
    else:
        ended_at = queued_at + timedelta(minutes=10) if status == "ended" else None
    conversation = Conversation.objects.create(
        channel=channel,
        status=status,
        end_reason=end_reason if status == "ended" else "",
        audience=audience,
        age=age,
        gender=gender,
        referral_source=referral_source,
        device_class=device_class,
        queued_at=queued_at,
        accepted_at=accepted_at,
        ended_at=ended_at,
        operator=operator,
        token_hash=f"{next(_tokens):064x}",
        visitor_seen_at=ended_at or queued_at,
        rating=rating,
    )
    if operator is not None and (topics or results or prank):
        registration = Registration.objects.create(
            conversation=conversation,
            operator=operator,
            prank_suspected=prank,
            created_at=ended_at or queued_at,
            updated_at=ended_at or queued_at,
        )
        registration.topics.set(topics or [])
        registration.results.set(results or [])
    return conversation


@dataclass
class Dataset:
    anna: User
    bart: User
    coordinator: User
    analyst: User
    topics: dict[str, Topic]
    results: dict[str, Result]
    chats: dict[str, Conversation]


def _staff(username: str, *, discipline: str, role: str = Role.OPERATOR) -> User:
    return operator_create(
        username=username,
        password=PASSWORD,
        discipline=discipline,
        role=role,
        pseudonym=username.capitalize(),
    )


@pytest.fixture
def calendar_2023_2025(db: None) -> None:
    """Default weekly hours and the default school calendars of the tested years."""
    weekly_hours_seed_defaults()
    for school_year in (2023, 2024, 2025):
        school_calendar_generate(school_year=school_year)


@pytest.fixture
def dataset(calendar_2023_2025: None) -> Dataset:
    anna = _staff("anna", discipline=Discipline.PSYCHO_PEDAGOGUE)
    bart = _staff("bart", discipline=Discipline.NURSE)
    coordinator = _staff("coco", discipline=Discipline.SOCIAL_WORKER, role=Role.COORDINATOR)
    analyst = _staff("ali", discipline=Discipline.SOCIAL_WORKER, role=Role.ANALYST)
    topic = {t.name: t for t in Topic.objects.all()}
    topics = {
        "suicide": topic["zelfmoordgedachten"],
        "bullying": topic["pesten / cyberpesten"],
        "study": topic["studiekeuze / schoolloopbaan"],
        "motivation": topic["motivatie"],
        "corona": Topic.objects.create(
            domain=Domain.objects.get(code="PGZ"), name="corona", is_active=False
        ),
    }
    results = {r.code: r for r in Result.objects.all()}
    minutes = lambda n: timedelta(minutes=n)  # noqa: E731
    chats = {
        "c1": make_chat(
            at(2024, 10, 1, 18, 0),
            operator=anna,
            wait=minutes(2),
            duration=minutes(20),
            end_reason="broke_off",
            age=14,
            gender="girl",
            referral_source="smartschool",
            device_class="mobile",
            rating=5,
            topics=[topics["suicide"], topics["bullying"]],
            results=[results["support"], results["referral_clb"]],
        ),
        "c2": make_chat(
            at(2024, 10, 2, 23, 50),
            operator=anna,
            wait=minutes(4),
            duration=minutes(40),
            end_reason="broke_off",
            age=None,
            gender="boy",
            referral_source="internet",
            topics=[topics["bullying"]],
            results=[results["broke_off"]],
        ),
        "c3": make_chat(
            at(2024, 11, 4, 17, 30),
            operator=bart,
            wait=minutes(6),
            duration=minutes(60),
            end_reason="operator_ended",
            audience="parent",
            age=None,
            referral_source="clb_website",
            rating=3,
            topics=[topics["study"]],
            results=[results["info_advice"], results["referral_clb"]],
        ),
        "c4": make_chat(
            at(2025, 3, 13, 19, 0),
            operator=anna,
            wait=minutes(8),
            duration=minutes(10),
            age=15,
            gender="x",
            device_class="mobile",
            rating=4,
            topics=[topics["motivation"]],
            results=[results["info_advice"]],
            prank=True,
        ),
        "c5": make_chat(at(2024, 10, 1, 18, 30), end_reason="missed"),
        "c6": make_chat(at(2024, 11, 4, 20, 55), end_reason="closed", audience="parent"),
        "c7": make_chat(at(2025, 5, 14, 15, 0), status="queued"),
        "p1": make_chat(
            at(2023, 10, 10, 18, 0),
            operator=bart,
            wait=minutes(1),
            duration=minutes(15),
            topics=[topics["corona"]],
            results=[results["support"]],
        ),
        "p2": make_chat(
            at(2024, 3, 5, 18, 0), operator=bart, wait=minutes(1), duration=minutes(15)
        ),
        "b1": make_chat(
            at(2024, 8, 31, 23, 30), operator=bart, wait=minutes(1), duration=minutes(15)
        ),
        "b2": make_chat(
            at(2025, 9, 1, 0, 30), operator=bart, wait=minutes(1), duration=minutes(15)
        ),
    }
    return Dataset(
        anna=anna,
        bart=bart,
        coordinator=coordinator,
        analyst=analyst,
        topics=topics,
        results=results,
        chats=chats,
    )


@pytest.fixture
def chat_factory(db: None) -> Callable[..., Conversation]:
    return make_chat


def approx(value: Any) -> Any:
    return pytest.approx(value, rel=1e-9, abs=1e-9)
