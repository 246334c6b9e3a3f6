"""Webhooks: a topic's news posted to a Slack- or Teams-compatible incoming webhook.

An admin registers a URL for a topic; the fan-out plans one call per piece of the
topic's news (new question, new answer, flag, learning need, stale endorsement: never
personal news such as a verdict to its author) and the delivery worker posts it, signed:

    X-Vouch-Timestamp: <unix seconds>
    X-Vouch-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" with the secret>
    X-Vouch-Delivery: <id, the same on every retry>

The URL must be http(s), carry no credentials, and point at a public address: private
networks, loopback and link-local targets are refused (checked when it is registered and
again before each call, as a name may resolve elsewhere later) unless
`webhook_allow_private` is set. Redirects are not followed.
"""

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.audit.service import AuditContext
from app.config import Settings
from app.db import Database, utcnow
from app.errors import InvalidInput
from app.notifications import deliveries, describe
from app.notifications.deliveries import Outcome
from app.notifications.models import (
    EXPERT_KINDS,
    Delivery,
    Notification,
    NotificationOutboxEntry,
    Webhook,
)
from app.notifications.service import Listed
from app.questions.models import Question
from app.topics.models import Topic
from app.users.models import User

CHANNEL = "webhook"
PARALLEL = 8  # calls in flight at once: one slow receiver does not hold up the others


class Format(StrEnum):
    slack = "slack"
    teams = "teams"


# -- the URL -----------------------------------------------------------------------------


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[{"field": "body.url", "message": message}])


def check_url(url: str, allow_private: bool) -> str:
    """The URL if it may be called; a 422 problem saying why not otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _refuse("Not a valid URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse("The URL must start with http:// or https:// and name a host.")
    if parts.username is not None or parts.password is not None:
        raise _refuse("The URL must not carry credentials.")
    if allow_private:
        return url
    try:
        found = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise _refuse(f"The host {parts.hostname} does not resolve.") from None
    for *_, address in found:
        ip = ipaddress.ip_address(str(address[0]).split("%")[0])
        if not ip.is_global:
            raise _refuse(f"The host {parts.hostname} is a private, loopback or reserved address.")
    return url


def shown_url(url: str) -> str:
    """The URL as lists and the audit trail show it: its origin only (incoming-webhook
    URLs carry their secret in the path)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…"


# -- registering -------------------------------------------------------------------------


def create(
    session: Session, ctx: AuditContext, settings: Settings, topic: Topic, url: str, fmt: Format
) -> Webhook:
    webhook = Webhook(
        topic_id=topic.id,
        url=check_url(url, settings.webhook_allow_private),
        format=str(fmt),
        secret=secrets.token_hex(32),
        created_by=ctx.actor.id,
    )
    session.add(webhook)
    session.flush()
    audit.record(
        session,
        ctx,
        "webhook.create",
        target_type="webhook",
        target_id=webhook.id,
        payload={
            "topic": topic.slug,
            "url": shown_url(url),
            "url_sha256": hashlib.sha256(url.encode()).hexdigest(),
            "format": str(fmt),
        },
    )
    return webhook


def delete(session: Session, ctx: AuditContext, webhook: Webhook, topic: Topic) -> None:
    """No more calls; those planned and not sent yet are dropped when their turn comes."""
    webhook.deleted_at = utcnow()
    audit.record(
        session,
        ctx,
        "webhook.delete",
        target_type="webhook",
        target_id=webhook.id,
        payload={"topic": topic.slug, "url": shown_url(webhook.url)},
    )


_ACTIVE = (
    select(Webhook, Topic)
    .join(Topic, Topic.id == Webhook.topic_id)
    .where(Webhook.deleted_at.is_(None))
)


def listing(session: Session) -> list[tuple[Webhook, Topic]]:
    """The webhooks not removed, with their topics, oldest first."""
    return [(w, t) for w, t in session.execute(_ACTIVE.order_by(Webhook.id))]


def find(session: Session, webhook_id: int) -> tuple[Webhook, Topic] | None:
    """A webhook not removed, with its topic; None for one removed or unknown."""
    found = session.execute(_ACTIVE.where(Webhook.id == webhook_id)).first()
    return None if found is None else (found[0], found[1])


# -- the message -------------------------------------------------------------------------


def message(fmt: str, listed: Listed, url: str) -> dict[str, Any]:
    """The JSON body: `text` as Slack and Teams incoming webhooks read it, and the same
    facts as fields for any other receiver."""
    headline = describe.headline(listed)
    lines = [headline, *describe.details(listed)]
    if fmt == Format.slack:
        text = "\n".join(lines) + f"\n<{url}|Open in Vouch>"
    else:
        text = "\n\n".join(lines) + f"\n\n[Open in Vouch]({url})"
    n = listed.notification
    return {
        "text": text,
        "vouch": {
            "kind": n.kind,
            "topic": listed.topic_slug,
            "question_id": n.question_id,
            "answer_id": n.answer_id,
            "title": listed.question_title,
            "headline": headline,
            "url": url,
            "at": n.created_at.isoformat(),
        },
    }


