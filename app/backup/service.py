"""Backing the whole database up to a folder, and restoring such a folder into an empty one.

A backup folder holds the data file (`pg_dump` custom format, or an SQLite copy made
with the online backup API), `checkpoint.json` (the audit chain's head in the very
snapshot backed up, signed when a key is given: `app/audit/checkpoints.py`) and
`manifest.json` (`app/backup/manifest.py`). Writers go on while a backup runs: it is one
consistent instant of the database, and its checkpoint is that instant's head.
"""

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, create_engine, text
from sqlalchemy.orm import Session

from app import migrate
from app.audit import checkpoints
from app.audit import service as audit
from app.audit.chain import VerifyReport, format_timestamp
from app.audit.checkpoints import KeptCheckpoint
from app.audit.service import AuditContext, Checkpoint
from app.backup import manifest as manifests
from app.backup import postgres, sqlite
from app.backup.manifest import CHECKPOINT, BackupUnusable, Manifest
from app.config import Settings
from app.db import Database, session_scope, utcnow
from app.outbox.service import enqueue_threads
from search.reindex import live_question_ids

Advance = Callable[[int], None]


def _none(n: int) -> None:
    return None


class TargetNotEmpty(ValueError):
    """The database to restore into already holds tables."""


@dataclass(frozen=True)
class BackupReport:
    directory: Path
    database: str
    bytes: int
    checkpoint: Checkpoint
    alembic_revision: str
    key_id: str | None


def _snapshot_facts(conn: Connection) -> tuple[Checkpoint, str]:
    """The audit head and the schema's revision as the snapshot on `conn` holds them."""
    with Session(bind=conn) as session:
        head = audit.checkpoint(session)
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
    return head, str(revision)


def prepare_folder(directory: Path) -> None:
    """Create `directory` for a backup (owner only: it holds everything); an existing one
    must be empty, so that two backups never mix."""
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupUnusable(f"{directory} exists and is not an empty folder")
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def create_backup(
    db: Database,
    settings: Settings,
    ctx: AuditContext,
    directory: Path,
    sign_key: Path | None = None,
    advance: Advance = _none,
) -> BackupReport:
    """Back the database of `db` up into `directory` (new or empty), while writers go on.

    The backup is audited (`backup.create`) before the snapshot is taken, so it holds
    its own event. The checkpoint is signed with the Ed25519 key in `sign_key` if given.
    """
    key = checkpoints.load_private_key(sign_key) if sign_key else None  # fail before writing
    kind = db.engine.dialect.name
    if kind == "postgresql":
        postgres.program("pg_dump", settings.pg_bindir)  # found, before anything is written
    data = directory / manifests.DATA_FILES[kind]
    prepare_folder(directory)
    with session_scope(db) as session:
        payload = {"database": kind, "signed": key is not None}
        audit.record(session, ctx, "backup.create", payload=payload)
    try:
        if kind == "postgresql":
            with postgres.snapshot(db) as (conn, snapshot_id):
                head, revision = _snapshot_facts(conn)
                postgres.dump(settings.database_url, snapshot_id, data, settings.pg_bindir, advance)
        else:
            sqlite.copy_out(db, data)
            # A plain engine: the application's would turn the copy into WAL mode.
            copy = create_engine(f"sqlite:///{data}")
            try:
                with copy.connect() as conn:
                    head, revision = _snapshot_facts(conn)
            finally:
                copy.dispose()
            advance(data.stat().st_size)
        (directory / CHECKPOINT).write_text(checkpoints.render(head, key))
        files = {name: manifests.describe(directory / name) for name in (data.name, CHECKPOINT)}
        manifests.write(
            directory,
            Manifest(
                format_version=manifests.FORMAT_VERSION,
                database=kind,
                alembic_revision=revision,
                checkpoint={
                    "seq": head.seq,
                    "hash": head.hash,
                    "occurred_at": format_timestamp(head.occurred_at) if head.occurred_at else None,
                },
                created_at=format_timestamp(utcnow()),
                files=files,
            ),
        )
    except BaseException:
        # Leave no half backup behind that a restore could mistake for one.
        shutil.rmtree(directory, ignore_errors=True)
        raise
    size = sum(entry["bytes"] for entry in files.values())
    key_id = checkpoints.key_id(key.public_key()) if key else None
    return BackupReport(directory, kind, size, head, revision, key_id)


