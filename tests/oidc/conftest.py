"""A real OpenID Connect provider on loopback, and a browser-like walk through it.

The provider is django-oidc-provider in its own small Django project
(tests/oidc/provider/), started once per test session as a subprocess on a
free 127.0.0.1 port with its own SQLite file: discovery, JWKS, the
authorization code flow with PKCE, RS256-signed ID tokens. Its users:

| user  | signs in with          | acr         |
|-------|------------------------|-------------|
| anna  | password + MFA         | substantial |
| bert  | password only          | low         |
| carla | password + hardware key| high        |
| dirk  | password + MFA         | substantial | (no Onthaal account)
| erik  | password + MFA         | substantial | (for the username claim)
| fien  | password + MFA         | substantial | (for the username claim)

Onthaal runs in-process (the Django test client); the test walks the
browser's part at the provider with ``requests`` over real HTTP, and
Onthaal's own calls (discovery, token, keys) go to the provider over real
HTTP too.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
REDIRECT_URI = "http://testserver/medewerker/aanmelden/sso/terug/"
CLIENT_ID = "onthaal-test"
CLIENT_SECRET = "onthaal-test-secret-0123456789"
PASSWORD = "provider-wachtwoord-42"
USERS = {
    "anna": "mfa",
    "bert": "pwd",
    "carla": "hwk",
    "dirk": "mfa",
    "erik": "mfa",
    "fien": "mfa",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Provider:
    url: str
    subjects: dict[str, str]

    @property
    def issuer(self) -> str:
        return f"{self.url}/openid"

    def walk(self, authorization_url: str, username: str, password: str = PASSWORD) -> str:
        """What a browser does at the provider: follow the authorization URL,
        sign in on its login page, and come back. Returns the URL the
        provider sends the browser to (Onthaal's callback, with code and
        state), without visiting it."""
        browser = requests.Session()
        browser.trust_env = False  # loopback only, never a proxy
        url = authorization_url
        signed_in = False
        for _ in range(10):
            if url.startswith(REDIRECT_URI):
                return url
            response = browser.get(url, allow_redirects=False, timeout=10)
            if response.status_code in (301, 302, 303):
                url = urljoin(url, response.headers["Location"])
                continue
            if response.status_code == 200 and "csrfmiddlewaretoken" in response.text:
                assert not signed_in, "the provider asked to sign in twice"
                token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
                following = re.search(r'name="next" value="([^"]*)"', response.text)
                assert token and following
                response = browser.post(
                    url,
                    data={
                        "csrfmiddlewaretoken": token.group(1),
                        "username": username,
                        "password": password,
                        "next": following.group(1).replace("&amp;", "&"),
                    },
                    allow_redirects=False,
                    timeout=10,
                )
                assert response.status_code == 302, response.text[:500]
                signed_in = True
                url = urljoin(url, response.headers["Location"])
                continue
            raise AssertionError(f"unexpected answer from the provider: {response.status_code}")
        raise AssertionError("too many redirects at the provider")


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provider]:
    data = tmp_path_factory.mktemp("oidc-provider")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ONTHAAL_", "DJANGO_"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="tests.oidc.provider.settings",
        OIDC_PROVIDER_DB=str(data / "provider.sqlite3"),
        OIDC_PROVIDER_URL=url,
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
        OIDC_REDIRECT_URI=REDIRECT_URI,
        OIDC_USERS=",".join(f"{user}:{PASSWORD}:{level}" for user, level in USERS.items()),
        PYTHONUNBUFFERED="1",
    )

    def run(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, *args],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(args)} failed:\n{result.stderr}")
        return result.stdout

    run("-m", "django", "migrate", "--no-input", "-v0")
    subjects = json.loads(run("-m", "tests.oidc.provider.seed").strip().splitlines()[-1])
    log = data / "provider.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "django", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        discovery = f"{url}/openid/.well-known/openid-configuration"
        while True:
            try:
                if requests.get(discovery, timeout=2).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise AssertionError(f"the test provider did not start:\n{log.read_text()}")
            time.sleep(0.2)
        yield Provider(url=url, subjects=subjects)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
def sso(settings: Any, oidc_provider: Provider) -> Provider:
    """Onthaal configured for the test provider (no level required yet)."""
    settings.ONTHAAL_OIDC_ISSUER = oidc_provider.issuer
    settings.ONTHAAL_OIDC_CLIENT_ID = CLIENT_ID
    settings.ONTHAAL_OIDC_CLIENT_SECRET = CLIENT_SECRET
    settings.ONTHAAL_OIDC_NAME = "Testprovider"
    settings.ONTHAAL_OIDC_SCOPES = ["openid", "profile"]
    settings.ONTHAAL_OIDC_REQUIRE_MFA = False
    settings.ONTHAAL_OIDC_MFA_AMR = ["mfa"]
    settings.ONTHAAL_OIDC_REQUIRED_ACR = []
    settings.ONTHAAL_OIDC_USERNAME_CLAIM = ""
    return oidc_provider


def path_of(url: str) -> str:
    """The path and query of a URL, for the Django test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path
