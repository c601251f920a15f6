"""The final report as PDF: the Markdown report (templates/report/incident.md.j2) set in type with fpdf2."""
from __future__ import annotations

from pathlib import Path

from gateway.errors import UsageError

# Debian's fonts-dejavu-core: any script the report's names and texts are in. Without it, PDF's
# built-in Helvetica, which has Latin-1 only (other characters print as "?").
DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SIZES = {"# ": 16.0, "## ": 13.0}  # heading marks of the Markdown and their type sizes; the rest is 10 pt


def pdf_bytes(markdown: str, *, title: str, fonts: Path = DEJAVU) -> bytes:
    """A PDF of `markdown` (headings, paragraphs, list items), `title` in its metadata.

    Raises UsageError when fpdf2 (the `pdf` extra) is not installed.
    """
    try:
        from fpdf import FPDF
    except ImportError:
        raise UsageError("report --format pdf needs fpdf2: pip install 'support-gateway[pdf]' "
                         "(or use --format md or html)") from None
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creator("Support Gateway")
    family, plain = "helvetica", True
    if (fonts / "DejaVuSans.ttf").is_file() and (fonts / "DejaVuSans-Bold.ttf").is_file():
        pdf.add_font("dejavu", "", str(fonts / "DejaVuSans.ttf"))
        pdf.add_font("dejavu", "B", str(fonts / "DejaVuSans-Bold.ttf"))
        family, plain = "dejavu", False
    pdf.add_page()
    for line in markdown.splitlines():
        if not line.strip():
            pdf.ln(2)
            continue
        mark = next((m for m in SIZES if line.startswith(m)), None)
        text = line[len(mark):] if mark else line
        if plain:
            text = text.encode("latin-1", "replace").decode("latin-1")
        pdf.set_font(family, "B" if mark else "", SIZES.get(mark, 10.0))
        pdf.multi_cell(0, 6 if not mark else 9, text, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
