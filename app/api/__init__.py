"""The Litestar application mounted at /api/v1."""
