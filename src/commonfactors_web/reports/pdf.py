"""The seam between reports and the PDF engine: HTML in, PDF bytes out (WeasyPrint, which
lays out text with Debian's pango libraries). Nothing else in the app imports WeasyPrint."""

from __future__ import annotations


def html_to_pdf(html: str) -> bytes:
    """The PDF of a complete HTML document. The document carries its own styles and inline
    SVG charts, so nothing is fetched while rendering (no base URL is given)."""
    from weasyprint import HTML  # imported here: loading pango costs time at start-up

    return bytes(HTML(string=html).write_pdf())
