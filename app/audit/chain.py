"""Canonical serialisation and hashing of audit events, and chain verification.

The hash of an event is SHA-256 over the UTF-8 bytes of a canonical JSON object
holding every field of the event except `hash` itself (so `prev_hash` is
included): keys sorted, no insignificant whitespace, timestamps as ISO 8601 UTC
with microseconds. The same function serves the database, the API and offline
verification of an exported file, so the three can never disagree.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

GENESIS_HASH = "0" * 64
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


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: keys sorted, no insignificant whitespace, not ASCII-escaped."""
    return _CANONICAL.encode(value)


def _hashed_doc(fields: Mapping[str, Any], leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The hashed fields of an event (but `leave_out`), its time in its one text form."""
    doc = {name: fields[name] for name in HASHED_FIELDS if name not in leave_out}
    if isinstance(doc["occurred_at"], datetime):
        doc["occurred_at"] = format_timestamp(doc["occurred_at"])
    return doc


def canonical_bytes(fields: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed for an event given as a mapping of its fields."""
    return canonical_json(_hashed_doc(fields)).encode()


def event_hash(fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(fields)).hexdigest()


def canonical_around_head(fields: Mapping[str, Any]) -> tuple[str, str, str]:
    """The canonical text of an event whose number and predecessor are not known yet,
    in three pieces: the text is `before + prev_hash + between + str(seq) + after`.

    So the database can finish it where the head is locked, in the statement that moves
    the head, and hash exactly what `canonical_bytes` would (keys sorted: `prev_hash`
    and `seq` sit between the other fields, a hash and a number need no escaping).
    """
    doc = _hashed_doc(fields, leave_out=("prev_hash", "seq"))

    def members(keep: Callable[[str], bool]) -> str:
        return canonical_json({k: v for k, v in doc.items() if keep(k)})[1:-1]

    before = members(lambda k: k < "prev_hash")
    between = members(lambda k: "prev_hash" < k < "seq")
    after = members(lambda k: k > "seq")
    return f'{{{before},"prev_hash":"', f'",{between},"seq":', f",{after}}}"


@dataclass
class VerifyReport:
    """What a verification found; `first_bad_seq` is None when the chain holds.

    `gaps` counts places where `seq` jumps forward; only a verification that
    allows gaps (a filtered export) can report any.
    """

    ok: bool
    events_checked: int
    head_seq: int | None
    head_hash: str | None
    first_bad_seq: int | None
    reason: str | None = None
    first_seq: int | None = None
    gaps: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events_checked": self.events_checked,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "reason": self.reason,
        }

    def fail(self, seq: int, reason: str) -> "VerifyReport":
        self.ok, self.first_bad_seq, self.reason = False, seq, reason
        return self


def hashes_to_its_hash(event: Mapping[str, Any]) -> bool:
    return event_hash(event) == event["hash"]


def verify_events(
    events: Iterable[Mapping[str, Any]],
    *,
    start: tuple[int, str] | None = (0, GENESIS_HASH),
    allow_gaps: bool = False,
    authentic: Callable[[Any], bool] = hashes_to_its_hash,
) -> VerifyReport:
    """Walk events in `seq` order and report the first whose seq, link or hash is wrong.

    A deleted event shows as a gap in `seq`, an inserted one as a broken link or
    a duplicate `seq`, an edited one as a hash mismatch; two swapped events fail
    at the first of them.

    `start` is the `(seq, hash)` the walk continues from: the genesis by
    default, a verified event for a segment of the chain. `start=None` accepts
    a run starting anywhere (an export filtered by time); an event with seq 1
    must still link to the genesis hash.
    `allow_gaps` accepts forward jumps in `seq` (an export filtered by actor,
    action or target): every event's own hash is still checked, and links only
    between consecutive seqs, where the predecessor is present.
    `authentic` decides whether an event hashes to its `hash`; the database
    passes a faster check of the same thing (`app/audit/reading.py`).
    """
    prev_seq, prev_hash = start if start is not None else (None, None)
    # Plain locals, not report attributes, in the loop: it runs once per event.
    checked, first_seq, gaps = 0, None, 0
    last_hash: str | None = None

    def failed(seq: int, reason: str) -> VerifyReport:
        head = prev_seq if checked else None
        report = VerifyReport(True, checked, head, last_hash, None, None, first_seq, gaps)
        return report.fail(seq, reason)

    for event in events:
        seq = event["seq"]
        if type(seq) is not int:
            return failed((prev_seq or 0) + 1, f"event after seq {prev_seq} has no integer seq")
        if prev_seq is not None and seq <= prev_seq:
            return failed(seq, f"seq {seq} after seq {prev_seq}: duplicated or out of order")
        linked = prev_seq is not None and seq == prev_seq + 1
        if prev_seq is not None and not linked:
            if not allow_gaps:
                return failed(prev_seq + 1, f"expected seq {prev_seq + 1}, found {seq}")
            gaps += 1
        if prev_seq is None and seq == 1:
            linked, prev_hash = True, GENESIS_HASH
        if linked and event["prev_hash"] != prev_hash:
            return failed(seq, "prev_hash does not match the previous event's hash")
        if not authentic(event):
            return failed(seq, "hash does not match the event's content")
        if first_seq is None:
            first_seq = seq
        checked += 1
        prev_seq = seq
        prev_hash = last_hash = event["hash"]
    head = prev_seq if checked else None
    return VerifyReport(True, checked, head, last_hash, None, None, first_seq, gaps)
