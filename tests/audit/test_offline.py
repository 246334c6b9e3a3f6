"""Offline verification of exported lines, complete or partial, without a database."""

import json
from typing import Any

from app.audit.chain import event_hash
from app.audit.models import GENESIS_HASH
from app.audit.offline import Anchor, verify_lines


def chain(length: int) -> list[dict[str, Any]]:
    events, prev = [], GENESIS_HASH
    for seq in range(1, length + 1):
        event = {
            "seq": seq,
            "occurred_at": f"2026-01-01T00:00:{seq:02d}.000000Z",
            "actor_id": seq % 3,
            "actor_username": f"user{seq % 3}",
            "actor_roles": ["rep"],
            "action": "question.create",
            "outcome": "success",
            "target_type": "question",
            "target_id": str(seq),
            "request_id": None,
            "client_ip": "10.0.0.1",
            "user_agent": "ua",
            "payload": {"after": {"title": f"Question {seq}", "tags": ["é", "✓"]}},
            "prev_hash": prev,
        }
        event["hash"] = prev = event_hash(event)
        events.append(event)
    return events


def lines(events: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(e, ensure_ascii=False) for e in events]


def test_a_complete_export_verifies_and_reports_its_head() -> None:
    events = chain(10)
    report = verify_lines(lines(events))
    assert (report.ok, report.events_checked, report.head_seq) == (True, 10, 10)
    assert report.head_hash == events[-1]["hash"]


def test_a_partial_export_checks_each_event_and_links_between_neighbours() -> None:
    kept = [e for e in chain(10) if e["actor_id"] == 1]  # seqs 1, 4, 7, 10
    assert verify_lines(lines(kept), partial=True).ok
    kept[2]["payload"] = {"forged": True}
    report = verify_lines(lines(kept), partial=True)
    assert (report.ok, report.first_bad_seq) == (False, 7)


def test_a_partial_export_still_checks_links_where_seqs_are_consecutive() -> None:
    run = chain(8)[3:]  # a `since` export: 4..8
    assert verify_lines(lines(run), partial=True).ok
    run[2]["prev_hash"] = "0" * 64  # seq 6 no longer links to 5
    run[2]["hash"] = event_hash(run[2])
    assert verify_lines(lines(run), partial=True).first_bad_seq == 6


def test_a_partial_export_refuses_seqs_out_of_order_or_repeated() -> None:
    events = chain(6)
    assert verify_lines(lines([events[0], events[3], events[2]]), partial=True).first_bad_seq == 3
    assert verify_lines(lines([events[0], events[0]]), partial=True).first_bad_seq == 1


def test_a_complete_export_must_start_at_the_genesis() -> None:
    report = verify_lines(lines(chain(6)[2:]))
    assert (report.ok, report.first_bad_seq) == (False, 1)


def test_an_anchor_must_be_found_with_its_hash() -> None:
    events = chain(6)
    assert verify_lines(lines(events), anchor=Anchor(events[3]["hash"])).ok
    assert verify_lines(lines(events), anchor=Anchor(events[3]["hash"], 4)).ok
    assert verify_lines(lines(events), anchor=Anchor(events[3]["hash"], 5)).first_bad_seq == 5
    assert verify_lines(lines(events[:3]), anchor=Anchor(events[3]["hash"])).first_bad_seq == 4


def test_blank_lines_are_ignored_and_garbage_is_named() -> None:
    text = lines(chain(3))
    assert verify_lines(["", *text, "  "]).ok
    report = verify_lines([*text[:2], "not json", text[2]])
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 3, 2)
