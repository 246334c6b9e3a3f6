"""`vouch import stackexchange DIR`: a Stack Exchange dump into Vouch.

The dump is read in passes, each streaming one file: Users.xml (people), PostHistory.xml
(which posts were migrated away or deleted), Posts.xml twice (questions, then answers,
so that an answer always finds its question), Comments.xml. Rows are written through
the services the API uses (the same rules, audit events and outbox rows), in batches:
each batch commits its rows, their `import_records` and one `import.batch` audit event
together, so an import that stops anywhere resumes after its last committed batch and
a second run adds nothing. Decisions are in docs/import.md.
"""

import hashlib
import multiprocessing
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any, cast

from pydantic import ValidationError
from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session, selectinload

from app.answers.models import Answer
from app.answers.schemas import AnswerCreate
from app.answers.service import add_answers
from app.audit import service as audit
from app.audit.service import Actor, AuditContext, Event
from app.auth.passwords import NO_PASSWORD
from app.comments.models import Comment
from app.comments.schemas import CommentCreate
from app.comments.service import add_comments
from app.config import Settings
from app.db import Database, session_scope
from app.importer.convert import bodies_as_markdown
from app.importer.dump import MAX_TAG, identifier, rows, slug, tags, timestamp
from app.importer.models import ImportedRecord
from app.questions.models import Question, QuestionStatus
from app.questions.schemas import QuestionCreate
from app.questions.service import add_questions
from app.reviews.schemas import ReviewCreate
from app.reviews.service import create_reviews
from app.topics.models import Topic
from app.users.models import Role, User
from app.users.schemas import UserUpdate
from app.users.service import add_user, add_users, update_user

IMPORTER = "importer"
# Imported people cannot sign in: no password hash verifies against this.
MIN_TITLE, MAX_TITLE = 10, 200
MAX_SITE = 40
TITLE_PADDING = " (imported)"
QUESTION, ANSWER = "1", "2"
# PostHistoryTypeId: 12 deleted, 13 undeleted, 35 migrated away.
DELETED, UNDELETED, MIGRATED_AWAY = "12", "13", "35"
KINDS = ("users", "questions", "answers", "comments")
_QUESTIONS = cast(Table, Question.__table__)
# A post's body as markdown, set on its row by the converter before the row is written.
MARKDOWN = "_markdown"
# Batches the converter process works on ahead of the one being written.
CONVERTED_AHEAD = 2


class ImportRefused(Exception):
    """The import cannot start (no such directory or file, unknown topic): nothing written."""


@dataclass
class Tally:
    imported: int = 0
    present: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


@dataclass
class Report:
    site: str
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    # Rows that are not Vouch content at all (tag wikis, deleted or migrated posts).
    skipped: Counter[str] = field(default_factory=Counter)
    search: str = ""


@dataclass(frozen=True)
class TopicMap:
    """Which topic a question goes to: the first line of the map naming one of its tags,
    else the default."""

    default: str
    by_tag: tuple[tuple[str, str], ...] = ()

    def topic_for(self, question_tags: list[str]) -> str:
        for tag, topic in self.by_tag:
            if tag in question_tags:
                return topic
        return self.default

    @property
    def topics(self) -> list[str]:
        return sorted({self.default, *(topic for _, topic in self.by_tag)})

    @classmethod
    def read(cls, path: Path) -> "TopicMap":
        """A map file: one `TAG TOPIC` per line, `* TOPIC` for the default, `#` comments."""
        if not path.is_file():
            raise ImportRefused(f"{path}: no such topic map file")
        default, by_tag = None, []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if len(words) != 2:
                raise ImportRefused(f"{path}, line {number}: expected 'TAG TOPIC', got {line!r}")
            tag, topic = words
            if tag == "*":
                default = topic
            else:
                by_tag.append((slug(tag, MAX_TAG), topic))
        if default is None:
            raise ImportRefused(f"{path}: no default topic (a line '* TOPIC')")
        return cls(default, tuple(by_tag))


Progress = Callable[[str, int, int, int], None]  # file name, bytes read, of bytes, rows


