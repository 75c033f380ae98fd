"""Single sign-on against a real OpenID Connect provider (see conftest.py)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest
from django.test import Client

from onthaal.audit.models import Action, AuditEntry
from onthaal.staff.models import User
from tests.oidc.conftest import Provider, path_of

pytestmark = pytest.mark.django_db

LOGIN = "/medewerker/aanmelden/"
START = "/medewerker/aanmelden/sso/"
CALLBACK = "/medewerker/aanmelden/sso/terug/"


def start(client: Client, next_url: str = "") -> str:
    """Press "Aanmelden met …": returns the provider's authorization URL."""
    response = client.post(START, {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content.decode()[:1000]
    return str(response["Location"])


def sign_in(client: Client, provider: Provider, username: str) -> Any:
    """The whole round trip; returns Onthaal's answer to the callback."""
    callback = provider.walk(start(client), username)
    return client.get(path_of(callback))


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    query.update(changes)
    return urlunsplit(parts._replace(query=urlencode(query)))


def signed_in(client: Client) -> bool:
    return client.get("/api/v1/operator/me").status_code == 200


@pytest.fixture
def anna(staff_factory: Any, sso: Provider) -> User:
    """An operator linked to the provider's "anna" by an administrator.

    She never enrolled a TOTP app: the provider's MFA is her second factor."""
    user = staff_factory(username="anna.peeters", pseudonym="Anna")
    user.oidc_subject = sso.subjects["anna"]
    user.save(update_fields=["oidc_subject"])
    return user


@pytest.fixture
def bert(staff_factory: Any, sso: Provider) -> User:
    user = staff_factory(username="bert.claes", pseudonym="Bert")
    user.oidc_subject = sso.subjects["bert"]
    user.save(update_fields=["oidc_subject"])
    return user


@pytest.fixture
def carla(staff_factory: Any, sso: Provider) -> User:
    user = staff_factory(username="carla.maes", pseudonym="Carla")
    user.oidc_subject = sso.subjects["carla"]
    user.save(update_fields=["oidc_subject"])
    return user


def refusal(response: Any) -> str:
    assert response.status_code in (400, 403, 502)
    html = response.content.decode()
    assert 'id="oidc-refused"' in html
    return html


def last_failure() -> AuditEntry:
    return AuditEntry.objects.filter(action=Action.LOGIN_FAILED).latest("id")


# --- the sign-in page ------------------------------------------------------------


def test_the_sign_in_page_offers_the_provider(sso: Provider) -> None:
    html = Client().get(LOGIN).content.decode()
    assert "Aanmelden met Testprovider" in html
    assert f'action="{START}"' in html


def test_without_a_provider_there_is_no_button_and_no_route(settings: Any) -> None:
    settings.ONTHAAL_OIDC_ISSUER = ""
    client = Client()
    assert "Aanmelden met" not in client.get(LOGIN).content.decode()
    assert client.post(START).status_code == 404
    assert client.get(CALLBACK).status_code == 404


# --- signing in ------------------------------------------------------------------


def test_an_mfa_user_signs_in_with_both_factors_done_by_the_provider(
    anna: User, sso: Provider, settings: Any
) -> None:
    settings.ONTHAAL_OIDC_REQUIRE_MFA = True
    client = Client()

    authorization_url = start(client, next_url="/medewerker/?welkom=1")
    query = parse_qs(urlsplit(authorization_url).query)
    # The code flow with PKCE, a state and a nonce.
    assert query["response_type"] == ["code"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"][0] and query["nonce"][0] and query["code_challenge"][0]
    assert query["redirect_uri"] == ["http://testserver/medewerker/aanmelden/sso/terug/"]
    response = client.get(path_of(sso.walk(authorization_url, "anna")))

    assert (response.status_code, response["Location"]) == (302, "/medewerker/?welkom=1")
    assert signed_in(client)
    assert client.get("/api/v1/operator/me").json()["username"] == "anna.peeters"
    entry = AuditEntry.objects.filter(action=Action.LOGIN).latest("id")
    assert (entry.actor, entry.detail) == (anna, {"method": "oidc"})


def test_a_password_only_user_is_refused_when_mfa_is_required(
    bert: User, sso: Provider, settings: Any
) -> None:
    settings.ONTHAAL_OIDC_REQUIRE_MFA = True
    client = Client()

    response = sign_in(client, sso, "bert")

    assert response.status_code == 403
    assert "zonder tweede factor" in refusal(response)
    assert not signed_in(client)
    failure = last_failure()
    assert failure.detail["reason"] == "mfa"
    assert failure.detail["method"] == "oidc"


def test_without_the_mfa_requirement_a_password_only_user_signs_in(
    bert: User, sso: Provider
) -> None:
    client = Client()
    assert sign_in(client, sso, "bert").status_code == 302
    assert signed_in(client)


def test_the_accepted_amr_values_can_be_configured(
    carla: User, sso: Provider, settings: Any
) -> None:
    """carla's provider says amr ["pwd", "hwk"]: a hardware key, no "mfa"."""
    settings.ONTHAAL_OIDC_REQUIRE_MFA = True
    refused = Client()
    assert sign_in(refused, sso, "carla").status_code == 403

    settings.ONTHAAL_OIDC_MFA_AMR = ["hwk", "swk", "mfa"]
    client = Client()
    assert sign_in(client, sso, "carla").status_code == 302
    assert signed_in(client)


def test_a_sign_in_below_the_required_level_is_refused(
    anna: User, bert: User, sso: Provider, settings: Any
) -> None:
    settings.ONTHAAL_OIDC_REQUIRED_ACR = ["substantial", "high"]
    client = Client()

    # The level is asked for in the request...
    assert parse_qs(urlsplit(start(client)).query)["acr_values"] == ["substantial high"]
    # ...and checked in the ID token.
    response = sign_in(client, sso, "bert")

    assert response.status_code == 403
    assert "betrouwbaarheidsniveau" in refusal(response)
    assert not signed_in(client)
    assert last_failure().detail["reason"] == "acr"
    assert sign_in(client, sso, "anna").status_code == 302


def test_an_unknown_subject_is_refused_and_no_account_is_made(sso: Provider) -> None:
    accounts = User.objects.count()
    client = Client()

    response = sign_in(client, sso, "dirk")

    assert response.status_code == 403
    assert "geen Onthaal-account" in refusal(response)
    assert not signed_in(client)
    assert User.objects.count() == accounts
    failure = last_failure()
    assert failure.detail["reason"] == "no_account"
    # A hash of the subject, never the subject itself.
    assert len(failure.detail["subject_hash"]) == 16
    assert sso.subjects["dirk"] not in str(failure.detail)


def test_an_inactive_account_is_refused(anna: User, sso: Provider) -> None:
    anna.is_active = False
    anna.save(update_fields=["is_active"])
    client = Client()
    assert sign_in(client, sso, "anna").status_code == 403
    assert not signed_in(client)


# --- the protocol's protections -------------------------------------------------------


def test_a_tampered_state_is_refused(anna: User, sso: Provider) -> None:
    client = Client()
    callback = sso.walk(start(client), "anna")

    response = client.get(path_of(with_query(callback, state="forged-state")))

    assert response.status_code == 400
    assert "verlopen of werd al gebruikt" in refusal(response)
    assert not signed_in(client)
    assert last_failure().detail["reason"] == "state"


def test_a_callback_in_another_browser_is_refused(anna: User, sso: Provider) -> None:
    """Login CSRF: the victim's browser never started this sign-in."""
    callback = sso.walk(start(Client()), "anna")
    victim = Client()

    response = victim.get(path_of(callback))

    assert response.status_code == 400
    assert not signed_in(victim)


def test_a_state_is_used_once(anna: User, sso: Provider) -> None:
    client = Client()
    callback = sso.walk(start(client), "anna")
    assert client.get(path_of(callback)).status_code == 302
    client.post("/medewerker/afmelden/")

    response = client.get(path_of(callback))

    assert response.status_code == 400
    assert not signed_in(client)


def test_an_id_token_with_another_nonce_is_refused(anna: User, sso: Provider) -> None:
    """The authorization request is altered on its way to the provider: the
    provider signs a token for a nonce Onthaal did not hand out. State and
    PKCE still match, so only the nonce check stands in the way."""
    client = Client()
    authorization_url = with_query(start(client), nonce="a-nonce-onthaal-never-made")
    callback = sso.walk(authorization_url, "anna")

    response = client.get(path_of(callback))

    assert response.status_code == 400
    assert "kon niet gecontroleerd worden" in refusal(response)
    assert not signed_in(client)
    failure = last_failure()
    assert failure.detail["reason"] == "id_token"


def test_a_code_without_the_pkce_verifier_is_refused(anna: User, sso: Provider) -> None:
    """The code was issued for another PKCE challenge than this session's."""
    client = Client()
    first = start(client)
    second = start(client)  # a second sign-in in the same session
    code_challenge = parse_qs(urlsplit(first).query)["code_challenge"][0]
    callback = sso.walk(with_query(second, code_challenge=code_challenge), "anna")

    response = client.get(path_of(callback))

    assert response.status_code == 502
    refusal(response)
    assert not signed_in(client)


def test_a_provider_that_names_another_issuer_is_refused(
    anna: User, sso: Provider, settings: Any
) -> None:
    """Discovery at localhost answers with the issuer at 127.0.0.1."""
    settings.ONTHAAL_OIDC_ISSUER = sso.issuer.replace("127.0.0.1", "localhost")
    client = Client()

    response = client.post(START)

    assert response.status_code == 502
    refusal(response)


def test_an_unreachable_provider_gives_a_clear_page(settings: Any) -> None:
    settings.ONTHAAL_OIDC_ISSUER = "http://127.0.0.1:9/openid"
    settings.ONTHAAL_OIDC_CLIENT_ID = "x"
    settings.ONTHAAL_OIDC_NAME = "Testprovider"

    response = Client().post(START)

    assert response.status_code == 502
    assert "Testprovider antwoordde niet zoals verwacht" in refusal(response)


# --- mapping by username -----------------------------------------------------------


def test_the_username_claim_binds_the_subject_at_the_first_sign_in(
    staff_factory: Any, sso: Provider, settings: Any
) -> None:
    settings.ONTHAAL_OIDC_USERNAME_CLAIM = "preferred_username"
    erik = staff_factory(username="erik", pseudonym="Erik")
    assert erik.oidc_subject is None

    client = Client()
    assert sign_in(client, sso, "erik").status_code == 302
    assert signed_in(client)
    erik.refresh_from_db()
    assert erik.oidc_subject == sso.subjects["erik"]


def test_the_username_claim_does_not_take_an_account_bound_to_another_subject(
    staff_factory: Any, sso: Provider, settings: Any
) -> None:
    settings.ONTHAAL_OIDC_USERNAME_CLAIM = "preferred_username"
    fien = staff_factory(username="fien", pseudonym="Fien")
    fien.oidc_subject = "someone-else-at-the-provider"
    fien.save(update_fields=["oidc_subject"])
    client = Client()

    response = sign_in(client, sso, "fien")

    assert response.status_code == 403
    assert not signed_in(client)
    fien.refresh_from_db()
    assert fien.oidc_subject == "someone-else-at-the-provider"


def test_without_the_username_claim_setting_usernames_are_not_matched(
    staff_factory: Any, sso: Provider
) -> None:
    staff_factory(username="erik", pseudonym="Erik")
    client = Client()
    assert sign_in(client, sso, "erik").status_code == 403
    assert not signed_in(client)


# --- linking accounts in the admin ------------------------------------------------------


def test_only_an_administrator_links_an_account_to_a_subject(
    staff_factory: Any, coordinator: User
) -> None:
    operator = staff_factory(username="gert", pseudonym="Gert")
    page = f"/beheer/staff/user/{operator.pk}/change/"
    administrator = staff_factory(username="beheer", role="administrator")
    as_admin = Client()
    as_admin.force_login(administrator)
    as_coordinator = Client()
    as_coordinator.force_login(coordinator)

    assert 'name="oidc_subject"' in as_admin.get(page).content.decode()
    html = as_coordinator.get(page).content.decode()
    assert "OIDC-subject" in html
    assert 'name="oidc_subject"' not in html
