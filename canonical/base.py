# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Machinery shared by the canonical document classes.

The dataclass declarations are the single source of truth: validation (``from_dict``),
serialisation (``to_dict``) and the JSON Schema (``json_schema``) are all derived from the
field types and from the constraints stored in each field's ``metadata`` by :func:`fld`.
Nothing here imports Odoo.
"""

import dataclasses
import re
import types
import typing
from datetime import date
from decimal import Decimal
from decimal import InvalidOperation

SCHEMA_VERSION = "1.0"

# Amounts and quantities: large enough for any hospital invoice, small enough that a hostile
# "1e999999" cannot make later arithmetic explode.
MAX_ABS_DECIMAL = Decimal(10) ** 15
MAX_DECIMAL_PLACES = 10
_DECIMAL_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Keys of the JSON envelope that are not dataclass fields.
ENVELOPE_KEYS = ("doc_type", "schema_version")

ERROR_CODES = ("required", "type", "format", "range", "enum")


class CanonicalValidationError(ValueError):
    """Raised when data does not fit a canonical document type.

    ``errors`` lists every problem found (not only the first one), each a dict
    ``{"path": "lines[0].quantity", "code": "required|type|format|range|enum",
    "message": "..."}``, so that an API caller can fix a document in one round trip.
    """

    def __init__(self, errors):
        self.errors = list(errors)
        first = self.errors[0] if self.errors else {"path": "", "message": "invalid"}
        more = f" (+{len(self.errors) - 1} more)" if len(self.errors) > 1 else ""
        super().__init__(f"{first['path'] or '<root>'}: {first['message']}{more}")


def error(path, code, message):
    """Build one validation error entry (``code`` is one of :data:`ERROR_CODES`)."""
    assert code in ERROR_CODES, code
    return {"path": path, "code": code, "message": message}


def fld(
    default=dataclasses.MISSING,
    *,
    required=False,
    enum=None,
    pattern=None,
    minimum=None,
    exclusive_minimum=None,
    max_length=None,
    min_items=None,
    description="",
):
    """Declare a canonical field with its constraints.

    Required fields get no default so that Python itself refuses to build an instance
    without them; optional scalars default to ``None`` and lists to an empty list.
    """
    metadata = {
        "required": required,
        "enum": tuple(enum) if enum else None,
        "pattern": re.compile(pattern) if pattern else None,
        "minimum": Decimal(minimum) if minimum is not None else None,
        "exclusive_minimum": (
            Decimal(exclusive_minimum) if exclusive_minimum is not None else None
        ),
        "max_length": max_length,
        "min_items": min_items,
        "description": description,
    }
    if required:
        return dataclasses.field(metadata=metadata)
    if default is list:
        return dataclasses.field(default_factory=list, metadata=metadata)
    return dataclasses.field(
        default=None if default is dataclasses.MISSING else default, metadata=metadata
    )


# ---------------------------------------------------------------------------------------
# Type introspection
# ---------------------------------------------------------------------------------------


def _unwrap(tp):
    """Return ``(base_type, is_list)`` for ``X``, ``X | None``, ``list[X]``."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _unwrap(args[0])
    if origin is list:
        return typing.get_args(tp)[0], True
    return tp, False


_HINTS_CACHE = {}


def _fields(cls):
    """Dataclass fields of ``cls`` with resolved types: ``[(field, base_type, is_list)]``."""
    if cls not in _HINTS_CACHE:
        hints = typing.get_type_hints(cls)
        _HINTS_CACHE[cls] = [
            (f, *_unwrap(hints[f.name]))
            for f in dataclasses.fields(cls)
            if f.init and not f.name.startswith("_")
        ]
    return _HINTS_CACHE[cls]


# ---------------------------------------------------------------------------------------
# Validation / construction
# ---------------------------------------------------------------------------------------


def _join(path, name):
    return f"{path}.{name}" if path else name