class StackExchangeImport:
    """One import of the dump in `directory` as `site`."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        directory: Path,
        topics: TopicMap,
        *,
        site: str | None = None,
        batch_size: int = 500,
        progress: Progress | None = None,
    ) -> None:
        self.db = db
        self.settings = settings
        self.directory = directory
        self.topics = topics
        self.site = slug(site or directory.resolve().name) or "site"
        self.batch_size = batch_size
        self.progress = progress
        self.report = Report(self.site)
        self.importer_id = 0
        self.topic_ids: dict[str, int] = {}  # slug → id, of the topics the import writes to
        self._at: tuple[str, int, int, int] = ("", 0, 0, 0)  # file, bytes read, of, rows

    # ---- The passes ----

    def run(self) -> Report:
        self._check()
        self.importer_id = self._importer_account()
        users = self.directory / "Users.xml"
        if users.is_file():
            self._pass(users, self._users, lambda row: True)
        gone = self._gone_posts()
        posts = self.directory / "Posts.xml"

        def is_post(kind: str) -> Callable[[dict[str, str]], bool]:
            def wanted(row: dict[str, str]) -> bool:
                if row.get("PostTypeId") not in (QUESTION, ANSWER):
                    if kind == QUESTION:  # counted once, in the first pass
                        self.report.skipped[f"post type {row.get('PostTypeId')}"] += 1
                    return False
                if row.get("PostTypeId") != kind:
                    return False
                reason = gone.get(row.get("Id", "")) or (
                    "deleted" if row.get("DeletionDate") else None
                )
                if reason:
                    self.report.skipped[f"{reason} post"] += 1
                    return False
                return True

            return wanted

        # Bodies become markdown in a process of their own, batches ahead of the writing:
        # the conversion and the database work then use both cores.
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
            for kind, write, label in (
                (QUESTION, self._questions, "Posts.xml (questions)"),
                (ANSWER, self._answers, "Posts.xml (answers)"),
            ):
                self._pass(posts, write, is_post(kind), label=label, converter=pool)
        comments = self.directory / "Comments.xml"
        if comments.is_file():
            self._pass(comments, self._comments, lambda row: True)
        return self.report

    def _check(self) -> None:
        if len(self.site) > MAX_SITE:
            # Usernames are "<site>.<id>" within 64 characters; cutting could merge sites.
            raise ImportRefused(
                f"the site name {self.site!r} is longer than {MAX_SITE} characters: "
                "give a shorter one with --site"
            )
        if not self.directory.is_dir():
            raise ImportRefused(f"{self.directory}: no such directory")
        if not (self.directory / "Posts.xml").is_file():
            raise ImportRefused(f"{self.directory}: no Posts.xml (is this a Stack Exchange dump?)")
        with self.db.session(write=False) as session:
            known = dict(session.execute(select(Topic.slug, Topic.id)).all())
        self.topic_ids = {slug: known[slug] for slug in self.topics.topics if slug in known}
        unknown = [t for t in self.topics.topics if t not in known]
        if unknown:
            raise ImportRefused(
                f"unknown topic: {', '.join(unknown)} (create it first: vouch topics create)"
            )

    def _gone_posts(self) -> dict[str, str]:
        """Posts the history says were migrated away or are deleted (id → reason)."""
        history = self.directory / "PostHistory.xml"
        gone: dict[str, str] = {}
        if not history.is_file():
            return gone
        for row in self._read(history, "PostHistory.xml"):
            if self._at[3] % 1000 == 0:
                self._tell()
            kind, post = row.get("PostHistoryTypeId"), row.get("PostId", "")
            if kind == MIGRATED_AWAY:
                gone[post] = "migrated"
            elif kind == DELETED:
                gone[post] = "deleted"
            elif kind == UNDELETED and gone.get(post) == "deleted":
                del gone[post]
        self._tell()
        return gone

    def _read(self, path: Path, label: str) -> Iterator[dict[str, str]]:
        """The rows of `path`; `_tell` reports how far the reading has gone."""
        size = path.stat().st_size
        self._at = (label, 0, size, 0)

        def told(position: int) -> None:
            self._at = (label, position, size, self._at[3] + 1)

        yield from rows(path, told)
        self._at = (label, size, size, self._at[3])

    def _tell(self) -> None:
        """Progress, told once a batch is committed (so the rate is of rows written)."""
        if self.progress is not None and self._at[0]:
            self.progress(*self._at)

    def _pass(
        self,
        path: Path,
        write: Callable[[Session, AuditContext, list[dict[str, str]]], list[ImportedRecord]],
        wanted: Callable[[dict[str, str]], bool],
        label: str | None = None,
        converter: Executor | None = None,
    ) -> None:
        """Stream `path` and write its wanted rows in batches, one transaction each; with
        a `converter`, each row's `Body` is also given as markdown (`MARKDOWN`)."""
        chosen = (_normalised(row) for row in self._read(path, label or path.name) if wanted(row))
        batches = _batches(chosen, self.batch_size)
        if converter is not None:
            batches = _converted(batches, converter)
        for batch in batches:
            with session_scope(self.db) as session:
                # With its topics: create_reviews checks the importer is an expert of each.
                importer = session.get_one(
                    User, self.importer_id, options=[selectinload(User.expert_topics)]
                )
                ctx = AuditContext(
                    actor=Actor(importer.id, importer.username, tuple(importer.roles)),
                    request_id=f"import-{self.site}",
                )
                records = write(session, ctx, batch)
                if records:
                    session.execute(insert(ImportedRecord), [_columns(r) for r in records])
                    audit.record(
                        session,
                        ctx,
                        "import.batch",
                        target_type="import",
                        target_id=self.site,
                        payload={
                            "site": self.site,
                            "file": path.name,
                            "records": [[r.kind, r.source_id, r.target_id] for r in records],
                        },
                    )
            self._tell()
        self._tell()

    # ---- Mapping ----

    def _known(self, session: Session, kind: str, source_ids: Iterable[str]) -> dict[str, int]:
        ids = list(set(source_ids))
        if not ids:
            return {}
        found = session.execute(
            select(ImportedRecord.source_id, ImportedRecord.target_id).where(
                ImportedRecord.site == self.site,
                ImportedRecord.kind == kind,
                ImportedRecord.source_id.in_(ids),
            )
        )
        return dict(found.all())

    def _record(self, kind: str, source_id: str, target_id: int, **extra: Any) -> ImportedRecord:
        return ImportedRecord(
            site=self.site, kind=kind, source_id=source_id, target_id=target_id, **extra
        )

    def _importer_account(self) -> int:
        """The account imported verdicts are given by: an expert of every topic the import
        writes to, who cannot sign in."""
        with session_scope(self.db) as session:
            ctx = AuditContext(actor=Actor(None, "import", ("system",)))
            user = session.execute(
                select(User)
                .options(selectinload(User.expert_topics))
                .where(User.username == IMPORTER)
            ).scalar_one_or_none()
            mark = select(ImportedRecord.target_id).where(
                ImportedRecord.site == IMPORTER, ImportedRecord.kind == IMPORTER
            )
            if user is None:
                user = add_user(session, ctx, _user(IMPORTER, "Importer", [Role.expert]))
                session.add(
                    ImportedRecord(
                        site=IMPORTER, kind=IMPORTER, source_id=IMPORTER, target_id=user.id
                    )
                )
            elif session.execute(mark).scalar_one_or_none() != user.id:
                # Never hand expert roles to a person who happens to have that name.
                raise ImportRefused(
                    f"a user named {IMPORTER!r} exists and is not the import account; "
                    "rename that user first"
                )
            slugs = sorted({t.slug for t in user.expert_topics} | set(self.topics.topics))
            if slugs != sorted(t.slug for t in user.expert_topics) or Role.expert not in user.roles:
                roles = sorted({*user.roles, Role.expert})
                update_user(session, ctx, user, UserUpdate(roles=roles, expert_topics=slugs))
            return user.id

    # ---- Users ----

    def _fresh(
        self, session: Session, kind: str, batch: list[dict[str, str]], tally: Tally
    ) -> list[dict[str, str]]:
        """The batch's rows not imported yet: a row without a valid id is rejected, one
        already imported (or twice in the batch) counted as present."""
        known = self._known(session, kind, (row["Id"] for row in batch if row["Id"]))
        fresh: list[dict[str, str]] = []
        for row in batch:
            if not row["Id"]:
                tally.rejected["bad id"] += 1
            elif row["Id"] in known:
                tally.present += 1
            else:
                known[row["Id"]] = 0
                fresh.append(row)
        return fresh

    def _users(
        self, session: Session, ctx: AuditContext, batch: list[dict[str, str]]
    ) -> list[ImportedRecord]:
        tally = self.report.tallies["users"]
        fresh = self._fresh(session, "user", batch, tally)
        people = [self._person(row["Id"], row.get("DisplayName")) for row in fresh]
        add_users(session, ctx, people)
        tally.imported += len(fresh)
        return [self._record("user", row["Id"], u.id) for row, u in zip(fresh, people, strict=True)]

    def _person(self, source: str, name: str | None) -> User:
        """A person of the dump as a new Vouch user (not stored yet)."""
        username = f"{self.site}.{source.replace('-', 'm')}"
        display = (name or "").strip()[:120] or f"{self.site} user {source}"
        return _user(username, display, [Role.rep])

    def _authors(
        self,
        session: Session,
        ctx: AuditContext,
        rows: list[dict[str, str]],
        records: list[ImportedRecord],
    ) -> dict[str, int]:
        """The id of the Vouch user behind each row's author (by `_author_key`), made
        where missing: people the dump names without an account (deleted users) and the
        site's unknown author become users too, all in one go for the batch."""
        keys = {_author_key(row): row for row in rows}
        found = self._known(session, "user", keys)
        missing: dict[str, User] = {}
        for key, row in keys.items():
            if key in found:
                continue
            if key.startswith("name:"):
                digest = hashlib.sha256(key.encode()).hexdigest()[:12]
                missing[key] = self._person(f"n{digest}", key.removeprefix("name:"))
            elif key == UNKNOWN_AUTHOR:
                missing[key] = self._person("unknown", "Unknown author")
            else:
                missing[key] = self._person(key, _author_name(row))
        add_users(session, ctx, list(missing.values()))
        for key, user in missing.items():
            found[key] = user.id
            records.append(self._record("user", key, user.id))
        self.report.tallies["users"].imported += len(missing)
        return found

    # ---- Questions ----

    def _questions(
        self, session: Session, ctx: AuditContext, batch: list[dict[str, str]]
    ) -> list[ImportedRecord]:
        tally = self.report.tallies["questions"]
        ready: list[tuple[dict[str, str], QuestionCreate]] = []
        for row in self._fresh(session, "question", batch, tally):
            fields = self._question_fields(row)
            if isinstance(fields, str):
                tally.rejected[fields] += 1
            else:
                ready.append((row, fields))
        records: list[ImportedRecord] = []
        authors = self._authors(session, ctx, [row for row, _ in ready], records)
        questions = []
        for row, fields in ready:
            created = timestamp(row.get("CreationDate"))
            question = Question(
                topic_id=self.topic_ids[fields.topic],
                author_id=authors[_author_key(row)],
                title=fields.title,
                body=fields.body,
                created_at=created,
                updated_at=_last_change(row) or created,
            )
            question.tags = fields.tags
            questions.append(question)
        names = {topic_id: slug for slug, topic_id in self.topic_ids.items()}
        add_questions(session, ctx, questions, names, announce=False, in_session=False)
        closed = []
        for (row, _), question in zip(ready, questions, strict=True):
            if row.get("ClosedDate"):
                change = {"before": {"status": "open"}, "after": {"status": "closed"}}
                closed.append(Event("question.close", "question", question.id, change))
            accepted = row["AcceptedAnswerId"] or None
            records.append(
                self._record("question", row["Id"], question.id, accepted_source_id=accepted)
            )
        if closed:
            session.execute(
                update(_QUESTIONS)
                .where(Question.id.in_([event.target_id for event in closed]))
                .values(status=QuestionStatus.closed)
            )
        audit.record_many(session, ctx, closed)
        tally.imported += len(questions)
        return records

    def _question_fields(self, row: dict[str, str]) -> QuestionCreate | str:
        """The question to create, or why the row is rejected."""
        title = " ".join((row.get("Title") or "").split())
        if not title:
            return "no title"
        if len(title) > MAX_TITLE:
            return "title over 200 characters"
        if len(title) < MIN_TITLE:
            title += TITLE_PADDING
        body = row[MARKDOWN]
        if not body:
            return "empty body"
        question_tags = tags(row.get("Tags"))
        try:
            return QuestionCreate(
                title=title,
                body=body,
                topic=self.topics.topic_for(question_tags),
                tags=question_tags,
            )
        except ValidationError as exc:
            return _reason(exc)

    # ---- Answers ----

    def _answers(
        self, session: Session, ctx: AuditContext, batch: list[dict[str, str]]
    ) -> list[ImportedRecord]:
        tally = self.report.tallies["answers"]
        fresh = self._fresh(session, "answer", batch, tally)
        parents = {
            r.source_id: r
            for r in session.execute(
                select(ImportedRecord).where(
                    ImportedRecord.site == self.site,
                    ImportedRecord.kind == "question",
                    ImportedRecord.source_id.in_({row["ParentId"] for row in fresh}),
                )
            ).scalars()
        }
        # Live questions only: one deleted since it was imported takes no more answers.
        topic_of = dict(
            session.execute(
                select(Question.id, Question.topic_id).where(
                    Question.id.in_([r.target_id for r in parents.values()]),
                    Question.deleted_at.is_(None),
                )
            ).all()
        )
        ready: list[tuple[dict[str, str], ImportedRecord, AnswerCreate]] = []
        for row in fresh:
            parent = parents.get(row["ParentId"])
            if parent is None or parent.target_id not in topic_of:
                tally.rejected["unknown or rejected question"] += 1
                continue
            body = row[MARKDOWN]
            try:
                ready.append((row, parent, AnswerCreate(body=body)))
            except ValidationError as exc:
                tally.rejected["empty body" if not body else _reason(exc)] += 1
        records: list[ImportedRecord] = []
        authors = self._authors(session, ctx, [row for row, _, _ in ready], records)
        answers = []
        for row, parent, data in ready:
            created = timestamp(row.get("CreationDate"))
            answer = Answer(
                question_id=parent.target_id,
                topic_id=topic_of[parent.target_id],
                author_id=authors[_author_key(row)],
                body=data.body,
                score=_score(row.get("Score")),
                created_at=created,
                updated_at=_last_change(row) or created,
            )
            answers.append(answer)
        add_answers(session, ctx, answers, in_session=False)
        importer = session.get_one(
            User, self.importer_id, options=[selectinload(User.expert_topics)]
        )
        endorse = ReviewCreate.model_validate(
            {"verdict": "endorse", "rationale": f"Accepted answer on {self.site}."}
        )
        accepted = [
            (answer.id, endorse)
            for (row, parent, _), answer in zip(ready, answers, strict=True)
            if parent.accepted_source_id == row["Id"]
        ]
        create_reviews(session, self.settings, ctx, importer, accepted, announce=False)
        records += [
            self._record("answer", row["Id"], answer.id)
            for (row, _, _), answer in zip(ready, answers, strict=True)
        ]
        tally.imported += len(answers)
        return records

    # ---- Comments ----

    def _comments(
        self, session: Session, ctx: AuditContext, batch: list[dict[str, str]]
    ) -> list[ImportedRecord]:
        tally = self.report.tallies["comments"]
        fresh = self._fresh(session, "comment", batch, tally)
        posts = {row["PostId"] for row in fresh}
        questions = self._known(session, "question", posts)
        answers = self._known(session, "answer", posts)
        # Where each post is now: live questions, and live answers of live questions.
        live_questions = set(
            session.execute(
                select(Question.id).where(
                    Question.id.in_(questions.values()), Question.deleted_at.is_(None)
                )
            ).scalars()
        )
        on_answer = dict(
            session.execute(
                select(Answer.id, Answer.question_id)
                .join(Question, Question.id == Answer.question_id)
                .where(
                    Answer.id.in_(answers.values()),
                    Answer.deleted_at.is_(None),
                    Question.deleted_at.is_(None),
                )
            ).all()
        )
        ready: list[tuple[dict[str, str], int, int | None, CommentCreate]] = []
        for row in fresh:
            answer_id = answers.get(row["PostId"])
            question_id = on_answer.get(answer_id) if answer_id is not None else None
            if answer_id is None:
                found = questions.get(row["PostId"])
                question_id = found if found in live_questions else None
            if question_id is None:
                tally.rejected["unknown or rejected post"] += 1
                continue
            text = (row.get("Text") or "").strip()
            try:
                ready.append((row, question_id, answer_id, CommentCreate(body=text)))
            except ValidationError as exc:
                tally.rejected["empty text" if not text else _reason(exc)] += 1
        records: list[ImportedRecord] = []
        authors = self._authors(session, ctx, [row for row, *_ in ready], records)
        comments = [
            Comment(
                question_id=question_id,
                answer_id=answer_id,
                author_id=authors[_author_key(row)],
                body=data.body,
                created_at=timestamp(row.get("CreationDate")),
            )
            for row, question_id, answer_id, data in ready
        ]
        add_comments(session, ctx, comments, in_session=False)
        for (row, *_), comment in zip(ready, comments, strict=True):
            records.append(self._record("comment", row["Id"], comment.id))
        tally.imported += len(comments)
        return records


