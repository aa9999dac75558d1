"""Text of PDF and DOCX files, as paragraphs separated by blank lines.

The text returned is what a document's ``original_text`` becomes, so citation offsets point into
it (as for HTML, where they point into trafilatura's extracted text).

Libraries, and why:

* PDF: pypdf. Pure Python (no system library, installs everywhere the wheel does), maintained by
  the py-pdf project with regular releases, and its ``extract_text`` keeps the reading order of
  ordinary single-column text well; pdfminer.six gives finer layout control we do not need, and
  PyMuPDF is AGPL with a compiled core.
* DOCX: python-docx, the long-standing, maintained reader/writer of Office Open XML documents
  (pure Python over lxml, which trafilatura already brings).

A PDF page puts one line of print on each line of text; lines are joined back into paragraphs
(``_pdf_paragraphs``) so that a sentence is not cut where the printed line wrapped.
"""

from __future__ import annotations

import io
import logging
import re

from hoidap.errors import BadInputError, EmptyDocumentError

logger = logging.getLogger(__name__)

# A printed line that ends a sentence and is clearly shorter than the page's full lines ends its
# paragraph; a full-width line wrapped mid-paragraph. 0.8 of the longest line leaves room for
# justified text whose last word did not fit, and was checked on the test PDFs and a few reports.
PARAGRAPH_END_WIDTH = 0.8
_SENTENCE_END = re.compile(r"[.!?…:;][\"'”’)\]]*$")
_SCANNED_REASON = (
    "PDF has no text layer (a scanned image?); run OCR on it first "
    "(e.g. ocrmypdf --language vie) and ingest the result"
)


def pdf_text(data: bytes) -> tuple[str, str | None, tuple[str, ...]]:
    """(text, title, authors) of a PDF's bytes. Raises BadInputError with the reason when the
    file is not a readable PDF, is encrypted, or has no text (a scan)."""
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise BadInputError("PDF is password-protected; save an unprotected copy")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
    except BadInputError:
        raise
    except DependencyError as exc:  # AES-encrypted (even with an empty password) needs cryptography
        raise BadInputError(f"PDF is encrypted; save an unencrypted copy ({exc})") from exc
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise BadInputError(f"not a readable PDF ({type(exc).__name__}: {exc})") from exc
    paragraphs = [p for page in pages for p in _pdf_paragraphs(page)]
    if not paragraphs:
        if not pages:
            raise EmptyDocumentError("PDF has no pages")
        raise EmptyDocumentError(_SCANNED_REASON)
    title = _clean_meta(meta.title) if meta is not None else None
    author = _clean_meta(meta.author) if meta is not None else None
    return "\n\n".join(paragraphs), title, (author,) if author else ()


def _pdf_paragraphs(page: str) -> list[str]:
    """A page's lines joined into paragraphs: a blank line, or a short line ending a sentence,
    ends one; other lines are a paragraph's printed lines and are joined with a space."""
    lines = [" ".join(line.split()) for line in page.replace("\r", "\n").split("\n")]
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    current: list[str] = []
    for line in lines:
        if not line:
            if current:
                paragraphs.append(" ".join(current))
                current = []
            continue
        current.append(line)
        if _SENTENCE_END.search(line) and len(line) < PARAGRAPH_END_WIDTH * width:
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def docx_text(data: bytes) -> tuple[str, str | None, tuple[str, ...]]:
    """(text, title, authors) of a DOCX file's bytes: its paragraphs and table rows in document
    order (a table row's cells joined by " | "), one per paragraph."""
    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises zipfile, lxml and its own errors alike
        raise BadInputError(f"not a readable DOCX file ({type(exc).__name__}: {exc})") from exc
    blocks: list[str] = []
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            blocks.append(" ".join(Paragraph(child, document).text.split()))
        elif tag == "tbl":
            for row in Table(child, document).rows:
                cells = [" ".join(c.text.split()) for c in row.cells]
                blocks.append(" | ".join(c for c in cells if c))
    paragraphs = [b for b in blocks if b]
    if not paragraphs:
        raise EmptyDocumentError("DOCX file has no text")
    props = document.core_properties
    author = _clean_meta(props.author)
    return "\n\n".join(paragraphs), _clean_meta(props.title), (author,) if author else ()


def _clean_meta(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    return " ".join(value.split()) or None
