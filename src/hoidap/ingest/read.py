"""Read files into ``RawDocument``s, turning every kind of bad input into a clear reason.

Supported: ``.txt`` (one article), ``.html``/``.htm`` (article extracted with trafilatura;
listing pages refused, the lead paragraph kept, the outlet's name taken off the title; see
``ingest.html``), ``.pdf`` and ``.docx`` (paragraphs of their text, ``ingest.office``) and
``.jsonl`` (one article per line). Text is kept exactly as decoded (only a BOM is removed, line
endings become ``"\\n"`` and UTF-8 mojibake is repaired): cleaning and normalisation happen later,
and citation offsets point into this text.

Inside a folder every file is accounted for: an unsupported one is listed as a failure with its
reason (hidden files and folders, names starting with ".", are left out silently). A text that
does not look Vietnamese is ingested with a note in the report (``text.language``).

``source`` is one thing: the URL when known (a JSONL record's ``url``, a fetched page), else the
path as given on the command line (``path#Lline`` for a JSONL record without one), or a JSONL
record's own ``source`` field.

Encodings are decided from the bytes, never from the file name:

* UTF-8 (with or without BOM) is read as is.
* UTF-16 with a BOM is decoded, with ``encoding_note="decoded as UTF-16"``.
* Windows-1258 is decoded (``encoding_note="decoded as Windows-1258"``) only when the
  result is unmistakably Vietnamese: old Windows files are common and the user clearly
  wants them read. Other legacy Vietnamese encodings (TCVN3/ABC, VNI, VISCII) cannot be
  told apart reliably, so they are refused with a message asking for UTF-8 instead of
  being silently turned into mojibake.
* NUL bytes, or bytes that are mostly not text, mean a binary file.
"""

from __future__ import annotations

import json
import logging
import os
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import trafilatura

from hoidap.errors import BadInputError, EmptyDocumentError, EncodingError, FileTooLargeError
from hoidap.ingest.html import page_shape
from hoidap.ingest.office import docx_text, pdf_text
from hoidap.models import FileFailure, RawDocument
from hoidap.text.clean import strip_site_suffix
from hoidap.text.language import VIETNAMESE_LETTERS, language_note, repair_mojibake

logger = logging.getLogger(__name__)

SUPPORTED_SUFFIXES = (".txt", ".html", ".htm", ".jsonl", ".pdf", ".docx")
_OFFICE_READERS = {".pdf": pdf_text, ".docx": docx_text}
# An article of more characters than this (as read: for HTML, PDF and DOCX the extracted text) is
# refused, not split (issue 22). The 22,644 VietNews test articles have a median body of 1,876
# characters, 99.9% are under 7,013 and the longest has 10,220: over 100,000 is a book, a report
# or a whole site saved as one page. Splitting it into sections with ids of their own would need
# section-aware ids, citations and re-ingest rules for text that is not news; refusing with the
# reason is simpler and honest. Documents handed to ``Engine.ingest_documents`` directly are the
# caller's choice and not limited (benchmarks/long_document.py measures such documents).
MAX_ARTICLE_CHARS = 100_000
# "MB" in messages is 2**20 bytes, the unit of --max-file-mb.
BYTES_PER_MB = 1024 * 1024

# Valid UTF-8 that is still >10% control characters is not prose; real text has ~0%.
MAX_CONTROL_RATIO = 0.10
# Legacy Vietnamese text keeps its base letters in ASCII, so 70-90% of its bytes are
# printable ASCII; random or compressed bytes are ~37%. Below 60% it is binary.
MIN_ASCII_TEXT_RATIO = 0.60
# VISCII puts six capital letters in the C0 range, so allow a few; binary has ~11%.
MAX_LEGACY_CONTROL_RATIO = 0.02
# A Windows-1258 decoding is accepted only if at least this many letters exist only in
# Vietnamese (đ, ư, ơ, ạ, ...) and almost no non-ASCII character is foreign to Vietnamese
# (TCVN3/VNI/VISCII decoded as cp1258 produce Ö, ä, ¸, stray combining marks, ...).
MIN_VIETNAMESE_LETTERS = 3
MAX_FOREIGN_RATIO = 0.02
# BOM-less UTF-16 has NULs in almost every other byte (high bytes of ASCII letters).
UTF16_NUL_RATIO = 0.30

