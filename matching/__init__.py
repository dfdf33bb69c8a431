# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Three-way match engine and tolerance resolution: pure Python, no Odoo import.

The Odoo layer reads purchase order lines, receipts, bill lines and contract prices into
the dataclasses of :mod:`.engine`, the tolerance rules into :mod:`.tolerance`, calls
:func:`match_bill` and stores ``BillMatchResult.to_dict()`` with the bill.
"""

from .engine import (
    BILL_BLOCKED,
    BILL_MATCHED,
    EXCEPTION_TYPES,
    LINE_STATUSES,
    BillLine,
    BillMatchResult,
    ChargeLine,
    ContractPrice,
    LineMatch,
    MatchException,
    PoLine,
    ReceiptQty,
    StatedAmounts,
    ToleranceCheck,
    explain_exception,
    find_contract,
    match_bill,
)
from .tolerance import (
    COMBINE_BOTH,
    COMBINE_EITHER,
    ResolvedTolerance,
    RuleRef,
    Tolerance,
    ToleranceConfigError,
    ToleranceRule,
    make_resolver,
    resolve_tolerance,
)
