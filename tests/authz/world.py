"""The small world the authorization matrix runs in, built lazily.

Over HTTP, one ``World`` is made for each case of a route: the users of
every role and the objects the case names are built once, then each role
makes its request in a savepoint that is rolled back, so that a write by
one role never changes what the next one sees (objects that depend on who
acts, ``per_role``, are built inside it). Over websockets, each role gets a
fresh world (the consumer's thread needs committed rows; the test flushes
them). An object is built only when a case names it (``"@active"`` in a
path parameter, body or frame), so a route that needs nothing costs little.

Objects (``OBJECTS`` below; add one with ``@thing("name")``):

- users: ``operator`` (the operator role's account), ``colleague`` (another
  operator), ``coordinator``, ``administrator``, ``analyst``; ``me`` is the
  account of the role making the request (None for anonymous and visitor);
- conversations: ``active`` and ``ended`` are the operator's own (``active``
  is also the visitor role's own conversation: its token is ``@token``);
  ``colleague_active`` and ``colleague_ended`` are the colleague's;
  ``queued`` waits in the queue;
- ``token``: the visitor role's token of ``active`` (or of the case's
  ``visitor_of``; for any other role a token that opens nothing);
- ``registered``, ``colleague_registered``: ``ended`` / ``colleague_ended``
  with their registration; ``result``: a registration result id;
- quality: ``scan`` (a chat scan over the ended chats), ``review`` (the
  open review of the operator's ended chat), ``reviewed`` (the same with
  its feedback given), ``colleague_review``;
- shifts: ``block`` (a future shift block; the operator is signed up),
  ``free_block`` (nobody signed up), ``feed_token`` (the acting role's own
  calendar feed token, or the operator's for anonymous and visitor);
- ``passkey`` (the colleague's passkey: nobody else's to delete),
  ``my_passkey`` (the acting role's own passkey).
- assignment: ``my_offer`` (an open offer of a queued chat to the acting
  role, or to the colleague for roles that take no chats), ``colleague_offer``.
- safeguard: ``prank`` (the colleague's ended chat with a visitor key,
  registered as a suspected prank), ``visitor_block`` (a block in force on
  that chat's visitor key).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.utils import timezone

from onthaal.chat import services as chat_services
from onthaal.chat.models import EndReason
from onthaal.staff.models import Role, User

Factory = Callable[["World"], Any]
OBJECTS: dict[str, Factory] = {}
# Objects that differ per acting role (``me``, ``my_passkey`` ...).
PER_ROLE: set[str] = set()

_serial = itertools.count(1)

STAFF_ROLES = ("operator", "coordinator", "administrator", "analyst")


def thing(name: str, *, per_role: bool = False) -> Callable[[Factory], Factory]:
    """Register how to build the world object ``name`` (``per_role``: it
    depends on who acts, e.g. their own passkey)."""

    def register(factory: Factory) -> Factory:
        assert name not in OBJECTS, f"world object {name} registered twice"
        OBJECTS[name] = factory
        if per_role:
            PER_ROLE.add(name)
        return factory

    return register


class World:
    """Shared objects are built once (``prepare``); then each role acts in
    ``as_role``, where whatever is built is the role's own and forgotten
    afterwards (the caller rolls the database back to match)."""

    def __init__(self, role: str | None = None) -> None:
        self.role = role
        self.serial = next(_serial)
        self._built: dict[str, Any] = {}
        self._role_built: dict[str, Any] | None = None
        self.tokens: dict[int, str] = {}
        # Whose token the visitor role holds (a case may say "ended").
        self.visitor_of = "active"

    def __getitem__(self, name: str) -> Any:
        if name in self._built:
            return self._built[name]
        cache = self._role_built if self._role_built is not None else self._built
        if name not in cache:
            if name not in OBJECTS:
                raise KeyError(f"no world object {name!r} (tests/authz/world.py)")
            assert self.role is not None or name not in PER_ROLE, name
            cache[name] = OBJECTS[name](self)
        return cache[name]

    def prepare(self, references: Any) -> None:
        """Build the users of every role and each shared object named in
        ``references`` (a case's parameters, body or frame)."""
        for role in STAFF_ROLES:
            self[role]
        for name in _references(references):
            if name not in PER_ROLE:
                self[name]

    def as_role(self, role: str) -> World:
        self.role = role
        self._role_built = {}
        return self

    def done(self) -> None:
        self.role = None
        self._role_built = None

    @property
    def me(self) -> User | None:
        return self[self.role] if self.role in STAFF_ROLES else None

    def resolve(self, value: Any) -> Any:
        """``"@name"`` → the world object (a model instance → its pk), recursively."""
        if isinstance(value, str) and value.startswith("@"):
            obj = self[value[1:]]
            return getattr(obj, "pk", obj)
        if isinstance(value, dict):
            return {key: self.resolve(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if callable(value):
            return value(self)
        return value

    def staff(self, role: str, label: str) -> User:
        from conftest import make_staff

        return make_staff(
            username=f"authz{self.serial}-{label}", pseudonym=label.title(), role=role
        )

    def conversation(self, operator: User | None, *, end: bool = False) -> Any:
        from conftest import FIREFOX_DESKTOP_UA

        conversation, token = chat_services.conversation_open(
            intake=chat_services.Intake(
                audience="pupil", age=15, gender="girl", referral_source="smartschool"
            ),
            user_agent=FIREFOX_DESKTOP_UA,
            language="nl-be",
        )
        if operator is not None:
            conversation = chat_services.conversation_accept(
                conversation_id=conversation.pk, operator=operator
            )
        if end:
            # A transcript, so that a chat scan can draw it.
            chat_services.message_post(
                conversation=conversation, sender="visitor", body="Hallo", client_id="authz"
            )
            conversation = chat_services.conversation_end(
                conversation=conversation, reason=EndReason.OPERATOR_ENDED, actor=operator
            )
        self.tokens[conversation.pk] = token
        return conversation


def _references(value: Any) -> list[str]:
    if isinstance(value, str) and value.startswith("@"):
        return [value[1:]]
    if isinstance(value, dict):
        return [name for item in value.values() for name in _references(item)]
    if isinstance(value, list | tuple):
        return [name for item in value for name in _references(item)]
    return []


# --- users ----------------------------------------------------------------------------


@thing("operator")
def _operator(world: World) -> User:
    return world.staff(Role.OPERATOR, "operator")


@thing("colleague")
def _colleague(world: World) -> User:
    return world.staff(Role.OPERATOR, "colleague")


@thing("coordinator")
def _coordinator(world: World) -> User:
    return world.staff(Role.COORDINATOR, "coordinator")


@thing("administrator")
def _administrator(world: World) -> User:
    return world.staff(Role.ADMINISTRATOR, "administrator")


@thing("analyst")
def _analyst(world: World) -> User:
    return world.staff(Role.ANALYST, "analyst")


@thing("me", per_role=True)
def _me(world: World) -> User | None:
    return world.me


# --- conversations ------------------------------------------------------------------------


@thing("active")
def _active(world: World) -> Any:
    return world.conversation(world["operator"])


@thing("ended")
def _ended(world: World) -> Any:
    return world.conversation(world["operator"], end=True)


@thing("colleague_active")
def _colleague_active(world: World) -> Any:
    return world.conversation(world["colleague"])


@thing("colleague_ended")
def _colleague_ended(world: World) -> Any:
    return world.conversation(world["colleague"], end=True)


@thing("queued")
def _queued(world: World) -> Any:
    return world.conversation(None)


@thing("token", per_role=True)
def _token(world: World) -> str:
    if world.role == "visitor":
        return world.tokens[world[world.visitor_of].pk]
    return "authz-not-a-token-" + "x" * 20


def _registered(world: World, conversation: Any, operator: User) -> Any:
    from onthaal.registration.models import Result
    from onthaal.registration.services import registration_save

    result = Result.objects.filter(is_active=True).values_list("pk", flat=True).first()
    registration_save(
        conversation=conversation,
        operator=operator,
        topic_ids=[],
        result_ids=[result] if result else [],
        prank_suspected=False,
    )
    return conversation


@thing("registered")
def _registered_own(world: World) -> Any:
    return _registered(world, world["ended"], world["operator"])


@thing("colleague_registered")
def _registered_colleague(world: World) -> Any:
    return _registered(world, world["colleague_ended"], world["colleague"])


@thing("result")
def _result(world: World) -> int | None:
    from onthaal.registration.models import Result

    return Result.objects.filter(is_active=True).values_list("pk", flat=True).first()


# --- quality ---------------------------------------------------------------------------


@thing("scan")
def _scan(world: World) -> Any:
    from onthaal.quality.services import chat_scan_draw

    world["ended"], world["colleague_ended"]
    today = timezone.localdate()
    # Drawn by a coordinator of its own, so that the world's coordinator
    # stays a plain reader of it.
    drawer = world.staff(Role.COORDINATOR, "drawer")
    return chat_scan_draw(
        coordinator=drawer, period_start=today, period_end=today, per_operator=5, seed=1
    )


def _review_of(world: World, conversation: Any) -> Any:
    from onthaal.quality.models import ScanReview

    world["scan"]
    return ScanReview.objects.get(conversation=conversation)


@thing("review")
def _review(world: World) -> Any:
    return _review_of(world, world["ended"])


@thing("reviewed")
def _reviewed(world: World) -> Any:
    """The review of the operator's ended chat, with the feedback given."""
    from onthaal.quality.models import ScanReview
    from onthaal.quality.services import scan_review_submit

    review = _review_of(world, world["ended"])
    scan_review_submit(review=review, reviewer=review.scan.drawn_by, scores={}, comment="Goed")
    return ScanReview.objects.get(pk=review.pk)


@thing("colleague_review")
def _colleague_review(world: World) -> Any:
    return _review_of(world, world["colleague_ended"])


# --- shifts ------------------------------------------------------------------------------


def _block(world: World, days: int) -> Any:
    from onthaal.shifts.models import ShiftBlock

    starts = timezone.now().replace(microsecond=0) + timedelta(days=days, hours=world.serial % 24)
    return ShiftBlock.objects.create(
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        created_by=world["coordinator"],
        created_at=timezone.now(),
    )


@thing("block", per_role=True)
def _signed_up_block(world: World) -> Any:
    from onthaal.shifts.services import shift_signup_create

    block = _block(world, 10)
    shift_signup_create(block_id=block.pk, operator=world["operator"])
    if world.me is not None and world.me.can_chat and world.me != world["operator"]:
        shift_signup_create(block_id=block.pk, operator=world.me)
    return block


@thing("free_block")
def _free_block(world: World) -> Any:
    return _block(world, 11)


@thing("feed_token", per_role=True)
def _feed_token(world: World) -> str:
    from onthaal.shifts.services import calendar_feed_regenerate

    owner = world.me if world.me is not None and world.me.can_chat else world["operator"]
    return calendar_feed_regenerate(operator=owner)


# --- passkeys ------------------------------------------------------------------------------


def _passkey_for(user: User, serial: int) -> Any:
    import os

    from onthaal.staff.models import PasskeyCredential

    return PasskeyCredential.objects.create(
        user=user,
        name="sleutel",
        credential_id=os.urandom(16) + serial.to_bytes(4, "big"),
        public_key=b"not a real key",
        created_at=timezone.now(),
    )


@thing("passkey")
def _passkey(world: World) -> Any:
    return _passkey_for(world["colleague"], world.serial)


@thing("my_passkey", per_role=True)
def _my_passkey(world: World) -> Any:
    owner = world.me if world.me is not None else world["operator"]
    return _passkey_for(owner, world.serial)


# --- automatic assignment (onthaal.assignment) -----------------------------------------------


def _offer_to(world: World, operator: User) -> Any:
    from onthaal.assignment.models import Offer

    now = timezone.now()
    return Offer.objects.create(
        conversation=world.conversation(None),
        operator=operator,
        offered_at=now,
        expires_at=now + timedelta(minutes=5),
    )


@thing("my_offer", per_role=True)
def _my_offer(world: World) -> Any:
    """An open offer of a queued chat to the acting role (the colleague's for
    those who take no chats)."""
    owner = world.me if world.me is not None and world.me.can_chat else world["colleague"]
    return _offer_to(world, owner)


@thing("colleague_offer")
def _colleague_offer(world: World) -> Any:
    return _offer_to(world, world["colleague"])


# --- toolkit: canned responses and the social map (onthaal.toolkit) -------------------------


def _canned_for(world: World, owner: User | None, label: str) -> Any:
    from onthaal.toolkit.models import CannedResponse

    now = timezone.now()
    return CannedResponse.objects.create(
        owner=owner,
        code=f"authz{world.serial}{label}",
        title="Authz",
        body="Hallo",
        created_at=now,
        updated_at=now,
    )


@thing("shared_canned")
def _shared_canned(world: World) -> Any:
    """A shared canned response (coordinators manage it)."""
    return _canned_for(world, None, "s")


@thing("my_canned", per_role=True)
def _my_canned(world: World) -> Any:
    """The acting role's own personal canned response (the operator's for
    anonymous and visitor)."""
    owner = world.me if world.me is not None else world["operator"]
    return _canned_for(world, owner, "m")


@thing("colleague_canned")
def _colleague_canned(world: World) -> Any:
    return _canned_for(world, world["colleague"], "c")


@thing("social_entry")
def _social_entry(world: World) -> Any:
    """An active entry of the social map."""
    from onthaal.toolkit.models import SocialMapEntry

    now = timezone.now()
    return SocialMapEntry.objects.create(
        name=f"Authz {world.serial}",
        url="https://www.voorbeeld.be",
        description="Een voorbeeld voor de autorisatietest.",
        created_at=now,
        updated_at=now,
    )


# --- prank reviews and blocks (onthaal.safeguard) ------------------------------------------


@thing("prank")
def _prank(world: World) -> Any:
    """The colleague's ended chat, started with a returning-visitor key and
    registered as a suspected prank: open in the review queue."""
    from onthaal.registration.models import Result
    from onthaal.registration.services import registration_save
    from onthaal.safeguard.keys import visitor_key_hash
    from onthaal.safeguard.services import conversation_visitor_link

    conversation = world.conversation(world["colleague"], end=True)
    key = f"authz-visitor-{world.serial:032d}"
    conversation_visitor_link(conversation=conversation, visitor_hash=visitor_key_hash(key))
    result = Result.objects.filter(is_active=True).values_list("pk", flat=True).first()
    registration_save(
        conversation=conversation,
        operator=world["colleague"],
        topic_ids=[],
        result_ids=[result] if result else [],
        prank_suspected=True,
    )
    return conversation


@thing("visitor_block")
def _visitor_block(world: World) -> Any:
    """A block in force on the prank chat's visitor key, set by a coordinator of its own."""
    from onthaal.safeguard.services import visitor_block_create

    blocker = world.staff(Role.COORDINATOR, "blocker")
    return visitor_block_create(
        coordinator=blocker, conversation_id=world["prank"].pk, duration="24h"
    )
