"""Verifying an exported NDJSON file offline, with the chain code the database uses.

A complete export (no filter) must be the chain itself: seq 1 linked to the
genesis hash, then every seq once, in order, each linked to the one before.
A partial export (any filter) may start anywhere and skip events; each event's
own hash is still recomputed, and links are checked wherever two consecutive
seqs are both present. Either can be anchored to a checkpoint kept outside the
database (`GET /audit/checkpoint`): the file must then hold the event with
that hash, which rules out a chain rewritten with every hash recomputed.
"""

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from app.audit.chain import GENESIS_HASH, VerifyReport, verify_events
from app.audit.export import COLUMNS

_FIELDS = frozenset(COLUMNS)


class MalformedLine(ValueError):
    def __init__(self, line: int, seq: Any, detail: str) -> None:
        super().__init__(f"line {line}: {detail}")
        self.seq = seq if isinstance(seq, int) and not isinstance(seq, bool) else None


def read_events(lines: Iterable[bytes | str]) -> Iterator[dict[str, Any]]:
    """The events of an NDJSON export, one per non-blank line; MalformedLine otherwise."""
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            event = json.loads(line)
        except ValueError:
            raise MalformedLine(number, None, "not a JSON object") from None
        if not isinstance(event, dict):
            raise MalformedLine(number, None, "not a JSON object")
        if event.keys() != _FIELDS:
            odd = sorted(event.keys() ^ _FIELDS)
            raise MalformedLine(number, event.get("seq"), f"unexpected or missing fields {odd}")
        yield event


@dataclass(frozen=True)
class Anchor:
    """A checkpoint to find in the file: its hash, and its seq when known."""

    hash: str
    seq: int | None = None


def verify_lines(
    lines: Iterable[bytes | str], *, partial: bool = False, anchor: Anchor | None = None
) -> VerifyReport:
    """Verify an exported NDJSON file (see the module docstring for the two modes)."""
    found: list[dict[str, Any]] = []
    malformed: list[MalformedLine] = []

    def events() -> Iterator[dict[str, Any]]:
        try:
            for event in read_events(lines):
                if anchor is not None and (
                    event["seq"] == anchor.seq
                    if anchor.seq is not None
                    else event["hash"] == anchor.hash
                ):
                    found.append(event)
                yield event
        except MalformedLine as bad:
            malformed.append(bad)  # ends the walk; reported below, after what came before it

    start = None if partial else (0, GENESIS_HASH)
    report = verify_events(events(), start=start, allow_gaps=partial)
    if not report.ok:
        return report
    if malformed:
        return report.fail(malformed[0].seq or (report.head_seq or 0) + 1, str(malformed[0]))
    if anchor is None:
        return report
    if not found:
        missing = anchor.seq or (report.head_seq or 0) + 1
        return report.fail(missing, "the checkpoint's event is not in the file")
    if found[0]["hash"] != anchor.hash:
        return report.fail(found[0]["seq"], "the event differs from the checkpoint")
    return report
