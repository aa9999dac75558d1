"""PDF and DOCX files made by the tests themselves (no saved binary fixtures).

``make_pdf`` writes a minimal PDF by hand: one Type0 font with Identity-H encoding and a
ToUnicode map, so Vietnamese letters extract exactly (the standard 14 fonts' encodings cannot
hold "ệ"); no font program is embedded: text extraction needs only the map. ``make_docx`` uses
python-docx, which writes DOCX as well as reading it.
"""

from __future__ import annotations

import io


def make_pdf(pages: list[list[str]], title: str | None = None, author: str | None = None) -> bytes:
    """A PDF whose pages hold these lines of text; a page with no lines has no text (a scan)."""
    chars = sorted({c for page in pages for line in page for c in line})
    cid = {c: i + 1 for i, c in enumerate(chars)}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below, once the page tree's number is known
    pages_obj = add(b"")
    bfchar = b""
    for k in range(0, len(chars), 100):
        block = chars[k : k + 100]
        entries = b"".join(b"<%04X> <%04X>\n" % (cid[c], ord(c)) for c in block)
        bfchar += b"%d beginbfchar\n%sendbfchar\n" % (len(block), entries)
    cmap = (
        b"/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        b"/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        b"1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n" + bfchar +
        b"endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )
    tounicode = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(cmap), cmap))
    descendant = add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /TestSans "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 >>"
    )
    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /TestSans /Encoding /Identity-H "
        b"/DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, tounicode)
    )
    kids = []
    for page in pages:
        ops = b"BT /F1 11 Tf 14 TL 50 800 Td\n"
        for line in page:
            ops += b"<" + "".join(f"{cid[c]:04X}" for c in line).encode() + b"> Tj T*\n"
        ops += b"ET"
        content = add(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(ops), ops))
        kids.append(add(
            b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (pages_obj, font, content)
        ))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_obj
    objects[pages_obj - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % k for k in kids), len(kids))
    info_parts = []
    for key, value in (("Title", title), ("Author", author)):
        if value:
            info_parts.append(b"/%s <FEFF%s>" % (key.encode(), value.encode("utf-16-be").hex().upper().encode()))
    info = add(b"<< " + b" ".join(info_parts) + b" >>")
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (n, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for off in offsets:
        out.write(b"%010d 00000 n \n" % off)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R /Info %d 0 R >>\nstartxref\n%d\n%%%%EOF\n"
              % (len(objects) + 1, catalog, info, xref))
    return out.getvalue()


def make_docx(paragraphs: list[str], title: str | None = None, author: str | None = None,
              table: list[list[str]] | None = None) -> bytes:
    """A DOCX file: a heading (the title), the paragraphs, then a table when given."""
    import docx

    document = docx.Document()
    if title:
        document.add_heading(title, level=1)
        document.core_properties.title = title
    if author:
        document.core_properties.author = author
    for text in paragraphs:
        document.add_paragraph(text)
    if table:
        grid = document.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                grid.cell(r, c).text = cell
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
