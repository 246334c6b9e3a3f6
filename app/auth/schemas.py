from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, StringConstraints

from app.schemas import RequestModel, ResponseModel


class LoginRequest(RequestModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"username": "alice", "password": "a long passphrase"}]}
    )

    username: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    password: Annotated[
        str, StringConstraints(min_length=1, max_length=256, strip_whitespace=False)
    ]


class TokenOut(ResponseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_at: datetime
