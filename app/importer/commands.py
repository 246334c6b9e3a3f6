"""`vouch import stackexchange DIR`: progress per file, a summary table, search at the end.

Registered into the `import` command group by `app/cli.py`.
"""

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from app.config import Settings, get_settings
from app.db import Database
from app.importer.dump import DumpError
from app.importer.stackexchange import KINDS, ImportRefused, Report, StackExchangeImport, TopicMap
from search.client import SearchUnavailable

import_app = typer.Typer(
    help="Import questions and answers from other tools.", no_args_is_help=True
)


def _progress_bar(console: Console) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.fields[rows]:>9,} rows"),
        TextColumn("{task.fields[rate]:>7,.0f} rows/s"),
        TimeRemainingColumn(),
        console=console,
    )


def _summary(report: Report) -> Table:
    table = Table(title=f"Import of {report.site}")
    table.add_column("rows")
    table.add_column("imported", justify="right")
    table.add_column("already present", justify="right")
    table.add_column("rejected", justify="right")
    table.add_column("why rejected")
    for kind in KINDS:
        tally = report.tallies[kind]
        reasons = ", ".join(f"{reason}: {n}" for reason, n in tally.rejected.most_common())
        table.add_row(
            kind,
            str(tally.imported),
            str(tally.present),
            str(sum(tally.rejected.values())),
            reasons,
        )
    for what, n in sorted(report.skipped.items()):
        table.add_row(f"skipped: {what}", "", "", "", str(n))
    return table


def _index(db: Database, settings: Settings) -> str:
    """Send the imported threads to Meilisearch now, through the outbox."""
    from search.relay import backlog
    from search.worker import make_relay

    try:
        sent = make_relay(db, settings).drain()
    except SearchUnavailable:
        sent = 0
    with db.session(write=False) as session:
        waiting = backlog(session)
    if waiting:
        return (
            f"search: {sent} outbox rows sent; {waiting} wait for Meilisearch "
            f"({settings.meili_url}): `vouch worker` sends them when it answers"
        )
    return f"search: every imported thread is indexed ({sent} outbox rows sent)"


@import_app.command("stackexchange")
def stackexchange(
    directory: Annotated[Path, typer.Argument(help="The dump's folder (Posts.xml, Users.xml, …).")],
    topic: Annotated[str | None, typer.Option(help="The topic every question goes to.")] = None,
    topic_map: Annotated[
        Path | None,
        typer.Option(help="A file of 'TAG TOPIC' lines and '* TOPIC' for the rest."),
    ] = None,
    site: Annotated[
        str | None, typer.Option(help="The site's name in import records [default: the folder's].")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction.")] = 500,
) -> None:
    """Import a Stack Exchange data dump; run it again to resume or to find nothing new."""
    console = Console(stderr=True)
    if (topic is None) == (topic_map is None):
        console.print("[red]error:[/] give exactly one of --topic or --topic-map")
        raise typer.Exit(code=2)
    settings = get_settings()
    db = Database(settings.database_url)
    try:
        topics = TopicMap(topic) if topic else TopicMap.read(topic_map)  # type: ignore[arg-type]
        with _progress_bar(console) as bar:
            tasks: dict[str, TaskID] = {}

            def progress(label: str, done: int, size: int, count: int) -> None:
                if label not in tasks:
                    tasks[label] = bar.add_task(label, total=size, rows=0, rate=0.0)
                task = bar.tasks[tasks[label]]
                elapsed = task.elapsed or 0.0
                rate = count / elapsed if elapsed > 0 else 0.0
                bar.update(tasks[label], completed=done, rows=count, rate=rate)

            job = StackExchangeImport(
                db, settings, directory, topics, site=site, batch_size=batch_size, progress=progress
            )
            report = job.run()
        report.search = _index(db, settings)
    except ImportRefused as exc:
        console.print(f"[red]error:[/] {exc}; nothing was imported")
        raise typer.Exit(code=2) from None
    except DumpError as exc:
        console.print(
            f"[red]error:[/] {exc}; the batches before it are kept, run the import again "
            "once the file is fixed to go on"
        )
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    Console().print(_summary(report))
    console.print(report.search)