# Non-ASCII punctuation Windows-1258 documents legitimately contain.
NEUTRAL_NON_ASCII = frozenset("\u00a0“”‘’–—…•·«»°€₫×")

_BINARY_REASON = "binary file, not text; only UTF-8 .txt, .html/.htm and .jsonl files (and .pdf, .docx) can be read"
_LEGACY_REASON = (
    "not UTF-8: looks like a legacy Vietnamese encoding (TCVN3/VNI/Windows-1258); "
    "convert it to UTF-8"
)
_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\t\n\r\f\v"
_C0_CONTROLS = bytes(b for b in range(0x20) if b not in b"\t\n\r\f\v\x1b")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def iter_files(paths: Sequence[str | Path]) -> Iterator[Path | FileFailure]:
    """Expand files and folders (recursively, in sorted order) to readable article files."""
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = False
            for file in _walk(path):
                if file.suffix.lower() not in SUPPORTED_SUFFIXES:
                    yield FileFailure(str(file), f"skipped: {_unsupported_reason(file)}")
                    continue
                found = True
                if file.resolve() not in seen:
                    seen.add(file.resolve())
                    yield file
            if not found:
                yield FileFailure(str(path), f"no {_supported_list()} files in this folder")
        elif path.is_file():
            if path.suffix.lower() not in SUPPORTED_SUFFIXES:
                yield FileFailure(str(path), _unsupported_reason(path))
            elif path.resolve() not in seen:
                seen.add(path.resolve())
                yield path
        elif path.exists():
            yield FileFailure(str(path), "not a regular file or folder")
        else:
            yield FileFailure(str(path), "no such file or directory")


def read_file(path: Path, max_bytes: int) -> tuple[list[RawDocument], list[FileFailure]]:
    """Read one file: its documents, and per-line failures (JSONL only).

    Raises a ``BadInputError`` subclass when the file as a whole cannot be read.
    """
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        return read_jsonl(path, max_bytes)
    if suffix not in SUPPORTED_SUFFIXES:
        raise BadInputError(_unsupported_reason(path))
    data = _read_bytes(path, max_bytes)
    if suffix in _OFFICE_READERS:
        text, title, authors = _OFFICE_READERS[suffix](data)
        doc = RawDocument(source=str(path), text=text, title=title, credits=authors)
        return [checked_document(doc)], []
    return [read_text_bytes(data, str(path), html=suffix != ".txt")], []


def read_text_bytes(data: bytes, source: str, html: bool, url: str | None = None) -> RawDocument:
    """One article from the bytes of a text or HTML file (or a fetched page)."""
    text, note = decode_bytes(data)
    if not html:
        if not text.strip():
            raise EmptyDocumentError("file is empty (only whitespace)")
        return checked_document(RawDocument(source=source, text=text, url=url, encoding_note=note))
    return checked_document(_from_html(text, source=source, note=note, url=url))


def checked_document(doc: RawDocument) -> RawDocument:
    """``doc`` as read, refused when over-long, with a note when it does not look Vietnamese."""
    if len(doc.text) > MAX_ARTICLE_CHARS:
        raise BadInputError(
            f"over-long article: {len(doc.text):,} characters, over the {MAX_ARTICLE_CHARS:,} a "
            "news article fits in; split it into articles (one per file or JSON line) and ingest those"
        )
    note = language_note(doc.text)
    return replace(doc, encoding_note=_join_notes(doc.encoding_note, note)) if note else doc


def _join_notes(*notes: str | None) -> str | None:
    return "; ".join(n for n in notes if n) or None


