# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""A received payload laid out for reading: JSON and XML indented, X12 one segment a line.

Display only (the stored payload is never changed); text that is none of these, or does
not parse, is returned as it is.
"""

import json
import re

from lxml import etree

from .errors import ParseError
from .safe_xml import parse_xml

# ISA is fixed width: its 106th character is the segment terminator.
_ISA_TERMINATOR_AT = 105


def pretty_text(text):
    stripped = (text or "").lstrip("\ufeff").strip()
    if not stripped:
        return text or ""
    if stripped.startswith("%PDF-"):
        # a PDF invoice: binary, read through the invoice XML it embeds (see the document)
        return f"(PDF document, {len(text)} characters; its embedded invoice XML is read)"
    if stripped[:1] in "{[":
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    if stripped.startswith("<"):
        try:
            root = parse_xml(stripped.encode())
        except (ParseError, ValueError):
            return text
        etree.indent(root, space="  ")
        return etree.tostring(root, encoding="unicode")
    if stripped.startswith("ISA") and len(stripped) > _ISA_TERMINATOR_AT:
        terminator = stripped[_ISA_TERMINATOR_AT]
        segments = [s.strip() for s in stripped.split(terminator)]
        return "\n".join(f"{s}{terminator}" for s in segments if s)
    return re.sub(r"\r\n?", "\n", text)
