"""A person's notifications: the list, opening one, marking them read."""

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.responses import Response

from app.config import Settings
from app.deps import SessionDep, SettingsDep
from app.errors import InvalidInput
from app.notifications import service
from app.notifications.describe import details, headline
from app.notifications.models import Channel, Frequency, NotificationKind
from app.notifications.router import notification_out
from app.notifications.service import Listed
from app.notifications.settings import (
    CHOICES,
    KIND_LABELS,
    Setting,
    offered,
    settings_of,
    update_settings,
)
from app.pagination import CursorParam, decode_cursor, next_cursor
from app.schemas import MAX_ID, ObjectId
from app.users.models import User
from app.web.forms import FORM, FormRefused
from app.web.render import redirect, render
from app.web.session import PageAuditCtx, PageUser, local_path

router = APIRouter()

PAGE_SIZE = 20


@dataclass(frozen=True)
class NotificationCard:
    id: int
    kind: str
    headline: str
    details: list[str]
    topic: str
    at: datetime
    read: bool


def _card(listed: Listed) -> NotificationCard:
    n = listed.notification
    return NotificationCard(
        id=n.id,
        kind=n.kind,
        headline=headline(listed),
        details=details(listed),
        topic=listed.topic_name,
        at=n.created_at,
        read=n.read_at is not None,
    )


@router.get("/notifications")
def notifications_page(
    request: Request,
    session: SessionDep,
    user: PageUser,
    unread: Annotated[bool, Query()] = False,
    cursor: CursorParam = None,
) -> Response:
    rows = service.list_notifications(
        session, user, unread_only=unread, before_id=decode_cursor(cursor), limit=PAGE_SIZE + 1
    )
    after = next_cursor([r.notification for r in rows], PAGE_SIZE)
    query = "unread=true&" if unread else ""
    return render(
        request,
        "notifications/list.html",
        {
            "cards": [_card(r) for r in rows[:PAGE_SIZE]],
            "unread_only": unread,
            "next_url": f"/notifications?{query}cursor={after}" if after else None,
        },
    )


SETTINGS = "notifications/settings.html"
FREQUENCY_LABELS = {
    Frequency.immediately: "Immediately",
    Frequency.daily: "Daily summary",
    Frequency.weekly: "Weekly",
    Frequency.never: "Never",
}
CHANNEL_LABELS = {Channel.web: "In Vouch", Channel.email: "By email"}


@dataclass(frozen=True)
class SettingRow:
    label: str
    # Per channel: field name, chosen, options; None where the channel does not carry
    # the kind (the digest is an email).
    cells: list[tuple[str, str, list[tuple[str, str]]] | None]


def _setting_rows(found: list[Setting], chosen: dict[str, str] | None = None) -> list[SettingRow]:
    by_pair = {(s.kind, s.channel): s for s in found}
    rows = []
    for kind in KIND_LABELS:
        cells: list[tuple[str, str, list[tuple[str, str]]] | None] = []
        for channel in CHOICES:
            s = by_pair.get((kind, channel))
            if s is None:
                cells.append(None)
                continue
            name = f"{kind}|{channel}"
            options = [(str(f), FREQUENCY_LABELS[f]) for f in offered(kind, channel)]
            cells.append((name, (chosen or {}).get(name, str(s.frequency)), options))
        rows.append(SettingRow(KIND_LABELS[kind], cells))
    return rows


def _settings_context(settings: Settings, user: User, rows: list[SettingRow]) -> dict[str, Any]:
    return {
        "rows": rows,
        "channels": [CHANNEL_LABELS[c] for c in CHOICES],
        "email_on": settings.email_on,
        "has_email": bool(user.email),
    }


@router.get("/notifications/settings")
def settings_page(
    request: Request, session: SessionDep, settings: SettingsDep, user: PageUser
) -> Response:
    rows = _setting_rows(settings_of(session, user))
    return render(request, SETTINGS, _settings_context(settings, user, rows))


async def _setting_fields(request: Request) -> dict[str, str]:
    """The form's `kind|channel` fields (their names are the settings, so they are read
    here rather than declared one by one)."""
    form = await request.form()
    return {k: str(v) for k, v in form.items() if "|" in k}


@router.post("/notifications/settings")
def save_settings(
    session: SessionDep,
    settings: SettingsDep,
    user: PageUser,
    ctx: PageAuditCtx,
    chosen: Annotated[dict[str, str], Depends(_setting_fields)],
) -> Response:
    changes, errors = [], {}
    for name, value in chosen.items():
        kind, _, channel = name.partition("|")
        try:
            changes.append((NotificationKind(kind), Channel(channel), Frequency(value)))
        except ValueError:
            errors[name] = "Choose one of the options."
    try:
        if errors:
            raise InvalidInput("Not saved.")
        update_settings(session, ctx, user, changes)
    except InvalidInput:
        rows = _setting_rows(settings_of(session, user), chosen)
        errors = errors or {FORM: "A channel does not offer one of those choices."}
        raise FormRefused(SETTINGS, _settings_context(settings, user, rows), errors) from None
    return redirect("/notifications/settings", "Notification settings saved.")


@router.post("/notifications/{notification_id}/open")
def open_notification(session: SessionDep, user: PageUser, notification_id: ObjectId) -> Response:
    """Marks it read and goes where it points: opening it is reading it (a form, since
    it writes). One that is gone (its thread deleted) or not the user's leads back to
    the list, with a word."""
    found = service.get_notification(session, user, notification_id)
    if found is None:
        return redirect("/notifications", "That notification is no longer there.")
    service.mark_read(session, user, [notification_id])
    return redirect(notification_out(found).link)


@router.post("/notifications/read")
def mark_read(
    session: SessionDep,
    user: PageUser,
    notification: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "/notifications",
) -> Response:
    """One notification (`notification`), or all of them when it is left out."""
    if notification:
        if not notification.isdigit() or not 1 <= int(notification) <= MAX_ID:
            raise InvalidInput("That is not a notification of yours.")
        marked = service.mark_read(session, user, [int(notification)])
        flash = "Marked read." if marked else None
    else:
        marked = service.mark_read(session, user, None)
        flash = f"Marked {marked} notification{'s' if marked != 1 else ''} read."
    return redirect(local_path(back, "/notifications"), flash)
