"""Managing users: creation, roles and expert topics, activation."""

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from app.audit import service as audit
from app.audit.service import AuditContext, Event
from app.auth.passwords import hash_password
from app.auth.service import revoke_all_tokens
from app.errors import Conflict, InvalidInput, NotFound
from app.pagination import decode_cursor
from app.topics.lookup import topics_named_in_body
from app.users.models import Role, User, user_expert_topics
from app.users.schemas import UserCreate, UserUpdate


def _check_expert_topics(roles: list[str], topics: list[str]) -> None:
    if topics and Role.expert not in roles:
        raise InvalidInput(
            "Expert topics need the expert role.",
            errors=[{"field": "body.expert_topics", "message": "only experts have expert topics"}],
        )


def snapshot(user: User) -> dict[str, object]:
    """The fields of a user that the audit trail records (never the password hash)."""
    return {
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "roles": list(user.roles),
        "expert_topics": [t.slug for t in user.expert_topics],
        "active": user.active,
    }


def create_user(session: Session, ctx: AuditContext, data: UserCreate) -> User:
    _check_expert_topics(list(data.roles), data.expert_topics)
    if session.execute(select(User.id).where(User.username == data.username)).first():
        raise Conflict(f"The username {data.username!r} is taken.")
    user = User(
        username=data.username,
        display_name=data.display_name,
        email=data.email,
        password_hash=hash_password(data.password),
        roles=[str(r) for r in data.roles],
        expert_topics=topics_named_in_body(session, data.expert_topics, "body.expert_topics"),
        active=True,
        reputation=0,
    )
    return add_user(session, ctx, user)


def add_users(
    session: Session, ctx: AuditContext, users: list[User], *, via: str | None = None
) -> list[User]:
    """Store new users and audit each as `user.create` (one flush and one append to the
    chain for all of them: the importer adds thousands). `via` names where the change
    came from when not from a person's request (an identity provider)."""
    session.add_all(users)
    session.flush()
    extra = {"via": via} if via else {}
    events = [Event("user.create", "user", u.id, {"after": snapshot(u), **extra}) for u in users]
    audit.record_many(session, ctx, events)
    return users


def add_user(session: Session, ctx: AuditContext, user: User, *, via: str | None = None) -> User:
    """Store a new user and audit it as `user.create`."""
    return add_users(session, ctx, [user], via=via)[0]


def get_user(session: Session, user_id: int) -> User:
    user = session.get(
        User, user_id, options=[selectinload(User.expert_topics)], populate_existing=True
    )
    if user is None:
        raise NotFound(f"No user with id {user_id}.")
    return user


def list_users(session: Session, limit: int, cursor: str | None) -> list[User]:
    after = decode_cursor(cursor)
    query = (
        select(User).options(selectinload(User.expert_topics)).order_by(User.id).limit(limit + 1)
    )
    if after is not None:
        query = query.where(User.id > after)
    return list(session.execute(query).scalars())


def experts_of(session: Session, topic_id: int) -> list[User]:
    """The users who are experts of a topic, by display name (deactivated ones too)."""
    query = (
        select(User)
        .join(user_expert_topics, user_expert_topics.c.user_id == User.id)
        .where(user_expert_topics.c.topic_id == topic_id)
        .order_by(User.display_name, User.id)
    )
    return [user for user in session.execute(query).scalars() if Role.expert in user.roles]


def _other_active_admins(session: Session, user: User) -> int:
    admins = session.execute(select(User).where(User.active.is_(True), User.id != user.id))
    return sum(1 for other in admins.scalars() if Role.admin in other.roles)


def update_user(
    session: Session, ctx: AuditContext, user: User, data: UserUpdate, *, via: str | None = None
) -> User:
    """Apply a PATCH; each kind of change writes its own audit event (naming `via`, the
    identity provider, when the change comes from one)."""
    before = snapshot(user)
    roles = [str(r) for r in data.roles] if data.roles is not None else list(user.roles)
    topic_slugs = (
        data.expert_topics
        if data.expert_topics is not None
        else ([] if Role.expert not in roles else before["expert_topics"])
    )
    assert isinstance(topic_slugs, list)
    _check_expert_topics(roles, topic_slugs)
    loses_admin = Role.admin in user.roles and (Role.admin not in roles or data.active is False)
    if loses_admin and user.active and _other_active_admins(session, user) == 0:
        raise Conflict("This is the last active admin; make another admin first.")

    def audit_change(action: str, payload: dict[str, object]) -> None:
        if via:
            payload = {**payload, "via": via}
        audit.record(session, ctx, action, target_type="user", target_id=user.id, payload=payload)

    changed: dict[str, object] = {}
    if data.display_name is not None and data.display_name != user.display_name:
        changed["display_name"] = data.display_name
    if data.email is not None and (data.email or None) != user.email:
        changed["email"] = data.email or None  # "" removes the address
    if changed:
        for name, value in changed.items():
            setattr(user, name, value)
        audit_change(
            "user.update", {"before": {name: before[name] for name in changed}, "after": changed}
        )
    if roles != user.roles or topic_slugs != before["expert_topics"]:
        user.roles = roles
        user.expert_topics = topics_named_in_body(session, topic_slugs, "body.expert_topics")
        audit_change(
            "user.roles_change",
            {
                "before": {"roles": before["roles"], "expert_topics": before["expert_topics"]},
                "after": {"roles": user.roles, "expert_topics": topic_slugs},
            },
        )
    if data.active is not None and data.active != user.active:
        user.active = data.active
        payload: dict[str, object] = {
            "before": {"active": not data.active},
            "after": {"active": data.active},
        }
        if not data.active:
            payload["tokens_revoked"] = revoke_all_tokens(session, user.id)
        action = "user.activate" if data.active else "user.deactivate"
        audit_change(action, payload)
    session.flush()
    return user
