"""Tampering with the trail, in the database or in an exported file, is caught at the exact seq."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from typer.testing import CliRunner

from app.audit.models import AuditHead
from app.cli import app as cli
from app.db import Database
from tests.audit import tampering
from tests.factories import People, Person, ask

runner = CliRunner()


@pytest.fixture
def officer(client: TestClient, people: People) -> Person:
    """A compliance officer, and a trail of a dozen events or so behind them."""
    person = people.make("compliance")
    rep = people.make("rep")
    topic = people.topic("claims")
    for _ in range(4):
        ask(client, rep, topic)
    return person


def verify(client: TestClient, officer: Person, **checkpoint: Any) -> dict[str, Any]:
    response = client.get("/audit/verify", params=checkpoint, headers=officer.headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


def head(client: TestClient, officer: Person) -> int:
    return int(verify(client, officer)["head_seq"])


def test_an_untouched_trail_verifies(client: TestClient, officer: Person) -> None:
    report = verify(client, officer)
    assert report["ok"] is True
    assert report["first_bad_seq"] is None
    assert report["events_checked"] == report["head_seq"] > 8


def test_verify_names_the_event_whose_payload_was_changed(
    client: TestClient, officer: Person, db: Database
) -> None:
    target = head(client, officer) // 2
    tampering.edit_payload(db, target)
    report = verify(client, officer)
    assert (report["ok"], report["first_bad_seq"]) == (False, target)
    assert "hash" in report["reason"]


def test_verify_names_a_deleted_event(client: TestClient, officer: Person, db: Database) -> None:
    target = head(client, officer) // 2
    tampering.delete_event(db, target)
    assert verify(client, officer)["first_bad_seq"] == target


def test_verify_names_a_forged_event_inserted_in_the_middle(
    client: TestClient, officer: Person, db: Database
) -> None:
    target = head(client, officer) // 2
    tampering.insert_forged(db, target, links=False)
    assert verify(client, officer)["first_bad_seq"] == target


def test_a_forged_event_that_links_correctly_breaks_the_chain_right_after_it(
    client: TestClient, officer: Person, db: Database
) -> None:
    # The forger hashed their event over its predecessor, so it is consistent in itself;
    # the event displaced by it no longer links, and that is the first bad seq.
    target = head(client, officer) // 2
    tampering.insert_forged(db, target, links=True)
    report = verify(client, officer)
    assert report["first_bad_seq"] == target + 1
    assert report["events_checked"] == target


def test_verify_names_the_first_of_two_swapped_events(
    client: TestClient, officer: Person, db: Database
) -> None:
    target = head(client, officer) // 2
    tampering.swap_events(db, target, target + 2)
    assert verify(client, officer)["first_bad_seq"] == target


def test_verify_notices_events_cut_from_the_end(
    client: TestClient, officer: Person, db: Database
) -> None:
    last = head(client, officer)
    tampering.delete_event(db, last)
    report = verify(client, officer)
    assert (report["first_bad_seq"], report["events_checked"]) == (last, last - 1)


def test_verify_notices_an_event_appended_past_the_recorded_head(
    client: TestClient, officer: Person, db: Database
) -> None:
    last = head(client, officer)
    events = tampering.EVENTS
    with tampering.tampering(db) as conn:
        previous = conn.execute(select(events).where(events.c.seq == last)).one()._asdict()
        conn.execute(events.insert().values(**tampering.forged_after(previous)))
    assert verify(client, officer)["first_bad_seq"] == last + 1


def test_a_chain_rewritten_with_every_hash_recomputed_fails_only_against_a_checkpoint(
    client: TestClient, officer: Person, db: Database
) -> None:
    kept = client.get("/audit/checkpoint", headers=officer.headers).json()
    target = kept["seq"] // 2
    tampering.rewrite_from(db, target)
    assert verify(client, officer)["ok"] is True  # consistent in itself: why checkpoints exist
    report = verify(client, officer, checkpoint_seq=kept["seq"], checkpoint_hash=kept["hash"])
    assert (report["ok"], report["first_bad_seq"]) == (False, kept["seq"])


def test_a_checkpoint_past_the_head_means_events_were_cut(
    client: TestClient, officer: Person, db: Database
) -> None:
    kept = client.get("/audit/checkpoint", headers=officer.headers).json()
    with tampering.tampering(db) as conn:
        conn.execute(tampering.EVENTS.delete().where(tampering.EVENTS.c.seq == kept["seq"]))
        conn.execute(update(AuditHead.__table__).values(seq=kept["seq"] - 1))
        # ...and the head moved back to hide it; only the kept checkpoint can tell.
        previous_hash = conn.execute(
            select(tampering.EVENTS.c.hash).where(tampering.EVENTS.c.seq == kept["seq"] - 1)
        ).scalar_one()
        conn.execute(update(AuditHead.__table__).values(hash=previous_hash))
    assert verify(client, officer)["ok"] is True
    report = verify(client, officer, checkpoint_seq=kept["seq"], checkpoint_hash=kept["hash"])
    assert (report["ok"], report["first_bad_seq"]) == (False, kept["seq"])


# The same four tamperings on an exported file, checked offline with `vouch audit verify-file`.

Tamper = Callable[[list[str], int], list[str]]
FILE_TAMPERS: dict[str, Tamper] = {
    "payload changed": tampering.file_edit_payload,
    "line deleted": tampering.file_delete,
    "forged line inserted": tampering.file_insert_forged,
    "lines swapped": lambda lines, seq: tampering.file_swap(lines, seq, seq + 1),
}


def verify_file(path: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = runner.invoke(cli, ["audit", "verify-file", str(path), *args])
    return result.exit_code, json.loads(result.stdout.splitlines()[0])


@pytest.fixture
def exported(client: TestClient, officer: Person) -> list[str]:
    response = client.get("/audit/events", headers=officer.headers)
    assert response.status_code == 200
    return response.text.splitlines()


def test_an_untouched_export_verifies_offline(exported: list[str], tmp_path: Path) -> None:
    path = tmp_path / "audit.ndjson"
    path.write_text("\n".join(exported) + "\n")
    code, report = verify_file(path)
    assert (code, report["ok"], report["events_checked"]) == (0, True, len(exported))


@pytest.mark.parametrize("how", sorted(FILE_TAMPERS))
def test_verify_file_names_the_first_bad_seq_of_a_tampered_export(
    exported: list[str], tmp_path: Path, how: str
) -> None:
    target = len(exported) // 2
    path = tmp_path / "audit.ndjson"
    path.write_text("\n".join(FILE_TAMPERS[how](exported, target)) + "\n")
    code, report = verify_file(path)
    assert (code, report["ok"], report["first_bad_seq"]) == (1, False, target)
