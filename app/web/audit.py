"""Compliance pages: audit export, chain verification, a record's full history.

The export streams exactly as `GET /api/v1/audit/events` does: the same query model,
its own audit event committed before the body streams, the same file. The record
history is `app/audit/records.reconstruct`, with the differences between versions
marked word by word.
"""

import difflib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from markupsafe import Markup, escape
from pydantic import BaseModel, Field, ValidationError
from starlette.responses import Response

from app.audit import export
from app.audit.actions import ACTIONS
from app.audit.records import CONTENT_FIELDS, RecordType, reconstruct
from app.audit.router import ExportSession
from app.audit.schemas import EventOut, ExportQuery, RecordOut, VerifyQuery, VersionOut
from app.audit.service import verify_chain
from app.db import Database
from app.deps import SessionDep
from app.schemas import MAX_ID, ObjectId
from app.web.forms import FORM, FormRefused, errors_of
from app.web.render import is_htmx, redirect, render
from app.web.session import PageAuditCtx, PageCompliance

router = APIRouter(prefix="/audit")

PAGE = "audit/audit.html"
EXPORT_FIELDS = ("since", "until", "actor", "action", "target_type", "target_id", "format")
FORMATS = (
    ("ndjson", "NDJSON: one event per line; verifiable offline with vouch audit verify-file"),
    ("csv", "CSV: one event per row, for a spreadsheet (open it as text)"),
)
VERIFY_FIELDS = ("checkpoint_seq", "checkpoint_hash")
RECORD_TYPES = (("answer", "Answer"), ("question", "Question"))
# Clearer words than pydantic's for fields whose every error means the same thing.
RECORD_ID_MESSAGE = f"Enter the number of the question or answer (1 to {MAX_ID})."
CHECKPOINT_MESSAGES = {
    "checkpoint_seq": "Enter the checkpoint's seq, a whole number (0 or more).",
    "checkpoint_hash": "Enter the checkpoint's hash: 64 characters 0-9 and a-f.",
}


class RecordLookup(BaseModel):
    """The record form: which question or answer to rebuild."""

    record_type: RecordType
    record_id: int = Field(ge=1, le=MAX_ID)


def _context(
    *,
    export_values: dict[str, str] | None = None,
    verify_values: dict[str, str] | None = None,
    record_values: dict[str, str] | None = None,
    report: Any = None,
) -> dict[str, Any]:
    """Everything the audit page shows; each form keeps what was typed into it."""
    return {
        "actions": [(name, name) for name in sorted(ACTIONS)],
        "meanings": [(name, ACTIONS[name].meaning) for name in sorted(ACTIONS)],
        "formats": FORMATS,
        "record_types": RECORD_TYPES,
        "export": {"format": "ndjson", **(export_values or {})},
        "verify": verify_values or {},
        "record": record_values or {},
        "report": report,
        "errors": {},
    }


def _filled(values: dict[str, str]) -> dict[str, str]:
    """What a GET form sent, without the fields left empty."""
    return {name: value for name, value in values.items() if value != ""}


@router.get("")
def audit_page(request: Request, _officer: PageCompliance) -> Response:
    return render(request, PAGE, _context())


def _export_errors(exc: ValidationError) -> dict[str, str]:
    errors = errors_of(exc)
    # A parameter the form has no field for is shown at the top of the form.
    stray = [name for name in errors if name not in EXPORT_FIELDS and name != FORM]
    for name in stray:
        errors.setdefault(FORM, f"Unknown filter {name!r}: nothing was exported.")
        del errors[name]
    return errors


@router.get("/export", response_class=StreamingResponse)
def export_events(
    request: Request,
    _officer: PageCompliance,
    ctx: PageAuditCtx,
    writer: ExportSession,
) -> Response:
    """The export download; refused filters show the audit page again, nothing written."""
    values = dict(request.query_params)
    try:
        query = ExportQuery.model_validate(_filled(values))
    except ValidationError as exc:
        kept = {name: values.get(name, "") for name in EXPORT_FIELDS}
        raise FormRefused(PAGE, _context(export_values=kept), _export_errors(exc)) from None
    criteria = query.criteria()
    through = export.start_export(writer, ctx, criteria, query.format)
    db: Database = request.app.state.db
    chunks = (data for _, data in export.export_batches(db.engine, criteria, through, query.format))
    filename = f"vouch-audit-{through}.{query.format.value}"
    return StreamingResponse(
        chunks,
        media_type=export.MEDIA_TYPES[query.format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "X-Audit-Export-Seq": str(through),
        },
    )


@router.get("/verify")
def verify(
    request: Request,
    session: SessionDep,
    _officer: PageCompliance,
    checkpoint_seq: str = "",
    checkpoint_hash: str = "",
) -> Response:
    """Recompute the chain; the result replaces the verification part of the page."""
    values = {"checkpoint_seq": checkpoint_seq, "checkpoint_hash": checkpoint_hash.strip()}
    block = "verification" if is_htmx(request) else None
    try:
        query = VerifyQuery.model_validate(_filled(values))
    except ValidationError as exc:
        errors = {
            name: CHECKPOINT_MESSAGES.get(name, message) for name, message in errors_of(exc).items()
        }
        # htmx swaps in only a 2xx response: its fragment carries the errors with a 200.
        status = 200 if block else 422
        context = _context(verify_values=values)
        raise FormRefused(PAGE, context, errors, status=status, block=block) from None
    report = verify_chain(session, against=query.against())
    context = {**_context(verify_values=values, report=report), "verified_at": now_stamp()}
    return render(request, PAGE, context, block=block)