def _coerce_scalar(value, tp, path, meta, errors):
    """Coerce a JSON scalar to ``tp``; append errors and return ``None`` when it fails."""
    if tp is str:
        if not isinstance(value, str):
            errors.append(error(path, "type", "expected a string"))
            return None
        value = value.strip()
        if meta.get("max_length") and len(value) > meta["max_length"]:
            errors.append(error(path, "range", f"longer than {meta['max_length']} characters"))
            return None
        if meta.get("pattern") and not meta["pattern"].match(value):
            errors.append(error(path, "format", f"does not match {meta['pattern'].pattern}"))
            return None
    elif tp is bool:
        if not isinstance(value, bool):
            errors.append(error(path, "type", "expected a boolean"))
            return None
    elif tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            errors.append(error(path, "type", "expected an integer"))
            return None
    elif tp is Decimal:
        value = _to_decimal(value, path, errors)
        if value is None:
            return None
    elif tp is date:
        if isinstance(value, date):
            return value
        if not isinstance(value, str):
            errors.append(error(path, "type", "expected an ISO date string YYYY-MM-DD"))
            return None
        if not _DATE_RE.match(value):
            errors.append(error(path, "format", "expected an ISO date YYYY-MM-DD"))
            return None
        try:
            value = date.fromisoformat(value)
        except ValueError:
            errors.append(error(path, "format", "not a calendar date"))
            return None
    else:  # pragma: no cover - a programming error in a declaration
        raise TypeError(f"unsupported canonical type {tp!r}")
    if meta.get("enum") and value not in meta["enum"]:
        errors.append(error(path, "enum", f"must be one of {', '.join(map(str, meta['enum']))}"))
        return None
    if tp in (Decimal, int):
        if meta.get("minimum") is not None and value < meta["minimum"]:
            errors.append(error(path, "range", f"must be >= {meta['minimum']}"))
            return None
        if meta.get("exclusive_minimum") is not None and value <= meta["exclusive_minimum"]:
            errors.append(error(path, "range", f"must be > {meta['exclusive_minimum']}"))
            return None
    return value


def _to_decimal(value, path, errors):
    if isinstance(value, bool):
        errors.append(error(path, "type", "expected a decimal number or string"))
        return None
    # Only context-free operations below (construction, copy_abs, comparison): the
    # thread's decimal context is not ours to rely on (its precision and exponent limits
    # would make abs() raise Overflow on a hostile exponent instead of a range error).
    try:
        if isinstance(value, (int, Decimal)):
            result = Decimal(value)
        elif isinstance(value, float):
            # Floats only reach here from callers that used json.loads without
            # parse_float=Decimal; repr() gives the shortest string that round-trips.
            result = Decimal(repr(value))
        elif isinstance(value, str):
            text = value.strip()
            if not _DECIMAL_RE.match(text):
                errors.append(error(path, "format", "not a decimal number"))
                return None
            result = Decimal(text)
        else:
            errors.append(error(path, "type", "expected a decimal number or string"))
            return None
    except (InvalidOperation, ArithmeticError):
        errors.append(error(path, "format", "not a decimal number within range"))
        return None
    if not result.is_finite():
        errors.append(error(path, "format", "must be a finite number"))
        return None
    if result.copy_abs() >= MAX_ABS_DECIMAL:
        errors.append(error(path, "range", f"absolute value must be < {MAX_ABS_DECIMAL}"))
        return None
    exponent = result.as_tuple().exponent
    if exponent < -MAX_DECIMAL_PLACES:
        errors.append(error(path, "range", f"more than {MAX_DECIMAL_PLACES} decimal places"))
        return None
    return result


def build(cls, data, path, errors):
    """Build an instance of dataclass ``cls`` from JSON-like ``data``.

    Every problem is appended to ``errors``; ``None`` is returned when any was found in
    this object (nested objects are still visited so that all problems are reported).
    """
    if not isinstance(data, dict):
        errors.append(error(path, "type", "expected an object"))
        return None
    start = len(errors)
    known = {f.name for f, _tp, _lst in _fields(cls)}
    allowed = known | (set(ENVELOPE_KEYS) if not path else set())
    for key in data:
        if key not in allowed:
            errors.append(error(_join(path, str(key)), "format", "unknown field"))
    kwargs = {}
    for f, tp, is_list in _fields(cls):
        fpath = _join(path, f.name)
        meta = f.metadata
        raw = data.get(f.name)
        if raw is None or (isinstance(raw, str) and not raw.strip() and tp is not str):
            if meta.get("required"):
                errors.append(error(fpath, "required", "is required"))
            continue
        if isinstance(raw, str) and tp is str and not raw.strip():
            if meta.get("required"):
                errors.append(error(fpath, "required", "must not be empty"))
            continue
        if is_list:
            if not isinstance(raw, list):
                errors.append(error(fpath, "type", "expected an array"))
                continue
            if meta.get("min_items") and len(raw) < meta["min_items"]:
                errors.append(
                    error(fpath, "required", f"needs at least {meta['min_items']} item(s)")
                )
            items = []
            for index, item in enumerate(raw):
                ipath = f"{fpath}[{index}]"
                if dataclasses.is_dataclass(tp):
                    items.append(build(tp, item, ipath, errors))
                else:
                    items.append(_coerce_scalar(item, tp, ipath, meta, errors))
            kwargs[f.name] = items
        elif dataclasses.is_dataclass(tp):
            kwargs[f.name] = build(tp, raw, fpath, errors)
        else:
            kwargs[f.name] = _coerce_scalar(raw, tp, fpath, meta, errors)
    if len(errors) > start:
        return None
    instance = cls(**kwargs)
    check = getattr(instance, "_check", None)
    if check:
        errors.extend(check(path))
    return instance if len(errors) == start else None


