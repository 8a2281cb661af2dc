"""Annotated names for injected dependencies.

Litestar 2.23+ deprecates injecting dependencies by parameter name alone; parameters must
be marked `NamedDependency[...]` (the name still selects the provider). These aliases keep
handler signatures short. Tenant handlers take `tenant_access`, `tenant_db`, `tenant_blobs`.
"""

from litestar.di import NamedDependency

from agents.ingest.connectors import ConnectorStore
from agents.ingest.ledger import DocumentLedger
from agents.ingest.service import IngestService
from app.auth.kit import AuthKit
from app.auth.principal import Principal
from app.auth.tenant_access import TenantAccess
from app.queue import QueueRunner
from app.services import Services
from app.settings import Settings
from storage.blobs import BlobStore
from storage.database import Database
from storage.records import TenantRecord

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
LedgerDep = NamedDependency[DocumentLedger]
ConnectorStoreDep = NamedDependency[ConnectorStore]  # provided by the connectors controller
HookTenantDep = NamedDependency[TenantRecord]  # the tenant of an inbound hook route
