"""The Unicode font embedded in PDFs: DejaVu Sans from Debian's fonts-dejavu-core.

Found on disk (no network): the Debian path first, then fontconfig's answer, then other
usual places. Without it, PDFs fall back to Helvetica (Latin-1 only) and every character
outside it is reported by `missing_glyphs`, so the writer can add a note instead of
printing empty boxes silently.
"""

import shutil
import subprocess
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

_DEBIAN_DIR = Path("/usr/share/fonts/truetype/dejavu")
_OTHER_DIRS = (
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/local/share/fonts"),
)
_REGULAR, _BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"
_lock = threading.Lock()
_registered: "FontSet | None" = None


@dataclass(frozen=True)
class FontSet:
    regular: str
    bold: str
    embedded: bool
    covered: frozenset[int] | None  # code points with glyphs; None: Latin-1 (base font)

    def missing_glyphs(self, text: str) -> set[str]:
        """Characters of `text` this font cannot draw (control characters aside)."""
        if self.covered is None:
            return {c for c in text if ord(c) > 0xFF}
        return {c for c in text if ord(c) not in self.covered and c.isprintable()}


def find_dejavu() -> tuple[Path, Path] | None:
    """Paths of DejaVu Sans regular and bold, if installed."""
    for directory in (_DEBIAN_DIR, *_OTHER_DIRS):
        regular, bold = directory / _REGULAR, directory / _BOLD
        if regular.is_file() and bold.is_file():
            return regular, bold
    fc_match = shutil.which("fc-match")
    if fc_match:
        try:
            found = subprocess.run(
                [fc_match, "-f", "%{file}", "DejaVu Sans"],
                capture_output=True,
                text=True,
                timeout=10,
                check=False,
            ).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            found = ""
        if found.endswith(_REGULAR):
            regular = Path(found)
            bold = regular.with_name(_BOLD)
            if bold.is_file():
                return regular, bold
    return None


def report_fonts() -> FontSet:
    """Register the fonts with ReportLab once per process and return their names."""
    global _registered
    with _lock:
        if _registered is None:
            _registered = _register()
        return _registered


def _register() -> FontSet:
    paths = find_dejavu()
    if paths is None:
        return FontSet("Helvetica", "Helvetica-Bold", embedded=False, covered=None)
    regular = TTFont("DejaVuSans", str(paths[0]))
    pdfmetrics.registerFont(regular)
    pdfmetrics.registerFont(TTFont("DejaVuSans-Bold", str(paths[1])))
    for bold, italic, name in ((0, 0, "DejaVuSans"), (1, 0, "DejaVuSans-Bold")):
        addMapping("DejaVuSans", bold, italic, name)
        addMapping("DejaVuSans", bold, 1, name)
    covered = frozenset(regular.face.charToGlyph)
    return FontSet("DejaVuSans", "DejaVuSans-Bold", embedded=True, covered=covered)


def script_names(chars: set[str]) -> list[str]:
    """Rough script names of characters (the first word of their Unicode names)."""
    names = set()
    for char in chars:
        name = unicodedata.name(char, "")
        names.add(name.split(" ")[0].title() if name else f"U+{ord(char):04X}")
    return sorted(names)
