"""Admin pages: users (create, roles, expert topics, deactivate), topics, signposts.

Every form goes through the API's request model and the same service call as the API
route. A refused form keeps what was typed (never the password). Refused forms are
rendered after the request's session has rolled back, so their context holds plain
values, never ORM objects.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.deps import SessionDep
from app.errors import Conflict, InvalidInput
from app.pagination import CursorParam, next_cursor
from app.resources import service as resources
from app.resources.schemas import ResourceCreate
from app.schemas import ObjectId
from app.topics import service as topics
from app.topics.lookup import topic_by_slug
from app.topics.models import Topic
from app.topics.schemas import TopicCreate, TopicUpdate
from app.users import service as users
from app.users.models import Role, User
from app.users.schemas import UserCreate, UserUpdate
from app.web.forms import FORM, FormRefused, errors_of
from app.web.render import redirect, render
from app.web.session import PageAdmin, PageAuditCtx, PageCurator

router = APIRouter(prefix="/admin")

USERS_PAGE_SIZE = 25
ROLE_CHOICES = (
    (Role.rep.value, "Rep: asks, answers, comments, votes and flags"),
    (Role.expert.value, "Expert: reviews answers in their expert topics"),
    (Role.compliance.value, "Compliance: exports and verifies the audit trail"),
    (Role.admin.value, "Admin: manages users, roles and topics"),
)
# Clearer words than pydantic's, for fields whose every error means the same thing.
USER_MESSAGES = {
    "username": "Use 3 to 64 characters: lowercase letters, digits, '.', '_' or '-', "
    "starting with a letter or digit.",
    "display_name": "Enter the name colleagues know them by (at most 120 characters).",
    "roles": "Choose one or more of the roles listed.",
    "email": "Enter an email address such as name@example.com, or leave it empty.",
}
TOPIC_MESSAGES = {
    "slug": "Use lowercase letters, digits and '-', starting with a letter or digit "
    "(at most 63 characters).",
    "name": "Enter a name (at most 120 characters).",
    "required_endorsements": "Enter a whole number from 1 to 10.",
    "review_interval_days": "Enter a whole number of days from 1 to 3650, or leave it empty.",
}
SIGNPOST_MESSAGES = {
    "title": "Enter a title (at most 200 characters).",
    "url": "Enter a full web address, starting with https:// or http://.",
}


def _reworded(errors: dict[str, str], messages: dict[str, str]) -> dict[str, str]:
    return {name: messages.get(name, message) for name, message in errors.items()}


def _topic_choices(session: Session) -> list[tuple[str, str]]:
    return [(t.slug, t.name) for t in topics.all_topics(session)]


def _interval(days: int | None) -> str:
    return "never stale" if days is None else f"every {days} day{'s' if days != 1 else ''}"


# ---- The admin home: users and topics --------------------------------------------------


@router.get("")
def admin_page(
    request: Request, session: SessionDep, _admin: PageAdmin, cursor: CursorParam = None
) -> Response:
    rows = users.list_users(session, USERS_PAGE_SIZE, cursor)
    after = next_cursor(rows, USERS_PAGE_SIZE)
    return render(
        request,
        "admin/admin.html",
        {
            "users": rows[:USERS_PAGE_SIZE],
            "next_url": f"/admin?cursor={after}" if after else None,
            "first_page": cursor is None,
            "topics": [(t, _interval(t.review_interval_days)) for t in topics.all_topics(session)],
        },
    )


# ---- Users -------------------------------------------------------------------------------

NEW_USER = "admin/user_new.html"
USER = "admin/user.html"


def _new_user_context(session: Session, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "values": values,
        "role_choices": ROLE_CHOICES,
        "topic_choices": _topic_choices(session),
        "errors": {},
    }


@router.get("/users/new")
def new_user_form(request: Request, session: SessionDep, _admin: PageAdmin) -> Response:
    values = {"roles": [Role.rep.value], "expert_topics": []}
    return render(request, NEW_USER, _new_user_context(session, values))


@router.post("/users/new")
def create_user(
    session: SessionDep,
    _admin: PageAdmin,
    ctx: PageAuditCtx,
    username: Annotated[str, Form()] = "",
    display_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    expert_topics: Annotated[list[str] | None, Form()] = None,
) -> Response:
    values = {
        "username": username,
        "display_name": display_name,
        "email": email,
        "roles": roles or [],
        "expert_topics": expert_topics or [],
    }  # never the password: a refused form does not send it back
    context = _new_user_context(session, values)
    try:
        data = UserCreate.model_validate(
            {**values, "email": email.strip() or None, "password": password}
        )
        user = users.create_user(session, ctx, data)
    except ValidationError as exc:
        raise FormRefused(NEW_USER, context, _reworded(errors_of(exc), USER_MESSAGES)) from None
    except Conflict as exc:  # the username is taken
        raise FormRefused(NEW_USER, context, {"username": exc.detail}, status=409) from None
    except InvalidInput as exc:
        raise FormRefused(NEW_USER, context, errors_of(exc)) from None
    return redirect(
        f"/admin/users/{user.id}", flash=f"Created {user.display_name} ({user.username})."
    )


def _user_facts(user: User) -> dict[str, Any]:
    """What the user page shows about the account, as plain values."""
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "roles": list(user.roles),
        "expert_topics": [t.name for t in user.expert_topics],
        "active": user.active,
        "reputation": user.reputation,
        "created_at": user.created_at,
    }


def _user_context(
    session: Session, facts: dict[str, Any], values: dict[str, Any]
) -> dict[str, Any]:
    return {
        "account": facts,
        "values": values,
        "role_choices": ROLE_CHOICES,
        "topic_choices": _topic_choices(session),
        "errors": {},
    }


@router.get("/users/{user_id}")
def user_page(
    request: Request, session: SessionDep, _admin: PageAdmin, user_id: ObjectId
) -> Response:
    user = users.get_user(session, user_id)
    values = {
        "display_name": user.display_name,
        "email": user.email or "",
        "roles": list(user.roles),
        "expert_topics": [t.slug for t in user.expert_topics],
    }
    return render(request, USER, _user_context(session, _user_facts(user), values))


@router.post("/users/{user_id}")
def update_user(
    session: SessionDep,
    _admin: PageAdmin,
    ctx: PageAuditCtx,
    user_id: ObjectId,
    display_name: Annotated[str, Form()] = "",
    email: Annotated[str, Form()] = "",
    roles: Annotated[list[str] | None, Form()] = None,
    expert_topics: Annotated[list[str] | None, Form()] = None,
    active: Annotated[str | None, Form()] = None,
) -> Response:
    """The details form (name, roles, expert topics) or, when `active` is sent, the
    separate Deactivate / Reactivate form."""
    user = users.get_user(session, user_id)
    facts = _user_facts(user)
    if active is not None:
        values = {
            "display_name": user.display_name,
            "email": user.email or "",
            "roles": list(user.roles),
            "expert_topics": [t.slug for t in user.expert_topics],
        }
        context = _user_context(session, facts, values)
        try:
            # The form's buttons send "true" or "false"; anything else is refused.
            wanted = {"true": True, "false": False}.get(active, active)
            data = UserUpdate.model_validate({"active": wanted})
            users.update_user(session, ctx, user, data)
        except ValidationError as exc:
            raise FormRefused(USER, context, {"active": errors_of(exc)["active"]}) from None
        except Conflict as exc:  # the last active admin
            raise FormRefused(USER, context, {"active": exc.detail}, status=409) from None
        done = (
            f"Reactivated {user.display_name}: they can sign in again."
            if user.active
            else f"Deactivated {user.display_name}: signed out everywhere, and cannot sign in."
        )
        return redirect(f"/admin/users/{user_id}", flash=done)
    values = {
        "display_name": display_name,
        "email": email,
        "roles": roles or [],
        "expert_topics": expert_topics or [],
    }
    context = _user_context(session, facts, values)
    try:
        data = UserUpdate.model_validate(values)  # an empty email removes the address
        users.update_user(session, ctx, user, data)
    except ValidationError as exc:
        raise FormRefused(USER, context, _reworded(errors_of(exc), USER_MESSAGES)) from None
    except InvalidInput as exc:
        raise FormRefused(USER, context, errors_of(exc)) from None
    except Conflict as exc:  # taking the admin role from the last active admin
        raise FormRefused(USER, context, {FORM: exc.detail}, status=409) from None
    return redirect(f"/admin/users/{user_id}", flash=f"Saved the changes to {user.display_name}.")


# ---- Topics ------------------------------------------------------------------------------

NEW_TOPIC = "admin/topic_new.html"
TOPIC = "admin/topic.html"
SIGNPOSTS = "admin/signposts.html"


def _topic_values(
    name: str, description: str, required_endorsements: str, review_interval_days: str
) -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "required_endorsements": required_endorsements,
        "review_interval_days": review_interval_days,
    }


def _settings(values: dict[str, Any]) -> dict[str, Any]:
    """The form's values for the topic models: an empty review interval is 'never stale'."""
    return {**values, "review_interval_days": values["review_interval_days"].strip() or None}


