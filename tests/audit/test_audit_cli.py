"""`vouch audit export`, `verify` and `verify-file` against the test database."""

import csv
import getpass
import io
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from app.audit.models import AuditEvent
from app.audit.service import checkpoint
from app.cli import app as cli
from app.db import Database
from app.demo_content import DEMO_THREADS

runner = CliRunner()


@pytest.fixture
def demo(cli_env: None) -> None:
    """The command line pointed at the test database, holding the demo content."""
    assert runner.invoke(cli, ["demo"]).exit_code == 0


def vouch(*args: str) -> tuple[int, str]:
    result = runner.invoke(cli, list(args))
    return result.exit_code, result.stdout


def report_of(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.splitlines()[0]))


def test_an_export_of_the_whole_demo_history_verifies_offline(
    demo: None, db: Database, tmp_path: Path
) -> None:
    path = tmp_path / "audit.ndjson"
    assert vouch("audit", "export", "-o", str(path))[0] == 0
    with db.session(write=False) as session:
        head = checkpoint(session)
    code, out = vouch("audit", "verify-file", str(path), "--head-hash", head.hash)
    report = report_of(out)
    assert code == 0, out
    assert (report["ok"], report["events_checked"]) == (True, head.seq)
    assert report["head_seq"] == head.seq
    assert json.loads(path.read_text().splitlines()[-1])["action"] == "audit.export"


def test_the_export_command_is_audited_as_the_operator(demo: None, db: Database) -> None:
    assert vouch("audit", "export", "--actor", "alice", "--format", "csv")[0] == 0
    with db.session(write=False) as session:
        latest = select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)
        event = session.execute(latest).scalar_one()
    assert (event.action, event.actor_username) == ("audit.export", f"cli:{getpass.getuser()}")
    assert event.payload == {"filter": {"actor": "alice"}, "format": "csv"}


def test_export_writes_filtered_csv_to_stdout(demo: None) -> None:
    code, out = vouch("audit", "export", "--format", "csv", "--action", "question.create")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == len(DEMO_THREADS)
    assert {row["action"] for row in rows} == {"question.create"}


@pytest.mark.parametrize(
    "options",
    [["--since", "last tuesday"], ["--action", "nope"], ["--format", "xml"]],
    ids=["bad time", "unknown action", "unknown format"],
)
def test_export_refuses_bad_options_and_writes_nothing(
    demo: None, db: Database, options: list[str]
) -> None:
    with db.session(write=False) as session:
        before = checkpoint(session).seq
    assert vouch("audit", "export", *options)[0] == 2
    with db.session(write=False) as session:
        assert checkpoint(session).seq == before


def test_a_filtered_export_verifies_with_partial(demo: None, tmp_path: Path) -> None:
    path = tmp_path / "alice.ndjson"
    assert vouch("audit", "export", "--actor", "alice", "-o", str(path))[0] == 0
    assert vouch("audit", "verify-file", str(path))[0] == 1
    code, out = vouch("audit", "verify-file", "--partial", str(path))
    assert code == 0
    assert report_of(out)["gaps"] > 0


def test_verify_file_fails_when_the_checkpoint_is_not_in_the_file(
    demo: None, tmp_path: Path
) -> None:
    path = tmp_path / "audit.ndjson"
    vouch("audit", "export", "-o", str(path))
    code, out = vouch("audit", "verify-file", str(path), "--head-hash", "a" * 64)
    assert code == 1
    assert "checkpoint" in report_of(out)["reason"]


def test_verify_file_names_a_line_that_is_not_an_event(demo: None, tmp_path: Path) -> None:
    path = tmp_path / "audit.ndjson"
    vouch("audit", "export", "-o", str(path))
    lines = path.read_text().splitlines()
    lines[4] = '{"seq": 5, "note": "not an event"}'
    path.write_text("\n".join(lines))
    code, out = vouch("audit", "verify-file", str(path))
    assert (code, report_of(out)["first_bad_seq"], report_of(out)["events_checked"]) == (1, 5, 4)


def test_audit_verify_checks_against_a_kept_checkpoint(demo: None, db: Database) -> None:
    with db.session(write=False) as session:
        kept = checkpoint(session)
    at = ("audit", "verify", "--checkpoint-seq", str(kept.seq), "--checkpoint-hash")
    assert vouch(*at, kept.hash)[0] == 0
    code, out = vouch(*at, "b" * 64)
    assert (code, report_of(out)["first_bad_seq"]) == (1, kept.seq)
