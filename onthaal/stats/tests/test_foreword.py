"""The coordinators' own foreword of an annual report: /cijfers/voorwoord/,
``onthaal report --foreword-file``, and the report that prints it."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from pypdf import PdfReader

from onthaal.staff.models import Discipline, Role, User
from onthaal.staff.services import operator_create
from onthaal.stats import report
from onthaal.stats.models import FOREWORD_MAX_CHARS, FOREWORD_MAX_PARAGRAPHS, Foreword
from onthaal.stats.tests.conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/cijfers/voorwoord/"
FOREWORD = (
    "Beste lezer,\n\n"
    "Dit jaar stond in het teken van de nieuwe chat.\n"
    "We danken elke chatmedewerker.\n\n"
    "Het coördinatieteam"
)
HOSTILE = (
    'Lees <script>alert("x")</script> en <b>vet</b> & <img src=x onerror=alert(1)>\n\n'
    "{{ secret }} {% debug %}"
)


def _user(role: str, username: str | None = None) -> User:
    return operator_create(
        username=username or role,
        password=PASSWORD,
        discipline=Discipline.SOCIAL_WORKER,
        role=role,
        pseudonym=(username or role).capitalize(),
    )


def _client(user: User | None = None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def _save(user: User, text: str, year: str = "2024-2025") -> object:
    return _client(user).post(URL, {"year": year, "text": text})


def _pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() or "" for page in reader.pages))


# --- who may write it ----------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_login() -> None:
    for response in (_client().get(URL), _client().post(URL, {"text": "x"})):
        assert response.status_code == 302
        assert response["Location"].startswith("/medewerker/")
    assert not Foreword.objects.exists()


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.ANALYST])
def test_operators_and_analysts_may_not_write_it(role: str) -> None:
    user = _user(role)
    assert _client(user).get(f"{URL}?year=2024-2025").status_code == 403
    assert _save(user, FOREWORD).status_code == 403  # type: ignore[attr-defined]
    assert not Foreword.objects.exists()
    # Nor through the service that the view calls.
    from onthaal.errors import PermissionDenied
    from onthaal.stats.services import foreword_set

    with pytest.raises(PermissionDenied):
        foreword_set(actor=user, school_year=2024, text=FOREWORD)
    assert not Foreword.objects.exists()


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.ADMINISTRATOR])
def test_coordinators_and_administrators_write_it(role: str) -> None:
    user = _user(role)
    client = _client(user)
    response = client.post(
        URL, {"year": "2024-2025", "text": FOREWORD.replace("\n", "\r\n") + "\r\n\r\n\r\n"}
    )
    assert response.status_code == 302
    assert response["Location"] == f"{URL}?year=2024-2025"
    foreword = Foreword.objects.get()
    assert foreword.school_year == 2024
    assert foreword.text == FOREWORD  # line ends and trailing blank lines tidied
    assert foreword.updated_by == user
    page = client.get(response["Location"]).content.decode()
    assert "Voorwoord van 2024-2025 bewaard." in page
    assert "Het coördinatieteam</textarea>" in page
    # Another year is another foreword; the form shows it empty.
    page = _client(user).get(f"{URL}?year=2023-2024").content.decode()
    assert "Nog geen eigen voorwoord" in page


def test_an_empty_foreword_brings_the_generated_one_back() -> None:
    coordinator = _user(Role.COORDINATOR)
    _save(coordinator, FOREWORD)
    assert Foreword.objects.count() == 1
    response = _save(coordinator, "  \r\n \r\n")
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert not Foreword.objects.exists()
    html = report.report_render(2024, format="html").decode()
    assert "Beste lezer" in html and "Veel leesplezier!" in html


def test_the_dashboard_links_to_the_foreword_for_coordinators_only() -> None:
    link = "/cijfers/voorwoord/?year=2024-2025"
    query = "/cijfers/?start=2024-09-01&end=2025-08-31"
    assert link in _client(_user(Role.COORDINATOR)).get(query).content.decode()
    assert link not in _client(_user(Role.ANALYST)).get(query).content.decode()
    assert link not in _client(_user(Role.OPERATOR)).get(query).content.decode()


# --- bounds --------------------------------------------------------------------------------


def test_the_longest_foreword_is_kept_and_one_character_more_refused() -> None:
    coordinator = _user(Role.COORDINATOR)
    longest = "a" * FOREWORD_MAX_CHARS
    assert _save(coordinator, longest).status_code == 302  # type: ignore[attr-defined]
    assert Foreword.objects.get().text == longest
    response = _save(coordinator, longest + "b")
    assert response.status_code == 400  # type: ignore[attr-defined]
    page = response.content.decode()  # type: ignore[attr-defined]
    assert "Het voorwoord is te lang: hoogstens 5000 tekens, dit zijn er 5001." in page
    assert Foreword.objects.get().text == longest  # unchanged


def test_too_many_paragraphs_a_control_character_and_a_bad_year_are_refused() -> None:
    coordinator = _user(Role.COORDINATOR)
    paragraphs = "\n\n".join(["alinea"] * (FOREWORD_MAX_PARAGRAPHS + 1))
    response = _save(coordinator, paragraphs)
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "te veel alinea’s" in response.content.decode()  # type: ignore[attr-defined]
    response = _save(coordinator, "Beste\x07lezer")
    assert response.status_code == 400  # type: ignore[attr-defined]
    assert "De tekst bevat een ongeldig teken." in response.content.decode()  # type: ignore[attr-defined]
    assert _save(coordinator, "Beste\x00lezer").status_code == 400  # type: ignore[attr-defined]
    for year in ("2024-2026", "1999", "volgend jaar"):
        response = _save(coordinator, FOREWORD, year=year)
        assert response.status_code == 400, year  # type: ignore[attr-defined]
    assert _client(coordinator).get(f"{URL}?year=2024-2026").status_code == 400
    assert not Foreword.objects.exists()


# --- the report prints it --------------------------------------------------------------------


def test_the_report_prints_the_stored_foreword_instead_of_the_generated_one() -> None:
    _save(_user(Role.COORDINATOR), FOREWORD)
    html = report.report_render("2024-2025", format="html").decode()
    section = html.split('id="voorwoord"', 1)[1].split("</section>", 1)[0]
    assert '<p class="foreword lead">Beste lezer,</p>' in section
    assert "Dit jaar stond in het teken van de nieuwe chat.<br>We danken elke" in section
    assert '<p class="foreword">Het coördinatieteam</p>' in section
    assert "Veel leesplezier!" not in section  # the generated foreword is gone
    assert "chatgesprekken gevoerd met leerlingen en ouders" not in section
    # The English report prints the coordinators' words as they wrote them.
    english = report.report_render("2024-2025", format="html", language="en").decode()
    assert "Dit jaar stond in het teken van de nieuwe chat." in english
    # The JSON carries it; another year keeps the generated one.
    data = json.loads(report.report_render(2024, format="json"))
    assert data["foreword"] == FOREWORD
    assert json.loads(report.report_render(2023, format="json"))["foreword"] is None
    assert "Veel leesplezier!" in report.report_render(2023, format="html").decode()


def test_the_foreword_is_shown_escaped() -> None:
    _save(_user(Role.COORDINATOR), HOSTILE)
    html = report.report_render(2024, format="html").decode()
    assert "<script" not in html
    assert "<b>vet</b>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert "&lt;b&gt;vet&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in html
    assert "{{ secret }} {% debug %}" in html  # text, not template code
    # The edit page shows it escaped too.
    page = _client(_user(Role.ADMINISTRATOR)).get(f"{URL}?year=2024").content.decode()
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_the_pdf_prints_the_foreword() -> None:
    coordinator = _user(Role.COORDINATOR)
    _save(coordinator, FOREWORD + "\n\n" + HOSTILE)
    response = _client(coordinator).get("/cijfers/jaarverslag/?year=2024-2025&format=pdf")
    assert response.status_code == 200
    text = _pdf_text(response.content)
    assert "Dit jaar stond in het teken van de nieuwe chat." in text
    assert "Het coördinatieteam" in text
    assert 'Lees <script>alert("x")</script> en <b>vet</b>' in text  # as typed, not as markup
    assert "Veel leesplezier!" not in text


# --- onthaal report --foreword-file ----------------------------------------------------------


def _command(*args: str) -> bytes:
    out = io.StringIO()
    call_command("report", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().encode()


def test_the_foreword_file_overrides_the_stored_foreword(tmp_path: Path) -> None:
    _save(_user(Role.COORDINATOR), FOREWORD)
    file = tmp_path / "voorwoord.txt"
    file.write_text("Een woord vooraf uit een bestand.\r\n\r\nTweede alinea <i>schuin</i>.")
    html = _command("--year", "2024-2025", "--format", "html", "--foreword-file", str(file))
    section = html.decode().split('id="voorwoord"', 1)[1].split("</section>", 1)[0]
    assert "Een woord vooraf uit een bestand." in section
    assert "Tweede alinea &lt;i&gt;schuin&lt;/i&gt;." in section
    assert "Dit jaar stond" not in section
    data = json.loads(_command("--year", "2024", "--format", "json", "--foreword-file", str(file)))
    assert data["foreword"] == "Een woord vooraf uit een bestand.\n\nTweede alinea <i>schuin</i>."
    # The stored foreword is left as it was.
    assert Foreword.objects.get().text == FOREWORD
    # A PDF with it, through the whole command.
    pdf = tmp_path / "jaarverslag.pdf"
    call_command(
        "report",
        "--year",
        "2024-2025",
        "--foreword-file",
        str(file),
        "--output",
        str(pdf),
        stderr=io.StringIO(),
    )
    assert "Een woord vooraf uit een bestand." in _pdf_text(pdf.read_bytes())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        (b"", "is empty"),
        (b"\xff\xfe kapot", "is not UTF-8 text"),
        (b"x" * (FOREWORD_MAX_CHARS + 1), "Het voorwoord is te lang"),
        (b"x" * (FOREWORD_MAX_CHARS * 4 + 1), "the foreword is too long"),
        (b"met een \x07 bel", "De tekst bevat een ongeldig teken."),
    ],
)
def test_a_bad_foreword_file_is_refused_clearly(
    tmp_path: Path, content: bytes | None, message: str
) -> None:
    file = tmp_path / "voorwoord.txt"
    if content is not None:
        file.write_bytes(content)
    with pytest.raises(CommandError, match=re.escape(message)):
        _command("--year", "2024-2025", "--format", "json", "--foreword-file", str(file))
