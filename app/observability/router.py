"""GET /metrics: Prometheus's text format, for a scraper holding `VOUCH_METRICS_TOKEN`."""

import hmac
from collections.abc import Iterable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from app.config import Settings
from app.deps import SettingsDep, get_database
from app.errors import Forbidden, NotAuthenticated, NotFound
from app.observability.collector import DatabaseCollector
from app.observability.metrics import REGISTRY, multiprocess_dir

router = APIRouter()
_bearer = HTTPBearer(auto_error=False)


def check_scraper(settings: Settings, presented: str | None) -> None:
    """Without a token configured, /metrics does not exist (404); with one, a request
    without it gets 401 and one with another token 403. `presented`: the bearer token
    the request carries, if any."""
    expected = settings.metrics_token.get_secret_value()
    if not expected:
        raise NotFound("There is nothing at /metrics.")
    if presented is None:
        raise NotAuthenticated("/metrics needs the metrics token as a bearer token.")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Forbidden("That is not the metrics token.")


async def scraper(
    settings: SettingsDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    check_scraper(settings, None if credentials is None else credentials.credentials)


class _Scrape(Collector):
    """Every source of one scrape, in order."""

    def __init__(self, sources: Iterable[Collector]) -> None:
        self.sources = list(sources)

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def exposition(request: Request) -> bytes:
    """The request and failure counters (of every worker process, summed, when there are
    several) and the database's gauges, read now."""
    directory = multiprocess_dir()
    counters: Collector = REGISTRY
    if directory is not None:
        counters = MultiProcessCollector(CollectorRegistry(), path=directory)
    return generate_latest(_Scrape([counters, DatabaseCollector(get_database(request))]))


@router.get("/metrics", include_in_schema=False, dependencies=[Depends(scraper)])
def metrics(request: Request) -> Response:
    return Response(exposition(request), media_type=CONTENT_TYPE_LATEST)
