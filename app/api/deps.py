"""Annotated names for injected dependencies.

Litestar 2.23+ deprecates injecting dependencies by parameter name alone; parameters must
be marked `NamedDependency[...]` (the name still selects the provider). These aliases keep
handler signatures short. Tenant handlers take `tenant_access`, `tenant_db`, `tenant_blobs`.
"""

from litestar.di import NamedDependency

from agents.act.dispatcher import Dispatcher
from agents.analyze.answer import Answerer
from agents.analyze.service import AnalysisService
from agents.documents.ledger import DocumentLedger
from agents.ingest.service import IngestService
from agents.ingest.sources.connectors import ConnectorStore
from agents.llm.service import LLMService
from agents.report.service import ReportService
from agents.supervisor.service import Supervisor
from agents.telemetry.metrics import Metrics
from app.auth.kit import AuthKit
from app.auth.principal import Principal
from app.auth.tenant_access import TenantAccess
from app.queue import QueueRunner
from app.runtime import Runtime
from app.services import Services
from app.settings import Settings
from app.tasks import Enqueuers
from storage.blobs import BlobStore
from storage.database import Database
from storage.records import TenantRecord

RuntimeDep = NamedDependency[Runtime]
ServicesDep = NamedDependency[Services]
SettingsDep = NamedDependency[Settings]
QueueDep = NamedDependency[QueueRunner]
AuthDep = NamedDependency[AuthKit]
PrincipalDep = NamedDependency[Principal]
ClientDep = NamedDependency[str]  # the caller's address (trusted-proxy aware)
TenantAccessDep = NamedDependency[TenantAccess]
TenantDbDep = NamedDependency[Database]
TenantBlobsDep = NamedDependency[BlobStore]
IngestDep = NamedDependency[IngestService]
AnalysisDep = NamedDependency[AnalysisService]
AnswererDep = NamedDependency[Answerer]
LLMDep = NamedDependency[LLMService]
EnqueueDep = NamedDependency[Enqueuers]
MetricsDep = NamedDependency[Metrics]
SupervisorDep = NamedDependency[Supervisor]
LedgerDep = NamedDependency[DocumentLedger]
ReportsDep = NamedDependency[ReportService]
ConnectorStoreDep = NamedDependency[ConnectorStore]  # provided by the connectors controller
HookTenantDep = NamedDependency[TenantRecord]  # the tenant of an inbound hook route
DispatcherDep = NamedDependency[Dispatcher]  # the actions dispatcher (outbox deliveries)
