"""The gauges read from the database at scrape time: outbox backlogs and their oldest
row's age, dead deliveries, the audit head; and whether the database answered."""

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.audit.service import read_head
from app.db import Database, utcnow
from app.notifications import deliveries, fanout
from search.relay import backlog_summary

log = logging.getLogger("vouch.metrics")


class DatabaseCollector(Collector):
    """A handful of cheap aggregate queries on one read session per scrape. When they
    fail (the database is down), `vouch_database_up` is 0 and the other gauges are left
    out: the scrape itself still succeeds, with the request metrics."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "vouch_database_up", "1 when this scrape could read the database, 0 when not."
        )
        try:
            families = self._read()
        except Exception as exc:
            log.warning("metrics: the database did not answer: %s", type(exc).__name__)
            families = []
            up.add_metric([], 0)
        else:
            up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> list[Metric]:
        pending = GaugeMetricFamily(
            "vouch_outbox_pending",
            "Rows waiting for a worker, by queue: search (the search outbox), "
            "notification_fanout, delivery_email, delivery_webhook.",
            labels=["queue"],
        )
        age = GaugeMetricFamily(
            "vouch_outbox_oldest_pending_age_seconds",
            "How long the longest-waiting row of each queue has been due (0 when empty).",
            labels=["queue"],
        )
        with self.db.session(write=False) as session:
            search = backlog_summary(session)
            backlogs = {
                "search": search,
                "notification_fanout": fanout.backlog_summary(session),
                **{
                    f"delivery_{channel}": b
                    for channel, b in deliveries.backlog_by_channel(session).items()
                },
            }
            dead = deliveries.dead_count(session)
            head_seq, _ = read_head(session)
        now = utcnow()
        for queue, backlog in backlogs.items():
            pending.add_metric([queue], backlog.rows)
            age.add_metric([queue], backlog.age_seconds(now))
        return [
            pending,
            age,
            GaugeMetricFamily(
                "vouch_search_outbox_failing",
                "Search outbox rows whose last attempt failed, waiting to be retried.",
                value=search.failing,
            ),
            GaugeMetricFamily(
                "vouch_deliveries_dead",
                "Deliveries given up after their last attempt (admins can send them again).",
                value=dead,
            ),
            GaugeMetricFamily(
                "vouch_audit_head_seq",
                "The audit chain's head: the seq of the last event appended.",
                value=head_seq,
            ),
        ]
