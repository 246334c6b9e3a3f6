"""One-click unsubscribe (RFC 8058): a signed link in each email that turns that kind
of email off for its recipient, without signing in.

The token names the person and what the email was: a kind of news (that kind's email
is turned off), `summary` (every kind gathered into the daily summary), or `digest`.
It is signed with the server's secret key (itsdangerous), so it cannot be made for
someone else; it does not expire, as mail clients may use it long after.
"""

from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from app.audit.service import Actor, AuditContext
from app.config import Settings
from app.errors import InvalidLink
from app.notifications.models import Channel, Frequency, NotificationKind
from app.notifications.settings import KIND_LABELS, settings_of, update_settings
from app.users.models import User

SUMMARY = "summary"
_SALT = "vouch-unsubscribe"


@dataclass(frozen=True)
class Unsubscribe:
    user_id: int
    what: str  # a kind, or "summary"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_SALT)


def token(settings: Settings, user_id: int, what: str) -> str:
    return str(_serializer(settings).dumps({"u": user_id, "w": what}))


def read_token(settings: Settings, value: str) -> Unsubscribe:
    """The token's request; a 400 problem for one that is malformed or not ours."""
    try:
        data = _serializer(settings).loads(value)
        found = Unsubscribe(int(data["u"]), str(data["w"]))
    except (BadSignature, KeyError, TypeError, ValueError):
        raise InvalidLink("This unsubscribe link is not valid.") from None
    if found.what != SUMMARY and found.what not in {str(k) for k in KIND_LABELS}:
        raise InvalidLink("This unsubscribe link is not valid.")
    return found


def describe(what: str) -> str:
    """What the link stops, in words."""
    if what == SUMMARY:
        return "the daily summary emails"
    return f"emails for: {KIND_LABELS[NotificationKind(what)]}"


def apply(session: Session, ctx: AuditContext, user: User, what: str) -> bool:
    """Turn that email off for `user` (audited as their own settings change); False when
    it was off already."""
    by_email = {
        s.kind: s.frequency for s in settings_of(session, user) if s.channel == Channel.email
    }
    if what == SUMMARY:
        kinds = [kind for kind, frequency in by_email.items() if frequency == Frequency.daily]
    else:
        kinds = [NotificationKind(what)]
    changes = [
        (kind, Channel.email, Frequency.never)
        for kind in kinds
        if by_email.get(kind) != Frequency.never
    ]
    if not changes:
        return False
    own = ctx.as_actor(Actor(user.id, user.username, tuple(user.roles)))
    update_settings(session, own, user, changes)
    return True
