# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Match tolerances: what a finance admin configures, and which rule applies to a line.

A :class:`Tolerance` holds the limits; every one is optional, ``None`` meaning "this
rule does not say".  A :class:`ToleranceRule` scopes a tolerance to a company, and
optionally to a vendor, a product category, or both.  :func:`resolve_tolerance` picks,
*field by field*, the value of the most specific rule that sets it::

    vendor + category  >  vendor  >  category  >  company default

Within the two category levels the category nearest to the product wins (the category
path runs from the leaf to the root).  Field-by-field fallback lets a vendor rule say only
"this vendor's prices are exact" while the quantity limits still come from the company
default.  The result records which rule supplied each field, so a clerk can be told
*why* a line was allowed 2% and not 5%.

Semantics of the limits, decided once here and relied on by the engine:

* Percentages are of the expected value: the billable quantity, the PO (or contract)
  unit price, the expected bill total.
* Absolute quantity and unit price limits are per the product's *reference unit* (the
  unit Odoo keeps stock in), so a rule means the same whatever unit a PO or a bill uses;
  the absolute bill total limit is an amount in the bill currency.
* ``combine="either"`` (the default, the usual AP convention): a variance passes when it
  is within the percentage *or* within the absolute limit, i.e. within the larger of
  the two.  ``combine="both"``: it must be within both, i.e. within the smaller.  When
  only one of the two is set, that one applies alone.
* A dimension with neither limit set after resolution has no tolerance: it must match
  exactly.  A control that nobody configured must not silently let money through.
* Charges (freight, handling, fuel, small-order fees) on a bill: ``charge_pct`` is a
  percentage of the goods' net amount on the bill, ``charge_abs`` an amount in the bill
  currency; combined like the other limits.  Nobody configured a charge tolerance: no
  charge passes unseen.
* ``stated_abs``: how far (an amount in the bill currency) the bill's untaxed, tax and
  total amounts may be from the supplier's stated ones, for rounding differences between
  the supplier's system and Odoo's; unset means equal to the currency's precision.
* ``allow_over_receipt``: when true, billing up to the received quantity is fine even
  beyond the ordered quantity; when false or unset, the billable quantity is capped at
  what was ordered.
