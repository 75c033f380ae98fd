"""Writes to staff accounts: creation, profile, availability, the second factor."""

from __future__ import annotations

import logging
from datetime import datetime

import pyotp
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from onthaal.broadcast import broadcast_on_commit
from onthaal.chat.events import QUEUE_GROUP
from onthaal.errors import Conflict, InvalidInput, PermissionDenied
from onthaal.staff.models import Availability, Discipline, Role, User
from onthaal.text import text_check

logger = logging.getLogger("onthaal.staff")

COORDINATOR_GROUP = "coordinators"
# What coordinators may edit in the admin (besides operator accounts).
_COORDINATOR_APPS = ("hours", "registration")
MAX_PSEUDONYM_CHARS = 40


def coordinator_group_ensure() -> Group:
    """The group whose permissions coordinators get in the admin."""
    group, _created = Group.objects.get_or_create(name=COORDINATOR_GROUP)
    permissions = Permission.objects.filter(content_type__app_label__in=_COORDINATOR_APPS) | (
        Permission.objects.filter(
            content_type__app_label="staff",
            codename__in=["view_user", "add_user", "change_user"],
        )
    )
    group.permissions.set(permissions)
    return group


@transaction.atomic
def operator_create(
    *,
    username: str,
    password: str,
    discipline: str,
    role: str = Role.OPERATOR,
    pseudonym: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
) -> User:
    """Create a staff account. The TOTP second factor is enrolled at first login.

    See :func:`operator_role_apply` for what each role may do in the admin.
    """
    errors: dict[str, str] = {}
    username = (username or "").strip()
    if not username:
        errors["username"] = _("Geef een gebruikersnaam.")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("Deze gebruikersnaam bestaat al.")
    if discipline not in Discipline.values:
        errors["discipline"] = _("Kies een discipline: %(choices)s.") % {
            "choices": ", ".join(Discipline.values)
        }
    if role not in Role.values:
        errors["role"] = _("Kies een rol: %(choices)s.") % {"choices": ", ".join(Role.values)}
    if len(pseudonym) > MAX_PSEUDONYM_CHARS:
        errors["pseudonym"] = _("Een pseudoniem heeft hoogstens 40 tekens.")
    candidate = User(username=username, first_name=first_name, last_name=last_name, email=email)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise InvalidInput(_("Het account kon niet aangemaakt worden."), fields=errors)
    user = User.objects.create_user(
        username=username,
        password=password,
        first_name=first_name,
        last_name=last_name,
        email=email,
        discipline=discipline,
        role=role,
        pseudonym=pseudonym.strip(),
    )
    operator_role_apply(user=user)
    logger.info("staff account %s created (role %s)", user.pk, role)
    return user


@transaction.atomic
def operator_role_apply(*, user: User) -> User:
    """Give the account the admin rights of its role: coordinators and
    administrators may use the admin; administrators are superusers;
    coordinators get the coordinators' permissions."""
    user.is_staff = user.role in {Role.COORDINATOR, Role.ADMINISTRATOR}
    user.is_superuser = user.role == Role.ADMINISTRATOR
    user.save(update_fields=["is_staff", "is_superuser"])
    group = coordinator_group_ensure()
    if user.role == Role.COORDINATOR:
        user.groups.add(group)
    else:
        user.groups.remove(group)
    return user


def operator_update(
    *, operator: User, pseudonym: str | None = None, availability: str | None = None
) -> User:
    """Change the operator's pseudonym and/or availability.

    Going available requires a pseudonym, since it is the only name a visitor sees.
    """
    fields: list[str] = []
    if pseudonym is not None:
        if not isinstance(pseudonym, str) or not pseudonym.strip():
            raise InvalidInput(
                _("Een pseudoniem mag niet leeg zijn."), fields={"pseudonym": "required"}
            )
        text_check(pseudonym, field="pseudonym")
        if len(pseudonym.strip()) > MAX_PSEUDONYM_CHARS:
            raise InvalidInput(
                _("Een pseudoniem heeft hoogstens 40 tekens."), fields={"pseudonym": "too long"}
            )
        operator.pseudonym = pseudonym.strip()
        fields.append("pseudonym")
    if availability is not None:
        if availability not in Availability.values:
            raise InvalidInput(
                _("Kies beschikbaar, pauze of offline."), fields={"availability": "invalid"}
            )
        if availability != Availability.OFFLINE and not operator.can_chat:
            raise PermissionDenied(_("Je rol neemt geen chats aan."), code="role_cannot_chat")
        if availability == Availability.AVAILABLE and not operator.pseudonym:
            raise Conflict(
                _("Kies eerst een pseudoniem: dat is de enige naam die de bezoeker ziet."),
                code="pseudonym_required",
            )
        operator.availability = availability
        fields.append("availability")
    if fields:
        operator.save(update_fields=fields)
        # The wait estimate shown to queued visitors depends on availability.
        if "availability" in fields:
            broadcast_on_commit(QUEUE_GROUP, {"type": "queue.changed"})
    return operator


def totp_secret_ensure(*, user: User) -> str:
    """The secret to enrol, created on first use; refused once enrolled."""
    if user.totp_confirmed_at is not None:
        raise Conflict(_("De tweede stap is al ingesteld."), code="totp_already_enrolled")
    if not user.totp_secret:
        user.totp_secret = pyotp.random_base32()
        user.save(update_fields=["totp_secret"])
    return user.totp_secret


def totp_provisioning_uri(*, user: User, issuer: str = "Onthaal") -> str:
    return pyotp.TOTP(totp_secret_ensure(user=user)).provisioning_uri(
        name=user.username, issuer_name=issuer
    )


@transaction.atomic
def totp_verify(*, user: User, code: str, now: datetime | None = None) -> bool:
    """Check a six-digit code; the first valid code confirms the enrolment.

    A code is accepted once: a code seen before (same or earlier time step)
    is refused, so an overheard code cannot be replayed.
    """
    now = now or timezone.now()
    user = User.objects.select_for_update().get(pk=user.pk)
    code = (code or "").strip().replace(" ", "")
    if not user.totp_secret or not code.isdigit() or len(code) != 6:
        return False
    totp = pyotp.TOTP(user.totp_secret)
    for offset in (-1, 0, 1):  # one step of clock drift either way
        at = now.timestamp() + offset * totp.interval
        counter = totp.timecode(datetime.fromtimestamp(at, tz=now.tzinfo))
        if counter <= user.totp_last_counter:
            continue
        if pyotp.utils.strings_equal(totp.at(at), code):
            user.totp_last_counter = counter
            fields = ["totp_last_counter"]
            if user.totp_confirmed_at is None:
                user.totp_confirmed_at = now
                fields.append("totp_confirmed_at")
            user.save(update_fields=fields)
            return True
    return False
