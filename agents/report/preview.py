"""Images of a PDF report's first pages, for the UI's preview.

Rendered by Debian's `pdftoppm` (poppler-utils) in a subprocess: the PDF goes in on
stdin and each PNG comes out on stdout, so no decrypted report touches the disk.
"""

import shutil
import subprocess

from agents.report.errors import ReportError


class PreviewUnavailableError(ReportError):
    status_code = 503
    code = "preview_unavailable"


def pdf_page_images(
    pdf: bytes, pages: int = 2, dpi: int = 60, timeout_s: float = 30
) -> list[bytes]:
    """PNG images of the first `pages` pages (fewer if the PDF is shorter)."""
    program = shutil.which("pdftoppm")
    if program is None:
        raise PreviewUnavailableError("previews need pdftoppm (Debian package poppler-utils)")
    images = []
    for page in range(1, pages + 1):
        done = subprocess.run(
            [program, "-png", "-r", str(dpi), "-f", str(page), "-l", str(page), "-singlefile", "-"],
            input=pdf,
            capture_output=True,
            timeout=timeout_s,
            check=False,
        )
        if done.returncode != 0 or not done.stdout.startswith(b"\x89PNG"):
            if page == 1:
                raise PreviewUnavailableError("the PDF could not be rendered for a preview")
            break  # past the last page
        images.append(done.stdout)
    return images