"""

from dataclasses import dataclass
from dataclasses import field
from fractions import Fraction

from .numbers import fmt
from .numbers import frac
from .numbers import to_decimal

COMBINE_EITHER = "either"
COMBINE_BOTH = "both"
COMBINE_MODES = (COMBINE_EITHER, COMBINE_BOTH)

# dimension -> (percentage field, absolute field)
DIMENSIONS = {
    "qty": ("qty_pct", "qty_abs"),
    "price": ("price_pct", "price_abs"),
    "total": ("total_pct", "total_abs"),
    "charge": ("charge_pct", "charge_abs"),
    "stated": (None, "stated_abs"),
}
NUMERIC_FIELDS = (
    "qty_pct",
    "qty_abs",
    "price_pct",
    "price_abs",
    "total_pct",
    "total_abs",
    "charge_pct",
    "charge_abs",
    "stated_abs",
)
LIMIT_FIELDS = (*NUMERIC_FIELDS, "allow_over_receipt")
FIELDS = (*LIMIT_FIELDS, "combine")

SCOPE_VENDOR_CATEGORY = "vendor_category"
SCOPE_VENDOR = "vendor"
SCOPE_CATEGORY = "category"
SCOPE_COMPANY = "company"
_SCOPE_LABELS = {
    SCOPE_VENDOR_CATEGORY: "vendor + category rule",
    SCOPE_VENDOR: "vendor rule",
    SCOPE_CATEGORY: "category rule",
    SCOPE_COMPANY: "company default",
}


class ToleranceConfigError(ValueError):
    """The tolerance configuration is unusable (an empty rule, two rules for one scope)."""


@dataclass(frozen=True)
class Tolerance:
    """Match limits; each ``None`` when not set.

    Percentages are given as percent (``2`` means 2%), absolute values in the product's
    reference unit (quantity, unit price) or in the bill currency (total).  Values are
    coerced to Decimal; negative values are refused because "-2%" has no sensible
    meaning for a limit and is almost always a sign typed by mistake.
    """

    qty_pct: object = None
    qty_abs: object = None
    price_pct: object = None
    price_abs: object = None
    total_pct: object = None
    total_abs: object = None
    charge_pct: object = None
    charge_abs: object = None
    stated_abs: object = None
    allow_over_receipt: bool | None = None
    combine: str | None = None

    def __post_init__(self):
        for name in NUMERIC_FIELDS:
            value = to_decimal(getattr(self, name), name, allow_none=True)
            if value is not None and value < 0:
                raise ToleranceConfigError(f"{name} must not be negative, got {fmt(value)}")
            object.__setattr__(self, name, value)
        if self.allow_over_receipt is not None and not isinstance(self.allow_over_receipt, bool):
            raise ToleranceConfigError(
                f"allow_over_receipt must be a boolean, got {self.allow_over_receipt!r}"
            )
        if self.combine is not None and self.combine not in COMBINE_MODES:
            raise ToleranceConfigError(
                f"combine must be one of {COMBINE_MODES}, got {self.combine!r}"
            )

    def is_empty(self):
        """True when no limit is set (``combine`` alone qualifies nothing)."""
        return all(getattr(self, name) is None for name in LIMIT_FIELDS)

    def limits(self, dimension):
        """``(percentage, absolute)`` of a dimension (``qty``, ``price``, ``total``,
        ``charge``, ``stated``); None for a limit the dimension does not have."""
        pct_field, abs_field = DIMENSIONS[dimension]
        return (
            getattr(self, pct_field) if pct_field else None,
            getattr(self, abs_field) if abs_field else None,
        )

    def to_dict(self):
        """JSON-ready dict; Decimals as strings so nothing is lost to floats."""
        return {
            name: (fmt(value) if name in NUMERIC_FIELDS and value is not None else value)
            for name in FIELDS
            for value in (getattr(self, name),)
        }

    @classmethod
    def from_dict(cls, values):
        """Inverse of :meth:`to_dict`; unknown keys are refused (a typo is not a limit)."""
        unknown = set(values) - set(FIELDS)
        if unknown:
            raise ToleranceConfigError(f"unknown tolerance fields: {', '.join(sorted(unknown))}")
        return cls(**values)


def allowed_variance(pct, absolute, base, combine=COMBINE_EITHER):
    """The largest variance (a Fraction) that passes, given the limits and the base.

    ``pct`` and ``absolute`` are Decimals or None, ``base`` the expected value the
    percentage is taken of.  "Within either" is "within the larger", "within both" is
    "within the smaller"; with no limit at all the allowance is zero (exact match).
    """
    candidates = []
    if pct is not None:
        candidates.append(frac(pct) / 100 * abs(Fraction(base)))
    if absolute is not None:
        candidates.append(frac(absolute))
    if not candidates:
        return Fraction(0)
    return max(candidates) if (combine or COMBINE_EITHER) == COMBINE_EITHER else min(candidates)


@dataclass(frozen=True)
class ToleranceRule:
    """A tolerance scoped to a company and optionally a vendor and/or a product category.

    ``rule_id`` and ``name`` only serve explanations (the Odoo record's id and name).
    A rule that sets no limit is refused: it would shadow nothing and only confuse the
    admin reading the configuration.
    """

    rule_id: object
    company_id: object
    tolerance: Tolerance
    vendor_id: object = None
    category_id: object = None
    name: str = ""

    def __post_init__(self):
        if not isinstance(self.tolerance, Tolerance):
            raise ToleranceConfigError(f"rule {self.rule_id!r}: tolerance must be a Tolerance")
        if self.company_id is None:
            raise ToleranceConfigError(f"rule {self.rule_id!r}: a company is required")
        if self.tolerance.is_empty():
            raise ToleranceConfigError(f"rule {self.rule_id!r} sets no limit; delete it or set one")

    @property
    def scope(self):
        if self.vendor_id is not None:
            return SCOPE_VENDOR_CATEGORY if self.category_id is not None else SCOPE_VENDOR
        return SCOPE_CATEGORY if self.category_id is not None else SCOPE_COMPANY

    def ref(self):
        """The :class:`RuleRef` naming this rule in explanations."""
        return RuleRef(self.rule_id, self.scope, self.name, self.vendor_id, self.category_id)


@dataclass(frozen=True)
class RuleRef:
    """Which rule supplied a value, as shown to a clerk and stored with the result."""

    rule_id: object
    scope: str
    name: str = ""
    vendor_id: object = None
    category_id: object = None

    @property
    def label(self):
        named = f" '{self.name}'" if self.name else ""
        return f"{_SCOPE_LABELS.get(self.scope, self.scope)}{named} (#{self.rule_id})"

    def to_dict(self):
        return {
            "rule_id": self.rule_id,
            "scope": self.scope,
            "name": self.name,
            "vendor_id": self.vendor_id,
            "category_id": self.category_id,
            "label": self.label,
        }


@dataclass(frozen=True)
class ResolvedTolerance:
    """The tolerance in force for one line, and where each of its values came from.

    ``sources`` maps every field of :class:`Tolerance` to the :class:`RuleRef` that
    supplied it, or None when no rule sets it.
    """

    tolerance: Tolerance = field(default_factory=Tolerance)
    sources: dict = field(default_factory=dict, hash=False)

    @property
    def combine(self):
        return self.tolerance.combine or COMBINE_EITHER

    @property
    def allow_over_receipt(self):
        return bool(self.tolerance.allow_over_receipt)

    def source(self, name):
        return self.sources.get(name)

    def limits(self, dimension):
        return self.tolerance.limits(dimension)

    def allowed(self, dimension, base):
        """Allowed variance (Fraction) of ``dimension`` against ``base``."""
        pct, absolute = self.limits(dimension)
        return allowed_variance(pct, absolute, base, self.combine)

    def source_labels(self, dimension):
        """``{field: rule label}`` of the fields a dimension's check used."""
        names = (*(name for name in DIMENSIONS[dimension] if name), "combine")
        if dimension == "qty":
            names = (*names, "allow_over_receipt")
        return {
            name: (self.sources[name].label if self.sources.get(name) else None) for name in names
        }

    def describe(self, dimension, abs_unit=""):
        """Clerk-readable limits of a dimension with their origin.

        e.g. ``"2% (vendor rule 'Medline' (#4)) or 0.05 per reference unit (company
        default (#1)), whichever is larger"``.
        """
        pct, absolute = self.limits(dimension)
        pct_field, abs_field = DIMENSIONS[dimension]
        parts = []
        if pct is not None:
            parts.append(f"{fmt(pct)}% ({self._origin(pct_field)})")
        if absolute is not None:
            unit = f" {abs_unit}" if abs_unit else ""
            parts.append(f"{fmt(absolute)}{unit} ({self._origin(abs_field)})")
        if not parts:
            return "no tolerance configured, so it must match exactly"
        if len(parts) == 1:
            return parts[0]
        joiner = "whichever is larger" if self.combine == COMBINE_EITHER else "whichever is smaller"
        return f"{parts[0]} or {parts[1]}, {joiner}"

    def _origin(self, name):
        ref = self.sources.get(name)
        return ref.label if ref else "not set"

    def to_dict(self):
        return {
            "values": self.tolerance.to_dict(),
            "effective_combine": self.combine,
            "sources": {
                name: (ref.to_dict() if ref else None) for name, ref in sorted(self.sources.items())
            },
        }


def _applicable_chain(rules, company_id, vendor_id, category_path):
    """Rules of ``company_id`` that apply, most specific first.

    Refuses two rules with the same scope key: which one "wins" would then depend on the
    order the database returned them in, and a control must not be a coin toss.
    """
    path = []
    for category in category_path or ():
        if category not in path:
            path.append(category)
    depth = {category: index for index, category in enumerate(path)}
    ranked = {}
    for rule in rules:
        if rule.company_id != company_id:
            continue
        if rule.vendor_id is not None and (vendor_id is None or rule.vendor_id != vendor_id):
            continue
        if rule.category_id is not None and rule.category_id not in depth:
            continue
        scope = rule.scope
        # Rank: vendor+category by category depth, then vendor, then category by depth,
        # then the company default.  len(path) keeps category levels apart.
        if scope == SCOPE_VENDOR_CATEGORY:
            rank = depth[rule.category_id]
        elif scope == SCOPE_VENDOR:
            rank = len(path)
        elif scope == SCOPE_CATEGORY:
            rank = len(path) + 1 + depth[rule.category_id]
        else:
            rank = 2 * len(path) + 1
        if rank in ranked:
            other = ranked[rank]
            raise ToleranceConfigError(
                f"rules {other.rule_id!r} and {rule.rule_id!r} both define the {_SCOPE_LABELS[scope]} "
                f"for company {company_id!r}, vendor {rule.vendor_id!r}, category {rule.category_id!r}"
            )
        ranked[rank] = rule
    return [ranked[rank] for rank in sorted(ranked)]


def resolve_tolerance(rules, company_id, vendor_id=None, category_path=()):
    """The tolerance in force for a vendor and a product category path.

    :param rules: iterable of :class:`ToleranceRule` (any company; others are ignored)
    :param company_id: the company (facility) of the document
    :param vendor_id: the bill's vendor, or None when unknown (vendor rules then skip)
    :param category_path: product category ids from the product's own category up to
        the root; an empty path leaves only vendor rules and the company default
    :returns: :class:`ResolvedTolerance`; fields no rule sets stay None (exact match)
    :raises ToleranceConfigError: two rules share one scope
    """
    chain = _applicable_chain(rules, company_id, vendor_id, category_path)
    values = {}
    sources = {}
    for name in FIELDS:
        values[name] = None
        sources[name] = None
        for rule in chain:
            value = getattr(rule.tolerance, name)
            if value is not None:
                values[name] = value
                sources[name] = rule.ref()
                break
    return ResolvedTolerance(Tolerance(**values), sources)


def make_resolver(rules, company_id):
    """A memoised ``resolver(vendor_id, category_path)`` for :func:`match_bill`.

    A bill's lines mostly share vendor and category, so resolving once per distinct pair
    keeps matching of a 500-line bill cheap.
    """
    rules = tuple(rules)
    cache = {}

    def resolver(vendor_id, category_path=()):
        key = (vendor_id, tuple(category_path or ()))
        if key not in cache:
            cache[key] = resolve_tolerance(rules, company_id, vendor_id, key[1])
        return cache[key]

    return resolver


def exact_tolerance():
    """A resolved tolerance with nothing set: every check must match exactly."""
    return ResolvedTolerance(Tolerance(), dict.fromkeys(FIELDS))