@router.get("/topics/new")
def new_topic_form(request: Request, _admin: PageAdmin) -> Response:
    values = {"slug": "", **_topic_values("", "", "1", "")}
    return render(request, NEW_TOPIC, {"values": values, "errors": {}})


@router.post("/topics/new")
def create_topic(
    session: SessionDep,
    _admin: PageAdmin,
    ctx: PageAuditCtx,
    slug: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    required_endorsements: Annotated[str, Form()] = "",
    review_interval_days: Annotated[str, Form()] = "",
) -> Response:
    values = {
        "slug": slug,
        **_topic_values(name, description, required_endorsements, review_interval_days),
    }
    context = {"values": values}
    try:
        topic = topics.create_topic(session, ctx, TopicCreate.model_validate(_settings(values)))
    except ValidationError as exc:
        raise FormRefused(NEW_TOPIC, context, _reworded(errors_of(exc), TOPIC_MESSAGES)) from None
    except Conflict as exc:  # the slug is taken
        raise FormRefused(NEW_TOPIC, context, {"slug": exc.detail}, status=409) from None
    return redirect(f"/admin/topics/{topic.slug}", flash=f"Created the topic {topic.name}.")


def _topic_page(
    session: Session, user: User, topic: Topic, values: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the topic page and the signposts page show, as plain values."""
    return {
        "topic": {
            "slug": topic.slug,
            "name": topic.name,
            "description": topic.description,
            "required_endorsements": topic.required_endorsements,
            "interval": _interval(topic.review_interval_days),
        },
        "values": values
        or _topic_values(
            topic.name,
            topic.description,
            str(topic.required_endorsements),
            "" if topic.review_interval_days is None else str(topic.review_interval_days),
        ),
        "experts": [
            {"id": u.id, "username": u.username, "name": u.display_name, "active": u.active}
            for u in users.experts_of(session, topic.id)
        ],
        "signposts": [
            {
                "title": r.title,
                "url": r.url,
                "description": r.description,
                "created_at": r.created_at,
            }
            for r in resources.list_resources(session, topic.id)
        ],
        "can_curate": resources.may_curate(user, topic),
        "signpost": {"title": "", "url": "", "description": ""},
        "settings_errors": {},
        "signpost_errors": {},
    }


@router.get("/topics/{slug}")
def topic_page(request: Request, session: SessionDep, admin: PageAdmin, slug: str) -> Response:
    topic = topic_by_slug(session, slug)
    return render(request, TOPIC, _topic_page(session, admin, topic))


@router.post("/topics/{slug}")
def update_topic(
    session: SessionDep,
    admin: PageAdmin,
    ctx: PageAuditCtx,
    slug: str,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    required_endorsements: Annotated[str, Form()] = "",
    review_interval_days: Annotated[str, Form()] = "",
) -> Response:
    topic = topic_by_slug(session, slug)
    values = _topic_values(name, description, required_endorsements, review_interval_days)
    context = _topic_page(session, admin, topic, values)
    try:
        topics.update_topic(session, ctx, topic, TopicUpdate.model_validate(_settings(values)))
    except ValidationError as exc:
        errors = _reworded(errors_of(exc), TOPIC_MESSAGES)
        raise FormRefused(TOPIC, {**context, "settings_errors": errors}, errors) from None
    return redirect(f"/admin/topics/{topic.slug}", flash=f"Saved the settings of {topic.name}.")


@router.get("/topics/{slug}/signposts")
def signposts_page(
    request: Request, session: SessionDep, curator: PageCurator, slug: str
) -> Response:
    """A topic's signposts and the form to add one: for its experts (admins have it on
    the topic page too)."""
    topic = topic_by_slug(session, slug)
    return render(request, SIGNPOSTS, _topic_page(session, curator, topic))


@router.post("/topics/{slug}/signposts")
def add_signpost(
    session: SessionDep,
    curator: PageCurator,
    ctx: PageAuditCtx,
    slug: str,
    title: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
) -> Response:
    """Add a signpost; the service refuses (403) anyone but the topic's experts and admins."""
    topic = topic_by_slug(session, slug)
    signpost = {"title": title, "url": url, "description": description}
    context = {**_topic_page(session, curator, topic), "signpost": signpost}
    # Admins add signposts from the topic page, experts from the signposts page.
    is_admin = curator.has_role(Role.admin)
    template, back = (
        (TOPIC, f"/admin/topics/{topic.slug}#signposts")
        if is_admin
        else (SIGNPOSTS, f"/admin/topics/{topic.slug}/signposts")
    )
    try:
        data = ResourceCreate.model_validate(signpost)
        resources.add_resource(session, ctx, curator, topic, data)
    except ValidationError as exc:
        errors = _reworded(errors_of(exc), SIGNPOST_MESSAGES)
        raise FormRefused(template, {**context, "signpost_errors": errors}, errors) from None
    return redirect(back, flash=f"Added the signpost {data.title!r} to {topic.name}.")
