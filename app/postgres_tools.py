"""Finding PostgreSQL's programs (initdb, pg_ctl, pg_dump, pg_restore) on this machine."""

import re
import shutil
import subprocess
from pathlib import Path

_NOT_FOUND = "PostgreSQL binaries not found; install the postgresql package"


class PostgresNotFound(RuntimeError):
    """The PostgreSQL programs could not be located."""


def find_bindir(program: str = "initdb", configured: str | None = None) -> Path:
    """Return the folder holding `program` (and the other programs of its install), or
    raise PostgresNotFound.

    Order: `configured` (VOUCH_PG_BINDIR), `pg_config --bindir`, the highest
    /usr/lib/postgresql/*/bin, then the folder of `program` on PATH.
    """
    if configured:
        if (Path(configured) / program).is_file():
            return Path(configured)
        raise PostgresNotFound(f"{_NOT_FOUND} (VOUCH_PG_BINDIR={configured} has no {program})")
    if pg_config := shutil.which("pg_config"):
        try:
            out = subprocess.run(
                [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True
            ).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            out = ""
        if out and (Path(out) / program).is_file():
            return Path(out)
    debian = [
        p
        for p in Path("/usr/lib/postgresql").glob("*/bin")
        if re.fullmatch(r"\d+(\.\d+)*", p.parent.name) and (p / program).is_file()
    ]
    if debian:
        return max(debian, key=lambda p: tuple(int(n) for n in p.parent.name.split(".")))
    if found := shutil.which(program):
        # Resolve symlinks: the other programs live next to the real file, not the link.
        return Path(found).resolve().parent
    raise PostgresNotFound(f"{_NOT_FOUND} ({program} is on neither pg_config's path nor PATH)")
