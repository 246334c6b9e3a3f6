"""A post's history as a reader sees it: each revision with what changed from the one
before, word by word.

The differences are plain text segments; the page escapes them and marks them up as
`<ins>` and `<del>`, so no edit can put markup into the history page.
"""

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar

from app.answers.models import AnswerRevision
from app.pagination import decode_cursor, encode_cursor
from app.questions.models import QuestionRevision
from app.users.models import User

_WORDS = re.compile(r"\s+|[^\s]+")


@dataclass(frozen=True)
class Segment:
    kind: Literal["same", "ins", "del"]
    text: str


def word_diff(old: str, new: str) -> list[Segment]:
    """The changes from `old` to `new`, word by word; whitespace is kept, so the segments
    joined without the deletions give `new` back exactly."""
    a, b = _WORDS.findall(old), _WORDS.findall(new)
    segments: list[Segment] = []

    def add(kind: Literal["same", "ins", "del"], words: list[str]) -> None:
        if not words:
            return
        if segments and segments[-1].kind == kind:
            segments[-1] = Segment(kind, segments[-1].text + "".join(words))
        else:
            segments.append(Segment(kind, "".join(words)))

    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            add("same", a[i1:i2])
        else:
            add("del", a[i1:i2])
            add("ins", b[j1:j2])
    return segments


@dataclass(frozen=True)
class FieldChange:
    """One field of a revision: its text as differences from the previous revision."""

    label: str
    segments: list[Segment]

    @property
    def changed(self) -> bool:
        return any(s.kind != "same" for s in self.segments)


@dataclass(frozen=True)
class RevisionChange:
    number: int
    editor: User
    created_at: datetime
    fields: list[FieldChange]

    @property
    def is_original(self) -> bool:
        return self.number == 1


class _Revision(Protocol):
    number: int
    editor: User
    created_at: datetime


@dataclass(frozen=True)
class History:
    """One page of a post's revisions, oldest first."""

    changes: list[RevisionChange]
    next_cursor: str | None


# Revisions per history page.
HISTORY_PAGE = 50


def overlapping(cursor: str | None) -> str | None:
    """The listing cursor for the history page after `cursor` that also fetches the
    revision before the page's first one, to tell what that first one changed."""
    after = decode_cursor(cursor)
    return encode_cursor(after - 1) if after else None


R = TypeVar("R", bound=_Revision)


def _history(
    rows: Sequence[R], cursor: str | None, limit: int, fields_of: Callable[[R], dict[str, str]]
) -> History:
    after = decode_cursor(cursor) or 0
    previous = rows[0] if rows and rows[0].number == after else None
    page = list(rows[1:] if previous is not None else rows)
    more, page = len(page) > limit, page[:limit]
    before = fields_of(previous) if previous is not None else None
    changes = []
    for row in page:
        now = fields_of(row)
        fields = [
            FieldChange(label, word_diff(before[label] if before else text, text))
            for label, text in now.items()
        ]
        changes.append(RevisionChange(row.number, row.editor, row.created_at, fields))
        before = now
    return History(changes, encode_cursor(page[-1].number) if more and page else None)


def question_history(
    rows: Sequence[QuestionRevision], cursor: str | None, limit: int = HISTORY_PAGE
) -> History:
    """A page of a question's history from `rows`, listed with `overlapping(cursor)` and
    `limit + 1`: title, body and tags, each as differences from the revision before."""
    return _history(
        rows,
        cursor,
        limit,
        lambda r: {"Title": r.title, "Body": r.body, "Tags": " ".join(r.tags)},
    )


def answer_history(
    rows: Sequence[AnswerRevision], cursor: str | None, limit: int = HISTORY_PAGE
) -> History:
    """A page of an answer's history from `rows` (listed as for `question_history`)."""
    return _history(rows, cursor, limit, lambda r: {"Body": r.body})
