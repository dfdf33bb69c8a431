# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""What every reader returns: a canonical document and the findings made reading it."""

from dataclasses import dataclass
from dataclasses import field


@dataclass
class ParsedDocument:
    """A canonical document with the data-quality findings made while reading it."""

    document: object
    issues: list = field(default_factory=list)
    source_format: str = ""
