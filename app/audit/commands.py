"""`vouch audit export` and `vouch audit verify-file`.

Registered into the `audit` command group by `app/cli.py`, which supplies the
database and the audit context of the operator at the console.
"""

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated, BinaryIO

import typer
from pydantic import ValidationError
from rich.progress import DownloadColumn

from app.audit.checkpoint_commands import cli_error, kept_checkpoint
from app.audit.export import ExportFormat, count_events, export_batches, start_export
from app.audit.offline import Anchor, verify_lines
from app.audit.schemas import ExportQuery
from app.audit.service import AuditContext
from app.db import Database, session_scope
from app.progress import progress_bar


def _refuse(exc: ValidationError) -> None:
    for error in exc.errors():
        field = ".".join(str(part) for part in error["loc"]) or "options"
        typer.secho(f"error: --{field.replace('_', '-')}: {error['msg']}", err=True, fg="red")
    raise typer.Exit(code=2)


def register(
    group: typer.Typer, database: Callable[[], Database], context: Callable[[], AuditContext]
) -> None:
    """Add the export and offline verification commands to `group`."""

    @group.command("export")
    def export(
        format: Annotated[ExportFormat, typer.Option(help="File format.")] = ExportFormat.ndjson,
        since: Annotated[str | None, typer.Option(help="ISO 8601, inclusive (UTC).")] = None,
        until: Annotated[str | None, typer.Option(help="ISO 8601, exclusive (UTC).")] = None,
        actor: Annotated[str | None, typer.Option(help="Username of who acted.")] = None,
        action: Annotated[str | None, typer.Option(help="An action of the vocabulary.")] = None,
        target_type: Annotated[str | None, typer.Option(help="e.g. question.")] = None,
        target_id: Annotated[str | None, typer.Option(help="Id of the target.")] = None,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="File to write; stdout if absent.")
        ] = None,
    ) -> None:
        """Export audit events (all, or those matching every filter given); audited itself."""
        try:
            query = ExportQuery.model_validate(
                {
                    "format": format,
                    "since": since,
                    "until": until,
                    "actor": actor,
                    "action": action,
                    "target_type": target_type,
                    "target_id": target_id,
                }
            )
        except ValidationError as exc:
            _refuse(exc)
            return
        criteria, db = query.criteria(), database()
        with ExitStack() as stack:
            stack.callback(db.dispose)
            out: BinaryIO = stack.enter_context(output.open("wb")) if output else sys.stdout.buffer
            with session_scope(db) as session:
                through = start_export(session, context(), criteria, query.format)
            total = None
            if sys.stderr.isatty():
                with db.session(write=False) as session:
                    total = count_events(session, criteria, through)
            exported = 0
            with progress_bar("exporting", total) as advance:
                for events, data in export_batches(db.engine, criteria, through, query.format):
                    out.write(data)
                    exported += events
                    advance(events)
            out.flush()
        where = output or "stdout"
        typer.echo(f"exported {exported} events (through seq {through}) to {where}", err=True)

    @group.command("verify-file")
    def verify_file(
        file: Annotated[
            Path, typer.Argument(exists=True, dir_okay=False, help="An NDJSON export.")
        ],
        partial: Annotated[
            bool, typer.Option(help="A filtered export: allow it to start anywhere and skip.")
        ] = False,
        head_hash: Annotated[
            str | None, typer.Option(help="A checkpoint's hash the file must hold.")
        ] = None,
        head_seq: Annotated[int | None, typer.Option(help="That checkpoint's seq.")] = None,
        checkpoint_file: Annotated[
            Path | None, typer.Option(help="A checkpoint file the export must hold.")
        ] = None,
        public_key: Annotated[
            Path | None, typer.Option(help="Public key the checkpoint file must be signed with.")
        ] = None,
    ) -> None:
        """Verify an exported NDJSON file offline; exit 1 naming the first bad seq."""
        if head_seq is not None and head_hash is None:
            typer.secho("error: --head-seq needs --head-hash", err=True, fg="red")
            raise typer.Exit(code=2)
        if checkpoint_file is not None and head_hash is not None:
            raise cli_error("give --checkpoint-file or --head-hash, not both")
        if public_key is not None and checkpoint_file is None:
            raise cli_error("--public-key checks a --checkpoint-file")
        anchor = Anchor(head_hash, head_seq) if head_hash else None
        if checkpoint_file is not None:
            kept = kept_checkpoint(checkpoint_file, public_key)
            anchor = Anchor(kept.hash, kept.seq)
        with (
            file.open("rb") as lines,
            progress_bar("verifying", file.stat().st_size, DownloadColumn()) as advance,
        ):
            report = verify_lines(_advancing(lines, advance), partial=partial, anchor=anchor)
        result = {**report.as_dict(), "first_seq": report.first_seq, "gaps": report.gaps}
        typer.echo(json.dumps({**result, "mode": "partial" if partial else "complete"}))
        if not report.ok:
            typer.secho(
                f"{file}: BROKEN at seq {report.first_bad_seq}: {report.reason}",
                err=True,
                fg="red",
            )
            if not partial and report.reason and report.reason.startswith("expected seq"):
                typer.echo("(an export with filters skips events: add --partial)", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{file}: intact, {report.events_checked} events", err=True)


def _advancing(lines: BinaryIO, advance: Callable[[int], None]) -> Iterator[bytes]:
    for line in lines:
        advance(len(line))
        yield line