_RECORD_COLUMNS = ("site", "kind", "source_id", "target_id", "accepted_source_id")


def _columns(record: ImportedRecord) -> dict[str, Any]:
    """A record (not in the session) as the columns of one row of a bulk insert."""
    return {name: getattr(record, name) for name in _RECORD_COLUMNS}


def _batches(items: Iterator[dict[str, str]], size: int) -> Iterator[list[dict[str, str]]]:
    while batch := list(islice(items, size)):
        yield batch


def _converted(
    batches: Iterator[list[dict[str, str]]], converter: Executor
) -> Iterator[list[dict[str, str]]]:
    """The batches with each row's body as markdown, converted by `converter` up to
    `CONVERTED_AHEAD` batches ahead of the one handed on."""
    pending: deque[tuple[list[dict[str, str]], Future[list[str]]]] = deque()

    def handed_on() -> list[dict[str, str]]:
        batch, bodies = pending.popleft()
        for row, markdown in zip(batch, bodies.result(), strict=True):
            row[MARKDOWN] = markdown
        return batch

    for batch in batches:
        pending.append(
            (batch, converter.submit(bodies_as_markdown, [r.get("Body") or "" for r in batch]))
        )
        if len(pending) > CONVERTED_AHEAD:
            yield handed_on()
    while pending:
        yield handed_on()


