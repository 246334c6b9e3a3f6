from typing import Annotated

from fastapi import APIRouter, Query, Response

from app.deps import Admin, AuditCtx, CurrentUser, SessionDep, SettingsDep
from app.errors import NotFound
from app.notifications import deliveries, describe, service, webhooks
from app.notifications.models import Delivery, DeliveryStatus, Webhook
from app.notifications.schemas import (
    DeliveryOut,
    DeliveryPage,
    MarkedRead,
    MarkRead,
    NotificationOut,
    NotificationPage,
    SettingOut,
    SettingsOut,
    SettingsUpdate,
    WebhookCreated,
    WebhookIn,
    WebhookList,
    WebhookOut,
)
from app.notifications.service import Listed
from app.notifications.settings import KIND_LABELS, Setting, offered, settings_of, update_settings
from app.pagination import CursorParam, PageSize, decode_cursor, next_cursor
from app.schemas import ObjectId
from app.topics.lookup import topics_named_in_body
from app.topics.models import Topic

router = APIRouter(tags=["notifications"])


def notification_out(listed: Listed) -> NotificationOut:
    n = listed.notification
    return NotificationOut(
        id=n.id,
        kind=n.kind,
        topic=listed.topic_slug,
        question_id=n.question_id,
        question_title=listed.question_title,
        answer_id=n.answer_id,
        actor=listed.actor_name,
        detail=n.payload,
        link=describe.link(listed),
        created_at=n.created_at,
        read=n.read_at is not None,
    )


@router.get(
    "/notifications", response_model=NotificationPage, summary="My notifications, newest first"
)
def list_notifications(
    session: SessionDep,
    user: CurrentUser,
    unread: Annotated[bool, Query(description="Only the unread ones.")] = False,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> NotificationPage:
    rows = service.list_notifications(
        session, user, unread_only=unread, before_id=decode_cursor(cursor), limit=limit + 1
    )
    return NotificationPage(
        items=[notification_out(r) for r in rows[:limit]],
        next_cursor=next_cursor([r.notification for r in rows], limit),
        unread=service.unread_count(session, user),
    )


@router.post("/notifications/read", response_model=MarkedRead, summary="Mark notifications read")
def mark_read(session: SessionDep, user: CurrentUser, body: MarkRead) -> MarkedRead:
    marked = service.mark_read(session, user, None if body.all else body.ids)
    return MarkedRead(marked=marked, unread=service.unread_count(session, user))


def settings_out(found: list[Setting]) -> SettingsOut:
    return SettingsOut(
        settings=[
            SettingOut(
                kind=s.kind,
                label=KIND_LABELS[s.kind],
                channel=s.channel,
                frequency=s.frequency,
                default=s.is_default,
                choices=list(offered(s.kind, s.channel)),
            )
            for s in found
        ]
    )


@router.get(
    "/me/notification-settings", response_model=SettingsOut, summary="My notification settings"
)
def my_settings(session: SessionDep, user: CurrentUser) -> SettingsOut:
    return settings_out(settings_of(session, user))


@router.put(
    "/me/notification-settings",
    response_model=SettingsOut,
    summary="Change my notification settings (the ones given; the others stay)",
)
def change_my_settings(
    session: SessionDep, user: CurrentUser, ctx: AuditCtx, body: SettingsUpdate
) -> SettingsOut:
    changes = [(s.kind, s.channel, s.frequency) for s in body.settings]
    return settings_out(update_settings(session, ctx, user, changes))


# -- admins: webhooks and deliveries ----------------------------------------------------


def webhook_out(webhook: Webhook, topic: Topic) -> WebhookOut:
    return WebhookOut(
        id=webhook.id,
        topic=topic.slug,
        url=webhooks.shown_url(webhook.url),
        format=webhooks.Format(webhook.format),
        created_at=webhook.created_at,
    )


@router.get("/webhooks", response_model=WebhookList, summary="The webhooks (admins)")
def list_webhooks(session: SessionDep, _admin: Admin) -> WebhookList:
    return WebhookList(items=[webhook_out(w, t) for w, t in webhooks.listing(session)])


@router.post(
    "/webhooks",
    response_model=WebhookCreated,
    status_code=201,
    summary="Register a topic's webhook (admins); its signing secret is in the answer",
)
def create_webhook(
    session: SessionDep, settings: SettingsDep, ctx: AuditCtx, _admin: Admin, body: WebhookIn
) -> WebhookCreated:
    topic = topics_named_in_body(session, [body.topic], "body.topic")[0]
    webhook = webhooks.create(session, ctx, settings, topic, body.url, body.format)
    return WebhookCreated(**webhook_out(webhook, topic).model_dump(), secret=webhook.secret)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove a webhook (admins)")
def delete_webhook(
    session: SessionDep, ctx: AuditCtx, _admin: Admin, webhook_id: ObjectId
) -> Response:
    found = webhooks.find(session, webhook_id)
    if found is None:
        raise NotFound(f"No webhook {webhook_id}.")
    webhooks.delete(session, ctx, *found)
    return Response(status_code=204)


def delivery_out(delivery: Delivery, username: str | None) -> DeliveryOut:
    return DeliveryOut(
        id=delivery.id,
        channel=delivery.channel,
        kind=delivery.kind,
        recipient=username,
        webhook_id=delivery.webhook_id,
        status=DeliveryStatus(delivery.status),
        attempts=delivery.attempts,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
        created_at=delivery.created_at,
        sent_at=delivery.sent_at,
    )


@router.get(
    "/notification-deliveries",
    response_model=DeliveryPage,
    summary="Emails and webhook calls by status, newest first (admins): the dead letters",
)
def list_deliveries(
    session: SessionDep,
    _admin: Admin,
    status: Annotated[DeliveryStatus, Query(description="Which ones.")] = DeliveryStatus.dead,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> DeliveryPage:
    rows = deliveries.listing(session, status, decode_cursor(cursor), limit + 1)
    return DeliveryPage(
        items=[delivery_out(d, u) for d, u in rows[:limit]],
        next_cursor=next_cursor([d for d, _ in rows], limit),
    )


@router.post(
    "/notification-deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    summary="Send a dead letter again (admins)",
)
def retry_delivery(
    session: SessionDep, ctx: AuditCtx, _admin: Admin, delivery_id: ObjectId
) -> DeliveryOut:
    delivery, username = deliveries.retry(session, ctx, delivery_id)
    return delivery_out(delivery, username)