# ---------------------------------------------------------------------------------------
# Serialisation
# ---------------------------------------------------------------------------------------


def decimal_str(value):
    """Plain (never exponent) string for a Decimal: ``Decimal('1E+2')`` -> ``'100'``."""
    text = format(value, "f")
    return text


def _dump(value):
    if dataclasses.is_dataclass(value):
        return dump(value)
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, Decimal):
        return decimal_str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def dump(instance):
    """JSON-safe dict of a canonical dataclass; ``None`` and empty lists are omitted."""
    result = {}
    for f, _tp, _is_list in _fields(type(instance)):
        value = getattr(instance, f.name)
        if value is None or (isinstance(value, list) and not value):
            continue
        result[f.name] = _dump(value)
    return result


# ---------------------------------------------------------------------------------------
# JSON Schema
# ---------------------------------------------------------------------------------------

_DECIMAL_PATTERN = r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$"


def _scalar_schema(tp, meta):
    if tp is str:
        schema = {"type": "string", "minLength": 1}
        if meta.get("max_length"):
            schema["maxLength"] = meta["max_length"]
        if meta.get("pattern"):
            schema["pattern"] = meta["pattern"].pattern
    elif tp is bool:
        schema = {"type": "boolean"}
    elif tp is int:
        schema = {"type": "integer"}
    elif tp is Decimal:
        # Strings are the canonical form (no binary-float rounding); numbers are accepted.
        schema = {"type": ["string", "number"], "pattern": _DECIMAL_PATTERN}
    elif tp is date:
        schema = {"type": "string", "format": "date"}
    else:  # pragma: no cover
        raise TypeError(tp)
    if meta.get("enum"):
        schema["enum"] = list(meta["enum"])
    if tp in (int, Decimal):
        if meta.get("minimum") is not None:
            schema["minimum"] = int(meta["minimum"])
        if meta.get("exclusive_minimum") is not None:
            schema["exclusiveMinimum"] = int(meta["exclusive_minimum"])
    return schema


def object_schema(cls, defs, root=False):
    """JSON Schema of dataclass ``cls``; nested classes are registered in ``defs``."""
    properties = {}
    required = []
    for f, tp, is_list in _fields(cls):
        meta = f.metadata
        if dataclasses.is_dataclass(tp):
            if tp.__name__ not in defs:
                defs[tp.__name__] = {}  # placeholder against recursion
                defs[tp.__name__] = object_schema(tp, defs)
            item = {"$ref": f"#/$defs/{tp.__name__}"}
        else:
            item = _scalar_schema(tp, meta)
        if is_list:
            prop = {"type": "array", "items": item}
            if meta.get("min_items"):
                prop["minItems"] = meta["min_items"]
        else:
            prop = item
        if meta.get("description"):
            prop = {**prop, "description": meta["description"]}
        if meta.get("required"):
            required.append(f.name)
        elif not is_list:
            prop = {"anyOf": [prop, {"type": "null"}]}
        properties[f.name] = prop
    schema = {"type": "object"}
    if cls.__doc__:
        schema["description"] = " ".join(cls.__doc__.split())
    schema["properties"] = properties
    if required:
        schema["required"] = required
    schema["additionalProperties"] = False
    return schema
