# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Errors and data-quality findings shared by every format parser.

A :class:`ParseError` means the payload cannot be read at all (broken envelope, bad JSON,
missing CSV column): the message is final, retrying will not help.  A
:class:`DataQualityIssue` is a finding about content that *was* read (wrong GTIN check
digit, count mismatch tolerated in a real-world file): the document goes on, the issue is
recorded for the data steward.
"""

from dataclasses import asdict
from dataclasses import dataclass


class ParseError(ValueError):
    """A payload that cannot be parsed.

    :param code: stable machine-readable code (``x12_envelope``, ``x12_segment``,
        ``json_syntax``, ``csv_header``...), safe to branch on and to show in API errors.
    :param message: human-readable explanation.
    :param path: where the problem is (``"segment 12 (SE)"``, ``"[3].lines"``, ``"row 7"``).
    :param details: optional list of further error dicts (e.g. one per CSV row).
    """

    def __init__(self, code, message, path=None, details=None):
        super().__init__(f"{code}: {message}" + (f" at {path}" if path else ""))
        self.code = code
        self.message = message
        self.path = path
        self.details = list(details or [])

    def to_dict(self):
        """JSON-safe representation for API responses and the inbox record."""
        result = {"code": self.code, "message": self.message, "path": self.path}
        if self.details:
            result["details"] = self.details
        return result


@dataclass(frozen=True)
class DataQualityIssue:
    """A non-fatal finding about a parsed document (never a parse failure)."""

    code: str
    message: str
    path: str = None

    def to_dict(self):
        return asdict(self)
