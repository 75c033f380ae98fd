"""A real OpenID Connect provider for the tests: django-oidc-provider in a
tiny Django project of its own, started by tests/oidc/conftest.py as a
separate process on a free loopback port.

It is not part of Onthaal and never runs in production. Everything it
needs comes from the environment its fixture sets.
"""

from __future__ import annotations

import os
from pathlib import Path

HERE = Path(__file__).resolve().parent

DEBUG = False
SECRET_KEY = "oidc-test-provider-not-a-secret"  # a throwaway test IdP
# localhost too: a test reaches it by another name than its issuer URL.
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "tests.oidc.provider.urls"
INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "oidc_provider",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [HERE / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ["OIDC_PROVIDER_DB"],
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
LOGIN_URL = "/accounts/login/"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Its own cookie name: the provider and Onthaal both run on 127.0.0.1.
SESSION_COOKIE_NAME = "provider_sessionid"
CSRF_COOKIE_NAME = "provider_csrftoken"

SITE_URL = os.environ["OIDC_PROVIDER_URL"]
OIDC_IDTOKEN_PROCESSING_HOOK = "tests.oidc.provider.hooks.add_authentication_level"
OIDC_IDTOKEN_SUB_GENERATOR = "tests.oidc.provider.hooks.opaque_subject"
OIDC_USERINFO = "tests.oidc.provider.hooks.userinfo"
# The "profile" claims (preferred_username) in the ID token itself.
OIDC_IDTOKEN_INCLUDE_CLAIMS = True
