"""One-click unsubscribe: the link at the foot of every email.

`POST /unsubscribe/{token}` is what mail clients send (RFC 8058, body
`List-Unsubscribe=One-Click`) and what the page's button sends: it needs no sign-in and
no CSRF token, the signed token being the proof. `GET` only shows the page with that
button (a link follower or a mail scanner that opens the link changes nothing).
"""

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.responses import Response

from app.deps import RequestContext, SessionDep, SettingsDep
from app.errors import InvalidLink
from app.notifications import unsubscribe
from app.users.models import User
from app.web.render import render

router = APIRouter()


def _person(session: Session, settings: SettingsDep, token: str) -> tuple[User, str]:
    found = unsubscribe.read_token(settings, token)
    user = session.get(User, found.user_id)
    if user is None:
        raise InvalidLink("This unsubscribe link is not valid.")
    return user, found.what


@router.get("/unsubscribe/{token}")
def unsubscribe_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str
) -> Response:
    user, what = _person(session, settings, token)
    context = {"what": unsubscribe.describe(what), "token": token, "done": False, "user": user}
    return render(request, "notifications/unsubscribe.html", context)


@router.post("/unsubscribe/{token}")
def unsubscribe_now(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    ctx: RequestContext,
    token: str,
) -> Response:
    user, what = _person(session, settings, token)
    changed = unsubscribe.apply(session, ctx, user, what)
    context = {
        "what": unsubscribe.describe(what),
        "token": token,
        "done": True,
        "changed": changed,
        "user": user,
    }
    return render(request, "notifications/unsubscribe.html", context)