def read_jsonl(path: Path, max_bytes: int) -> tuple[list[RawDocument], list[FileFailure]]:
    """Read a JSON Lines file, streaming it; a bad line becomes a failure, not an error.

    ``max_bytes`` limits each line (one article), not the file.
    """
    docs: list[RawDocument] = []
    failures: list[FileFailure] = []
    try:
        with path.open("rb") as f:
            _check_jsonl_head(f.read(8192))
            f.seek(0)
            lineno = 0
            while line := f.readline(max_bytes + 1):
                lineno += 1
                if len(line) > max_bytes and not line.endswith(b"\n"):
                    size = len(line) + _skip_line(f)
                    reason = f"line {lineno}: {_too_large(size, max_bytes, 'line')}"
                    failures.append(FileFailure(f"{path}#L{lineno}", reason))
                    continue
                if lineno == 1:
                    line = line.removeprefix(b"\xef\xbb\xbf")
                if line.strip():  # blank lines (e.g. a trailing one) carry no record
                    result = _jsonl_record(line, path, lineno)
                    if isinstance(result, RawDocument):
                        docs.append(result)
                    else:
                        failures.append(result)
    except OSError as exc:
        raise _os_error(exc) from exc
    if not docs and not failures:
        raise EmptyDocumentError("file is empty (no JSON lines)")
    return docs, failures


def read_all(paths: Sequence[str | Path], max_bytes: int) -> Iterator[RawDocument | FileFailure]:
    """Read every file under ``paths``; a file that fails becomes a FileFailure, never an error."""
    for item in iter_files(paths):
        if isinstance(item, FileFailure):
            yield item
            continue
        try:
            docs, failures = read_file(item, max_bytes)
        except BadInputError as exc:
            yield FileFailure(str(item), str(exc))
            continue
        except Exception as exc:  # one broken file must not stop the others
            logger.exception("unexpected error reading %s", item)
            yield FileFailure(str(item), f"unexpected error: {type(exc).__name__}: {exc}")
            continue
        yield from docs
        yield from failures


def decode_bytes(data: bytes) -> tuple[str, str | None]:
    """Decode a file's bytes to text with "\\n" line ends; return (text, encoding_note)."""
    if not data:
        raise EmptyDocumentError("file is empty")
    note: str | None = None
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = data.decode("utf-16")  # reads the BOM for byte order and drops it
        except UnicodeDecodeError as exc:
            raise EncodingError(
                "starts with a UTF-16 byte-order mark but is not valid UTF-16; re-save it as UTF-8"
            ) from exc
        note = "decoded as UTF-16"
    else:
        data = data.removeprefix(b"\xef\xbb\xbf")
        if b"\x00" in data:
            raise EncodingError(_binary_reason(data))
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            text = _decode_legacy(data, exc)
            note = "decoded as Windows-1258"
    if _control_ratio(text) > MAX_CONTROL_RATIO:
        raise EncodingError(_BINARY_REASON)
    text, repaired = repair_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))
    return text, _join_notes(note, repaired)


def _decode_legacy(data: bytes, exc: UnicodeDecodeError) -> str:
    """Decode non-UTF-8 bytes as Windows-1258 if that is clearly right, else explain."""
    n = len(data)
    ascii_text = n - len(data.translate(None, _PRINTABLE_ASCII))
    controls = n - len(data.translate(None, _C0_CONTROLS))
    if ascii_text < MIN_ASCII_TEXT_RATIO * n or controls > MAX_LEGACY_CONTROL_RATIO * n:
        raise EncodingError(_BINARY_REASON)
    try:
        text = data.decode("cp1258")
    except UnicodeDecodeError:
        text = ""
    if text and _looks_vietnamese(text):
        return text
    bad = data[exc.start]
    raise EncodingError(
        f"{_LEGACY_REASON} (first non-UTF-8 byte 0x{bad:02X} at offset {exc.start})"
    )


