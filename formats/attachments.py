# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Files a supplier document carries inside itself (the invoice's PDF image).

UBL 2.1 / PEPPOL BIS 3 embeds them as ``cac:AdditionalDocumentReference/cac:Attachment/
cbc:EmbeddedDocumentBinaryObject`` (base64, with ``mimeCode`` and ``filename``).  They are
not part of the canonical model (which stays small and text only): the invoice processor
reads them from the raw document and attaches them to the bill.
"""

import base64
import binascii
import re
from dataclasses import dataclass

from .safe_xml import local_name
from .safe_xml import parse_xml

# What a mime code may say, and the extension a file without a name gets.
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/png": "png",
    "image/jpeg": "jpg",
    "text/csv": "csv",
    "text/plain": "txt",
    "application/xml": "xml",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
}
_SAFE_NAME = re.compile(r"[^\w.\- ]+")


@dataclass(frozen=True)
class EmbeddedFile:
    filename: str
    mimetype: str
    content: bytes
    description: str = ""


def _safe_filename(name, ref, mimetype, index):
    name = _SAFE_NAME.sub("_", (name or "").strip()).strip(". ")[:128]
    if name:
        return name
    base = _SAFE_NAME.sub("_", (ref or "").strip()).strip(". ")[:64] or f"attachment-{index}"
    return f"{base}.{EXTENSIONS.get(mimetype, 'bin')}"


def _child(element, name):
    for child in element:
        if isinstance(child.tag, str) and local_name(child.tag) == name:
            return child
    return None


def ubl_embedded_files(raw):
    """``[EmbeddedFile]`` of a UBL document (empty for anything else or none).

    A binary object that is not valid base64 is skipped: the document itself was
    accepted already, an unreadable attachment must not lose it.
    """
    if not raw or b"EmbeddedDocumentBinaryObject" not in raw:
        return []
    root = parse_xml(raw)
    files = []
    for reference in root:
        if not isinstance(reference.tag, str):
            continue
        if local_name(reference.tag) != "AdditionalDocumentReference":
            continue
        attachment = _child(reference, "Attachment")
        binary = (
            _child(attachment, "EmbeddedDocumentBinaryObject") if attachment is not None else None
        )
        if binary is None or not (binary.text or "").strip():
            continue
        try:
            content = base64.b64decode("".join(binary.text.split()), validate=True)
        except (binascii.Error, ValueError):
            continue
        ref_id = _child(reference, "ID")
        description = _child(reference, "DocumentDescription")
        if description is None:
            description = _child(reference, "DocumentType")
        mimetype = (binary.get("mimeCode") or "application/octet-stream").strip().lower()
        files.append(
            EmbeddedFile(
                filename=_safe_filename(
                    binary.get("filename"),
                    ref_id.text if ref_id is not None else "",
                    mimetype,
                    len(files) + 1,
                ),
                mimetype=mimetype,
                content=content,
                description=(description.text or "").strip() if description is not None else "",
            )
        )
    return files