def _reason(exc: ValidationError) -> str:
    """A rejection reason from a validation error: its first field and message."""
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error["loc"])
    return f"{where}: {error['msg']}".lower()


UNKNOWN_AUTHOR = "unknown"


def _author_key(row: dict[str, str]) -> str:
    """Who wrote a post or comment, as an import record's source id: the dump's user id,
    else "name:<display name>" for a deleted account, else the unknown author."""
    source = row.get("OwnerUserId") or row.get("UserId") or ""
    if source:
        return source
    name = " ".join(_author_name(row).split())[:180]
    return f"name:{name}" if name else UNKNOWN_AUTHOR


def _author_name(row: dict[str, str]) -> str:
    return row.get("OwnerDisplayName") or row.get("UserDisplayName") or ""


INT32 = 2_147_483_647
# The id attributes of the dump's rows: posts' and comments' (positive), users' (Stack
# Exchange's own accounts are negative: Community is -1).
_POST_IDS = ("Id", "ParentId", "PostId", "AcceptedAnswerId")
_USER_IDS = ("OwnerUserId", "UserId")


def _normalised(row: dict[str, str]) -> dict[str, str]:
    """The row with each id in one spelling ('5', never ' 5' or '05'), or '' when it is
    not a valid id; a user's own `Id` (a row with `DisplayName`) may be negative."""
    fields = dict(row)
    user_row = "DisplayName" in row or "Reputation" in row
    for name in _POST_IDS:
        if name == "Id" and user_row:
            fields[name] = _user_id(row.get(name))
        else:
            number = identifier(row.get(name))
            fields[name] = "" if number is None else str(number)
    for name in _USER_IDS:
        if name in row:
            fields[name] = _user_id(row[name])
    return fields


def _user_id(value: str | None) -> str:
    text = (value or "").strip()
    if re.fullmatch(r"-?[0-9]{1,10}", text) and abs(int(text)) <= INT32:
        return str(int(text))
    return ""


def _score(value: str | None) -> int:
    """A post's score, kept within the database's integer range."""
    found = re.fullmatch(r"(-?)([0-9]+)", (value or "").strip())
    if found is None:
        return 0
    sign, digits = -1 if found.group(1) else 1, found.group(2).lstrip("0") or "0"
    magnitude = INT32 if len(digits) > 10 else min(INT32, int(digits))
    return sign * magnitude


def _last_change(row: dict[str, str]) -> datetime | None:
    return timestamp(row.get("LastEditDate")) or timestamp(row.get("LastActivityDate"))


def _user(username: str, display_name: str, roles: list[Role], *, active: bool = False) -> User:
    """A user who cannot sign in (no password), not stored yet."""
    return User(
        username=username,
        display_name=display_name,
        password_hash=NO_PASSWORD,
        roles=[str(r) for r in roles],
        expert_topics=[],
        active=active,
        reputation=0,
    )
