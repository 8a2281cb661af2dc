"""Documents: the per-tenant ledger, its records and states, and the queue payloads about
one document. Ingestion writes it; analysis, reports and workflows read it."""
