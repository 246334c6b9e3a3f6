"""Compliance pages: audit export, chain verification, a record's full history."""

from fastapi import APIRouter

router = APIRouter()
