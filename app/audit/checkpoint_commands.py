"""`vouch audit checkpoint` and `vouch audit keygen`, and reading a checkpoint file for
the verify commands.

Registered into the `audit` command group by `app/cli.py`.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from app.audit import checkpoints
from app.audit.checkpoints import CheckpointFileError, KeptCheckpoint, SignatureMismatch
from app.audit.service import Checkpoint, checkpoint
from app.db import Database


def cli_error(message: str, code: int = 2) -> typer.Exit:
    """Say `message` as the command's one-line error; raise what this returns."""
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=code)


def kept_checkpoint(file: Path, public_key: Path | None) -> KeptCheckpoint:
    """The checkpoint in `file`, its signature checked with `public_key` when given.

    Exits 2 for a missing or malformed file or key, 1 when the signature fails.
    """
    try:
        key = checkpoints.load_public_key(public_key) if public_key else None
        kept = checkpoints.read(file, key)
    except CheckpointFileError as exc:
        raise cli_error(str(exc)) from None
    except SignatureMismatch as exc:
        raise cli_error(f"checkpoint REJECTED: {exc}", code=1) from None
    if kept.key_id is not None and public_key is None:
        raise cli_error(f"{file} is signed: give --public-key to check its signature")
    if key is not None:
        typer.echo(f"checkpoint signature good (key {kept.key_id}): seq {kept.seq}", err=True)
    return kept


def write_checkpoint(head: Checkpoint, key_file: Path | None, output: Path | None) -> str | None:
    """Write `head` (signed with the key in `key_file`, if any) to `output`, or to stdout;
    returns the signing key's id. `vouch backup` renders its checkpoint with the same
    `checkpoints.render`."""
    key = checkpoints.load_private_key(key_file) if key_file else None
    text = checkpoints.render(head, key)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
    return checkpoints.key_id(key.public_key()) if key else None


def register(group: typer.Typer, database: Callable[[], Database]) -> None:
    """Add `checkpoint` and `keygen` to `group`."""

    @group.command("checkpoint")
    def checkpoint_command(
        sign: Annotated[bool, typer.Option(help="Sign it with --key (Ed25519).")] = False,
        key: Annotated[
            Path | None, typer.Option(help="Private key file (from `vouch audit keygen`).")
        ] = None,
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="File to write; stdout if absent.")
        ] = None,
    ) -> None:
        """Write the chain's head (seq, hash, time), signed with --sign --key; keep the file
        outside the database and verify against it later."""
        if sign != (key is not None):
            raise cli_error("--sign and --key go together")
        db = database()
        try:
            with db.session(write=False) as session:
                head = checkpoint(session)
            signed_by = write_checkpoint(head, key, output)
        except CheckpointFileError as exc:
            raise cli_error(str(exc)) from None
        except OSError as exc:
            raise cli_error(f"cannot write {output}: {exc.strerror}") from None
        finally:
            db.dispose()
        signed = f", signed with key {signed_by}" if signed_by else ", unsigned"
        typer.echo(f"checkpoint at seq {head.seq}{signed} to {output or 'stdout'}", err=True)

    @group.command("keygen")
    def keygen(
        private_key: Annotated[Path, typer.Argument(help="File for the private key (0600).")],
        public_key: Annotated[
            Path | None, typer.Option(help="File for the public key; PRIVATE_KEY.pub if absent.")
        ] = None,
    ) -> None:
        """Write a new Ed25519 key pair for signing checkpoints; never overwrites a file."""
        public_key = public_key or private_key.with_name(private_key.name + ".pub")
        try:
            kid = checkpoints.generate_keys(private_key, public_key)
        except CheckpointFileError as exc:
            raise cli_error(str(exc)) from None
        except OSError as exc:
            raise cli_error(f"cannot write the key: {exc.strerror}") from None
        typer.echo(f"key {kid}: private key {private_key} (keep it off the database's host),")
        typer.echo(f"public key {public_key} (give it to whoever verifies)")
