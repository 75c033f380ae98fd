"""``onthaal createoperator``: create a staff account from the command line."""

from __future__ import annotations

import getpass
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from onthaal.audit.models import Action
from onthaal.audit.services import audit_record
from onthaal.errors import InvalidInput
from onthaal.staff.models import Discipline, Role
from onthaal.staff.services import operator_create


class Command(BaseCommand):
    help = (
        "Create an operator, coordinator or administrator account. The second "
        "factor (TOTP) is enrolled with a QR code at the first sign-in."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", help="sign-in name")
        parser.add_argument(
            "--discipline", choices=Discipline.values, help="professional discipline"
        )
        parser.add_argument(
            "--role", choices=Role.values, default=Role.OPERATOR, help="default: operator"
        )
        parser.add_argument("--pseudonym", default="", help="name shown to visitors")
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from standard input (for scripts)",
        )

    def _ask(self, label: str, choices: list[str] | None = None) -> str:
        if not sys.stdin.isatty():
            raise CommandError(f"--{label} is required when not running interactively")
        hint = f" ({', '.join(choices)})" if choices else ""
        return input(f"{label}{hint}: ").strip()

    def handle(self, *args: Any, **options: Any) -> None:
        username = options["username"] or self._ask("username")
        discipline = options["discipline"] or self._ask("discipline", Discipline.values)
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            if not sys.stdin.isatty():
                raise CommandError("use --password-stdin when not running interactively")
            password = getpass.getpass("password: ")
            if getpass.getpass("password (again): ") != password:
                raise CommandError("the two passwords differ")
        try:
            user = operator_create(
                username=username,
                password=password,
                discipline=discipline,
                role=options["role"],
                pseudonym=options["pseudonym"],
                first_name=options["first_name"],
                last_name=options["last_name"],
                email=options["email"],
            )
        except InvalidInput as exc:
            fields = exc.details.get("fields", {})
            detail = "; ".join(f"{k}: {v}" for k, v in fields.items())
            raise CommandError(f"{exc.message} {detail}".strip()) from exc
        audit_record(
            action=Action.ACCOUNT_CREATED,
            actor_name="command line",
            target=f"user:{user.pk}",
            role=user.role,
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {user.role} '{user.username}'. Sign in at /medewerker/ and scan the "
                "QR code with an authenticator app to finish."
            )
        )
