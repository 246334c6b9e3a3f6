"""Forms: read a submission into the API's request model, and refuse it in place.

A refused form is re-rendered with what the person typed and each message beside its
field. The messages are the API's problem details (`errors[].field` and `message`),
so a page and the API can never disagree about what is valid.
"""

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from app.errors import AppError

# Form errors that belong to no one field are shown at the top of the form.
FORM = "_form"


class FormRefused(AppError):
    """Raised by a page route to show its form again with errors; rolls the request back.

    The web interface renders `template` with `context`, `errors` and `values`.
    """

    status, problem, title = 422, "validation-error", "Invalid request"

    def __init__(
        self,
        template: str,
        context: dict[str, Any],
        errors: dict[str, str],
        *,
        status: int = 422,
        block: str | None = None,
    ) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.status = status
        self.template = template
        self.context = context
        self.errors = errors
        self.block = block


def _field(loc: Iterable[Any]) -> str:
    """The form field an error location names: `title` → `title`, `tags.2` → `tags`, and
    for the API's locations `body.title` → `title` (`body` alone is a field of that name)."""
    parts = [str(p) for p in loc]
    if len(parts) > 1 and parts[0] in ("body", "query"):
        parts = parts[1:]
    return parts[0] if parts else FORM


def _message(error: dict[str, Any]) -> str:
    message = str(error.get("msg") or error.get("message") or "is not valid")
    return message.removeprefix("Value error, ")


def errors_of(exc: ValidationError | AppError) -> dict[str, str]:
    """The first message for each field, from pydantic's errors or an API problem's."""
    found: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for error in exc.errors():
            found.setdefault(_field(error.get("loc", ())), _message(dict(error)))
        return found
    listed = exc.extra.get("errors") or []
    for error in listed:
        found.setdefault(_field(str(error.get("field", "")).split(".")), _message(error))
    if not found:
        found[FORM] = exc.detail
    return found


def split_tags(text: str) -> list[str]:
    """Tags typed as 'contents, accidental-damage' or 'contents accidental-damage'."""
    return [t for t in text.replace(",", " ").split() if t]


def edit_outcome(changed: bool) -> str:
    """The message after an edit form: an edit that changes nothing keeps no revision."""
    return "Your changes are saved." if changed else "Nothing changed, so nothing was saved."