def _looks_vietnamese(text: str) -> bool:
    # Composing first turns cp1258's separate tone marks into letters; a mark left over
    # sat on a letter that cannot carry it, which only happens with the wrong encoding.
    non_ascii = [c for c in unicodedata.normalize("NFC", text) if ord(c) > 0x7F]
    foreign = sum(
        1 for c in non_ascii if c not in VIETNAMESE_LETTERS and c not in NEUTRAL_NON_ASCII
    )
    # Letters beyond Latin-1 (đ, ư, ơ, ạ, ...) do not occur in French, German, ... text.
    vietnamese_only = sum(1 for c in non_ascii if c in VIETNAMESE_LETTERS and ord(c) > 0xFF)
    mostly_vietnamese = foreign <= MAX_FOREIGN_RATIO * len(non_ascii)
    return vietnamese_only >= MIN_VIETNAMESE_LETTERS and mostly_vietnamese


def _binary_reason(data: bytes) -> str:
    half = len(data) / 2
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if half >= 2 and max(even, odd) >= UTF16_NUL_RATIO * half and min(even, odd) <= 0.01 * half:
        return "binary file, not text (it may be UTF-16 without a byte-order mark); re-save it as UTF-8"
    return _BINARY_REASON


# Unicode's control characters (category Cc: U+0000-U+001F and U+007F-U+009F) but the
# whitespace ones and ESC. One regular expression, not a test per character: that loop was
# a tenth of reading a plain-text file.
_CONTROL_RE = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f-\x9f]")


def _control_ratio(text: str) -> float:
    sample = text[:65536]
    return len(_CONTROL_RE.findall(sample)) / len(sample) if sample else 0.0


def _from_html(html: str, source: str, note: str | None, **meta: str | None) -> RawDocument:
    """Extract the article of an HTML page; explicit ``meta`` values win over the page's.

    A listing page is refused; a lead paragraph trafilatura dropped is put back first."""
    shape = page_shape(html)
    if shape.listing_reason:
        raise BadInputError(shape.listing_reason)
    # Given a string (never a URL), trafilatura and htmldate work offline.
    doc = trafilatura.bare_extraction(
        html,
        favor_recall=True,  # losing a body paragraph is worse than keeping a stray line
        include_comments=False,
        include_tables=True,
        with_metadata=True,
        deduplicate=False,
    )
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise EmptyDocumentError("no article text found in the HTML (only markup or navigation?)")
    date = meta.get("date") or getattr(doc, "date", None)
    if date and not meta.get("date"):
        match = _ISO_DATE.search(date)
        date = match.group(0) if match else None
    title = meta.get("title") or getattr(doc, "title", None) or None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if shape.lead:
        text = _with_lead(text, shape.lead, title)
    author = getattr(doc, "author", None) or ""
    return RawDocument(
        source=source,
        text=text,
        title=strip_site_suffix(title) if title else None,
        date=date,
        outlet=meta.get("outlet") or getattr(doc, "sitename", None) or None,
        url=meta.get("url") or getattr(doc, "url", None) or None,
        encoding_note=note,
        credits=tuple(a.strip() for a in author.split(";") if a.strip()),
    )


def _with_lead(text: str, lead: str, title: str | None) -> str:
    """``text`` with the page's lead paragraph first (after a title line), unless it holds it."""
    flat = " ".join(text.split())
    if lead in flat:
        return text
    first, _, rest = text.partition("\n")
    if title and " ".join(first.split()) == " ".join(title.split()):
        return f"{first}\n{lead}\n{rest}"
    return f"{lead}\n{text}"


def _jsonl_record(line: bytes, path: Path, lineno: int) -> RawDocument | FileFailure:
    source = f"{path}#L{lineno}"
    try:
        return _parse_jsonl_line(line, path, lineno)
    except BadInputError as exc:
        return FileFailure(source, f"line {lineno}: {exc}")
    except Exception as exc:  # one odd record must not lose the rest of the file
        logger.exception("unexpected error reading %s", source)
        return FileFailure(source, f"line {lineno}: unexpected error: {type(exc).__name__}: {exc}")


