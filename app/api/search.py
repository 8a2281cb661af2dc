"""POST /tenants/{tenant}/search: hybrid, dense or keyword retrieval over the tenant's chunks."""

import time
from typing import Annotated, Any, Literal

import msgspec
from litestar import post
from litestar.params import JSONBody
from litestar.status_codes import HTTP_200_OK

from app.api.deps import AnalysisDep, MetricsDep, TenantAccessDep

MAX_K = 100


class SearchRequest(msgspec.Struct, forbid_unknown_fields=True):
    query: Annotated[str, msgspec.Meta(max_length=4_000)]
    k: Annotated[int, msgspec.Meta(ge=1, le=MAX_K)] = 10
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    filters: dict[str, Any] = msgspec.field(default_factory=dict)


@post(
    "/search",
    status_code=HTTP_200_OK,
    sync_to_thread=True,
    opt={"min_role": "viewer"},
    tags=["search"],
)
def search_chunks(
    data: JSONBody[SearchRequest],
    tenant_access: TenantAccessDep,
    analysis: AnalysisDep,
    metrics: MetricsDep,
) -> dict[str, Any]:
    """The best `k` chunks for `query`, with document id, title, page and score."""
    started = time.perf_counter()
    with metrics.tracing.span("search", mode=data.mode):
        hits = analysis.search(
            tenant_access.tenant_id,
            data.query,
            k=data.k,
            mode=data.mode,
            filters=data.filters or None,
        )
    metrics.searched(tenant_access.tenant_id, data.mode, time.perf_counter() - started)
    return {"hits": [hit.public() for hit in hits]}
