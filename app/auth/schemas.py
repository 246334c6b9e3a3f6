from datetime import datetime
from typing import Annotated, Literal

from pydantic import StringConstraints

from app.schemas import RequestModel, ResponseModel


class LoginRequest(RequestModel):
    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)
    ]


class TokenOut(ResponseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
