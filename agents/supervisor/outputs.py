"""Step outputs: JSON inline up to a size, larger ones as encrypted blobs, bounded."""

import json
from typing import Any

from agents.supervisor.run_store import RunRow, StepRow
from agents.supervisor.step import StepError
from storage.blobs import BlobStore


class OutputTooLarge(StepError):
    code = "output_too_large"
    retryable = False


class Outputs:
    """Encodes outputs for `run_steps.output` / `output_blob` and reads them back."""

    def __init__(self, blobs: BlobStore | None, inline_bytes: int, max_bytes: int) -> None:
        self.blobs = blobs
        self.inline_bytes = inline_bytes
        self.max_bytes = max_bytes

    def encode(self, output: dict[str, Any]) -> tuple[str | None, str | None]:
        """(inline JSON, blob id): exactly one of them is set."""
        try:
            text = json.dumps(output, ensure_ascii=False, default=str)
        except (TypeError, ValueError) as exc:
            raise StepError("the step's output is not JSON", code="invalid_output") from exc
        size = len(text.encode())
        if size <= self.inline_bytes:
            return text, None
        if size > self.max_bytes or self.blobs is None:
            limit = self.max_bytes if self.blobs is not None else self.inline_bytes
            raise OutputTooLarge(f"the step's output has {size} bytes, over the limit of {limit}")
        return None, self.blobs.put(text.encode())

    def decode(self, row: StepRow) -> Any:
        if row.output is not None:
            return json.loads(row.output)
        if row.output_blob is not None and self.blobs is not None:
            return json.loads(self.blobs.get(row.output_blob))
        return None


def template_context(run: RunRow, rows: list[StepRow], outputs: Outputs) -> dict[str, Any]:
    """What templates see: inputs, trigger, run, and steps.<id>.output/status/error."""
    steps: dict[str, Any] = {}
    for row in rows:
        if row.item >= 0:
            continue
        steps[row.step_id] = {
            "output": outputs.decode(row) if row.status == "succeeded" else None,
            "status": row.status,
            "error": {"code": row.error_code, "message": row.error_message}
            if row.error_code
            else None,
        }
    return {
        "inputs": json.loads(run.inputs),
        "trigger": json.loads(run.trigger),
        "run": {"id": run.id, "workflow_id": run.workflow_id, "version": run.version},
        "steps": steps,
    }
