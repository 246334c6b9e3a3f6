"""Import speed and memory: `vouch import stackexchange` on real dumps and on a dump ten
times larger than another.

    .venv/bin/python -m bench.import_bench [--questions 300] [--answers 2] [--batch-size 500]

For each database (a private PostgreSQL at its default durability, and SQLite), in a
fresh schema each time: the time to import each real dump under
`../shared/data/stackexchange/`, then a generated dump (`bench/se_dump.py`, real text)
of `--questions` questions and one of ten times as many, printing posts per second and
the import's peak memory (max RSS of its process or its converter's). Each import runs
in its own process, as an operator runs it. Target (issue 10): >= 2,000 posts/s, memory
flat between the two sizes.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import ROOT, postgres
from bench.se_dump import SHARED, generate

# The import inside a child process that reports its own peak memory at the end.
_CHILD = """
import json, resource, sys
from app.cli import app
try:
    app(sys.argv[1:], standalone_mode=False)
finally:
    # The import's own process and the converter it starts (a child, waited for).
    peak = max(resource.getrusage(who).ru_maxrss
               for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    print(json.dumps({"max_rss_kib": peak}), file=sys.stderr)
"""


def _vouch(database_url: str, *args: str) -> tuple[float, int]:
    """Run `vouch ARGS`; returns (seconds, peak RSS in KiB)."""
    env = {
        **os.environ,
        "VOUCH_DATABASE_URL": database_url,
        "VOUCH_MEILI_URL": "http://127.0.0.1:9",  # search is measured elsewhere
        "VOUCH_LOG_LEVEL": "ERROR",
        "COLUMNS": "200",
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    took = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"vouch {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    peak = json.loads(done.stderr.strip().splitlines()[-1])["max_rss_kib"]
    return took, int(peak)


def _posts(dump: Path) -> int:
    from xml.etree.ElementTree import iterparse

    count = 0
    for _, row in iterparse(dump / "Posts.xml"):
        if row.tag == "row" and row.attrib.get("PostTypeId") in ("1", "2"):
            count += 1
        row.clear()
    return count


def _import(database_url: str, dump: Path, batch_size: int) -> tuple[float, int]:
    _vouch(database_url, "migrate")
    _vouch(database_url, "topics", "create", "--slug", "imported", "--name", "Imported")
    return _vouch(
        database_url,
        "import",
        "stackexchange",
        str(dump),
        "--topic",
        "imported",
        "--batch-size",
        str(batch_size),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--answers", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()
    found = SHARED.iterdir() if SHARED.is_dir() else iter(())
    real = sorted(p for p in found if (p / "Posts.xml").is_file())
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        generate(small, args.questions, args.answers, real)
        generate(large, args.questions * 10, args.answers, real)
        dumps = [(d.name, d) for d in real] + [
            (f"generated, {args.questions} questions", small),
            (f"generated, {args.questions * 10} questions", large),
        ]
        for backend in ("postgresql", "sqlite"):
            for name, dump in dumps:
                posts = _posts(dump)
                if backend == "postgresql":
                    with postgres(durable=True) as url:
                        seconds, peak = _import(url, dump, args.batch_size)
                else:
                    url = f"sqlite:///{tmp}/{len(name)}-{time.monotonic_ns()}.db"
                    seconds, peak = _import(url, dump, args.batch_size)
                print(
                    f"{backend:<10} {name:<32} posts={posts:>7}  {seconds:7.1f} s  "
                    f"{posts / seconds:7.0f} posts/s  peak RSS {peak / 1024:6.1f} MiB"
                )


if __name__ == "__main__":
    main()
