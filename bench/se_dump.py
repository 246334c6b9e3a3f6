"""A Stack Exchange dump of any size, made of real text.

    .venv/bin/python -m bench.se_dump OUT --questions 100000 --answers 3 [--source DIR ...]

Takes the questions, answers and comments of real dumps (by default the ones under
`../shared/data/stackexchange/`) and deals them out again under new ids until it has
written `--questions` questions with `--answers` answers each, a comment on every
answer, and the users they name: the files stream to disk, so memory stays flat. Every
question's first answer is its accepted one. Titles get a number so that no two are
the same.
"""

import argparse
import itertools
from collections.abc import Iterator
from pathlib import Path
from xml.etree.ElementTree import iterparse
from xml.sax.saxutils import quoteattr

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "stackexchange"
USERS = 500


def real_texts(sources: list[Path]) -> tuple[list[tuple[str, str, str]], list[str], list[str]]:
    """(title, body, tags) of the questions, the answer bodies and comment texts."""
    questions, answers, comments = [], [], []
    for source in sources:
        for _, row in iterparse(source / "Posts.xml"):
            if row.tag != "row":
                continue
            a = row.attrib
            if a.get("PostTypeId") == "1" and a.get("Body") and a.get("Title"):
                questions.append((a["Title"], a["Body"], a.get("Tags", "")))
            elif a.get("PostTypeId") == "2" and a.get("Body"):
                answers.append(a["Body"])
            row.clear()
        comment_file = source / "Comments.xml"
        if comment_file.is_file():
            for _, row in iterparse(comment_file):
                if row.tag == "row" and row.attrib.get("Text"):
                    comments.append(row.attrib["Text"])
                row.clear()
    return questions, answers, comments


def _row(**attributes: object) -> str:
    return "  <row " + " ".join(f"{k}={quoteattr(str(v))}" for k, v in attributes.items()) + " />\n"


def _write(path: Path, root: str, lines: Iterator[str]) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(f'\ufeff<?xml version="1.0" encoding="utf-8"?>\n<{root}>\n')
        out.writelines(lines)
        out.write(f"</{root}>\n")


def generate(out: Path, questions: int, answers: int, sources: list[Path]) -> int:
    """Write the dump into `out`; returns the number of posts."""
    texts, bodies, remarks = real_texts(sources)
    if not texts or not bodies:
        raise SystemExit(f"no posts found in {', '.join(map(str, sources))}")
    out.mkdir(parents=True, exist_ok=True)
    _write(
        out / "Users.xml",
        "users",
        (_row(Id=n, DisplayName=f"Colleague {n}") for n in range(1, USERS + 1)),
    )

    def posts() -> Iterator[str]:
        body = itertools.cycle(bodies)
        post_id = 0
        for n, (title, text, tags) in zip(range(questions), itertools.cycle(texts), strict=False):
            post_id += 1
            question = post_id
            yield _row(
                Id=question,
                PostTypeId=1,
                AcceptedAnswerId=question + 1 if answers else "",
                CreationDate="2023-01-01T09:00:00.000",
                Score=n % 7,
                Body=text,
                OwnerUserId=n % USERS + 1,
                Title=f"{title[:180]} ({n})",
                Tags=tags,
            )
            for a in range(answers):
                post_id += 1
                yield _row(
                    Id=post_id,
                    PostTypeId=2,
                    ParentId=question,
                    CreationDate="2023-01-01T10:00:00.000",
                    Score=a,
                    Body=next(body),
                    OwnerUserId=(n + a + 1) % USERS + 1,
                )

    def comments() -> Iterator[str]:
        remark = itertools.cycle(remarks or ["Thanks."])
        for n in range(questions * answers):
            yield _row(
                Id=n + 1,
                PostId=n + n // answers + 2,  # the n-th answer's id
                Text=next(remark),
                CreationDate="2023-01-01T11:00:00.000",
                UserId=n % USERS + 1,
            )

    _write(out / "Posts.xml", "posts", posts())
    _write(out / "Comments.xml", "comments", comments())
    return questions * (1 + answers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--answers", type=int, default=3)
    parser.add_argument("--source", type=Path, action="append")
    args = parser.parse_args()
    sources = args.source or sorted(p for p in SHARED.iterdir() if (p / "Posts.xml").is_file())
    posts = generate(args.out, args.questions, args.answers, sources)
    print(f"wrote {posts} posts to {args.out}")


if __name__ == "__main__":
    main()
