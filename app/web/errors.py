"""Error pages: every error a page route raises is shown as a page, never a stack trace."""

from fastapi import FastAPI, Request
from starlette.responses import RedirectResponse, Response

from app.web.forms import FormRefused
from app.web.render import is_htmx, render
from app.web.session import login_url


def error_page(
    request: Request, status: int, title: str, detail: str, headers: dict[str, str]
) -> Response:
    """The page for an error; a visitor who must sign in is sent to the sign-in page."""
    if status == 401:
        target = login_url(request)
        if is_htmx(request):
            # htmx follows redirects inside the fragment; ask it to load the page instead.
            return Response(status_code=204, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)
    context = {
        "status": status,
        "title": title,
        "detail": detail,
        "request_id": getattr(request.state, "request_id", None),
    }
    kept = {k: v for k, v in headers.items() if k.lower() == "retry-after"}
    return render(request, "errors/error.html", context, status=status, headers=kept)


def install(app: FastAPI) -> None:
    @app.exception_handler(FormRefused)
    def _refused(request: Request, exc: FormRefused) -> Response:
        context = {**exc.context, "errors": exc.errors}
        return render(request, exc.template, context, status=exc.status, block=exc.block)