@router.get("/records")
def find_record(_officer: PageCompliance, record_type: str = "", record_id: str = "") -> Response:
    """The record form's answer: the record's own page, or the form again with errors."""
    values = {"record_type": record_type, "record_id": record_id.strip()}
    try:
        found = RecordLookup.model_validate(values)
    except ValidationError as exc:
        errors = errors_of(exc)
        if "record_id" in errors:
            errors["record_id"] = RECORD_ID_MESSAGE
        raise FormRefused(PAGE, _context(record_values=values), errors) from None
    return redirect(f"/audit/records/{found.record_type}/{found.record_id}")


# --- A record's history, as the page shows it -------------------------------------------

# Words and the whitespace between them, so a diff keeps the text's own spacing.
_TOKENS = re.compile(r"\s+|[^\s]+")
FIELD_LABELS = {"title": "Title", "tags": "Tags", "body": "Text"}


def _as_text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)


def word_diff(before: str, after: str) -> Markup:
    """`after` with the words added since `before` in `<ins>` and those removed in `<del>`;
    every piece of text escaped. Changes parted only by spaces read as one change."""
    old, new = _TOKENS.findall(before), _TOKENS.findall(after)
    ops = difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes()
    parts: list[str] = []
    removed: list[str] = []
    added: list[str] = []

    def flush() -> None:
        if "".join(removed).strip():
            parts.append(f"<del>{escape(''.join(removed))}</del>")
        if "".join(added).strip():
            parts.append(f"<ins>{escape(''.join(added))}</ins>")
        removed.clear()
        added.clear()

    for index, (op, i1, i2, j1, j2) in enumerate(ops):
        if op != "equal":
            removed.extend(old[i1:i2])
            added.extend(new[j1:j2])
            continue
        same = "".join(new[j1:j2])
        if (removed or added) and same.isspace() and index + 1 < len(ops):
            removed.append(same)
            added.append(same)
            continue
        flush()
        parts.append(str(escape(same)))
    flush()
    return Markup("".join(parts))


def stamp(value: datetime) -> str:
    """A time to the second, as an audit record needs: '3 Mar 2026, 14:05:09 UTC'."""
    value = value.astimezone(UTC)
    return f"{value.day} {value:%b %Y, %H:%M:%S} UTC"


def now_stamp() -> str:
    return stamp(datetime.now(UTC))


@dataclass(frozen=True)
class FieldShown:
    label: str
    text: Markup
    changed: bool


@dataclass(frozen=True)
class VersionShown:
    """One version as the page shows it: its fields, marked against the version before."""

    version: VersionOut
    at: str
    fields: list[FieldShown]
    unchanged: list[str]
    since: int | None  # the number of the version the marks compare with
    stored: str  # "matches", "differs" or "missing": how the revision table compares


def _versions_shown(record: RecordOut) -> list[VersionShown]:
    fields = CONTENT_FIELDS[record.target_type]
    shown: list[VersionShown] = []
    previous: VersionOut | None = None
    for version in record.versions:
        rows, unchanged = [], []
        for name in fields:
            text = _as_text(version.content.get(name))
            if previous is None:
                rows.append(FieldShown(FIELD_LABELS[name], escape(text), False))
            elif name in version.changed:
                marked = word_diff(_as_text(previous.content.get(name)), text)
                rows.append(FieldShown(FIELD_LABELS[name], marked, True))
            else:
                unchanged.append(FIELD_LABELS[name])
        stored = {True: "matches", False: "differs", None: "missing"}[
            version.matches_stored_revision
        ]
        since = previous.number if previous else None
        at = stamp(version.occurred_at)
        shown.append(VersionShown(version, at, rows, unchanged, since, stored))
        previous = version
    return shown


@dataclass(frozen=True)
class EventShown:
    event: EventOut
    at: str
    meaning: str
    payload: str
    is_deletion: bool


def _events_shown(record: RecordOut) -> list[EventShown]:
    deletion = f"{record.target_type}.delete"
    return [
        EventShown(
            event,
            stamp(event.occurred_at),
            ACTIONS[event.action].meaning if event.action in ACTIONS else "",
            json.dumps(event.payload, indent=2, ensure_ascii=False, sort_keys=True),
            event.action == deletion,
        )
        for event in record.history
    ]


def _question_of(record: RecordOut) -> int | None:
    """The question a record is, or the one an answer was posted to."""
    if record.target_type == "question":
        return record.target_id
    created = next((e for e in record.history if e.action == "answer.create"), None)
    question_id = created.payload.get("after", {}).get("question_id") if created else None
    return question_id if isinstance(question_id, int) else None


@router.get("/records/{target_type}/{target_id}")
def record_history(
    request: Request,
    session: SessionDep,
    _officer: PageCompliance,
    target_type: RecordType,
    target_id: ObjectId,
) -> Response:
    record = reconstruct(session, target_type, target_id)
    events = _events_shown(record)
    question_id = _question_of(record)
    return render(
        request,
        "audit/record.html",
        {
            "record": record,
            "title": f"{target_type.title()} {target_id}",
            "versions": _versions_shown(record),
            "events": events,
            "deletion": next((e for e in events if e.is_deletion), None),
            # Where the record lives in the product, while it is not deleted.
            "thread_url": None
            if record.deleted or question_id is None
            else f"/questions/{question_id}",
            "question_history": f"/audit/records/question/{question_id}"
            if target_type == "answer" and question_id is not None
            else None,
            "question_id": question_id,
        },
    )
