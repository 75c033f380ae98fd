"""The annual report: ``onthaal report`` (PDF, HTML, JSON) and the dashboard's download.

The report of 2024-2025 is rendered once for the module (charts and a PDF
take seconds), from two school years built by hand:

- 2024-2025: 1,204 chats held. Four registered by hand (as in conftest:
  suicide and bullying, study choice with a parent, a suspected prank call,
  ratings 5, 3 and 4) and 1,200 more (every fifth with a parent, ratings
  1 to 5 in turn), two missed.
- 2023-2024: 1,000 chats held, one about bullying.

So the report reads "1.204 chatgesprekken", 20,4 % more than 2023-2024.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.test import Client
from django.utils import translation
from pypdf import PdfReader

from onthaal.chat.models import Conversation
from onthaal.hours.services import school_calendar_generate, weekly_hours_seed_defaults
from onthaal.registration.models import Result, Topic
from onthaal.staff.models import Discipline, Role, User
from onthaal.staff.services import operator_create
from onthaal.stats import report
from onthaal.stats.tests.conftest import PASSWORD, Dataset, at, make_chat

# Every test here reads the database (the module's renderings too: without the
# mark, a run of only those would not set the test database up).
pytestmark = pytest.mark.django_db

# Pseudonyms no report text could contain by chance: the report names no operator.
PSEUDONYMS = ("Quirinus Zwaluw", "Xaveria Pimpernel")


def _staff(username: str, pseudonym: str, discipline: str) -> User:
    return operator_create(
        username=username, password=PASSWORD, discipline=discipline, pseudonym=pseudonym
    )


def _many_chats(
    count: int, *, first_day: datetime, operator: User, salt: int
) -> list[Conversation]:
    """``count`` chats held on weekdays 17:00–20:59, spread over ten months."""
    chats = []
    for n in range(count):
        queued = first_day + timedelta(days=(n * 7) % 300, hours=n % 4, minutes=n % 50)
        while queued.weekday() >= 5:  # the default hours: Monday to Thursday evening
            queued -= timedelta(days=2)
        accepted = queued + timedelta(minutes=1 + n % 5)
        ended = accepted + timedelta(minutes=5 + n % 40)
        chats.append(
            Conversation(
                channel="chat",
                status="ended",
                end_reason="visitor_ended",
                audience="parent" if n % 5 == 0 else "pupil",
                age=12 + n % 7 if n % 5 else None,
                gender=("girl", "boy", "x", "")[n % 4] if n % 5 else "",
                device_class="mobile" if n % 3 == 0 else "desktop",
                queued_at=queued,
                accepted_at=accepted,
                ended_at=ended,
                operator=operator,
                token_hash=f"{salt:08x}{n:056x}",
                visitor_seen_at=ended,
                rating=1 + n % 5 if n % 2 else None,
            )
        )
    return Conversation.objects.bulk_create(chats)


def _build_two_years() -> None:
    weekly_hours_seed_defaults()
    for school_year in (2023, 2024):
        school_calendar_generate(school_year=school_year)
    anna = _staff("rapport-anna", PSEUDONYMS[0], Discipline.PSYCHO_PEDAGOGUE)
    bart = _staff("rapport-bart", PSEUDONYMS[1], Discipline.NURSE)
    topic = {t.name: t for t in Topic.objects.all()}
    suicide, bullying = topic["zelfmoordgedachten"], topic["pesten / cyberpesten"]
    results = {r.code: r for r in Result.objects.all()}
    minutes = timedelta(minutes=1)
    make_chat(
        at(2024, 10, 1, 18),
        operator=anna,
        wait=2 * minutes,
        duration=20 * minutes,
        age=14,
        gender="girl",
        referral_source="smartschool",
        device_class="mobile",
        rating=5,
        topics=[suicide, bullying],
        results=[results["support"], results["referral_clb"]],
    )
    make_chat(
        at(2024, 11, 4, 17, 30),
        operator=bart,
        wait=6 * minutes,
        duration=60 * minutes,
        audience="parent",
        referral_source="clb_website",
        rating=3,
        topics=[topic["studiekeuze / schoolloopbaan"]],
        results=[results["info_advice"], results["referral_clb"]],
    )
    make_chat(
        at(2025, 3, 13, 19),
        operator=anna,
        wait=8 * minutes,
        duration=10 * minutes,
        age=15,
        gender="x",
        rating=4,
        topics=[topic["motivatie"]],
        results=[results["info_advice"]],
        prank=True,
    )
    make_chat(
        at(2025, 2, 3, 19),
        operator=bart,
        wait=3 * minutes,
        duration=15 * minutes,
        topics=[bullying],
        results=[results["broke_off"]],
    )
    make_chat(at(2024, 10, 1, 18, 30), end_reason="missed")
    make_chat(at(2024, 11, 4, 20, 55), end_reason="closed", audience="parent")
    _many_chats(1200, first_day=at(2024, 9, 2, 17), operator=anna, salt=0xA11)
    make_chat(
        at(2023, 10, 10, 18),
        operator=bart,
        wait=minutes,
        duration=15 * minutes,
        topics=[bullying],
        results=[results["support"]],
    )
    _many_chats(999, first_day=at(2023, 9, 4, 17), operator=bart, salt=0xB22)


def _command(*args: str) -> str:
    out = io.StringIO()
    call_command("report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def _text(pdf: bytes) -> list[str]:
    """The text of each page, whitespace (no-break spaces too) collapsed."""
    reader = PdfReader(io.BytesIO(pdf))
    return [re.sub(r"\s+", " ", page.extract_text() or "") for page in reader.pages]


@dataclass(frozen=True)
class Rendered:
    html: str
    html_file: Path
    pdf: bytes
    pages: list[str]
    data: dict[str, Any]
    empty_pdf: bytes

    @property
    def text(self) -> str:
        return " ".join(self.pages)


@pytest.fixture(scope="module")
def rendered(
    django_db_setup: None, django_db_blocker: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Rendered]:
    """Every rendering the tests read, made once; the rows are rolled back after."""
    html_file = tmp_path_factory.mktemp("report") / "jaarverslag.html"
    with django_db_blocker.unblock(), transaction.atomic():
        _build_two_years()
        _command("--year", "2024-2025", "--format", "html", "--output", str(html_file))
        html = html_file.read_text(encoding="utf-8")
        # The PDF of that same page, as the command prints it (report_render).
        pdf = report.report_pdf(html)
        data = json.loads(_command("--year", "2024-2025", "--format", "json"))
        # The whole command on a year without chats, the PDF to stdout.
        binary = io.BytesIO()
        stdout = io.TextIOWrapper(binary, encoding="utf-8")
        call_command("report", "--year", "2010-2011", stdout=stdout, stderr=io.StringIO())
        stdout.flush()
        empty_pdf = binary.getvalue()
        transaction.set_rollback(True)
    yield Rendered(
        html=html,
        html_file=html_file,
        pdf=pdf,
        pages=_text(pdf),
        data=data,
        empty_pdf=empty_pdf,
    )


# --- the PDF ----------------------------------------------------------------------------


def test_the_pdf_has_a_title_page_with_the_school_year(rendered: Rendered) -> None:
    assert rendered.pdf.startswith(b"%PDF-")
    title = rendered.pages[0]
    assert "CLBch@t" in title
    assert "Jaarverslag 2024-2025" in title
    assert "Schooljaar van 1 september 2024 tot en met 31 augustus 2025" in title


def test_the_pdf_has_contents_and_numbered_pages(rendered: Rendered) -> None:
    pages = rendered.pages
    assert len(pages) >= 10
    contents = pages[1]
    assert "Inhoud" in contents
    assert re.search(r"Het jaar in cijfers[ .]*\d+", contents)
    # Page numbers in the footer from page 2 on; none on the title page.
    assert f"2 / {len(pages)}" in pages[1]
    assert f"{len(pages)} / {len(pages)}" in pages[-1]
    assert f"1 / {len(pages)}" not in pages[0]


def test_the_pdf_has_every_section(rendered: Rendered) -> None:
    for heading in (
        "Voorwoord",
        "2024-2025 in een oogopslag",
        "Het jaar in cijfers",
        "Evolutie van het aantal chatgesprekken per jaar",
        "Chats per maand",
        "Drukte, wachttijd en gemiste chats",
        "Leerlingen en ouders",
        "Hoe vonden leerlingen en ouders de weg naar de chat?",
        "Chatonderwerpen",
        "Top 10 chatonderwerpen van leerlingen",
        "Top 10 chatonderwerpen van ouders",
        "Resultaten van de chatgesprekken",
        "Tevredenheid",
        "Leerlingen op de chat",
        "Gevolgde thema’s door de jaren",
        "Nepoproepen",
        "Het team chatmedewerkers",
        "Over deze cijfers",
    ):
        assert heading in rendered.text, heading


def test_the_pdf_writes_numbers_the_flemish_way(rendered: Rendered) -> None:
    text = rendered.text
    assert (
        "Tijdens het schooljaar 2024-2025 werden 1.204 chatgesprekken gevoerd "
        "met leerlingen en ouders." in text
    )
    # The key figures: 963 of 1,204 chats held with pupils, 241 with parents.
    assert re.search(r"963 ?gesprekken met leerlingen \(80,0 %\)", text)
    assert re.search(r"241 ?gesprekken met ouders \(20,0 %\)", text)
    assert "Chats per openingsdag 6,7 5,6 +19,7 %" in text


def test_the_pdf_compares_with_the_year_before(rendered: Rendered) -> None:
    text = rendered.text
    assert (
        "Dat is een stijging met 20,4 % in vergelijking met het schooljaar 2023-2024 "
        "(1.000 chatgesprekken)." in text
    )
    assert "2024-2025 naast 2023-2024" in text
    assert "Gevoerde chats 1.204 1.000 +20,4 %" in text


def test_the_pdf_names_topics_and_no_operator(rendered: Rendered) -> None:
    text = rendered.text
    assert "zelfmoordgedachten" in text
    assert "Chatgesprekken over ‘pesten / cyberpesten’" in text
    for pseudonym in PSEUDONYMS:
        assert pseudonym not in text


# --- the HTML ---------------------------------------------------------------------------


def test_the_html_is_one_self_contained_page_with_svg_charts(rendered: Rendered) -> None:
    html = rendered.html
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="nl-BE">' in html
    images = re.findall(r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', html)
    assert len(images) >= 12
    svg = base64.b64decode(images[0]).decode("utf-8")
    assert "<svg" in svg
    assert "DejaVu Sans" in svg
    # Nothing outside the file: every src and href is a data: URI or a #fragment.
    links = re.findall(r"""(?:src|href)\s*=\s*["']?([^"'\s>]*)""", html)
    assert links
    assert all(link.startswith(("data:", "#")) for link in links), [
        link for link in links if not link.startswith(("data:", "#"))
    ]
    assert "http://" not in html
    assert "https://" not in html
    assert "<script" not in html
    assert "<link" not in html
    for pseudonym in PSEUDONYMS:
        assert pseudonym not in html


def _chart(html: str, title: str) -> str:
    """The SVG of the chart with this title (its alt text)."""
    found = re.search(
        r'<img src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)" alt="' + re.escape(title) + '"',
        html,
    )
    assert found, title
    return base64.b64decode(found[1]).decode("utf-8")


def _axis_top(svg: str) -> int:
    """The largest whole number written in a chart (its value axis's top tick)."""
    return max(int(n.replace(".", "")) for n in re.findall(r">\s*([0-9][0-9.]*)\s*<", svg))


@pytest.mark.parametrize(
    ("title", "top"),
    [
        ("Gevoerde chats per schooljaar", 1204),
        ("Gevoerde chats per maand, naast dezelfde maand een jaar eerder", 100),
        ("Gevoerde en gemiste chats per uur van de dag", 100),
        ("Chats in de wachtrij per weekdag en uur", 50),
        ("Antwoorden op de vraag bij het begin van de chat", 1),
    ],
)
def test_the_charts_draw_the_figures(rendered: Rendered, title: str, top: int) -> None:
    svg = _chart(rendered.html, title)
    assert "<svg" in svg
    assert _axis_top(svg) >= top


def test_the_output_option_writes_the_file(rendered: Rendered) -> None:
    assert rendered.html_file.read_bytes().decode("utf-8") == rendered.html


# --- the JSON ---------------------------------------------------------------------------


def test_the_json_holds_the_figures_of_the_report(rendered: Rendered) -> None:
    data = rendered.data
    assert set(data) == {
        "school_year",
        "audience",
        "figures",
        "previous_year",
        "trends",
        "foreword",
    }
    assert data["foreword"] is None  # none written: the report writes its own
    assert data["school_year"] == {
        "year": 2024,
        "label": "2024-2025",
        "start": "2024-09-01",
        "end": "2025-08-31",
    }
    assert data["audience"] is None
    assert data["figures"]["totals"]["held"] == 1204
    assert data["figures"]["totals"]["missed"] == 2
    assert data["previous_year"]["totals"]["held"] == 1000
    assert [row["label"] for row in data["trends"]["years"]] == ["2023-2024", "2024-2025"]
    assert [t["name"] for t in data["trends"]["topics"]] == [
        "zelfmoordgedachten",
        "pesten / cyberpesten",
    ]
    # Published: counts by discipline, but no operator by name.
    assert data["figures"]["operators"]["count"] == 2
    assert data["figures"]["operators"]["per_operator"] == []
    assert data["previous_year"]["operators"]["per_operator"] == []


# --- the command ------------------------------------------------------------------------


def test_the_english_report_speaks_the_domain_vocabulary(dataset: Dataset) -> None:
    """DOMAIN.md's English words: topics (not subjects), (suspected) prank
    calls (not prank chats), operators (not chat operators), chats held,
    missed chats. The main catalog (LOCALE_PATHS) is read before the stats
    app's own, so a stale copy of a report string there would win."""
    html = _command("--year", "2024-2025", "--format", "html", "--language", "en")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    for words in (
        "Topics",
        "Top 10 topics of pupils",
        "Topics and results",
        "Prank calls",
        "Suspected prank calls",
        "suspected a prank call",
        "Followed topics over the years",
        "The team of operators",
        "Active operators",
        "Chats held",
        "Missed chats (share)",
        "Chats per opening day",
        "Chats that broke off",
        "How did pupils and parents find the chat?",
        "Pupils",
        "Parents",
    ):
        assert words in text, words
    lowered = text.lower()
    for wrong in ("subject", "prank chat", "chat operator", "cut-off", "cut off", "conversation"):
        assert wrong not in lowered, wrong
    for dutch in ("Chatonderwerpen", "Nepoproepen", "chatmedewerker", "Gevoerde chats"):
        assert dutch not in text, dutch


def test_a_pdf_goes_to_stdout_as_bytes(rendered: Rendered) -> None:
    assert rendered.empty_pdf.startswith(b"%PDF-")
    assert "Jaarverslag 2010-2011" in _text(rendered.empty_pdf)[0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--year", "2024-2026"], "2024-2025"),
        (["--year", "vorig jaar"], "2024-2025"),
        (["--year", "2024", "--format", "docx"], "invalid choice"),
        (["--year", "2024", "--language", "fr"], "invalid choice"),
    ],
)
def test_bad_arguments_are_refused_clearly(db: None, args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("report", *args, stdout=io.StringIO(), stderr=io.StringIO())


def test_a_pdf_needs_a_file_when_stdout_takes_text_only(db: None) -> None:
    with pytest.raises(CommandError, match="--output"):
        call_command("report", "--year", "2024", stdout=io.StringIO(), stderr=io.StringIO())


# --- formatting -------------------------------------------------------------------------


def test_numbers_are_flemish_in_dutch_and_english_in_english() -> None:
    with translation.override("nl-be"):
        assert report.number(7626) == "7.626"
        assert report.number(4.2403, 2) == "4,24"
        assert report.number(0.125, 2) == "0,13"  # half up, not cut off
        assert report.number(-0.04, 1) == "0,0"
        assert report.percent(0.809) == "80,9\N{NO-BREAK SPACE}%"
        assert report.change_percent(-8.506) == "\N{MINUS SIGN}8,5\N{NO-BREAK SPACE}%"
        assert report.change_percent(20.4) == "+20,4\N{NO-BREAK SPACE}%"
        assert report.change_points(0.07, 0.0731) == "\N{MINUS SIGN}0,3\N{NO-BREAK SPACE}pp"
        assert report.minutes(1146.05) == "19,1\N{NO-BREAK SPACE}min"
        assert report.number(None) == "–"
    with translation.override("en"):
        assert report.number(7626) == "7,626"
        assert report.percent(0.809) == "80.9%"
        assert report.number(4.2403, 2) == "4.24"


def test_the_web_app_starts_without_matplotlib_and_weasyprint() -> None:
    code = (
        "import sys, django; django.setup(); import onthaal.urls; "
        "print([m for m in ('matplotlib', 'weasyprint') if m in sys.modules])"
    )
    started = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "onthaal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert started.stdout.strip() == "[]"


def test_charts_are_the_same_svg_every_time() -> None:
    with translation.override("nl-be"):
        first = report.chart_lines(["2023-2024", "2024-2025"], [("chats", [1000, 1204], "#000")])
        second = report.chart_lines(["2023-2024", "2024-2025"], [("chats", [1000, 1204], "#000")])
    assert first == second
    svg = base64.b64decode(first.split(",", 1)[1]).decode("utf-8")
    assert "1.204" in svg
    assert "<dc:date>" not in svg


# --- the download on the dashboard ---------------------------------------------------------


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_login(db: None) -> None:
    response = _client().get("/cijfers/jaarverslag/?year=2024-2025&format=pdf")
    assert response.status_code == 302
    assert response["Location"].startswith("/medewerker/")


def test_an_operator_may_not_download_the_report(dataset: Dataset) -> None:
    response = _client(dataset.anna).get("/cijfers/jaarverslag/?year=2024-2025&format=pdf")
    assert response.status_code == 403


def test_a_coordinator_downloads_the_pdf(db: None) -> None:
    coordinator = operator_create(
        username="coco", password=PASSWORD, discipline=Discipline.DOCTOR, role=Role.COORDINATOR
    )
    response = _client(coordinator).get("/cijfers/jaarverslag/?year=2024-2025&format=pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="jaarverslag-2024-2025.pdf"'
    assert response.content.startswith(b"%PDF-")


def test_an_analyst_downloads_the_english_html_of_one_audience(db: None) -> None:
    analyst = operator_create(
        username="ali", password=PASSWORD, discipline=Discipline.NURSE, role=Role.ANALYST
    )
    response = _client(analyst).get(
        "/cijfers/jaarverslag/?year=2024&format=html&audience=parent&language=en"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Disposition"] == (
        'attachment; filename="jaarverslag-2024-2025-parent.html"'
    )
    html = response.content.decode()
    assert '<html lang="en">' in html
    assert "Annual report 2024-2025" in html
    assert "Only the chats with: Parents" in html
    # The headings whose English every catalog agrees on (the wording of the
    # others is the translators' to choose); none is left in Dutch.
    for heading in ("Contents", "Foreword", "2024-2025 at a glance", "Satisfaction"):
        assert f">{heading}</h2>" in html, heading
    assert ">About these figures</h2>" in html
    for dutch in ("Voorwoord", "Het jaar in cijfers", "Tevredenheid", "Over deze cijfers"):
        assert f">{dutch}</h2>" not in html, dutch
    assert "Pupils on the chat" not in html  # a parents' report


@pytest.mark.parametrize("query", ["year=2024&format=json", "year=2024-2026", "audience=x"])
def test_bad_downloads_are_refused(dataset: Dataset, query: str) -> None:
    response = _client(dataset.coordinator).get(f"/cijfers/jaarverslag/?{query}")
    assert response.status_code == 400


def test_the_dashboard_links_to_the_report_for_those_who_may_download_it(
    dataset: Dataset,
) -> None:
    link = "/cijfers/jaarverslag/?year=2024-2025&amp;format=pdf"
    html = _client(dataset.coordinator).get("/cijfers/?start=2024-09-01&end=2025-08-31")
    assert link in html.content.decode()
    html = _client(dataset.bart).get("/cijfers/?start=2024-09-01&end=2025-08-31")
    assert "/cijfers/jaarverslag/" not in html.content.decode()
