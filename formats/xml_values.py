"""Reading values out of an XML document's elements, for the XML readers (UBL, CII):
the element at a path, its text with whitespace collapsed, a decimal that must be finite.
Each reader binds its namespaces and its error-code prefix (``ubl``, ``cii``)."""

from decimal import Decimal
from decimal import InvalidOperation

from .errors import ParseError


def find(element, path, ns):
    return None if element is None else element.find(path, ns)


def text(element, path=None, *, ns):
    node = element if path is None else find(element, path, ns)
    if node is None or node.text is None:
        return None
    value = " ".join(node.text.split())
    return value or None


def decimal(element, path, where, required=False, *, ns, prefix):
    raw = text(element, path, ns=ns)
    if raw is None:
        if required:
            raise ParseError(f"{prefix}_required", f"{path} is missing", where)
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ParseError(f"{prefix}_value", f"{path} {raw!r} is not a number", where) from None
    if not value.is_finite():
        raise ParseError(f"{prefix}_value", f"{path} {raw!r} is not a finite number", where)
    return value
