"""The manifest of a backup folder: what it holds, so a restore can check it first.

`manifest.json` is written last, once every other file is complete: a folder without
one is an interrupted backup. It names the format version, the kind of database, the
schema's Alembic revision, the audit checkpoint taken from the very snapshot that was
backed up, when, and every file with its size and SHA-256.
"""

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKPOINT = "checkpoint.json"
DATA_FILES = {"postgresql": "database.dump", "sqlite": "database.sqlite3"}
_CHUNK = 1 << 20


class BackupUnusable(ValueError):
    """A backup folder that is missing, incomplete or not one this version can restore."""


@dataclass(frozen=True)
class Manifest:
    format_version: int
    database: str  # "postgresql" or "sqlite"
    alembic_revision: str
    checkpoint: dict[str, Any]  # seq, hash, occurred_at: as in checkpoint.json
    created_at: str
    files: dict[str, dict[str, Any]]  # name -> {"bytes": n, "sha256": hex}

    @property
    def data_file(self) -> str:
        return DATA_FILES[self.database]


def sha256_of(path: Path, advance: Callable[[int], None] = lambda n: None) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as data:
        while chunk := data.read(_CHUNK):
            digest.update(chunk)
            advance(len(chunk))
    return digest.hexdigest()


def describe(path: Path, advance: Callable[[int], None] = lambda n: None) -> dict[str, Any]:
    """A file's entry in the manifest."""
    return {"bytes": path.stat().st_size, "sha256": sha256_of(path, advance)}


def write(directory: Path, manifest: Manifest) -> None:
    (directory / MANIFEST).write_text(json.dumps(asdict(manifest), indent=2) + "\n")


def read(directory: Path) -> Manifest:
    """The manifest of `directory`, checked for shape (not yet the files it lists)."""
    if not directory.exists():
        raise BackupUnusable(f"no backup at {directory}: no such folder")
    if not directory.is_dir():
        raise BackupUnusable(f"{directory} is not a folder")
    path = directory / MANIFEST
    if not path.is_file():
        raise BackupUnusable(f"{directory} holds no {MANIFEST}: not a backup, or an incomplete one")
    try:
        doc = json.loads(path.read_text())
        manifest = Manifest(**doc)
    except (ValueError, TypeError):
        raise BackupUnusable(f"{path} is not a backup manifest") from None
    if manifest.format_version != FORMAT_VERSION:
        raise BackupUnusable(
            f"{path}: backup format {manifest.format_version!r}; this version reads "
            f"{FORMAT_VERSION}"
        )
    if manifest.database not in DATA_FILES:
        raise BackupUnusable(f"{path}: unknown database kind {manifest.database!r}")
    for needed in (manifest.data_file, CHECKPOINT):
        if needed not in manifest.files:
            raise BackupUnusable(f"{path} does not list {needed}")
    return manifest


def check_files(
    directory: Path, manifest: Manifest, advance: Callable[[int], None] = lambda n: None
) -> None:
    """Every file the manifest lists is there, of its size and SHA-256."""
    for name, expected in manifest.files.items():
        path = directory / name
        if Path(name).name != name or not path.is_file():
            raise BackupUnusable(f"{directory}: {name} is missing: the backup is incomplete")
        if path.stat().st_size != expected.get("bytes"):
            raise BackupUnusable(
                f"{path}: {path.stat().st_size} bytes, the manifest says {expected.get('bytes')}"
                ": the backup is incomplete or damaged"
            )
        if sha256_of(path, advance) != expected.get("sha256"):
            raise BackupUnusable(f"{path}: SHA-256 differs from the manifest: damaged")


def total_bytes(manifest: Manifest) -> int:
    return sum(int(entry.get("bytes", 0)) for entry in manifest.files.values())
