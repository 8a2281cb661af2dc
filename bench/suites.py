"""Names of the benchmark suites (kept apart so the CLI parser imports nothing heavy)."""

SUITES = (
    "storage",
    "server",
    "ingest",
    "index",
    "search",
    "ui",
    "api",
    "ask",
    "outbox",
    "workflow",
    "report",
    "retrieval",
    "answers",
    "scale",
)
