"""Schema of each `tenant.db`. Later features add their tables as new versions."""

from typing import Any

from storage.migrations import MigrationSet

tenant_migrations = MigrationSet("tenant")


@tenant_migrations(1)
def create_settings_table(conn: Any) -> None:
    conn.execute(
        """CREATE TABLE tenant_settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )


@tenant_migrations(2)
def create_document_ledger(conn: Any) -> None:
    # one row per distinct content; every arrival (including duplicates) is in `arrivals`
    conn.execute(
        """CREATE TABLE documents (
            id TEXT PRIMARY KEY,
            sha256 TEXT NOT NULL,
            title TEXT NOT NULL,
            filename TEXT,
            format TEXT,
            size INTEGER NOT NULL,
            pages INTEGER,
            source TEXT NOT NULL,
            source_ref TEXT,
            parent_id TEXT REFERENCES documents(id) ON DELETE CASCADE,
            blob_id TEXT,
            state TEXT NOT NULL CHECK (state IN ('received', 'parsing', 'parsed', 'indexing',
                'indexed', 'failed', 'unsupported')),
            attempts INTEGER NOT NULL DEFAULT 0,
            error_code TEXT,
            error_message TEXT,
            metadata TEXT NOT NULL DEFAULT '{}',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )
    conn.execute("CREATE UNIQUE INDEX idx_documents_sha256 ON documents(sha256)")
    conn.execute("CREATE INDEX idx_documents_state ON documents(state, created_at)")
    conn.execute("CREATE INDEX idx_documents_created ON documents(created_at, id)")
    conn.execute(
        """CREATE TABLE arrivals (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id TEXT REFERENCES documents(id) ON DELETE SET NULL,
            source TEXT NOT NULL,
            source_ref TEXT,
            filename TEXT,
            outcome TEXT NOT NULL CHECK (outcome IN ('added', 'duplicate', 'failed', 'ignored')),
            detail TEXT,
            received_at TEXT NOT NULL)"""
    )
    conn.execute("CREATE INDEX idx_arrivals_source ON arrivals(source, source_ref)")
    conn.execute(
        """CREATE TABLE document_pages (
            document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            page INTEGER NOT NULL,
            text TEXT NOT NULL,
            PRIMARY KEY (document_id, page))"""
    )


@tenant_migrations(3)
def create_chunk_index(conn: Any) -> None:
    # Chunks are immutable (re-indexing deletes and inserts) and their ids are never reused
    # (AUTOINCREMENT), so an id names one exact text and vector for good: the in-memory
    # vector cache relies on that to catch up by comparing id sets.
    conn.execute(
        """CREATE TABLE chunks (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            document_id TEXT NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
            position INTEGER NOT NULL,
            page INTEGER NOT NULL,
            char_start INTEGER NOT NULL,
            char_end INTEGER NOT NULL,
            heading TEXT,
            token_count INTEGER NOT NULL,
            text TEXT NOT NULL,
            UNIQUE (document_id, position))"""
    )
    # one row: the embedding model and dimension of this tenant's vectors, and a counter
    # bumped by every chunk insert or delete (however it happens, cascades included)
    conn.execute(
        """CREATE TABLE index_meta (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            embedding_model TEXT,
            dimension INTEGER,
            version INTEGER NOT NULL DEFAULT 0,
            updated_at TEXT)"""
    )
    conn.execute("INSERT INTO index_meta (id, version) VALUES (1, 0)")
    conn.execute(
        """CREATE VIRTUAL TABLE chunks_fts USING fts5(
            heading, text, content='chunks', content_rowid='id',
            tokenize='porter unicode61 remove_diacritics 2')"""
    )
    conn.execute(
        """CREATE TRIGGER chunks_after_insert AFTER INSERT ON chunks BEGIN
            INSERT INTO chunks_fts (rowid, heading, text) VALUES (new.id, new.heading, new.text);
            UPDATE index_meta SET version = version + 1 WHERE id = 1;
        END"""
    )
    conn.execute(
        """CREATE TRIGGER chunks_after_delete AFTER DELETE ON chunks BEGIN
            INSERT INTO chunks_fts (chunks_fts, rowid, heading, text)
                VALUES ('delete', old.id, old.heading, old.text);
            UPDATE index_meta SET version = version + 1 WHERE id = 1;
        END"""
    )
    conn.execute(
        """CREATE TRIGGER chunks_immutable BEFORE UPDATE ON chunks BEGIN
            SELECT RAISE(ABORT, 'chunks are immutable: replace the document''s chunks');
        END"""
    )
    # the vec0 table `chunk_vectors` depends on the model's dimension, so the index
    # creates it (and the trigger that deletes from it) when a model is recorded


@tenant_migrations(4)
def create_connector_tables(conn: Any) -> None:
    # secrets live only in `secret`, sealed with a subkey of the tenant key; `config` has none
    conn.execute(
        """CREATE TABLE connectors (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            config TEXT NOT NULL DEFAULT '{}',
            secret BLOB,
            enabled INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_run_at TEXT,
            last_status TEXT,
            last_message TEXT)"""
    )
    conn.execute("CREATE UNIQUE INDEX idx_connectors_name ON connectors(name)")
    conn.execute(
        """CREATE TABLE mail_state (
            connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
            key TEXT NOT NULL,
            idempotency_key TEXT NOT NULL,
            outcome TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (connector_id, key))"""
    )
    conn.execute("CREATE INDEX idx_mail_state_idem ON mail_state(connector_id, idempotency_key)")
    conn.execute(
        """CREATE TABLE mail_folders (
            connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
            folder TEXT NOT NULL,
            uidvalidity INTEGER NOT NULL,
            PRIMARY KEY (connector_id, folder))"""
    )
    conn.execute(
        """CREATE TABLE hook_deliveries (
            connector_id TEXT NOT NULL REFERENCES connectors(id) ON DELETE CASCADE,
            fingerprint TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (connector_id, fingerprint))"""
    )


@tenant_migrations(8)
def create_activity_log(conn: Any) -> None:
    # what the tenant's agents and users did (observability); bounded by age and row count,
    # pruned by the activity sink. Never document text or secrets.
    conn.execute(
        """CREATE TABLE activity_log (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            level TEXT NOT NULL,
            levelno INTEGER NOT NULL,
            logger TEXT NOT NULL,
            agent TEXT,
            event TEXT NOT NULL,
            request_id TEXT,
            user TEXT,
            run_id TEXT,
            step_id TEXT,
            duration_ms REAL,
            detail TEXT NOT NULL DEFAULT '{}')"""
    )
    conn.execute("CREATE INDEX idx_activity_at ON activity_log(at)")
    conn.execute("CREATE INDEX idx_activity_run ON activity_log(run_id, id)")
    conn.execute("CREATE INDEX idx_activity_agent ON activity_log(agent, id)")


@tenant_migrations(7)
def create_outbox(conn: Any) -> None:
    # One row per outside effect (mail, webhook, HTTP or CRM call), written in the
    # transaction that completes the workflow step. `id` is the stable message id (run id
    # + step id + item), so a step that runs twice writes one row. `payload` is the
    # rendered request without secrets (the connector's secrets are applied at send time).
    # `next_attempt_at` is epoch seconds (REAL) for cheap "due now" comparisons.
    conn.execute(
        """CREATE TABLE outbox (
            id TEXT PRIMARY KEY,
            connector_id TEXT,
            endpoint TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('email', 'webhook', 'http', 'crm')),
            payload TEXT NOT NULL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'delivering', 'delivered',
                'dead', 'disabled')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL,
            last_status INTEGER,
            last_error TEXT,
            last_code TEXT,
            response TEXT,
            run_id TEXT,
            step_id TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            delivered_at TEXT)"""
    )
    conn.execute("CREATE INDEX idx_outbox_state ON outbox(state, created_at, id)")
    conn.execute("CREATE INDEX idx_outbox_created ON outbox(created_at, id)")
    conn.execute("CREATE INDEX idx_outbox_due ON outbox(state, next_attempt_at)")
    # an endpoint (a connector, or a plain URL's origin and path) that answered 410 Gone:
    # nothing more is sent to it until a user redelivers or re-enables it
    conn.execute(
        """CREATE TABLE outbox_endpoints (
            endpoint TEXT PRIMARY KEY,
            disabled_at TEXT NOT NULL,
            reason TEXT NOT NULL)"""
    )


@tenant_migrations(5)
def create_workflow_tables(conn: Any) -> None:
    # a workflow points at its current version; versions are immutable (trigger below)
    conn.execute(
        """CREATE TABLE workflows (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            description TEXT NOT NULL DEFAULT '',
            enabled INTEGER NOT NULL DEFAULT 1,
            current_version INTEGER NOT NULL,
            triggers TEXT NOT NULL DEFAULT '[]',
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)"""
    )
    conn.execute("CREATE UNIQUE INDEX idx_workflows_name ON workflows(name)")
    conn.execute(
        """CREATE TABLE workflow_versions (
            workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            source TEXT NOT NULL,
            definition TEXT NOT NULL,
            created_by TEXT,
            created_at REAL NOT NULL,
            PRIMARY KEY (workflow_id, version))"""
    )
    conn.execute(
        """CREATE TRIGGER workflow_versions_immutable BEFORE UPDATE ON workflow_versions BEGIN
            SELECT RAISE(ABORT, 'workflow versions are immutable: save a new version');
        END"""
    )
    # seq orders runs of a workflow, so runs over the concurrency limit start in order
    conn.execute(
        """CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            seq INTEGER NOT NULL,
            workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
            version INTEGER NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded',
                'failed', 'cancelled')),
            failing INTEGER NOT NULL DEFAULT 0,
            inputs TEXT NOT NULL DEFAULT '{}',
            trigger TEXT NOT NULL DEFAULT '{}',
            error_code TEXT,
            error_message TEXT,
            created_by TEXT,
            retries INTEGER NOT NULL DEFAULT 0,
            queued_at REAL NOT NULL,
            started_at REAL,
            finished_at REAL,
            deadline_at REAL)"""
    )
    conn.execute("CREATE UNIQUE INDEX idx_runs_seq ON runs(seq)")
    conn.execute("CREATE INDEX idx_runs_workflow ON runs(workflow_id, status, seq)")
    conn.execute("CREATE INDEX idx_runs_status ON runs(status, seq)")
    conn.execute("CREATE INDEX idx_runs_finished ON runs(finished_at)")
    # item -1: a plain step, or the parent row of a foreach step; 0..n-1: its items
    conn.execute(
        """CREATE TABLE run_steps (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
            step_id TEXT NOT NULL,
            item INTEGER NOT NULL DEFAULT -1,
            phase TEXT NOT NULL DEFAULT 'main' CHECK (phase IN ('main', 'on_failure')),
            agent TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed',
                'cancelled', 'skipped', 'waiting')),
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 1,
            item_value TEXT,
            output TEXT,
            output_blob TEXT,
            error_code TEXT,
            error_message TEXT,
            queued_at REAL NOT NULL,
            first_started_at REAL,
            started_at REAL,
            finished_at REAL,
            not_before REAL,
            claimed_by TEXT,
            lease_until REAL,
            UNIQUE (run_id, step_id, item))"""
    )
    conn.execute("CREATE INDEX idx_run_steps_status ON run_steps(status)")
    # an event (document id, hook delivery, schedule slot) starts a workflow at most once
    conn.execute(
        """CREATE TABLE trigger_events (
            workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
            event_key TEXT NOT NULL,
            run_id TEXT,
            at REAL NOT NULL,
            PRIMARY KEY (workflow_id, event_key))"""
    )
    conn.execute(
        """CREATE TABLE schedule_marks (
            workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
            cron TEXT NOT NULL,
            last_slot REAL NOT NULL,
            PRIMARY KEY (workflow_id, cron))"""
    )


@tenant_migrations(6)
def create_report_tables(conn: Any) -> None:
    # a report's file is an encrypted blob (blob_id); data given with the request waits
    # in its own blob (input_blob_id) until the queue has generated the report
    conn.execute(
        """CREATE TABLE reports (
            id TEXT PRIMARY KEY,
            template TEXT NOT NULL,
            title TEXT NOT NULL DEFAULT '',
            params TEXT NOT NULL DEFAULT '{}',
            format TEXT NOT NULL CHECK (format IN ('pdf', 'xlsx', 'csv')),
            status TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
            size INTEGER,
            pages INTEGER,
            created_by TEXT NOT NULL,
            run_id TEXT,
            step_key TEXT,
            input_blob_id TEXT,
            blob_id TEXT,
            error_code TEXT,
            error_message TEXT,
            created_at TEXT NOT NULL,
            finished_at TEXT)"""
    )
    conn.execute("CREATE INDEX idx_reports_created ON reports(created_at, id)")
    conn.execute("CREATE INDEX idx_reports_run ON reports(run_id)")
    # a workflow step makes its report once, however often the step is retried
    conn.execute(
        "CREATE UNIQUE INDEX idx_reports_step_key ON reports(step_key) WHERE step_key IS NOT NULL"
    )
    conn.execute(
        """CREATE TABLE report_templates (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            definition TEXT NOT NULL,
            created_by TEXT NOT NULL,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL)"""
    )


@tenant_migrations(13)
def add_document_claims(conn: Any) -> None:
    # the process (storage.process_identity token) parsing or indexing a document, so a
    # reconciler in another process re-queues only what a dead process left behind
    conn.execute("ALTER TABLE documents ADD COLUMN claimed_by TEXT")


@tenant_migrations(14)
def add_report_claims(conn: Any) -> None:
    # the process generating a report, so the periodic reconciler re-queues a report only
    # when that process died (as for documents, migration 13)
    conn.execute("ALTER TABLE reports ADD COLUMN claimed_by TEXT")


# registers migration 10 on the same set (imported last: it needs `tenant_migrations`)
from storage import tenant_schema_tags  # noqa: E402, F401
