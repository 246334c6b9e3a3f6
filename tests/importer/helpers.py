"""Running `vouch import stackexchange` in tests, and small dumps written on the fly."""

import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import text
from typer.testing import CliRunner

from app.cli import app as cli
from app.db import Database

DUMP = Path(__file__).parent / "dumps" / "insurance"
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "stackexchange"
TABLES = (
    "users",
    "questions",
    "answers",
    "comments",
    "reviews",
    "import_records",
    "audit_events",
    "search_outbox",
)

runner = CliRunner()


def run_import(*args: str) -> Any:
    """The command's result (exit code, output); wide, so the summary table is readable."""
    return runner.invoke(
        cli, ["import", "stackexchange", *args], env={"COLUMNS": "200"}, catch_exceptions=False
    )


def counts(db: Database) -> dict[str, int]:
    with db.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one() for t in TABLES}


def copy_dump(target: Path, source: Path = DUMP) -> Path:
    shutil.copytree(source, target)
    return target


def row(attributes: dict[str, Any]) -> str:
    from xml.sax.saxutils import quoteattr

    return "  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attributes.items()) + " />"


def write_dump(folder: Path, questions: int, answers_each: int = 2) -> Path:
    """A synthetic dump of `questions` questions with `answers_each` answers each (the
    first accepted) and a comment on every answer; users 1..20."""
    folder.mkdir(parents=True)
    users = [row({"Id": n, "DisplayName": f"Colleague {n}"}) for n in range(1, 21)]
    posts, comments = [], []
    post_id = comment_id = 0
    for q in range(questions):
        post_id += 1
        question = post_id
        accepted = question + 1
        posts.append(
            row(
                {
                    "Id": question,
                    "PostTypeId": 1,
                    "AcceptedAnswerId": accepted,
                    "CreationDate": "2022-05-01T10:00:00.000",
                    "OwnerUserId": q % 20 + 1,
                    "Title": f"How is claim number {q} handled at renewal?",
                    "Body": f"<p>Claim {q}: what does the <em>renewal</em> team need?</p>",
                    "Tags": "<claims><renewal>",
                }
            )
        )
        for a in range(answers_each):
            post_id += 1
            posts.append(
                row(
                    {
                        "Id": post_id,
                        "PostTypeId": 2,
                        "ParentId": question,
                        "CreationDate": "2022-05-01T11:00:00.000",
                        "OwnerUserId": (q + a + 1) % 20 + 1,
                        "Score": a,
                        "Body": f"<p>Answer {a} to claim {q}: send <code>CLM-{q}</code>.</p>",
                    }
                )
            )
            comment_id += 1
            comments.append(
                row(
                    {
                        "Id": comment_id,
                        "PostId": post_id,
                        "Text": f"Thanks, that settles claim {q}.",
                        "CreationDate": "2022-05-01T12:00:00.000",
                        "UserId": q % 20 + 1,
                    }
                )
            )
    for name, root, lines in (
        ("Users.xml", "users", users),
        ("Posts.xml", "posts", posts),
        ("Comments.xml", "comments", comments),
    ):
        body = "\n".join(lines)
        (folder / name).write_text(
            f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n{body}\n</{root}>\n',
            encoding="utf-8",
        )
    return folder
