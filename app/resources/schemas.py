from datetime import datetime
from typing import Annotated

from pydantic import AnyHttpUrl, Field, StringConstraints

from app.schemas import RequestModel, ResponseModel


class ResourceCreate(RequestModel):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    url: Annotated[AnyHttpUrl, Field(max_length=2_000)]
    description: Annotated[str, StringConstraints(max_length=2_000)] = ""


class ResourceOut(ResponseModel):
    id: int
    title: str
    url: str
    description: str
    created_at: datetime
