"""Observability wiring: /metrics, HTTP metrics, the JSON log format, the per-tenant
activity log and its API, live status. Metric families live in agents/telemetry/."""
