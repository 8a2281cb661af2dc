"""How large a report may be, per format (from the `[reports]` settings)."""

from dataclasses import dataclass

EXCEL_MAX_ROWS = 1_048_575  # an Excel sheet's rows, less the header row


@dataclass(frozen=True)
class PdfLimits:
    max_rows: int = 20_000  # rows of all tables together
    max_pages: int = 1_000
    max_cell_chars: int = 400


@dataclass(frozen=True)
class XlsxLimits:
    max_rows: int = EXCEL_MAX_ROWS
