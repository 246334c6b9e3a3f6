"""The `vouch` command line."""

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app import migrate as migrations
from app.audit import checkpoint_commands
from app.audit import commands as audit_commands
from app.audit.actions import render_markdown
from app.audit.service import Actor, AuditContext, verify_chain
from app.auth import passwords
from app.backup import commands as backup_commands
from app.config import get_settings
from app.db import Database, session_scope
from app.errors import AppError
from app.importer.commands import import_app
from app.topics.schemas import TopicCreate
from app.topics.service import create_topic
from app.users.models import Role
from app.users.schemas import UserCreate
from app.users.service import create_user

app = typer.Typer(
    help="Vouch: questions answered by colleagues, validated by experts.", no_args_is_help=True
)
users_app = typer.Typer(help="Manage users.", no_args_is_help=True)
topics_app = typer.Typer(help="Manage topics.", no_args_is_help=True)
audit_app = typer.Typer(help="The audit trail.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(topics_app, name="topics")
app.add_typer(audit_app, name="audit")
app.add_typer(import_app, name="import")


def cli_context() -> AuditContext:
    """Changes made from the command line are audited as the operator at the console."""
    return AuditContext(
        actor=Actor(None, f"cli:{getpass.getuser()}", ("system",)), user_agent="vouch-cli"
    )


def _database() -> Database:
    settings = get_settings()
    passwords.configure(settings.argon2_time_cost, settings.argon2_memory_kib)
    return Database(settings.database_url)


def _fail(exc: AppError) -> None:
    typer.secho(f"error: {exc.detail}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code=2)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes.")] = 1,
) -> None:
    """Run the HTTP API (docs at /docs)."""
    from app import serving

    settings = get_settings()
    serving.serve(host, port, workers, settings.log_level.lower(), settings.log_format)


@app.command()
def migrate() -> None:
    """Bring the database schema up to date (alembic upgrade head)."""
    migrations.upgrade(get_settings().database_url)
    typer.echo("database is at the latest schema")


@app.command()
def worker() -> None:
    """Send changed threads from the outbox to Meilisearch, fan out notifications and
    send their emails and webhook calls, until stopped (Ctrl-C or SIGTERM)."""
    import signal
    import threading

    from app.notifications.worker import notification_loops
    from app.observability import worker_metrics
    from app.observability.logs import configure_logging
    from search.worker import make_relay

    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    db = _database()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    relay = make_relay(db, settings)
    typer.echo(
        f"search worker {relay.worker_id}: outbox -> {settings.meili_url} index "
        f"{settings.meili_index}",
        err=True,
    )
    notifying = [loop.start() for loop in notification_loops(db, settings)]
    typer.echo(
        "notifications: fan-out, webhooks, "
        + (
            f"email via {settings.smtp_host}:{settings.smtp_port}"
            if settings.email_on
            else "email off"
        ),
        err=True,
    )
    scraped = worker_metrics.serve(settings)
    if scraped is not None:
        typer.echo(
            f"metrics: http://{settings.worker_metrics_host}:{scraped.server_port}/metrics",
            err=True,
        )
    try:
        relay.run(stop)
    except KeyboardInterrupt:
        pass
    finally:
        if scraped is not None:
            scraped.shutdown()
        for loop in notifying:
            loop.stop()
        db.dispose()


@app.command()
def reindex(
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Threads per batch.")] = 1000,
) -> None:
    """Rebuild the search index from the database and swap it in (searches keep working)."""
    from search.client import make_client
    from search.reindex import reindex as rebuild

    settings = get_settings()
    db = _database()

    def progress(done: int, total: int) -> None:
        typer.echo(f"  indexed {done} of {total} threads", err=True)

    try:
        report = rebuild(db, settings, make_client(settings), progress, batch_size)
    except Exception as exc:
        typer.secho(
            f"error: reindex failed, the live index is unchanged: {exc}",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=1) from None
    finally:
        db.dispose()
    typer.echo(
        f"index {report.index_uid} rebuilt with {report.threads} threads and swapped in; "
        f"{report.requeued} threads changed meanwhile were queued again"
    )


