"""``onthaal import FILE``: history from an earlier tool, CSV or JSON Lines."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from onthaal.chat.models import Conversation, ConversationEvent
from onthaal.history.formats import Format, SourceRow, rows_read
from onthaal.history.services import conversations_import
from onthaal.history.tests.conftest import run_command
from onthaal.registration.models import Domain, Registration, Topic
from onthaal.staff.models import User

pytestmark = pytest.mark.django_db

BRUSSELS = ZoneInfo("Europe/Brussels")

HEADER = (
    "external_id,channel,queued_at,accepted_at,ended_at,end_reason,audience,age,gender,"
    "referral_source,device_class,rating,operator,topics,results,prank_suspected"
)
GOOD_CSV = (
    HEADER
    + "\n"
    # codes, an operator by username, a topic as DOMAIN:name and by name
    + "sit-1,chat,2024-10-07T18:02:00+02:00,2024-10-07T18:05:30+02:00,"
    "2024-10-07T18:31:00+02:00,visitor_ended,pupil,15,girl,smartschool,mobile,5,lotte,"
    "PSF:relatievaardigheid|zelfmoordgedachten,support|referral_clb,false\n"
    # Dutch labels, naive times (Brussels), an operator by pseudonym
     + 'sit-2,,2024-10-08 19:00,2024-10-08 19:01,2024-10-08 19:40,,ouder,,,"Website van het CLB",'
    'gsm of tablet,,Jonas,studiekeuze / schoolloopbaan,"info en advies|doorverwezen naar '
    'CLB",nee\n'
    # a missed chat: never accepted, no registration
     + "sit-3,,2024-10-09T17:10:00+02:00,,2024-10-09T17:14:00+02:00,missed,pupil,13,boy,"
    "internet,desktop,,,,,\n"
)


@pytest.fixture
def operators(db: None) -> tuple[User, User]:
    lotte = User.objects.create_user(username="lotte", pseudonym="Lotte", password=None)
    jonas = User.objects.create_user(username="jonas.v", pseudonym="Jonas", password=None)
    return lotte, jonas


def test_a_good_csv_file_is_imported(write_file, operators) -> None:
    lotte, jonas = operators
    run = run_command("import", str(write_file("export.csv", GOOD_CSV)), quiet=True)

    assert run.ok, run.error
    assert "Imported 3 rows: 3 new, 0 already present (2 registrations)" in run.out
    first, second, missed = Conversation.objects.order_by("external_id")
    assert {c.origin for c in (first, second, missed)} == {"imported"}
    assert {c.status for c in (first, second, missed)} == {"ended"}

    assert first.external_id == "sit-1"
    assert first.queued_at == datetime(2024, 10, 7, 16, 2, tzinfo=UTC)
    assert first.accepted_at == datetime(2024, 10, 7, 16, 5, 30, tzinfo=UTC)
    assert (first.audience, first.age, first.gender) == ("pupil", 15, "girl")
    assert (first.referral_source, first.device_class, first.rating) == ("smartschool", "mobile", 5)
    assert first.operator == lotte
    assert first.visitor_seen_at == first.ended_at
    registration = first.registration
    assert registration.operator == lotte
    assert sorted(registration.topics.values_list("name", flat=True)) == [
        "relatievaardigheid",
        "zelfmoordgedachten",
    ]
    assert sorted(registration.results.values_list("code", flat=True)) == [
        "referral_clb",
        "support",
    ]
    assert registration.created_at == first.ended_at
    assert list(first.events.values_list("kind", flat=True)) == [
        "queued",
        "accepted",
        "ended",
        "rated",
        "registered",
    ]

    # Naive times are Brussels wall-clock times (CEST in October).
    assert second.queued_at == datetime(2024, 10, 8, 19, 0, tzinfo=BRUSSELS)
    assert (second.audience, second.referral_source, second.device_class) == (
        "parent",
        "clb_website",
        "mobile",
    )
    assert second.operator == jonas
    assert second.end_reason == "visitor_ended"  # the default for an accepted chat
    assert sorted(second.registration.results.values_list("code", flat=True)) == [
        "info_advice",
        "referral_clb",
    ]

    assert (missed.end_reason, missed.operator, missed.accepted_at) == ("missed", None, None)
    assert not Registration.objects.filter(conversation=missed).exists()
    assert list(missed.events.values_list("kind", flat=True)) == ["queued", "ended"]

    # No visitor holds a token for these chats: three different random hashes.
    assert len({c.token_hash for c in (first, second, missed)}) == 3
    assert all(len(c.token_hash) == 64 for c in (first, second, missed))


def test_a_good_jsonl_file_is_imported(write_file, operators) -> None:
    lines = [
        {
            "external_id": "sit-10",
            "queued_at": "2024-11-04T17:30:00+01:00",
            "accepted_at": "2024-11-04T17:33:00+01:00",
            "ended_at": "2024-11-04T17:59:00+01:00",
            "audience": "leerling",
            "age": 16,
            "gender": "X",
            "rating": 4,
            "topics": ["PSF:pesten / cyberpesten", "depressie"],
            "results": ["broke_off"],
            "prank_suspected": True,
        },
        {
            "external_id": 11,
            "queued_at": "2024-11-05T17:30:00Z",
            "ended_at": "2024-11-05T17:32:00Z",
            "end_reason": "closed",
            "age": None,
        },
    ]
    path = write_file("export.jsonl", "\n".join(json.dumps(line) for line in lines) + "\n\n")

    run = run_command("import", str(path), quiet=True)

    assert run.ok, run.error
    assert "2 new, 0 already present" in run.out
    chat = Conversation.objects.get(external_id="sit-10")
    assert (chat.audience, chat.age, chat.gender, chat.rating) == ("pupil", 16, "x", 4)
    # A chat registered as broken off ended as broken off unless the file says otherwise.
    assert chat.end_reason == "broke_off"
    assert chat.operator is None
    registration = chat.registration
    assert registration.prank_suspected is True
    assert sorted(registration.topics.values_list("name", flat=True)) == [
        "depressie",
        "pesten / cyberpesten",
    ]
    # Without a known operator, the registration is filed under the placeholder.
    placeholder = registration.operator
    assert placeholder.username == "import"
    assert not placeholder.is_active
    assert not placeholder.has_usable_password()
    closed = Conversation.objects.get(external_id="11")
    assert closed.end_reason == "closed"
    assert closed.queued_at == datetime(2024, 11, 5, 17, 30, tzinfo=UTC)


def test_invalid_rows_are_reported_by_line_and_nothing_is_imported(write_file, operators) -> None:
    text = (
        HEADER + "\n"
        "ok-1,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,"
        "2024-10-07T18:20:00+02:00,,pupil,,,,,,,,info_advice,\n"
        "bad-3,,2024-10-07T18:00:00+02:00,,2024-10-07T17:00:00+02:00,,,,,,,,,,,\n"
        "bad-4,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,,,,,,,,7,,,,\n"
        "bad-5,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,,,,,,,,,,xyz,,\n"
        "ok-1,,2024-10-07T19:00:00+02:00,,,,,,,,,,,,,\n"
        "bad-7,,yesterday,,,,,,,,,,,,,\n"
        ",,2024-10-07T18:00:00+02:00,,,,,,,,,,,,,\n"
        "bad-9,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,,,,,,,,,nobody,,,\n"
        "bad-10,,2024-10-07T18:00:00+02:00,,,,,,,,,,,,support,\n"
        "bad-11,,2024-10-07T18:00:00+02:00,,,,teacher,,,,,,,,,\n"
        "bad-12,,2024-10-07T18:00:00+02:00,,,,,,,,,,,\n"
    )

    run = run_command("import", str(write_file("export.csv", text)), quiet=True)

    assert not run.ok
    assert "10 invalid row(s) of 11; nothing was imported" in run.error
    # Line 2 is valid; line 6 repeats its external_id.
    assert run.err.splitlines() == [
        "line 3: ended_at before queued_at",
        "line 4: rating 7 is not 1–5",
        "line 5: topic 'xyz' is unknown",
        "line 6: external_id 'ok-1' appears twice (first on line 2)",
        "line 7: queued_at 'yesterday' is not an ISO 8601 date and time "
        "(e.g. 2024-10-07T18:25:00+02:00)",
        "line 8: external_id is required",
        "line 9: operator 'nobody' is unknown (no account has it as username or pseudonym)",
        "line 10: topics, results or prank_suspected given for a chat that was never accepted",
        "line 11: audience 'teacher' is unknown (one of: parent, pupil)",
        "line 12: 14 fields where the header names 16 columns",
    ]
    assert Conversation.objects.count() == 0
    assert not User.objects.filter(username="import").exists()


def test_skip_invalid_imports_the_valid_rows_and_lists_the_rest(write_file, operators) -> None:
    text = (
        GOOD_CSV
        + "sit-4,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,,,,,,,,9,,,,\n"
        + "sit-5,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,,,,,,,,,,,unknown,\n"
    )

    run = run_command("import", str(write_file("export.csv", text)), quiet=True, skip_invalid=True)

    assert run.ok, run.error
    assert "Imported 3 rows: 3 new, 0 already present (2 registrations); 2 invalid" in run.out
    assert run.err.splitlines() == [
        "line 5: rating 9 is not 1–5",
        "line 6: result 'unknown' is unknown",
    ]
    assert sorted(Conversation.objects.values_list("external_id", flat=True)) == [
        "sit-1",
        "sit-2",
        "sit-3",
    ]


def test_dry_run_checks_and_counts_but_writes_nothing(write_file, operators) -> None:
    path = write_file("export.csv", GOOD_CSV + "sit-9,,not a date,,,,,,,,,,,,,\n")
    run_command("import", str(path), quiet=True, skip_invalid=True)  # sit-1 … sit-3
    Conversation.objects.filter(external_id="sit-3").delete()
    before = (Conversation.objects.count(), Registration.objects.count(), User.objects.count())

    run = run_command("import", str(path), quiet=True, dry_run=True)

    assert not run.ok  # an invalid row without --skip-invalid
    assert "Dry run: 4 rows checked: 1 new, 2 already present, 1 invalid." in run.out
    assert "line 5: queued_at 'not a date'" in run.err
    after = (Conversation.objects.count(), Registration.objects.count(), User.objects.count())
    assert after == before

    run = run_command("import", str(path), quiet=True, dry_run=True, skip_invalid=True)
    assert run.ok
    assert Conversation.objects.count() == before[0]


def test_a_dry_run_does_not_create_the_placeholder_account(write_file) -> None:
    text = HEADER + "\nx,,2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,,,,,,,,,,,support,\n"

    run = run_command("import", str(write_file("x.csv", text)), quiet=True, dry_run=True)

    assert run.ok, run.error
    assert "1 new" in run.out
    assert not User.objects.filter(username="import").exists()


def test_running_an_import_twice_adds_nothing(write_file, operators) -> None:
    path = write_file("export.csv", GOOD_CSV)
    run_command("import", str(path), quiet=True)
    counts = (
        Conversation.objects.count(),
        Registration.objects.count(),
        ConversationEvent.objects.count(),
        Registration.topics.through.objects.count(),
    )

    again = run_command("import", str(path), quiet=True)

    assert again.ok, again.error
    assert "Imported 3 rows: 0 new, 3 already present." in again.out
    assert (
        Conversation.objects.count(),
        Registration.objects.count(),
        ConversationEvent.objects.count(),
        Registration.topics.through.objects.count(),
    ) == counts


def test_codes_and_dutch_labels_are_both_accepted(write_file) -> None:
    base = "2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,2024-10-07T18:20:00+02:00"
    text = (
        "external_id,queued_at,accepted_at,ended_at,end_reason,audience,gender,"
        "referral_source,device_class,topics,results\n"
        f"codes,{base},operator_ended,parent,boy,earlier_visit,desktop,"
        "OLB:studiekeuze / schoolloopbaan|L&S:motivatie,info_advice|referral_onderwijskiezer\n"
        f"labels,{base},beëindigd door chatmedewerker,Ouder,Jongen,Ik bezocht CLBch@t eerder al,"
        "Computer,  Studiekeuze / Schoolloopbaan | l&s : MOTIVATIE ,"
        "Info en advies|doorverwezen naar Onderwijskiezer\n"
    )

    run = run_command("import", str(write_file("labels.csv", text)), quiet=True)

    assert run.ok, run.error
    codes, labels = (
        Conversation.objects.get(external_id="codes"),
        Conversation.objects.get(external_id="labels"),
    )

    def described(chat: Conversation) -> tuple:
        return (
            chat.end_reason,
            chat.audience,
            chat.gender,
            chat.referral_source,
            chat.device_class,
            sorted(chat.registration.topics.values_list("pk", flat=True)),
            sorted(chat.registration.results.values_list("pk", flat=True)),
        )

    assert described(codes) == described(labels)
    assert described(codes)[:5] == ("operator_ended", "parent", "boy", "earlier_visit", "desktop")


def test_a_topic_name_in_two_domains_needs_its_domain(write_file) -> None:
    Topic.objects.create(domain=Domain.objects.get(code="PGZ"), name="motivatie")
    base = "2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00"
    text = f"external_id,queued_at,accepted_at,topics\na,{base},motivatie\nb,{base},PGZ:motivatie\n"

    run = run_command("import", str(write_file("t.csv", text)), quiet=True, skip_invalid=True)

    assert run.err.splitlines() == [
        "line 2: topic 'motivatie' exists in several domains: write DOMAIN:motivatie"
    ]
    chat = Conversation.objects.get(external_id="b")
    assert list(chat.registration.topics.values_list("domain__code", flat=True)) == ["PGZ"]


def test_a_retired_topic_is_accepted_for_history(write_file) -> None:
    Topic.objects.filter(name="verslaving").update(is_active=False)
    text = (
        "external_id,queued_at,accepted_at,topics\n"
        "old,2019-03-05T18:00:00+01:00,2019-03-05T18:02:00+01:00,verslaving\n"
    )

    run = run_command("import", str(write_file("old.csv", text)), quiet=True)

    assert run.ok, run.error
    chat = Conversation.objects.get(external_id="old")
    assert list(chat.registration.topics.values_list("name", flat=True)) == ["verslaving"]


def test_an_ambiguous_pseudonym_and_consistency_rules(write_file, operators) -> None:
    User.objects.create_user(username="jonas.p", pseudonym="Jonas", password=None)
    base = "2024-10-07T18:00:00+02:00"
    text = (
        "external_id,queued_at,accepted_at,ended_at,end_reason,operator,rating\n"
        f"a,{base},2024-10-07T18:01:00+02:00,,,Jonas,\n"
        f"b,{base},2024-10-07T18:01:00+02:00,,missed,,\n"
        f"c,{base},,,visitor_ended,,\n"
        f"d,{base},,,,,3\n"
        f"e,{base},,,,jonas.v,\n"
        f"f,{base},2024-10-07T17:59:00+02:00,,,,\n"
        f"g,{base},2024-10-07T18:10:00+02:00,2024-10-07T18:05:00+02:00,,,\n"
        f"h,2999-01-01T18:00:00+01:00,,,,,\n"
        f"i,{base},2024-10-07T18:01:00+02:00,,,LOTTE,\n"
    )

    run = run_command("import", str(write_file("c.csv", text)), quiet=True, skip_invalid=True)

    assert run.err.splitlines() == [
        "line 2: operator 'Jonas' fits several accounts: give the username",
        "line 3: end_reason missed but the chat was accepted (accepted_at is set)",
        "line 4: end_reason visitor_ended needs accepted_at "
        "(unanswered chats are missed or closed)",
        "line 5: rating given for a chat that was never accepted",
        "line 6: operator given for a chat that was never accepted",
        "line 7: accepted_at before queued_at",
        "line 8: ended_at before accepted_at",
        "line 9: a time lies in the future",
    ]
    # A username matches before a pseudonym, whatever its case.
    assert Conversation.objects.get(external_id="i").operator.username == "lotte"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("external_id,queued_at,colour\n", "line 1: unknown column(s) 'colour'"),
        ("queued_at,age\n", "line 1: required column(s) missing: external_id"),
        ("external_id,queued_at,age,age\n", "line 1: column(s) named twice: age"),
        ("", "the CSV file is empty"),
    ],
)
def test_a_file_with_a_bad_header_is_refused(write_file, text, message) -> None:
    run = run_command("import", str(write_file("bad.csv", text)), quiet=True)

    assert not run.ok
    assert message in run.error


def test_the_format_comes_from_the_extension_or_the_option(write_file) -> None:
    text = "external_id;queued_at\nx;2024-10-07T18:00:00+02:00\n"  # Excel's semicolons
    path = write_file("export.txt", text)

    assert "cannot tell the format" in run_command("import", str(path)).error
    run = run_command("import", str(path), format="csv", quiet=True)
    assert run.ok, run.error
    assert Conversation.objects.filter(external_id="x").exists()


def test_jsonl_lines_that_are_not_objects_are_reported(write_file) -> None:
    text = (
        '{"external_id": "a", "queued_at": "2024-10-07T18:00:00+02:00"}\n'
        "[1, 2]\n"
        "{not json\n"
        '{"external_id": "b", "queued_at": "2024-10-07T18:00:00+02:00", "colour": "red"}\n'
        '{"external_id": "c", "queued_at": "2024-10-07T18:00:00+02:00", "topics": "a|b", '
        '"age": "twelve"}\n'
    )

    run = run_command("import", str(write_file("x.jsonl", text)), quiet=True)

    assert run.err.splitlines() == [
        "line 2: each line must hold one JSON object",
        "line 3: not valid JSON (Expecting property name enclosed in double quotes)",
        "line 4: unknown field(s) 'colour'",
        "line 5: age 'twelve' is not a whole number",
    ]


def test_a_quoted_cell_over_two_lines_keeps_the_line_numbers_right(write_file) -> None:
    text = (
        "external_id,queued_at,results\n"
        '"a\nb",2024-10-07T18:00:00+02:00,\n'
        "c,2024-10-07T18:00:00+02:00,unknown\n"
    )

    run = run_command("import", str(write_file("q.csv", text)), quiet=True)

    assert run.err.splitlines() == ["line 4: result 'unknown' is unknown"]


def _rows(text: str) -> list[SourceRow]:
    import io

    return list(rows_read(io.StringIO(text), Format.CSV))


def test_an_invalid_row_in_a_later_batch_undoes_the_earlier_batches(db) -> None:
    good = "".join(
        f"ok-{n},2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,support\n" for n in range(5)
    )
    rows = _rows("external_id,queued_at,accepted_at,results\n" + good + "late,nonsense,,\n")

    result = conversations_import(rows=rows, batch_size=2)

    assert not result.written
    assert [str(row) for row in result.invalid] == [
        "line 7: queued_at 'nonsense' is not an ISO 8601 date and time "
        "(e.g. 2024-10-07T18:25:00+02:00)"
    ]
    assert result.new == 5
    assert Conversation.objects.count() == 0
    assert not User.objects.filter(username="import").exists()


def test_duplicates_are_found_across_batches_and_progress_is_reported(db) -> None:
    rows = _rows(
        "external_id,queued_at\n"
        + "".join(f"id-{n % 4},2024-10-07T18:00:00+02:00\n" for n in range(6))
    )
    done: list[int] = []

    result = conversations_import(rows=rows, batch_size=4, skip_invalid=True, progress=done.append)

    assert result.written
    assert (result.rows, result.new, len(result.invalid)) == (6, 4, 2)
    assert [str(row) for row in result.invalid] == [
        "line 6: external_id 'id-0' appears twice (first on line 2)",
        "line 7: external_id 'id-1' appears twice (first on line 3)",
    ]
    assert done == [4, 2]


def test_the_queries_per_batch_do_not_grow_with_the_rows(db) -> None:
    def import_rows(count: int, prefix: str) -> int:
        text = "external_id,queued_at,accepted_at,ended_at,rating,topics,results\n" + "".join(
            f"{prefix}{n},2024-10-07T18:00:00+02:00,2024-10-07T18:01:00+02:00,"
            "2024-10-07T18:21:00+02:00,4,motivatie|depressie,support\n"
            for n in range(count)
        )
        with CaptureQueriesContext(connection) as queries:
            result = conversations_import(rows=_rows(text))
        assert result.written and result.new == count
        return len(queries)

    import_rows(1, "warm-")  # creates the placeholder account once
    assert import_rows(10, "a-") == import_rows(200, "b-")


def test_the_list_of_invalid_rows_is_cut_short(write_file) -> None:
    text = "external_id,queued_at\n" + "".join(f"r{n},later\n" for n in range(5))

    run = run_command("import", str(write_file("many.csv", text)), quiet=True, show_errors=2)

    assert run.err.splitlines() == [
        "line 2: queued_at 'later' is not an ISO 8601 date and time "
        "(e.g. 2024-10-07T18:25:00+02:00)",
        "line 3: queued_at 'later' is not an ISO 8601 date and time "
        "(e.g. 2024-10-07T18:25:00+02:00)",
        "… and 3 more invalid rows",
    ]
    assert "5 invalid row(s) of 5" in run.error


def test_standard_input_needs_a_format() -> None:
    run = run_command("import", "-")

    assert run.error == "reading standard input needs --format"


def test_a_missing_file_is_reported(tmp_path) -> None:
    run = run_command("import", str(tmp_path / "nowhere.csv"))

    assert run.error.startswith(f"cannot read {tmp_path / 'nowhere.csv'}")
