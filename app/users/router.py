from fastapi import APIRouter, status

from app.deps import Admin, AuditCtx, CurrentUser, SessionDep
from app.pagination import CursorParam, Page, PageSize, next_cursor
from app.schemas import ObjectId
from app.users import service
from app.users.models import User
from app.users.schemas import UserCreate, UserOut, UserUpdate

router = APIRouter(tags=["users"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        email=user.email,
        roles=list(user.roles),
        expert_topics=[t.slug for t in user.expert_topics],
        active=user.active,
        reputation=user.reputation,
        created_at=user.created_at,
    )


@router.get("/me", response_model=UserOut, summary="The signed-in user")
def me(user: CurrentUser) -> UserOut:
    return user_out(user)


@router.get("/users", response_model=Page[UserOut], summary="List users (admin)")
def list_users(
    session: SessionDep, _admin: Admin, limit: PageSize = 20, cursor: CursorParam = None
) -> Page[UserOut]:
    rows = service.list_users(session, limit, cursor)
    return Page(items=[user_out(u) for u in rows[:limit]], next_cursor=next_cursor(rows, limit))


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user (admin)",
)
def create_user(session: SessionDep, _admin: Admin, ctx: AuditCtx, body: UserCreate) -> UserOut:
    return user_out(service.create_user(session, ctx, body))


@router.patch("/users/{user_id}", response_model=UserOut, summary="Change a user (admin)")
def update_user(
    session: SessionDep, _admin: Admin, ctx: AuditCtx, user_id: ObjectId, body: UserUpdate
) -> UserOut:
    user = service.get_user(session, user_id)
    return user_out(service.update_user(session, ctx, user, body))
