"""`vouch backup DIR` and `vouch restore DIR`: a backup taken while people write restores
into an empty database as exactly the instant of its checkpoint, chain verified."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from app.audit.models import AuditEvent
from app.audit.service import verify_chain
from app.backup.manifest import describe
from app.backup.service import ensure_empty
from app.config import Settings
from app.db import Database
from app.questions.models import Question
from app.users.models import User
from search.client import make_client
from tests.conftest import DatabaseFactory
from tests.factories import People, ask
from tests.support.vouch_process import Ran, run_in_process, run_vouch, vouch_env


@pytest.fixture
def empty_url(databases: DatabaseFactory) -> Iterator[str]:
    """A new, empty database to restore into."""
    url = databases.empty_url()
    yield url
    databases.release(url)


@pytest.fixture
def populated(client: TestClient, people: People) -> Callable[[], int]:
    """A few threads; returns `ask_one()`, which asks one more and returns its id."""
    rep, topic = people.make("rep"), people.topic("claims")

    def ask_one() -> int:
        return int(ask(client, rep, topic, title="How do I handle a lapsed policy?")["id"])

    for _ in range(5):
        ask_one()
    return ask_one


def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 60
    while not condition():
        assert time.monotonic() < deadline, "the writer did not get on"
        time.sleep(0.05)


def test_a_backup_taken_under_writes_restores_exactly_its_checkpoints_instant(
    settings: Settings, db: Database, populated: Callable[[], int], empty_url: str, tmp_path: Path
) -> None:
    asked: list[int] = []
    stop = threading.Event()

    def write() -> None:
        while not stop.is_set():
            asked.append(populated())

    writer = threading.Thread(target=write)
    writer.start()
    try:
        until(lambda: len(asked) >= 2)
        before = len(asked)
        backup = run_vouch(vouch_env(settings), tmp_path, "backup", tmp_path / "backup")
        during = len(asked) - before
        until(lambda: len(asked) >= before + during + 2)  # and on after the backup
    finally:
        stop.set()
        writer.join()
    assert backup.code == 0, backup.stderr
    assert during > 0, "no write landed while the backup ran"
    kept = json.loads((tmp_path / "backup" / "manifest.json").read_text())["checkpoint"]["seq"]

    restored = run_vouch(vouch_env(settings, empty_url), tmp_path, "restore", tmp_path / "backup")
    assert restored.code == 0, restored.stderr
    assert f"audit chain verified: {kept} events" in restored.stdout
    assert "search index NOT rebuilt" in restored.stderr  # the test's Meilisearch is down

    with db.session(write=False) as session:
        chain = session.execute(
            select(AuditEvent.seq, AuditEvent.hash).where(AuditEvent.seq <= kept).order_by("seq")
        ).all()
        asked_by_then = {
            int(target)
            for target in session.scalars(
                select(AuditEvent.target_id).where(
                    AuditEvent.action == "question.create", AuditEvent.seq <= kept
                )
            )
        }
        users = session.scalar(select(func.count()).select_from(User))
        asked_in_all = session.scalar(select(func.count()).select_from(Question))
    copy = Database(empty_url)
    try:
        with copy.session(write=False) as session:
            restored_chain = session.execute(
                select(AuditEvent.seq, AuditEvent.hash)
                .where(AuditEvent.seq <= kept)
                .order_by("seq")
            ).all()
            questions = set(session.scalars(select(Question.id)))
            restored_users = session.scalar(select(func.count()).select_from(User))
            report = verify_chain(session)
            last = session.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
            backed_up = session.scalars(
                select(AuditEvent.seq).where(AuditEvent.action == "backup.create")
            ).all()
    finally:
        copy.dispose()
    assert restored_chain == chain  # the same events, hash for hash
    assert questions == asked_by_then  # every change with its event, none without
    assert len(questions) < (asked_in_all or 0)  # the writer went on past the snapshot
    assert restored_users == users
    assert (report.ok, report.head_seq) == (True, kept + 1)
    assert last is not None and last.action == "backup.restore"
    assert len(backed_up) == 1 and backed_up[0] <= kept  # the backup holds its own event


@pytest.fixture
def env(settings: Settings, populated: Callable[[], int]) -> dict[str, str]:
    return vouch_env(settings)


@pytest.fixture
def backup_dir(env: dict[str, str], tmp_path: Path) -> Path:
    made = run_in_process(env, "backup", tmp_path / "backup")
    assert made.code == 0, made.stderr
    return tmp_path / "backup"


def restore(env: dict[str, str], url: str, *args: str | Path) -> Ran:
    return run_in_process({**env, "VOUCH_DATABASE_URL": url}, "restore", *args)


def is_empty(url: str) -> bool:
    target = Database(url)
    try:
        ensure_empty(target)
        return True
    except ValueError:
        return False
    finally:
        target.dispose()


def test_restore_into_a_database_that_is_not_empty_is_refused_and_changes_nothing(
    env: dict[str, str], settings: Settings, db: Database, backup_dir: Path
) -> None:
    with db.session(write=False) as session:
        head = verify_chain(session).head_seq
    refused = restore(env, settings.database_url, backup_dir)
    assert refused.code == 2
    assert "is not empty" in refused.stderr and "nothing was changed" in refused.stderr
    with db.session(write=False) as session:
        assert verify_chain(session).head_seq == head


def _no_manifest(folder: Path) -> None:
    (folder / "manifest.json").unlink()


def _data_file(folder: Path) -> Path:
    return next(folder.glob("database.*"))


def _truncated(folder: Path) -> None:
    data = _data_file(folder)
    data.write_bytes(data.read_bytes()[:-100])


def _flipped(folder: Path) -> None:
    data = _data_file(folder)
    content = bytearray(data.read_bytes())
    content[len(content) // 2] ^= 0xFF
    data.write_bytes(bytes(content))


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (lambda folder: None, "no such folder"),
        (_no_manifest, "holds no manifest.json"),
        (lambda folder: _data_file(folder).unlink(), "is missing"),
        (_truncated, "incomplete"),
        (_flipped, "SHA-256 differs"),
        (lambda folder: (folder / "checkpoint.json").write_text("{}"), "incomplete"),
    ],
    ids=["no folder", "no manifest", "no data file", "truncated", "one byte changed", "checkpoint"],
)
def test_a_missing_or_damaged_backup_is_refused_with_exit_2(
    env: dict[str, str],
    backup_dir: Path,
    empty_url: str,
    tmp_path: Path,
    damage: Callable[[Path], None],
    said: str,
) -> None:
    folder = backup_dir
    if said == "no such folder":
        folder = tmp_path / "never-made"
    damage(folder)
    refused = restore(env, empty_url, folder)
    assert refused.code == 2
    assert refused.stderr.startswith("error: ") and said in refused.stderr
    assert is_empty(empty_url)


def test_a_signed_backup_restores_only_with_its_public_key(
    env: dict[str, str], databases: DatabaseFactory, tmp_path: Path
) -> None:
    key = tmp_path / "backup.key"
    assert run_in_process(env, "audit", "keygen", key).code == 0
    assert run_in_process(env, "audit", "keygen", tmp_path / "other.key").code == 0
    made = run_in_process(env, "backup", tmp_path / "signed", "--sign-key", key)
    assert made.code == 0, made.stderr
    assert "checkpoint signed with key" in made.stdout
    targets = [databases.empty_url() for _ in range(3)]
    try:
        unchecked = restore(env, targets[0], tmp_path / "signed")
        other = restore(
            env, targets[1], tmp_path / "signed", "--public-key", f"{tmp_path}/other.key.pub"
        )
        right = restore(env, targets[2], tmp_path / "signed", "--public-key", f"{key}.pub")
        assert (unchecked.code, other.code, right.code) == (2, 1, 0), right.stderr
        assert "give --public-key" in unchecked.stderr
        assert "checkpoint REJECTED" in other.stderr
        assert "signed by key" in right.stdout
        assert is_empty(targets[0]) and is_empty(targets[1])
    finally:
        for url in targets:
            databases.release(url)


def test_a_backup_whose_chain_does_not_match_its_checkpoint_fails_the_restore(
    env: dict[str, str], backup_dir: Path, empty_url: str
) -> None:
    # Someone swapped the checkpoint beside the data (and fixed up the manifest): the
    # restored chain no longer reaches it, and the restore says so.
    checkpoint = backup_dir / "checkpoint.json"
    doc = json.loads(checkpoint.read_text())
    doc["hash"] = "c" * 64
    checkpoint.write_text(json.dumps(doc))
    manifest = json.loads((backup_dir / "manifest.json").read_text())
    manifest["checkpoint"]["hash"] = doc["hash"]
    manifest["files"]["checkpoint.json"] = describe(checkpoint)
    (backup_dir / "manifest.json").write_text(json.dumps(manifest))
    failed = restore(env, empty_url, backup_dir)
    assert failed.code == 1
    assert "does NOT verify against the backup's checkpoint" in failed.stderr


def test_backup_refuses_a_folder_that_is_not_empty(env: dict[str, str], backup_dir: Path) -> None:
    before = sorted(p.name for p in backup_dir.iterdir())
    refused = run_in_process(env, "backup", backup_dir)
    assert refused.code == 2
    assert "not an empty folder" in refused.stderr
    assert sorted(p.name for p in backup_dir.iterdir()) == before


@pytest.mark.search
def test_restore_rebuilds_the_search_index(
    settings: Settings, backup_dir: Path, env: dict[str, str], empty_url: str
) -> None:
    restored = restore(env, empty_url, backup_dir)
    assert restored.code == 0, restored.stderr
    assert "rebuilt with 5 threads" in restored.stdout
    hits = make_client(settings).index(settings.meili_index).search("lapsed policy")["hits"]
    assert len(hits) == 5


def test_a_restored_postgresql_trail_is_still_write_once(
    backend: str, env: dict[str, str], backup_dir: Path, empty_url: str
) -> None:
    if backend != "postgres":
        pytest.skip("the write-once trigger is PostgreSQL's")
    assert restore(env, empty_url, backup_dir).code == 0
    copy = Database(empty_url)
    try:
        with pytest.raises(DBAPIError, match="append-only"), copy.engine.begin() as conn:
            conn.execute(text("UPDATE audit_events SET actor_username = 'mallory' WHERE seq = 1"))
    finally:
        copy.dispose()


def test_a_backup_without_pg_dump_says_where_it_looked_and_writes_nothing(
    backend: str, env: dict[str, str], db: Database, tmp_path: Path
) -> None:
    if backend != "postgres":
        pytest.skip("SQLite needs no PostgreSQL programs")
    with db.session(write=False) as session:
        head = verify_chain(session).head_seq
    nowhere = tmp_path / "bin"
    nowhere.mkdir()
    refused = run_in_process({**env, "VOUCH_PG_BINDIR": str(nowhere)}, "backup", tmp_path / "b")
    assert refused.code == 2
    assert f"VOUCH_PG_BINDIR={nowhere} has no pg_dump" in refused.stderr
    assert not (tmp_path / "b").exists()
    with db.session(write=False) as session:
        assert verify_chain(session).head_seq == head  # no backup.create for a backup not made
