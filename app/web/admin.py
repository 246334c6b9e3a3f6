"""Admin pages: users, topics and signposts."""

from fastapi import APIRouter

router = APIRouter()
