"""The header's links, by role: a person sees the pages their roles can use."""

from dataclasses import dataclass

from app.deps import CONTRIBUTORS
from app.users.models import Role
from app.web.session import Viewer


@dataclass(frozen=True)
class NavItem:
    label: str
    href: str
    current: bool


# (label, path, roles that see it; None = everyone signed in)
_ITEMS: tuple[tuple[str, str, tuple[Role, ...] | None], ...] = (
    ("Questions", "/", None),
    ("Ask", "/ask", CONTRIBUTORS),
    ("Review queue", "/reviews", (Role.expert,)),
    ("Learning needs", "/learning-needs", None),
    ("Digest", "/digest", None),
    ("Leaderboard", "/leaderboard", None),
    ("Audit", "/audit", (Role.compliance,)),
    ("Admin", "/admin", (Role.admin,)),
)


def _is_current(href: str, path: str) -> bool:
    if href == "/":
        return path == "/" or path.startswith("/questions")
    return path == href or path.startswith(href + "/")


def navigation(user: Viewer | None, path: str) -> list[NavItem]:
    if user is None:
        return []
    return [
        NavItem(label, href, _is_current(href, path))
        for label, href, roles in _ITEMS
        if roles is None or user.has_role(*roles)
    ]
