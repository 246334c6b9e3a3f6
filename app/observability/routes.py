"""The route template a request matched (`/api/v1/questions/{question_id}`), never its path."""

from typing import Any

from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Mount
from starlette.types import Scope

from app.observability.metrics import UNMATCHED

try:  # FastAPI >= 0.16x keeps included routers as they are and resolves prefixes lazily
    from fastapi.routing import iter_route_contexts
except ImportError:  # pragma: no cover - older FastAPI copies every route, prefix and all
    iter_route_contexts = None  # type: ignore[assignment]


class RouteTemplates:
    """Maps the route object routing leaves in `scope["route"]` to its full template.

    FastAPI puts the matched route in the scope; its own `path` lacks the prefixes of
    the routers it was included through, so the full templates are looked up once, by
    the route's identity, from the app's routes. Starlette's plain routes (the OpenAPI
    document, /docs) leave only their endpoint, and mounts (/static) nothing.
    """

    def __init__(self) -> None:
        self._templates: dict[int, str] | None = None
        self._endpoints: dict[int, str] = {}
        self._mounts: list[tuple[str, str]] = []

    def _build(self, routes: list[BaseRoute]) -> dict[int, str]:
        templates: dict[int, str] = {}
        if iter_route_contexts is not None:
            for context in iter_route_contexts(routes):
                path = context.path_format or context.path
                if path:
                    templates.setdefault(id(context.original_route), path)
                    if not isinstance(context.original_route, APIRoute):
                        self._endpoints.setdefault(id(context.endpoint), path)
        else:  # pragma: no cover
            for route in routes:
                templates[id(route)] = str(getattr(route, "path", ""))
        self._mounts = [
            (route.path, f"{route.path}/{{path}}") for route in routes if isinstance(route, Mount)
        ]
        return templates

    def template(self, scope: Scope) -> str:
        """The template of the route that handled the request, or `unmatched`."""
        if self._templates is None:
            app: Any = scope.get("app")
            if app is None:
                return UNMATCHED
            self._templates = self._build(list(app.routes))
        route = scope.get("route")
        if route is not None:
            found = self._templates.get(id(route))
            if found is not None:
                return found
        endpoint = scope.get("endpoint")
        if endpoint is not None and id(endpoint) in self._endpoints:
            return self._endpoints[id(endpoint)]
        path = scope.get("path", "")
        for prefix, template in self._mounts:  # static files: mounts leave no route
            if path.startswith(prefix + "/"):
                return template
        return UNMATCHED