def add_calls(session: Session, settings: Settings, entries: list[NotificationOutboxEntry]) -> None:
    """Plan a call to each of their topic's webhooks for each piece of topic news."""
    news = [e for e in entries if e.kind in EXPERT_KINDS]
    if not news:
        return
    hooks: dict[int, list[Webhook]] = {}
    for webhook in session.execute(
        select(Webhook).where(
            Webhook.topic_id.in_({e.topic_id for e in news}), Webhook.deleted_at.is_(None)
        )
    ).scalars():
        hooks.setdefault(webhook.topic_id, []).append(webhook)
    news = [e for e in news if e.topic_id in hooks]
    if not news:
        return
    titles: dict[int | None, str] = dict(
        session.execute(
            select(Question.id, Question.title).where(
                Question.id.in_({e.question_id for e in news if e.question_id})
            )
        ).all()
    )
    topics = {t.id: t for t in session.execute(select(Topic).where(Topic.id.in_(hooks))).scalars()}
    names: dict[int | None, str] = dict(
        session.execute(
            select(User.id, User.display_name).where(
                User.id.in_({e.actor_id for e in news if e.actor_id})
            )
        ).all()
    )
    rows = []
    for entry in news:
        topic = topics[entry.topic_id]
        listed = Listed(
            Notification(
                kind=entry.kind,
                question_id=entry.question_id,
                answer_id=entry.answer_id,
                payload=entry.payload,
                created_at=entry.created_at,
            ),
            titles.get(entry.question_id),
            topic.slug,
            topic.name,
            names.get(entry.actor_id),
        )
        url = describe.public(settings, describe.link(listed))
        for webhook in hooks[entry.topic_id]:
            rows.append(
                {
                    "key": f"webhook:{webhook.id}:{entry.id}",
                    "channel": CHANNEL,
                    "kind": entry.kind,
                    "webhook_id": webhook.id,
                    "payload": message(webhook.format, listed, url),
                }
            )
    deliveries.add(session, rows)


# -- sending -----------------------------------------------------------------------------


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


@dataclass(frozen=True)
class _Call:
    delivery_id: int
    url: str
    secret: str
    payload: dict[str, Any]


def _timed(settings: Settings, client: httpx.Client, call: _Call) -> tuple[Outcome, int]:
    start = time.perf_counter()
    outcome = _post(settings, client, call)
    return outcome, int((time.perf_counter() - start) * 1000)


def _post(settings: Settings, client: httpx.Client, call: _Call) -> Outcome:
    try:
        check_url(call.url, settings.webhook_allow_private)
    except InvalidInput as refused:
        return Outcome(False, error=refused.detail, permanent=True)
    body = json.dumps(call.payload, separators=(",", ":"), ensure_ascii=False).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "X-Vouch-Timestamp": timestamp,
        "X-Vouch-Signature": signature(call.secret, timestamp, body),
        "X-Vouch-Delivery": str(call.delivery_id),
    }
    try:
        response = client.post(call.url, content=body, headers=headers)
    except httpx.HTTPError as error:
        return Outcome(False, error=f"{type(error).__name__}: {error}"[:500])
    if response.is_success:
        return Outcome(True)
    said = f"HTTP {response.status_code}: {response.text[:200]}"
    # A receiver that says the hook is gone or the call is wrong will say so again.
    permanent = 400 <= response.status_code < 500 and response.status_code not in (408, 429)
    return Outcome(False, error=said, permanent=permanent)


def send(db: Database, settings: Settings, ids: list[int]) -> Iterator[tuple[int, Outcome, int]]:
    """The webhook channel's sender: up to `PARALLEL` calls at once, each recorded as it
    ends, with the timeout of `webhook_timeout_seconds`."""
    with db.session(write=False) as session:
        rows = session.execute(
            select(Delivery.id, Delivery.payload, Webhook.url, Webhook.secret, Webhook.deleted_at)
            .join(Webhook, Webhook.id == Delivery.webhook_id)
            .where(Delivery.id.in_(ids))
        ).all()
    calls = []
    for delivery_id, payload, url, secret, deleted_at in rows:
        if deleted_at is not None:
            yield delivery_id, Outcome(False, error="webhook deleted", dropped=True), 0
        else:
            calls.append(_Call(delivery_id, url, secret, payload))
    if not calls:
        return
    timeout = httpx.Timeout(settings.webhook_timeout_seconds)
    with (
        httpx.Client(timeout=timeout, follow_redirects=False) as client,
        ThreadPoolExecutor(max_workers=PARALLEL, thread_name_prefix="vouch-webhook") as pool,
    ):
        futures = {pool.submit(_timed, settings, client, c): c.delivery_id for c in calls}
        for future in as_completed(futures):
            yield futures[future], *future.result()
