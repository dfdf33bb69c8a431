# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""The one place where inbound XML is parsed.

XML from suppliers, networks and capture platforms is untrusted.  The classic attacks are
entity expansion ("billion laughs", quadratic blow-up), external entities reading local
files or calling internal URLs (XXE / SSRF), and plain oversized payloads.  This module
shuts them down in depth:

1. the payload size is bounded before any parsing;
2. any ``<!ENTITY`` declaration and any DOCTYPE with an internal subset are refused
   (``xml_forbidden``) by a byte scan, before libxml2 sees them;
3. lxml is configured with ``resolve_entities=False``, ``no_network=True``,
   ``load_dtd=False``, ``huge_tree=False`` (libxml2's own depth and text-size limits
   stay on) and no DTD validation, so even a declaration that slipped through is never
   expanded or fetched;
4. after parsing, the document is checked again: a DOCTYPE, an internal DTD or an
   entity reference node means ``xml_forbidden``.

The only DOCTYPE tolerated is an *external* reference whose root name the caller lists
in ``allowed_doctypes``: every cXML document starts with
``<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/<version>/cXML.dtd">``, and
refusing those would refuse cXML altogether.  The DTD is never loaded.

Parsers of every XML format (UBL, cXML...) must call :func:`parse_xml`; nothing else in
the addon calls ``lxml.etree.fromstring`` on external data.
"""

import re

from lxml import etree

from .errors import ParseError

DEFAULT_MAX_BYTES = 20 * 1024 * 1024  # UBL invoices may embed PDF attachments (base64)

_FORBIDDEN_MARKERS = ("<!ENTITY", "<!DOCTYPE")
_UTF8_BOM = b"\xef\xbb\xbf"
# An external-id-only DOCTYPE: <!DOCTYPE name SYSTEM "uri"> or PUBLIC "pubid" "uri".
_EXTERNAL_DOCTYPE = re.compile(
    rb"<!DOCTYPE\s+([A-Za-z_][\w.:-]*)\s+"
    rb"(?:SYSTEM\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*')"
    rb"|PUBLIC\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*')\s+(?:\"[^\"<>\[\]]*\"|'[^'<>\[\]]*'))"
    rb"\s*>"
)


def _parser():
    # A new parser per call: lxml parsers keep state (error log) and are not thread-safe,
    # and Odoo workers run requests in threads.
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        collect_ids=False,
    )


def _encoded_markers(payload):
    """The forbidden markers in the encodings a payload may plausibly use."""
    encodings = ["ascii"]
    if payload[:2] in (b"\xff\xfe", b"\xfe\xff") or b"\x00" in payload[:4]:
        # UTF-16/32 documents interleave NUL bytes; scan their encoded forms as well.
        encodings += ["utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"]
    for encoding in encodings:
        for marker in _FORBIDDEN_MARKERS:
            yield marker, marker.encode(encoding)


def _prescan(payload, allowed_doctypes):
    for marker, encoded in _encoded_markers(payload):
        if encoded not in payload:
            continue
        if marker == "<!DOCTYPE" and encoded == b"<!DOCTYPE":
            match = _EXTERNAL_DOCTYPE.search(payload)
            if (
                match
                and match.group(1).decode("ascii") in allowed_doctypes
                and payload.count(b"<!DOCTYPE") == 1
            ):
                continue
        raise ParseError("xml_forbidden", f"{marker} declarations are not accepted")


def prescan(payload, allowed_doctypes=()):
    """Refuse entity declarations and DOCTYPEs by a byte scan, without parsing.

    Cheap enough for the HTTP intake, so such payloads are refused at once (400
    ``xml_forbidden``) instead of being stored and failing later; :func:`parse_xml` runs
    the same scan again (defence in depth).
    """
    if isinstance(payload, str):
        payload = payload.encode("utf-8")
    _prescan(bytes(payload), frozenset(allowed_doctypes))


def _postcheck(tree, allowed_doctypes):
    docinfo = tree.docinfo
    internal = docinfo.internalDTD
    # libxml2 represents every DOCTYPE by an "internal subset" node, even an external-id
    # only one; it is the declarations inside it that are forbidden.
    if internal is not None and (list(internal.iterentities()) or list(internal.iterelements())):
        raise ParseError("xml_forbidden", "an internal DTD subset is not accepted")
    if docinfo.doctype:
        root_name = docinfo.root_name
        if root_name not in allowed_doctypes or not (docinfo.system_url or docinfo.public_id):
            raise ParseError("xml_forbidden", f"DOCTYPE {root_name} is not accepted")
    for _entity in tree.getroot().iter(etree.Entity):
        raise ParseError("xml_forbidden", "entity references are not accepted")


def parse_xml(payload, max_bytes=DEFAULT_MAX_BYTES, allowed_doctypes=()):
    """Parse untrusted XML ``payload`` (bytes) and return its root element.

    :param max_bytes: size limit; larger payloads raise ``ParseError("xml_too_large")``.
    :param allowed_doctypes: root names whose *external* DOCTYPE reference is tolerated
        (``("cXML",)`` for cXML); the DTD itself is never loaded.
    :raises ParseError: ``xml_forbidden`` for entity declarations, internal DTDs or
        other DOCTYPEs; ``xml_syntax`` for malformed or empty XML; ``xml_too_large``.
    """
    if isinstance(payload, str):
        # lxml refuses str with an encoding declaration; bytes keep the declared encoding.
        payload = payload.encode("utf-8")
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise ParseError("xml_syntax", f"expected bytes, got {type(payload).__name__}")
    payload = bytes(payload)
    if len(payload) > max_bytes:
        raise ParseError("xml_too_large", f"payload of {len(payload)} bytes exceeds {max_bytes}")
    if not payload.strip() or payload.strip() == _UTF8_BOM:
        raise ParseError("xml_syntax", "empty XML payload")
    allowed = frozenset(allowed_doctypes)
    _prescan(payload, allowed)
    try:
        root = etree.fromstring(payload, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line = getattr(exc, "lineno", None)
        raise ParseError(
            "xml_syntax", str(exc.msg or exc), f"line {line}" if line else None
        ) from None
    if root is None:
        raise ParseError("xml_syntax", "no root element")
    _postcheck(root.getroottree(), allowed)
    return root


def local_name(element):
    """Tag of ``element`` without its namespace (``{urn:...}Invoice`` -> ``Invoice``)."""
    return etree.QName(element).localname
