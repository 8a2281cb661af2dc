"""Resource limits for parsing one document."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(frozen=True)
class ParseLimits:
    """How much time, memory and input one parse may use.

    wall_seconds: real time before the parsing process is killed (-> `timeout`).
    cpu_seconds: CPU time per document, a backstop if the wall clock cannot act (-> `timeout`).
    memory_bytes: address space of the parsing process (-> `memory_limit`).
    max_input_bytes: larger inputs are refused before any parsing (-> `too_large`).
    max_unzipped_bytes: total declared size of all members of an OOXML/zip container.
    max_zip_entries: member count of an OOXML/zip container.
    """

    wall_seconds: float = 60.0
    cpu_seconds: int = 60
    memory_bytes: int = GIB
    max_input_bytes: int = 100 * MIB
    max_unzipped_bytes: int = 512 * MIB
    max_zip_entries: int = 10_000

    def __post_init__(self) -> None:
        for name in (
            "wall_seconds",
            "cpu_seconds",
            "memory_bytes",
            "max_input_bytes",
            "max_unzipped_bytes",
            "max_zip_entries",
        ):
            if getattr(self, name) <= 0:
                raise ValueError(f"ParseLimits.{name} must be positive")
