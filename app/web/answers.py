"""Answer pages: answering, editing, votes, flags, comments, revision history."""

from fastapi import APIRouter

router = APIRouter()
