"""HTTP API of the figures (filled in by the statistics work)."""

from __future__ import annotations

from ninja import Router
from ninja.security import django_auth

router = Router(tags=["statistics"], auth=django_auth)
