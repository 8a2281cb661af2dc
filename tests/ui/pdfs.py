"""Real multi-page PDFs with distinctive text, written with ReportLab."""

from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

# one fact per page, worded so a question can only be answered from that page
FACTS = (
    "The lighthouse keeper of Karvik Point logs the fog horn tests every Tuesday at dawn.",
    "Invoice batch QZ-7781 for the Marrowfield warehouse was settled on 14 March.",
    "The heron colony on Oslund Marsh counted 412 nesting pairs in the spring survey.",
    "Replacement filters for the Tamsin-9 pump are stored in cabinet 12 of the east hall.",
    "The Brackwater choir rehearses sea shanties in the old rope works every Thursday.",
    "Glacier station Velmora recorded a record low of minus 41 degrees in January.",
    "The Quillon bakery uses rye sourdough starter that is more than ninety years old.",
    "Ferry route 6 from Hollin Quay is suspended whenever the swell exceeds four metres.",
    "The Ostrander archive keeps the original 1887 harbour charts in climate vault B.",
    "Apprentice clockmakers in Denholt must service the tower clock before graduating.",
)


def make_pdf(path: Path, pages: int = 3, title: str = "Field notes") -> Path:
    """A PDF of `pages` pages; page n carries FACTS[n-1] (cycling) plus filler prose."""
    pdf = canvas.Canvas(str(path), pagesize=A4)
    pdf.setTitle(title)
    for number in range(1, pages + 1):
        pdf.setFont("Helvetica-Bold", 16)
        pdf.drawString(72, 780, f"{title}: page {number}")
        pdf.setFont("Helvetica", 11)
        y = 740
        lines = [FACTS[(number - 1) % len(FACTS)], ""] + [
            f"Paragraph {i} of page {number} records routine observations without surprises."
            for i in range(1, 8)
        ]
        for line in lines:
            pdf.drawString(72, y, line)
            y -= 18
        pdf.showPage()
    pdf.save()
    return path