@dataclass(frozen=True)
class Checked:
    """A backup folder found whole, and the checkpoint kept in it."""

    manifest: Manifest
    checkpoint: KeptCheckpoint


def check_backup(
    directory: Path,
    database_url: str,
    kind: str,
    kept: Callable[[Path], KeptCheckpoint],
    advance: Advance = _none,
) -> Checked:
    """The manifest of `directory`, every file checked against it; `kept` reads (and
    checks the signature of) the checkpoint file. Raises BackupUnusable."""
    manifest = manifests.read(directory)
    if manifest.database != kind:
        raise BackupUnusable(
            f"{directory} is a backup of a {manifest.database} database; "
            f"VOUCH_DATABASE_URL is {kind}"
        )
    if not migrate.is_known_revision(database_url, manifest.alembic_revision):
        raise BackupUnusable(
            f"{directory} has schema revision {manifest.alembic_revision!r}, unknown to this "
            "version of Vouch: restore it with the version that made it"
        )
    manifests.check_files(directory, manifest, advance)
    checkpoint = kept(directory / CHECKPOINT)
    listed = (manifest.checkpoint.get("seq"), manifest.checkpoint.get("hash"))
    if listed != checkpoint.against:
        raise BackupUnusable(f"{directory}: the manifest's checkpoint differs from {CHECKPOINT}")
    return Checked(manifest, checkpoint)


def ensure_empty(db: Database) -> None:
    with db.engine.connect() as conn:
        count = (postgres if conn.dialect.name == "postgresql" else sqlite).table_count(conn)
    if count:
        raise TargetNotEmpty(
            f"the database to restore into is not empty ({count} tables and other objects); "
            "restore only into a new, empty database"
        )


def load(db: Database, settings: Settings, directory: Path, checked: Checked) -> None:
    """Write the backup's data into the empty database of `db`."""
    data = directory / checked.manifest.data_file
    if db.engine.dialect.name == "postgresql":
        postgres.restore(settings.database_url, data, settings.pg_bindir)
    else:
        db.engine.dispose()  # no connection of ours holds the file while it is written
        sqlite.copy_in(data, settings.database_url)


def verify_restored(db: Database, checked: Checked) -> VerifyReport:
    """The restored chain, verified against the checkpoint kept beside the backup."""
    with db.session(write=False) as session:
        return audit.verify_chain(session, against=checked.checkpoint.against)


def finish(db: Database, settings: Settings, ctx: AuditContext, checked: Checked) -> bool:
    """Bring an older backup's schema up to date, and audit the restore (`backup.restore`).
    Returns whether migrations ran."""
    revision = checked.manifest.alembic_revision
    migrated = revision != migrate.head_revision(settings.database_url)
    if migrated:
        migrate.upgrade(settings.database_url)
    kept = checked.checkpoint
    with session_scope(db) as session:
        payload = {
            "created_at": checked.manifest.created_at,
            "checkpoint": {"seq": kept.seq, "hash": kept.hash, "key_id": kept.key_id},
            "alembic_revision": revision,
        }
        audit.record(session, ctx, "backup.restore", payload=payload)
    return migrated


def queue_every_thread(db: Database, batch_size: int = 1000) -> int:
    """Queue every live thread on the search outbox (Meilisearch was not there to rebuild
    the index at once); returns how many."""
    queued = 0
    for ids in live_question_ids(db, batch_size):
        with session_scope(db) as session:
            enqueue_threads(session, ids)
        queued += len(ids)
    return queued
