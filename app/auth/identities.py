"""People signed in by the identity provider: created at their first sign-in, their name,
email, roles and expert topics brought up to date from the ID token at every one.

The provider's groups are the source of roles for its people: `OIDC_ROLE_MAP` says what
each group gives, re-applied at every sign-in and audited as `user.roles_change` naming
the provider, as a change made by an admin would be. Deactivation in Vouch still wins.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from app.audit import service as audit
from app.audit.service import Actor, AuditContext
from app.auth import service as auth_service
from app.auth.models import OidcSignIn
from app.auth.oidc import Pending, SignInRefused, digest
from app.auth.passwords import NO_PASSWORD
from app.config import Settings
from app.errors import Conflict
from app.observability.metrics import LOGIN_FAILURES
from app.topics.models import Topic
from app.users.models import Role, User
from app.users.schemas import Email, UserUpdate
from app.users.service import add_user, update_user

ROLE_ORDER = list(Role)
_EMAIL = TypeAdapter(Email)
_NOT_USERNAME = re.compile(r"[^a-z0-9_.-]+")


@dataclass(frozen=True)
class Identity:
    """What the ID token says about the person."""

    issuer: str
    subject: str
    username_hint: str
    display_name: str
    email: str | None
    groups: tuple[str, ...]


def identity_of(settings: Settings, claims: dict[str, Any]) -> Identity:
    """The person the checked claims describe; refused without the groups claim, since
    without it their roles cannot be known."""
    groups = claims.get(settings.oidc_groups_claim)
    if not isinstance(groups, list) or not all(isinstance(g, str) for g in groups):
        raise SignInRefused(
            f"The sign-in service sent no {settings.oidc_groups_claim} claim, so your roles "
            "here cannot be known. Ask your administrator to release it to Vouch.",
            "no-groups-claim",
            status=403,
        )
    subject = str(claims["sub"])
    hint = str(claims.get("preferred_username") or str(claims.get("email", "")).split("@")[0])
    name = " ".join(str(claims.get("name") or hint or subject).split())[:120]
    email: str | None = None
    if claims.get("email"):
        try:
            email = _EMAIL.validate_python(claims["email"])
        except ValidationError:
            email = None
    return Identity(str(claims["iss"]), subject, hint, name, email, tuple(groups))


def grants(settings: Settings, groups: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The roles and expert topics the person's groups give, in a stable order; a person
    in no mapped group is a rep. Topics count only with the expert role."""
    roles: set[str] = set()
    topics: set[str] = set()
    for group in groups:
        grant = settings.oidc_role_map.get(group)
        if grant is not None:
            roles.update(grant.roles)
            topics.update(grant.topics)
    ordered = [str(role) for role in ROLE_ORDER if role in roles] or [str(Role.rep)]
    return ordered, sorted(topics) if Role.expert in ordered else []


def _free_username(session: Session, identity: Identity) -> str:
    base = _NOT_USERNAME.sub("-", identity.username_hint.lower()).strip("-._")[:56]
    if len(base) < 3:
        base = f"user-{digest(identity.subject)[:8]}"
    taken = set(
        session.execute(select(User.username).where(User.username.startswith(base))).scalars()
    )
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _known_topics(session: Session, slugs: list[str]) -> list[str]:
    """The mapped topics that exist; a mapping naming a topic not yet created gives none."""
    if not slugs:
        return []
    found = session.execute(select(Topic.slug).where(Topic.slug.in_(slugs))).scalars()
    return sorted(found)


def refuse(
    session: Session, ctx: AuditContext, reason: str, issuer: str, subject: str = ""
) -> None:
    """Audit a refused single sign-on as a failed `auth.login`; nothing else is written."""
    LOGIN_FAILURES.labels(reason).inc()
    user_id = None
    if subject:
        user_id = session.execute(
            select(User.id).where(User.identity_issuer == issuer, User.identity_subject == subject)
        ).scalar_one_or_none()
    payload = {"method": "oidc", "provider": issuer, "reason": reason}
    if subject:
        payload["subject"] = subject
    audit.record(
        session,
        ctx,
        "auth.login",
        target_type="user",
        target_id=user_id,
        payload=payload,
        outcome="failure",
    )


def spend(session: Session, pending: Pending) -> None:
    """Mark the sign-in's state and nonce as used, before the provider is asked about
    its code; a second use is a replay."""
    try:
        with session.begin_nested():
            session.add(
                OidcSignIn(state_digest=digest(pending.state), nonce_digest=digest(pending.nonce))
            )
    except IntegrityError:
        raise SignInRefused(
            "This sign-in was already used; start again.", "replayed-state", status=400
        ) from None


def sign_in(
    session: Session, settings: Settings, ctx: AuditContext, identity: Identity
) -> tuple[User, str, datetime]:
    """The user this identity is (created at the first sign-in), brought up to date, and a
    new sign-in token. Raises `SignInRefused` (the caller audits it) with nothing written."""
    via = f"oidc:{identity.issuer}"
    user = session.execute(
        select(User)
        .options(selectinload(User.expert_topics))
        .where(User.identity_issuer == identity.issuer, User.identity_subject == identity.subject)
    ).scalar_one_or_none()
    roles, topics = grants(settings, identity.groups)
    topics = _known_topics(session, topics)
    # The provider acts: it creates the person and sets their roles, as an admin would.
    provider = ctx.as_actor(Actor(None, via, ()))
    if user is None:
        # Created a rep; the roles their groups give follow as a `user.roles_change`.
        user = User(
            username=_free_username(session, identity),
            display_name=identity.display_name,
            email=identity.email,
            password_hash=NO_PASSWORD,
            roles=[str(Role.rep)],
            expert_topics=[],
            active=True,
            reputation=0,
            identity_issuer=identity.issuer,
            identity_subject=identity.subject,
        )
        add_user(session, provider, user, via=via)
    if not user.active:
        raise SignInRefused(
            "This account is deactivated in Vouch; ask an administrator.", "inactive", status=403
        )
    changes: dict[str, Any] = {}
    if identity.display_name != user.display_name:
        changes["display_name"] = identity.display_name
    if identity.email and identity.email != user.email:
        changes["email"] = identity.email
    if set(roles) != set(user.roles) or topics != [t.slug for t in user.expert_topics]:
        changes |= {"roles": roles, "expert_topics": topics}
    if changes:
        try:
            update_user(session, provider, user, UserUpdate.model_validate(changes), via=via)
        except Conflict as exc:  # the last active admin would lose the role
            raise SignInRefused(exc.detail, "last-admin", status=409) from None
    token, expires_at = auth_service.sign_in(
        session, settings, ctx, user, {"method": "oidc", "provider": identity.issuer}
    )
    return user, token, expires_at
