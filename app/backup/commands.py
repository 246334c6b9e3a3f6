"""`vouch backup DIR` and `vouch restore DIR`.

Registered on the top-level command group by `app/cli.py`, which supplies the database
and the audit context of the operator at the console.
"""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import DownloadColumn
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app.audit.checkpoint_commands import cli_error, kept_checkpoint
from app.audit.checkpoints import CheckpointFileError
from app.audit.service import AuditContext
from app.backup import service
from app.backup.manifest import BackupUnusable
from app.backup.postgres import ToolFailed
from app.config import Settings, get_settings
from app.db import Database
from app.postgres_tools import PostgresNotFound
from app.progress import progress_bar


def _mib(size: int) -> str:
    return f"{size / (1 << 20):.1f} MiB"


def register(
    group: typer.Typer, database: Callable[[], Database], context: Callable[[], AuditContext]
) -> None:
    """Add `backup` and `restore` to `group`."""

    @group.command("backup")
    def backup(
        directory: Annotated[Path, typer.Argument(help="New or empty folder for the backup.")],
        sign_key: Annotated[
            Path | None,
            typer.Option(help="Ed25519 private key to sign the checkpoint with (audit keygen)."),
        ] = None,
    ) -> None:
        """Back the whole database up into DIR while it keeps serving, with the audit
        chain's head at that instant beside it (checkpoint.json) and a manifest."""
        settings, db = get_settings(), database()
        started = time.monotonic()
        try:
            with progress_bar("backing up", None, DownloadColumn()) as advance:
                report = service.create_backup(
                    db, settings, context(), directory, sign_key, advance
                )
        except (BackupUnusable, CheckpointFileError, PostgresNotFound, ValueError) as exc:
            raise cli_error(str(exc)) from None
        except ToolFailed as exc:
            raise cli_error(f"backup failed, nothing kept: {exc}", code=1) from None
        finally:
            db.dispose()
        signed = f"signed with key {report.key_id}" if report.key_id else "unsigned"
        typer.echo(
            f"backup of the {report.database} database in {directory}: {_mib(report.bytes)}, "
            f"schema {report.alembic_revision}, in {time.monotonic() - started:.1f} s"
        )
        typer.echo(
            f"audit head at seq {report.checkpoint.seq} ({report.checkpoint.hash[:16]}…), "
            f"checkpoint {signed}"
        )

    @group.command("restore")
    def restore(
        directory: Annotated[Path, typer.Argument(help="A folder written by `vouch backup`.")],
        public_key: Annotated[
            Path | None,
            typer.Option(help="Public key the backup's checkpoint must be signed with."),
        ] = None,
    ) -> None:
        """Restore a backup into the empty database of VOUCH_DATABASE_URL, verify its audit
        chain against the checkpoint kept with it, and rebuild the search index."""
        settings = get_settings()
        kind = make_url(settings.database_url).get_backend_name()
        try:
            with progress_bar("checking", None, DownloadColumn()) as advance:
                checked = service.check_backup(
                    directory,
                    settings.database_url,
                    kind,
                    lambda path: kept_checkpoint(path, public_key),
                    advance,
                )
        except BackupUnusable as exc:
            raise cli_error(str(exc)) from None
        manifest, kept = checked.manifest, checked.checkpoint
        typer.echo(
            f"backup of {manifest.created_at} checked: {manifest.database}, schema "
            f"{manifest.alembic_revision}, audit head at seq {kept.seq}"
        )
        db = database()
        try:
            _restore(db, settings, context(), directory, checked)
        finally:
            db.dispose()


def _restore(
    db: Database, settings: Settings, ctx: AuditContext, directory: Path, checked: service.Checked
) -> None:
    kept = checked.checkpoint
    try:
        service.ensure_empty(db)
        with progress_bar("restoring", None):
            service.load(db, settings, directory, checked)
    except service.TargetNotEmpty as exc:
        raise cli_error(f"{exc}; nothing was changed") from None
    except OperationalError as exc:
        said = " ".join(str(exc.orig).split())
        raise cli_error(f"cannot reach the database to restore into: {said}") from None
    except (PostgresNotFound, ValueError) as exc:
        raise cli_error(str(exc)) from None
    except ToolFailed as exc:
        raise cli_error(f"restore failed: {exc}", code=1) from None
    report = service.verify_restored(db, checked)
    if not report.ok:
        raise cli_error(
            f"the restored audit chain does NOT verify against the backup's checkpoint: "
            f"first bad seq {report.first_bad_seq}: {report.reason}. The data is restored; "
            "do not use it before finding out why",
            code=1,
        )
    signature = f"signed by key {kept.key_id}" if kept.key_id else "unsigned"
    typer.echo(
        f"audit chain verified: {report.events_checked} events, seq {kept.seq} matches the "
        f"checkpoint ({signature})"
    )
    if service.finish(db, settings, ctx, checked):
        typer.echo("schema brought up to date (vouch migrate)")
    _rebuild_search(db, settings)


def _rebuild_search(db: Database, settings: Settings) -> None:
    from search.client import make_client
    from search.reindex import reindex

    try:
        with progress_bar("indexing", None) as advance:
            done = 0

            def progress(indexed: int, total: int) -> None:
                nonlocal done
                advance(indexed - done)
                done = indexed

            report = reindex(db, settings, make_client(settings), progress)
    except Exception as exc:
        # Meilisearch down or refusing: the restore stands; search catches up later.
        queued = service.queue_every_thread(db)
        typer.secho(
            f"warning: search index NOT rebuilt: Meilisearch at {settings.meili_url} did not "
            f"answer ({type(exc).__name__}). The restore is complete; {queued} threads are "
            "queued on the outbox for `vouch worker`. Once Meilisearch is up, run "
            "`vouch reindex` for an index of exactly the restored threads",
            err=True,
            fg=typer.colors.YELLOW,
        )
        return
    typer.echo(f"search index {report.index_uid} rebuilt with {report.threads} threads")
