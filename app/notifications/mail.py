"""Email: a delivery turned into a message (text and HTML parts from templates, one-click
unsubscribe headers) and sent over SMTP (STARTTLS and login when configured).

A message is composed when it is sent, from the notifications as they are then: a
recipient deactivated or without an address since gets nothing (the delivery is
dropped), and news of a thread deleted meanwhile is left out.
"""

import smtplib
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import select

from app.config import Settings
from app.db import Database
from app.notifications import describe, service, unsubscribe
from app.notifications.deliveries import Outcome
from app.notifications.models import Delivery, NotificationKind
from app.notifications.settings import KIND_LABELS
from app.users.models import User

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
SUMMARY_LIMIT = 50  # items in one email; the rest are a link to the list


@dataclass(frozen=True)
class Item:
    headline: str
    url: str
    topic: str
    at: str
    details: list[str] = field(default_factory=list)


def _when(at: datetime) -> str:
    return at.strftime("%d %b %Y, %H:%M UTC")


def message_id(settings: Settings, delivery: Delivery) -> str:
    """The same for every try of one delivery: a receiver sees a repeat as one."""
    domain = parseaddr(settings.mail_from)[1].rpartition("@")[2] or "vouch.invalid"
    return f"<vouch.{delivery.key.replace(':', '.')}@{domain}>"


def compose(
    settings: Settings, delivery: Delivery, user: User, items: list[Item], more: int = 0
) -> EmailMessage:
    if delivery.kind == "digest":
        count = len(items) + more
        subject = f"This week in Vouch: {count} newly validated answer{'s' * (count != 1)}"
        intro = "Answers the experts endorsed this week, for you to know and use:"
        why = "You get this weekly digest from Vouch."
    elif delivery.kind == unsubscribe.SUMMARY:
        count = len(items) + more
        subject = f"Your Vouch summary: {count} notification{'s' * (count != 1)}"
        intro = "What happened in Vouch since your last summary:"
        why = "You chose a daily summary for these kinds of news."
    else:
        subject = items[0].headline
        intro = f"Hello {user.display_name},"
        why = f"You get this email for: {KIND_LABELS[NotificationKind(delivery.kind)]}."
    # One line whatever the data holds (an imported title may carry a line break, which
    # the email library refuses in a header: that would fail the whole batch).
    subject = " ".join(subject.split())
    if len(subject) > 150:
        subject = subject[:149] + "…"
    unsubscribe_url = describe.public(
        settings, f"/unsubscribe/{unsubscribe.token(settings, user.id, delivery.kind)}"
    )
    values: dict[str, Any] = {
        "subject": subject,
        "intro": intro,
        "items": items,
        "more": more,
        "why": why,
        "list_url": describe.public(settings, "/notifications"),
        "settings_url": describe.public(settings, "/notifications/settings"),
        "unsubscribe_url": unsubscribe_url,
    }
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = settings.mail_from
    msg["To"] = Address(" ".join(user.display_name.split()), addr_spec=str(user.email))
    msg["Date"] = format_datetime(delivery.created_at)
    msg["Message-ID"] = message_id(settings, delivery)
    msg["List-Unsubscribe"] = f"<{unsubscribe_url}>"
    msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(_TEMPLATES.get_template("email.txt").render(values))
    msg.add_alternative(_TEMPLATES.get_template("email.html").render(values), subtype="html")
    return msg


def _items(settings: Settings, delivery: Delivery, listed: list[service.Listed]) -> list[Item]:
    if delivery.kind == "digest":
        return [Item(**item) for item in delivery.payload.get("items", [])]
    return [
        Item(
            headline=describe.headline(one),
            url=describe.public(settings, describe.link(one)),
            topic=one.topic_name,
            at=_when(one.notification.created_at),
            details=describe.details(one),
        )
        for one in listed
    ]


def _messages(
    db: Database, settings: Settings, ids: list[int]
) -> list[tuple[int, EmailMessage | None, str]]:
    """Each claimed delivery's message, or None and why there is nobody to send it to."""
    found: list[tuple[int, EmailMessage | None, str]] = []
    with db.session(write=False) as session:
        rows = session.execute(
            select(Delivery, User)
            .join(User, User.id == Delivery.user_id)
            .where(Delivery.id.in_(ids))
            .order_by(Delivery.id)
        ).all()
        notes = {
            one.notification.id: one
            for one in service.for_email(
                session, sorted({n for d, _ in rows for n in d.notification_ids})
            )
        }
        for delivery, user in rows:
            if not user.active or not user.email:
                found.append((delivery.id, None, "recipient deactivated or without an address"))
                continue
            listed = [notes[n] for n in delivery.notification_ids if n in notes]
            if delivery.kind != "digest" and not listed:
                found.append((delivery.id, None, "its threads were deleted"))
                continue
            items = _items(settings, delivery, listed)
            more = max(len(items) - SUMMARY_LIMIT, 0) + int(delivery.payload.get("more", 0))
            message = compose(settings, delivery, user, items[:SUMMARY_LIMIT], more)
            found.append((delivery.id, message, message["Message-ID"]))
    return found


def _refusal(error: Exception) -> Outcome:
    """A try that failed: for good on a 5xx reply, to be tried again otherwise (the
    server down, slow or busy)."""
    code = getattr(error, "smtp_code", None)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [c for c, _ in error.recipients.values()]
        code = min(codes) if codes else None
    text = f"{type(error).__name__}: {error}"[:500]
    return Outcome(False, error=text, permanent=isinstance(code, int) and code >= 500)


def _connect(settings: Settings) -> smtplib.SMTP:
    smtp = smtplib.SMTP(
        settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds
    )
    try:
        if settings.smtp_starttls:
            smtp.starttls(context=ssl.create_default_context())
        if settings.smtp_username:
            smtp.login(settings.smtp_username, settings.smtp_password.get_secret_value())
    except BaseException:
        smtp.close()
        raise
    return smtp


def send(db: Database, settings: Settings, ids: list[int]) -> Iterator[tuple[int, Outcome, int]]:
    """The email channel's sender: one SMTP connection for the batch."""
    messages = _messages(db, settings, ids)
    smtp: smtplib.SMTP | None = None
    down: Outcome | None = None  # the server could not be reached: the rest wait too
    try:
        for delivery_id, message, note in messages:
            if message is None:
                yield delivery_id, Outcome(False, error=note, dropped=True), 0
                continue
            if down is not None:
                yield delivery_id, down, 0
                continue
            start = time.perf_counter()
            try:
                if smtp is None:
                    try:
                        smtp = _connect(settings)
                    except (smtplib.SMTPException, OSError) as error:
                        # Not the message's fault (a server away, a login refused):
                        # tried again after the backoff, whatever the reply's code.
                        down = Outcome(False, error=f"{type(error).__name__}: {error}"[:500])
                        raise
                smtp.send_message(message)
                outcome = Outcome(True, message_id=note)
            except (smtplib.SMTPException, OSError) as error:
                outcome = down or _refusal(error)
                if not isinstance(error, smtplib.SMTPRecipientsRefused) and smtp is not None:
                    smtp.close()  # the connection may be unusable: a fresh one next
                    smtp = None
            yield delivery_id, outcome, int((time.perf_counter() - start) * 1000)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (smtplib.SMTPException, OSError):
                smtp.close()
