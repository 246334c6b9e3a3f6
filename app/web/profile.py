"""A person's profile: reputation, questions and answers with the experts' verdicts.

`/profile` is the signed-in user's own; `/people/{username}` is the same page about
anyone (every signed-in person may read threads, and so who wrote what).
"""

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.responses import Response

from app.db import utcnow
from app.deps import SessionDep
from app.questions.service import answer_counts
from app.recognition.profile import load_profile, person_by_username
from app.users.models import Role, User
from app.users.service import get_user
from app.web.recognition import excerpt
from app.web.render import render
from app.web.session import PageUser

router = APIRouter()

ROLE_LABELS: dict[str, str] = {
    Role.rep: "Customer service rep",
    Role.expert: "Expert",
    Role.compliance: "Compliance officer",
    Role.admin: "Administrator",
}
# How each verdict reads, and the validation state whose colours it takes.
VERDICTS = {
    "endorse": ("Endorsed", "endorsed"),
    "correct": ("Corrected", "corrected"),
    "reject": ("Rejected", "rejected"),
}


def _show(request: Request, session: SessionDep, person: User, viewer: User) -> Response:
    profile = load_profile(session, person, utcnow())
    return render(
        request,
        "profile/profile.html",
        {
            "profile": profile,
            "own": person.id == viewer.id,
            "member_since": f"{person.created_at.day} {person.created_at:%B %Y}",
            "roles": [ROLE_LABELS.get(r, r) for r in person.roles],
            "answer_counts": answer_counts(session, [q.id for q in profile.questions]),
            "excerpts": {item.answer.id: excerpt(item.answer.body) for item in profile.answers},
            # Reviews given before the answer was last edited: they judged other words.
            "earlier_reviews": {
                r.id
                for item in profile.answers
                for r in item.reviews
                if r.answer_revision != item.answer.revision
            },
            "verdicts": VERDICTS,
        },
    )


@router.get("/profile")
def my_profile(request: Request, session: SessionDep, user: PageUser) -> Response:
    return _show(request, session, get_user(session, user.id), user)


@router.get("/people/{username}")
def person_profile(
    request: Request,
    session: SessionDep,
    user: PageUser,
    username: Annotated[str, Path(max_length=64)],
) -> Response:
    return _show(request, session, person_by_username(session, username), user)
