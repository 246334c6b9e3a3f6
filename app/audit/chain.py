"""Canonical serialisation and hashing of audit events, and chain verification.

The hash of an event is SHA-256 over the UTF-8 bytes of a canonical JSON object
holding every field of the event except `hash` itself (so `prev_hash` is
included): keys sorted, no insignificant whitespace, timestamps as ISO 8601 UTC
with microseconds. The same function serves the database, the API and offline
verification of an exported file, so the three can never disagree.
"""

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from app.audit.models import GENESIS_HASH

HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor_id",
    "actor_username",
    "actor_roles",
    "action",
    "outcome",
    "target_type",
    "target_id",
    "request_id",
    "client_ip",
    "user_agent",
    "payload",
    "prev_hash",
)


def format_timestamp(value: datetime) -> str:
    """The one textual form of an event time: `2026-01-02T03:04:05.000006Z`."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed for an event given as a mapping of its fields."""
    doc = {name: fields[name] for name in HASHED_FIELDS}
    if isinstance(doc["occurred_at"], datetime):
        doc["occurred_at"] = format_timestamp(doc["occurred_at"])
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


@dataclass
class VerifyReport:
    """What a verification found; `first_bad_seq` is None when the chain holds."""

    ok: bool
    events_checked: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }


def verify_events(
    events: Iterable[Mapping[str, Any]],
    *,
    expected_first_seq: int = 1,
    expected_prev_hash: str = GENESIS_HASH,
) -> VerifyReport:
    """Walk events in order and report the first whose seq, link or hash is wrong.

    A deleted event shows as a gap in `seq`, an inserted one as a broken link or
    a duplicate `seq`, an edited one as a hash mismatch; two swapped events fail
    at the first of them.
    """
    expected_seq, prev_hash = expected_first_seq, expected_prev_hash
    checked = 0
    head_seq: int | None = None
    head_hash: str | None = None
    for event in events:
        seq = event["seq"]
        reason = None
        if seq != expected_seq:
            reason = f"expected seq {expected_seq}, found {seq}"
        elif event["prev_hash"] != prev_hash:
            reason = "prev_hash does not match the previous event's hash"
        elif event_hash(event) != event["hash"]:
            reason = "hash does not match the event's content"
        if reason is not None:
            bad = min(seq, expected_seq) if isinstance(seq, int) else expected_seq
            return VerifyReport(False, checked, head_seq, head_hash, bad, reason)
        checked += 1
        head_seq, head_hash = seq, event["hash"]
        expected_seq, prev_hash = seq + 1, event["hash"]
    return VerifyReport(True, checked, head_seq, head_hash, None)
