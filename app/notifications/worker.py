"""The notification loops in threads: the fan-out, the email sender (which plans the
daily summaries and the digest first) and the webhook caller. They run beside the
search relay in `vouch worker`, or inside the API process in the local set-up."""

from functools import partial

from app.background import BackgroundLoop
from app.config import Settings
from app.db import Database
from app.notifications import deliveries, fanout, mail, webhooks
from app.notifications.models import Channel
from app.notifications.summaries import Planner


def notification_loops(db: Database, settings: Settings) -> list[BackgroundLoop]:
    """The loops, not started yet; no email loop while email is off."""
    loops = [
        BackgroundLoop(partial(fanout.run, db, settings), "vouch-notification-fanout"),
        BackgroundLoop(
            partial(deliveries.run, db, settings, webhooks.CHANNEL, webhooks.send),
            "vouch-webhooks",
        ),
    ]
    if settings.email_on:
        email = partial(
            deliveries.run, db, settings, Channel.email, mail.send, before=Planner(db, settings)
        )
        loops.append(BackgroundLoop(email, "vouch-email"))
    return loops


def start_notification_workers(db: Database, settings: Settings) -> list[BackgroundLoop]:
    """The API's in-process loops, unless `notification_worker_in_process` is off."""
    if not settings.notification_worker_in_process:
        return []
    return [loop.start() for loop in notification_loops(db, settings)]
