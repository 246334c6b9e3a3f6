"""axe-core, the accessibility engine the browser tests inject into each page.

Taken from the npm package `axe-core` (with `npm pack`, so the machine's npm settings
apply), checked against a pinned sha256 and kept in the per-user cache beside the
Meilisearch binary, so it is fetched at most once per machine.
"""

import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

VERSION = "4.14.1"
SHA256 = "29348999450cdf2849a8e70b7912fc2da85a849da39c0d0d5394f51d4a9ed95c"
MEMBER = "package/axe.min.js"


def cache_path() -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return root / "vouch" / f"axe-core-{VERSION}" / "axe.min.js"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_axe() -> Path:
    """The path of axe.min.js, fetched and verified when it is not cached yet."""
    target = cache_path()
    if target.is_file() and _digest(target) == SHA256:
        return target
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError("npm is needed once to fetch axe-core for the browser tests")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [npm, "pack", f"axe-core@{VERSION}", "--silent"],
            cwd=tmp,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        with tarfile.open(Path(tmp) / f"axe-core-{VERSION}.tgz") as archive:
            source = archive.extractfile(MEMBER)
            if source is None:
                raise RuntimeError(f"{MEMBER} missing from the axe-core package")
            partial = target.with_suffix(".part")
            partial.write_bytes(source.read())
    if _digest(partial) != SHA256:
        partial.unlink()
        raise RuntimeError(f"axe-core {VERSION} does not have the pinned sha256 {SHA256}")
    partial.replace(target)
    return target


if __name__ == "__main__":
    print(ensure_axe())
