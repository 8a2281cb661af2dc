"""Errors the UI backend raises itself; they carry `detail` like every app error."""

from app.errors import AppError


class InvalidInput(AppError):
    status_code = 422
    code = "invalid_input"
