"""Builds the Tracing object: OpenTelemetry with an OTLP/HTTP exporter when
`[observability] otlp_endpoint` is set, otherwise an empty one (nothing imported)."""

from agents.telemetry.tracing import Tracing
from app.settings import Settings

SERVICE_NAME = "agent-appliance"


def build_tracing(settings: Settings) -> tuple[Tracing, object | None]:
    """The Tracing and its provider (to shut down at close; None when off)."""
    endpoint = settings.observability.otlp_endpoint.rstrip("/")
    if not endpoint:
        return Tracing(None), None
    # imported only here: with tracing off the appliance never loads opentelemetry
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE_NAME}))
    provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces", timeout=5))
    )
    return Tracing(provider.get_tracer("appliance")), provider
