"""Versioned schema migrations registered with a decorator and applied on open.

The schema version lives in `PRAGMA user_version`, which is transactional, so a step
and its version bump commit together.
"""

from collections.abc import Callable
from typing import Any

from storage.errors import DatabaseTooNewError

Step = Callable[[Any], None]


class MigrationSet:
    """An ordered set of schema steps for one kind of database."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._steps: dict[int, Step] = {}

    def __call__(self, version: int) -> Callable[[Step], Step]:
        """Register the decorated function as the step that brings the schema to `version`."""

        def register(step: Step) -> Step:
            if version in self._steps:
                raise ValueError(f"{self.name} migration {version} registered twice")
            self._steps[version] = step
            return step

        return register

    @property
    def latest(self) -> int:
        return max(self._steps, default=0)

    def apply(self, conn: Any, label: str) -> int:
        """Bring the database up to the latest version; refuse one newer than the code."""
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if current > self.latest:
            raise DatabaseTooNewError(
                f"{label} has schema version {current}, newer than this appliance "
                f"understands ({self.latest}); upgrade the appliance"
            )
        # numbers may have gaps: features register their steps independently
        for version in sorted(v for v in self._steps if v > current):
            conn.execute("BEGIN IMMEDIATE")
            try:
                self._steps[version](conn)
                conn.execute(f"PRAGMA user_version = {int(version)}")
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return self.latest
