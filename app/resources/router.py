from fastapi import APIRouter, status

from app.deps import CURATORS, AuditCtx, CurrentUser, SessionDep, require_role
from app.pagination import CursorParam, Page, PageSize, next_cursor
from app.resources import service
from app.resources.schemas import ResourceCreate, ResourceOut
from app.topics.lookup import topic_by_slug

router = APIRouter(prefix="/topics/{slug}/resources", tags=["signposts"])


@router.get("", response_model=Page[ResourceOut], summary="A topic's curated resources")
def list_resources(
    session: SessionDep,
    _user: CurrentUser,
    slug: str,
    limit: PageSize = 20,
    cursor: CursorParam = None,
) -> Page[ResourceOut]:
    topic = topic_by_slug(session, slug)
    rows = service.list_resources(session, topic.id, limit, cursor)
    items = [ResourceOut.model_validate(r) for r in rows[:limit]]
    return Page(items=items, next_cursor=next_cursor(rows, limit))


@router.post(
    "",
    response_model=ResourceOut,
    status_code=status.HTTP_201_CREATED,
    summary="Add a resource (expert of the topic, admin)",
    dependencies=[require_role(*CURATORS)],
)
def add_resource(
    session: SessionDep, user: CurrentUser, ctx: AuditCtx, slug: str, body: ResourceCreate
) -> ResourceOut:
    topic = topic_by_slug(session, slug)
    return ResourceOut.model_validate(service.add_resource(session, ctx, user, topic, body))
