from datetime import datetime

from app.schemas import ResponseModel, UserSummary


class LeaderboardEntry(ResponseModel):
    rank: int
    user: UserSummary
    reputation: int


class Leaderboard(ResponseModel):
    topic: str | None
    entries: list[LeaderboardEntry]


class DigestAnswer(ResponseModel):
    answer_id: int
    question_id: int
    question_title: str
    topic: str
    author: UserSummary
    state: str
    body: str
    correction: str | None
    validated_at: datetime


class Contributor(ResponseModel):
    user: UserSummary
    points: int


class Digest(ResponseModel):
    since: datetime
    answers: list[DigestAnswer]
    top_contributors: list[Contributor]
    next_cursor: str | None
