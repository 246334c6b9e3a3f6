"""The admin page of notifications: the topics' webhooks (add, remove) and the deliveries
that failed for good (send again). The same services as the API's routes."""

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.config import Settings
from app.deps import SessionDep, SettingsDep
from app.errors import AppError
from app.notifications import deliveries, webhooks
from app.notifications.models import DeliveryStatus
from app.schemas import ObjectId
from app.topics.models import Topic
from app.web.forms import FormRefused, errors_of
from app.web.render import redirect, render
from app.web.session import PageAdmin, PageAuditCtx

router = APIRouter(prefix="/admin/notifications")

PAGE = "admin/notifications.html"
DEAD_SHOWN = 50
FORMATS = [(str(webhooks.Format.slack), "Slack"), (str(webhooks.Format.teams), "Microsoft Teams")]


def _context(
    session: Session, settings: Settings, values: dict[str, str] | None = None
) -> dict[str, Any]:
    """Plain values (a refused form renders after the session rolled back)."""
    hooks = sorted(webhooks.listing(session), key=lambda found: found[1].name)  # stable: by id
    return {
        "webhooks": [
            {
                "id": w.id,
                "topic": t.name,
                "url": webhooks.shown_url(w.url),
                "format": dict(FORMATS).get(w.format, w.format),
                "created_at": w.created_at,
            }
            for w, t in hooks
        ],
        "dead": [
            {
                "id": d.id,
                "channel": d.channel,
                "kind": d.kind,
                "recipient": username,
                "attempts": d.attempts,
                "error": d.last_error,
                "created_at": d.created_at,
            }
            for d, username in deliveries.listing(session, DeliveryStatus.dead, None, DEAD_SHOWN)
        ],
        "backlog": deliveries.backlog(session),
        "email_on": settings.email_on,
        "topics": [
            (t.slug, t.name) for t in session.execute(select(Topic).order_by(Topic.name)).scalars()
        ],
        "formats": FORMATS,
        "values": values or {"topic": "", "url": "", "format": "slack"},
        "errors": {},
        "secret": None,
    }


@router.get("")
def notifications_admin(
    request: Request, session: SessionDep, settings: SettingsDep, _admin: PageAdmin
) -> Response:
    return render(request, PAGE, _context(session, settings))


@router.post("/webhooks")
def add_webhook(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    _admin: PageAdmin,
    ctx: PageAuditCtx,
    topic: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
    format: Annotated[str, Form()] = "slack",
) -> Response:
    values = {"topic": topic, "url": url.strip(), "format": format}
    chosen = session.execute(select(Topic).where(Topic.slug == topic)).scalar_one_or_none()
    if chosen is None:
        refused = {"topic": "Choose a topic."}
        raise FormRefused(PAGE, _context(session, settings, values), refused, status=422)
    shape = webhooks.Format(format) if format in dict(FORMATS) else webhooks.Format.slack
    try:
        webhook = webhooks.create(session, ctx, settings, chosen, values["url"], shape)
    except AppError as exc:
        context = _context(session, settings, values)
        raise FormRefused(PAGE, context, errors_of(exc), status=exc.status) from None
    # The secret is shown this once, on the page the form leads to.
    context = _context(session, settings)
    context["secret"] = {"topic": chosen.name, "value": webhook.secret}
    return render(request, PAGE, context)


@router.post("/webhooks/{webhook_id}/delete")
def remove_webhook(
    session: SessionDep, _admin: PageAdmin, ctx: PageAuditCtx, webhook_id: ObjectId
) -> Response:
    found = webhooks.find(session, webhook_id)
    if found is None:
        return redirect("/admin/notifications", "That webhook was already removed.")
    webhooks.delete(session, ctx, *found)
    return redirect("/admin/notifications", "Webhook removed: it gets no more calls.")


@router.post("/deliveries/{delivery_id}/retry")
def retry_delivery(
    session: SessionDep, _admin: PageAdmin, ctx: PageAuditCtx, delivery_id: ObjectId
) -> Response:
    try:
        deliveries.retry(session, ctx, delivery_id)
    except AppError as exc:
        return redirect("/admin/notifications", exc.detail)
    return redirect("/admin/notifications", "Sent again: it goes out with the next batch.")