@users_app.command("create")
def users_create(
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[list[Role], typer.Option(help="A role; repeat for several.")],
    topic: Annotated[list[str] | None, typer.Option(help="Expert topic slug; repeatable.")] = None,
    display_name: Annotated[str | None, typer.Option(help="Shown next to posts.")] = None,
    email: Annotated[str | None, typer.Option(help="Where email notifications go.")] = None,
    password: Annotated[
        str | None, typer.Option(envvar="VOUCH_PASSWORD", help="Prompted for when not given.")
    ] = None,
) -> None:
    """Create a user (the first admin, typically)."""
    if password is None:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        data = UserCreate(
            username=username,
            display_name=display_name or username,
            email=email,
            password=password,
            roles=role,
            expert_topics=topic or [],
        )
    except ValidationError as exc:
        # Each field and its rule, never the value typed (it may be the password).
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or "input"
            typer.secho(f"error: {where}: {error['msg']}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    db = _database()
    try:
        with session_scope(db) as session:
            user = create_user(session, cli_context(), data)
            typer.echo(f"created user {user.username} (id {user.id}) with roles {user.roles}")
    except AppError as exc:
        _fail(exc)
    finally:
        db.dispose()


@topics_app.command("create")
def topics_create(
    slug: Annotated[str, typer.Option(help="Short lowercase name used in URLs.")],
    name: Annotated[str, typer.Option(help="Display name.")],
    description: Annotated[str, typer.Option(help="What belongs here.")] = "",
    required_endorsements: Annotated[int, typer.Option(help="Distinct experts to endorse.")] = 1,
    review_interval_days: Annotated[
        int | None, typer.Option(help="Endorsements go stale after this many days.")
    ] = None,
) -> None:
    """Create a topic."""
    try:
        data = TopicCreate(
            slug=slug,
            name=name,
            description=description,
            required_endorsements=required_endorsements,
            review_interval_days=review_interval_days,
        )
    except ValueError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2) from None
    db = _database()
    try:
        with session_scope(db) as session:
            topic = create_topic(session, cli_context(), data)
            typer.echo(f"created topic {topic.slug} (id {topic.id})")
    except AppError as exc:
        _fail(exc)
    finally:
        db.dispose()


@audit_app.command("verify")
def audit_verify(
    checkpoint_seq: Annotated[int | None, typer.Option(help="A kept checkpoint's seq.")] = None,
    checkpoint_hash: Annotated[str | None, typer.Option(help="That checkpoint's hash.")] = None,
    checkpoint_file: Annotated[
        Path | None, typer.Option(help="A checkpoint file (`vouch audit checkpoint`).")
    ] = None,
    public_key: Annotated[
        Path | None, typer.Option(help="Public key the checkpoint file must be signed with.")
    ] = None,
) -> None:
    """Recompute the audit chain; exit 1 and name the first bad seq when it is broken."""
    if (checkpoint_seq is None) != (checkpoint_hash is None):
        typer.secho("error: give --checkpoint-seq and --checkpoint-hash together", err=True)
        raise typer.Exit(code=2)
    if checkpoint_file is not None and checkpoint_seq is not None:
        raise checkpoint_commands.cli_error("give --checkpoint-file or --checkpoint-seq, not both")
    if public_key is not None and checkpoint_file is None:
        raise checkpoint_commands.cli_error("--public-key checks a --checkpoint-file")
    against = None if checkpoint_seq is None else (checkpoint_seq, str(checkpoint_hash))
    if checkpoint_file is not None:
        against = checkpoint_commands.kept_checkpoint(checkpoint_file, public_key).against
    db = _database()
    try:
        with db.session(write=False) as session:
            report = verify_chain(session, against=against)
    finally:
        db.dispose()
    typer.echo(json.dumps(report.as_dict()))
    if not report.ok:
        typer.secho(
            f"audit chain BROKEN at seq {report.first_bad_seq}: {report.reason}",
            err=True,
            fg=typer.colors.RED,
        )
        raise typer.Exit(code=1)
    typer.echo(f"audit chain intact: {report.events_checked} events", err=True)


@audit_app.command("actions")
def audit_actions() -> None:
    """Print the audit vocabulary as Markdown (the source of docs/audit-actions.md)."""
    typer.echo(render_markdown(), nl=False)


audit_commands.register(audit_app, _database, cli_context)
checkpoint_commands.register(audit_app, _database)
backup_commands.register(app, _database, cli_context)


@app.command()
def demo() -> None:
    """Create demo users and content (idempotent) and print how to log in."""
    from app.demo import DEMO_USERS, seed

    settings = get_settings()
    if settings.environment == "production":
        typer.secho("refusing to create demo users in production", err=True, fg=typer.colors.RED)
        raise typer.Exit(code=2)
    db = _database()
    try:
        with session_scope(db) as session:
            created = seed(session, settings, cli_context())
    finally:
        db.dispose()
    typer.echo("demo content " + ("created" if created else "already present"))
    typer.echo("demo users (username / password / roles):")
    for user in DEMO_USERS:
        topics = f" of {', '.join(user.expert_topics)}" if user.expert_topics else ""
        typer.echo(f"  {user.username:<10} {user.password:<16} {', '.join(user.roles)}{topics}")
