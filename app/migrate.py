"""Running the Alembic migrations from code (the CLI and the tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError


def _project_root() -> Path:
    """Where alembic.ini lives: beside the package in a checkout, else the working directory
    (an installed package in a container runs from the project folder)."""
    for candidate in (Path(__file__).resolve().parent.parent, Path.cwd()):
        if (candidate / "alembic.ini").is_file():
            return candidate
    raise FileNotFoundError("alembic.ini not found beside the package or in the working directory")


def alembic_config(database_url: str) -> Config:
    """An Alembic config for `database_url`, independent of the working directory."""
    root = _project_root()
    config = Config(str(root / "alembic.ini"))
    config.set_main_option("script_location", str(root / "migrations"))
    # ConfigParser interpolation would treat a "%" in a password as a directive.
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    config.attributes["configure_logger"] = False
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def head_revision(database_url: str) -> str | None:
    """The newest revision of this version's migrations."""
    return ScriptDirectory.from_config(alembic_config(database_url)).get_current_head()


def is_known_revision(database_url: str, revision: str) -> bool:
    """Whether `revision` is one of this version's migrations (a newer Vouch's is not)."""
    try:
        return (
            ScriptDirectory.from_config(alembic_config(database_url)).get_revision(revision)
            is not None
        )
    except CommandError:
        return False
