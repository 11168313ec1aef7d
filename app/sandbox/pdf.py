"""A minimal, valid one-page PDF 1.4 writer (no dependencies).

Objects: 1 catalog, 2 page tree, 3 page, 4 font (Helvetica, WinAnsiEncoding), 5 content
stream, 6 document info. The cross-reference table holds the exact byte offset of every
`N 0 obj`, and `startxref` points at `xref`. Text is Latin-1-ish (cp1252); Turkish letters
that cp1252 lacks are transliterated (ğ -> g, ş -> s, ı -> i, İ -> I).
"""

from collections.abc import Sequence

_TRANSLITERATION = str.maketrans({"ğ": "g", "Ğ": "G", "ş": "s", "Ş": "S", "ı": "i", "İ": "I"})
PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
LEFT_MARGIN = 56


def pdf_text(text: str) -> bytes:
    """A PDF literal string `( ... )` in WinAnsiEncoding with `\\`, `(` and `)` escaped."""
    raw = text.translate(_TRANSLITERATION).encode("cp1252", errors="replace")
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped.replace(b"\r", b" ").replace(b"\n", b" ") + b")"


def _content(title: str, lines: Sequence[str]) -> bytes:
    top = PAGE_HEIGHT - 72
    parts = [
        b"BT",
        b"/F1 18 Tf",
        f"{LEFT_MARGIN} {top} Td".encode(),
        pdf_text(title) + b" Tj",
        b"ET",
        b"BT",
        b"/F1 11 Tf",
        b"16 TL",
        f"{LEFT_MARGIN} {top - 40} Td".encode(),
    ]
    for index, line in enumerate(lines):
        parts.append(pdf_text(line) + (b" Tj" if index == 0 else b" '"))
    parts.append(b"ET")
    return b"\n".join(parts)


def render_pdf(title: str, lines: Sequence[str]) -> bytes:
    """One A4 page: `title` in 18 pt, then `lines` in 11 pt."""
    content = _content(title, lines)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} {PAGE_HEIGHT}] "
            "/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>"
        ).encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(content)} >>\nstream\n".encode() + content + b"\nendstream",
        b"<< /Title " + pdf_text(title) + b" /Producer (InsurUp sandbox) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets: list[int] = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_offset = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode()
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info {len(objects)} 0 R >>\n"
        f"startxref\n{xref_offset}\n%%EOF"
    ).encode()
    return bytes(out)
