"""The figures run a fixed number of queries, whatever the number of chats."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext

from onthaal.registration.models import Result, Topic
from onthaal.stats.figures import Filters, figures_for, trends
from onthaal.stats.tests.conftest import Dataset, at, make_chat

YEAR = Filters(start=date(2024, 9, 1), end=date(2025, 8, 31))


def _add_chats(dataset: Dataset, count: int) -> None:
    topics = list(Topic.objects.all()[:5])
    results = list(Result.objects.all()[:3])
    for i in range(count):
        make_chat(
            at(2024, 10, 1, 17) + timedelta(days=i % 200, minutes=i),
            operator=dataset.anna if i % 3 else dataset.bart,
            wait=timedelta(minutes=i % 7),
            duration=timedelta(minutes=5 + i % 40),
            audience="pupil" if i % 4 else "parent",
            rating=1 + i % 5 if i % 2 else None,
            topics=topics[: 1 + i % 5],
            results=results[: 1 + i % 3],
            prank=i % 17 == 0,
        )


def _queries(function, *args, **kwargs) -> int:  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as context:
        function(*args, **kwargs)
    return len(context.captured_queries)


def test_figures_for_does_not_grow_with_the_number_of_chats(dataset: Dataset) -> None:
    _add_chats(dataset, 10)
    with_ten = _queries(figures_for, YEAR)
    _add_chats(dataset, 40)
    with_fifty = _queries(figures_for, YEAR)
    assert with_ten == with_fifty
    assert with_fifty <= 20


def test_trends_run_one_query_per_school_year_and_three_more(dataset: Dataset) -> None:
    _add_chats(dataset, 10)
    topics = ["zelfmoordgedachten", "pesten / cyberpesten"]
    with_ten = _queries(trends, 2015, 2024, topics=topics)
    _add_chats(dataset, 40)
    assert _queries(trends, 2015, 2024, topics=topics) == with_ten == 10 + 3
