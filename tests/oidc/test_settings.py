"""ONTHAAL_OIDC_* and ONTHAAL_WEBAUTHN_* as read by onthaal.config."""

from __future__ import annotations

import pytest

from onthaal import config


@pytest.fixture(autouse=True)
def _environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [
        "ONTHAAL_OIDC_ISSUER",
        "ONTHAAL_OIDC_CLIENT_ID",
        "ONTHAAL_OIDC_CLIENT_SECRET",
        "ONTHAAL_OIDC_NAME",
        "ONTHAAL_OIDC_SCOPES",
        "ONTHAAL_OIDC_REQUIRED_ACR",
        "ONTHAAL_OIDC_REQUIRE_MFA",
        "ONTHAAL_OIDC_MFA_AMR",
        "ONTHAAL_OIDC_USERNAME_CLAIM",
        "ONTHAAL_WEBAUTHN_RP_ID",
        "ONTHAAL_WEBAUTHN_ORIGIN",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ONTHAAL_DEBUG", "true")


def test_single_sign_on_is_off_without_an_issuer() -> None:
    loaded = config.load()
    assert loaded.oidc is None
    assert (loaded.webauthn_rp_id, loaded.webauthn_origins) == ("", ())


def test_every_setting_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONTHAAL_OIDC_ISSUER", "https://idp.example.org/realms/clb/")
    monkeypatch.setenv("ONTHAAL_OIDC_CLIENT_ID", "onthaal")
    monkeypatch.setenv("ONTHAAL_OIDC_CLIENT_SECRET", "geheim")
    monkeypatch.setenv("ONTHAAL_OIDC_NAME", "CLB-account")
    monkeypatch.setenv("ONTHAAL_OIDC_SCOPES", "profile,email")
    monkeypatch.setenv(
        "ONTHAAL_OIDC_REQUIRED_ACR",
        "http://eidas.europa.eu/LoA/substantial, http://eidas.europa.eu/LoA/high",
    )
    monkeypatch.setenv("ONTHAAL_OIDC_REQUIRE_MFA", "true")
    monkeypatch.setenv("ONTHAAL_OIDC_MFA_AMR", "hwk,swk,mfa")
    monkeypatch.setenv("ONTHAAL_OIDC_USERNAME_CLAIM", "preferred_username")
    monkeypatch.setenv("ONTHAAL_WEBAUTHN_RP_ID", "example.org")
    monkeypatch.setenv("ONTHAAL_WEBAUTHN_ORIGIN", "https://chat.example.org")

    loaded = config.load()

    assert loaded.oidc == config.OidcConfig(
        issuer="https://idp.example.org/realms/clb",
        client_id="onthaal",
        client_secret="geheim",
        name="CLB-account",
        scopes=("openid", "profile", "email"),
        required_acr=("http://eidas.europa.eu/LoA/substantial", "http://eidas.europa.eu/LoA/high"),
        require_mfa=True,
        mfa_amr=("hwk", "swk", "mfa"),
        username_claim="preferred_username",
    )
    assert loaded.webauthn_rp_id == "example.org"
    assert loaded.webauthn_origins == ("https://chat.example.org",)


@pytest.mark.parametrize(
    ("issuer", "client_id", "message"),
    [
        ("http://idp.example.org", "onthaal", "must be an https URL"),
        ("https://idp.example.org", "", "ONTHAAL_OIDC_CLIENT_ID"),
    ],
)
def test_a_wrong_provider_setting_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, issuer: str, client_id: str, message: str
) -> None:
    monkeypatch.setenv("ONTHAAL_OIDC_ISSUER", issuer)
    monkeypatch.setenv("ONTHAAL_OIDC_CLIENT_ID", client_id)
    with pytest.raises(config.ConfigError, match=message):
        config.load()


def test_a_loopback_provider_may_use_http(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONTHAAL_OIDC_ISSUER", "http://127.0.0.1:8080/openid")
    monkeypatch.setenv("ONTHAAL_OIDC_CLIENT_ID", "onthaal")
    loaded = config.load()
    assert loaded.oidc is not None
    assert loaded.oidc.name == "single sign-on"
    assert loaded.oidc.scopes == ("openid",)