def _parse_jsonl_line(line: bytes, path: Path, lineno: int) -> RawDocument:
    try:
        decoded = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise EncodingError(f"{_LEGACY_REASON} (JSON Lines must be UTF-8)") from exc
    try:
        record: Any = json.loads(decoded)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"invalid JSON ({exc.msg})") from exc
    if not isinstance(record, dict):
        raise BadInputError(f"not a JSON object (got {type(record).__name__})")
    meta = {key: _optional_str(record, key) for key in ("title", "url", "date", "source", "outlet")}
    source = meta.pop("source") or meta["url"] or f"{path}#L{lineno}"
    text, html = record.get("text"), record.get("html")
    if isinstance(text, str) and text.strip():
        # A record's own text is used as is: it is already the article (mojibake repaired).
        text, note = repair_mojibake(text.replace("\r\n", "\n").replace("\r", "\n"))
        return checked_document(RawDocument(
            source=source,
            text=text,
            title=meta["title"],
            date=meta["date"],
            outlet=meta["outlet"],
            url=meta["url"],
            encoding_note=note,
        ))
    if isinstance(html, str) and html.strip():
        html, note = repair_mojibake(html)
        return checked_document(_from_html(html, source=source, note=note, **meta))
    raise EmptyDocumentError("needs a non-empty 'text' or 'html' string field")


def _optional_str(record: dict[str, Any], key: str) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadInputError(f"field '{key}' must be a string, not {type(value).__name__}")
    return str(value).strip() or None


def _check_jsonl_head(head: bytes) -> None:
    if not head:
        raise EmptyDocumentError("file is empty")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # RFC 8259 and JSON Lines require UTF-8; UTF-16 also cannot be split on b"\n".
        raise EncodingError(
            "JSON Lines file is UTF-16; JSON Lines must be UTF-8, re-save it as UTF-8"
        )
    if b"\x00" in head:
        raise EncodingError(_binary_reason(head))


def _skip_line(f: Any) -> int:
    """Consume the rest of an over-long line without holding it in memory."""
    skipped = 0
    while chunk := f.readline(BYTES_PER_MB):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _read_bytes(path: Path, max_bytes: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > max_bytes:  # checked before reading so a huge file costs nothing
            raise FileTooLargeError(_too_large(size, max_bytes, "file"))
        with path.open("rb") as f:
            data = f.read(max_bytes + 1)
    except OSError as exc:
        raise _os_error(exc) from exc
    if len(data) > max_bytes:  # the file grew after stat()
        raise FileTooLargeError(_too_large(len(data), max_bytes, "file"))
    return data


def _os_error(exc: OSError) -> BadInputError:
    if isinstance(exc, FileNotFoundError):
        return BadInputError("no such file or directory")
    if isinstance(exc, PermissionError):
        return BadInputError(
            f"cannot read file: {exc.strerror}; check its permissions (chmod/owner)"
        )
    return BadInputError(f"cannot read file: {exc.strerror or exc}")


def _too_large(size: int, limit: int, what: str) -> str:
    return (
        f"{what} is {_human(size)}, over the {_human(limit)} limit; split it or raise --max-file-mb"
    )


def _human(n: int) -> str:
    # Small limits (tests, tight configs) would otherwise all print as "0.0 MB".
    if n >= BYTES_PER_MB // 10:
        return f"{n / BYTES_PER_MB:.1f} MB"
    if n >= 1024:
        return f"{n / 1024:.1f} KB"
    return f"{n} bytes"


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))  # sorted in place: walk order
        for name in sorted(files):
            file = Path(root, name)
            # Broken links and special files are yielded too, so that reading them
            # reports why they were skipped instead of dropping them silently.
            if not name.startswith("."):
                yield file  # unsupported ones too: iter_files lists them with the reason


def _supported_list() -> str:
    return ", ".join(SUPPORTED_SUFFIXES)


def _unsupported_reason(path: Path) -> str:
    kind = f"'{path.suffix}'" if path.suffix else "(no suffix)"
    return f"unsupported file type {kind}; supported types: {_supported_list()}"
