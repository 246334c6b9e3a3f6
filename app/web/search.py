"""The search page."""

from fastapi import APIRouter

router = APIRouter()
