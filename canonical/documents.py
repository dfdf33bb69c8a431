# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Canonical procure-to-pay documents (schema version 1.0).

Every inbound format (canonical JSON, X12, UBL/PEPPOL, cXML, CSV) is normalised into these
classes; everything downstream (correlation, sequencing, applying to Odoo, matching) reads
only them.  Conventions:

* money and quantities are :class:`~decimal.Decimal`, dates :class:`datetime.date`;
* credit notes are :class:`Invoice` with ``move_type == "credit_note"`` and *positive*
  amounts: the direction is carried by the type, never by the sign;
* parties carry a list of ``{scheme, value}`` identifiers.  Schemes are upper-case tokens
  (see ``SCHEME_*``).  ``SOURCE`` is the id the *sending* system uses for the party: the
  crosswalk scopes it by connector, so two systems may both send ``SOURCE`` ids;
* keys (``natural_key``, ``correlation_keys``, ``dependencies``) are opaque strings
  ``"<doc_type>:<part>[:<part>]"``; parties appear in them as ``"<scheme>=<value>"``
  chosen by :meth:`Party.key`.
"""

# ``fld()`` returns ``dataclasses.field(...)`` with our constraints in its metadata; ruff
# only recognises ``field()`` itself, hence RUF009 is silenced for this module.
# ruff: noqa: RUF009

import re
from dataclasses import dataclass
from datetime import UTC
from datetime import date
from datetime import datetime
from decimal import ROUND_HALF_UP
from decimal import Decimal
from typing import ClassVar

from ..normalize.gs1 import BarcodeError
from ..normalize.gs1 import parse_barcode
from .base import SCHEMA_VERSION
from .base import dump
from .base import error
from .base import fld

# Identifier schemes.  Formats map their qualifiers to these (X12 N1 "UL" -> GLN, "1" ->
# DUNS, "92" -> BUYER_ASSIGNED; UBL schemeID 0088 -> GLN, 0060 -> DUNS, ...).
SCHEME_GLN = "GLN"
SCHEME_DUNS = "DUNS"
SCHEME_VAT = "VAT"
SCHEME_TAX_ID = "TAX_ID"
SCHEME_HIN = "HIN"  # Health Industry Number (HIBCC)
SCHEME_SAN = "SAN"
SCHEME_SOURCE = "SOURCE"
SCHEME_BUYER_ASSIGNED = "BUYER_ASSIGNED"
SCHEME_SELLER_ASSIGNED = "SELLER_ASSIGNED"
# Other spellings documents use for these schemes (ISO 6523 ICD codes as in UBL schemeID,
# older names): a party identified by either is the same party, so that a vendor master
# sent with GLN and an invoice citing 0088 name it, wait on it and release it by one key.
PARTY_SCHEME_ALIASES = {
    "0088": SCHEME_GLN,
    "EAN": SCHEME_GLN,
    "0060": SCHEME_DUNS,
    "DUNS+4": SCHEME_DUNS,
    "TAX": SCHEME_TAX_ID,
    "TAXID": SCHEME_TAX_ID,
}


def party_scheme(code):
    """The scheme ``code`` designates (``0088`` -> ``GLN``); other codes as sent, in capitals."""
    code = (code or "").strip().upper()
    return PARTY_SCHEME_ALIASES.get(code, code)


# Order in which Party.key() picks the identifier that names a party in business keys:
# global registries first, then tax ids, then ids that are only unique per system.
KEY_SCHEME_PRIORITY = (
    SCHEME_GLN,
    SCHEME_DUNS,
    SCHEME_VAT,
    SCHEME_TAX_ID,
    SCHEME_HIN,
    SCHEME_SOURCE,
    SCHEME_SELLER_ASSIGNED,
    SCHEME_BUYER_ASSIGNED,
)

UOM_PATTERN = r"^[A-Z0-9]{1,3}$"  # X12 355 / UN/ECE rec 20 codes: EA, BX, CS, PK, C62...
CURRENCY_PATTERN = r"^[A-Z]{3}$"
GTIN_PATTERN = r"^\d{8}$|^\d{12,14}$"  # check digits are a data-quality issue, not format
COUNTRY_PATTERN = r"^[A-Z]{2}$"
SCHEME_PATTERN = r"^[A-Z0-9][A-Z0-9_.-]{0,39}$"

# ISO 4217 minor units of the currencies that do not have 2 decimals (all others have 2).
CURRENCY_DECIMALS = {
    **dict.fromkeys(
        (
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    "CLF": 4,
    "UYW": 4,
}  # fmt: skip


def currency_decimals(currency):
    """Number of decimals of ``currency`` (ISO 4217 minor unit; 2 when not listed)."""
    return CURRENCY_DECIMALS.get((currency or "").upper(), 2)


@dataclass(frozen=True)
class AmountFinding:
    """An amount a document states that its own other amounts contradict.

    ``code`` is one of :data:`AMOUNT_FINDING_CODES`; ``path`` locates the stated amount
    (``lines[2].line_total``, ``payable_amount``...); ``stated`` is what the document says,
    ``computed`` what its other stated amounts give (rounded to the currency's minor unit).
    """

    code: str
    path: str
    message: str
    stated: Decimal
    computed: Decimal


AMOUNT_FINDING_CODES = (
    "line_amount",
    "lines_total",
    "allowance_total",
    "charge_total",
    "tax_exclusive_total",
    "tax_total",
    "gross_total",
    "payable_amount",
    "po_total",
)


def _round(value, currency, stated):
    """``value`` rounded half-up to the currency's minor unit, or finer when ``stated`` is."""
    places = max(currency_decimals(currency), -min(stated.as_tuple().exponent, 0))
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _compare(findings, code, path, stated, computed, currency, what):
    """Append a finding when ``stated`` (not None) differs from the rounded ``computed``."""
    if stated is None or computed is None:
        return
    rounded = _round(computed, currency, stated)
    if rounded != stated:
        findings.append(
            AmountFinding(
                code=code,
                path=path,
                message=f"{path} states {stated}, {what} give {rounded}",
                stated=stated,
                computed=rounded,
            )
        )


class CanonicalDocument:
    """Behaviour shared by the top-level canonical documents."""

    doc_type: ClassVar[str] = ""
    schema_version: ClassVar[str] = SCHEMA_VERSION

    def natural_key(self):
        """Stable business key of this document (idempotency / de-duplication)."""
        raise NotImplementedError

    def correlation_keys(self):
        """Keys of the business objects this document relates to (sorted, unique)."""
        return []

    def dependencies(self):
        """Keys that must have been processed before this document can be applied."""
        return []

    def to_dict(self):
        """JSON-safe dict: Decimals as strings, dates ISO, with ``doc_type`` and version."""
        return {
            "doc_type": self.doc_type,
            "schema_version": SCHEMA_VERSION,
            **dump(self),
        }

    def _check(self, path):
        """Cross-field rules; returns a list of error dicts (empty when valid)."""
        return []


def _unique(keys):
    return sorted({k for k in keys if k})


def _check_line_numbers(lines, path, attr="line_number"):
    errors = []
    seen = set()
    for index, line in enumerate(lines):
        number = getattr(line, attr)
        if number is None:
            continue
        if number in seen:
            errors.append(error(f"{path}[{index}].{attr}", "format", f"duplicate line {number}"))
        seen.add(number)
    return errors


# ---------------------------------------------------------------------------------------
# Building blocks
# ---------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Identifier:
    """An identifier of a party in a given scheme (GLN, DUNS, VAT, SOURCE...)."""

    scheme: str = fld(required=True, pattern=SCHEME_PATTERN, description="GLN, DUNS...")
    value: str = fld(required=True, max_length=128)

    def key(self):
        return f"{party_scheme(self.scheme).lower()}={self.value}"


@dataclass(kw_only=True)
class Address:
    """A postal address."""

    street: str = fld(max_length=256)
    street2: str = fld(max_length=256)
    city: str = fld(max_length=128)
    state: str = fld(max_length=64, description="State / region code or name")
    zip: str = fld(max_length=32)
    country_code: str = fld(pattern=COUNTRY_PATTERN, description="ISO 3166-1 alpha-2")


@dataclass(kw_only=True)
class Party:
    """A vendor, buyer, facility or remit-to party."""

    identifiers: list[Identifier] = fld(list)
    name: str = fld(max_length=256)
    address: Address = fld()
    email: str = fld(max_length=256)
    phone: str = fld(max_length=64)

    def identifier(self, scheme):
        """Value of the first identifier in ``scheme`` or one of its aliases (or ``None``)."""
        for ident in self.identifiers:
            if party_scheme(ident.scheme) == scheme:
                return ident.value
        return None

    def key(self):
        """``"<scheme>=<value>"`` of the most global identifier, else the name.

        The name fallback keeps keys computable for documents (e.g. 820 payees) that name
        a party without an id; such keys are only stable for one sender.
        """
        for scheme in KEY_SCHEME_PRIORITY:
            value = self.identifier(scheme)
            if value:
                return f"{scheme.lower()}={value}"
        if self.identifiers:
            return min(i.key() for i in self.identifiers)
        return f"name={' '.join((self.name or '').split()).casefold()}"

    def _check(self, path):
        if not self.identifiers and not self.name:
            return [error(path, "required", "a party needs an identifier or a name")]
        return []


@dataclass(kw_only=True)
class ItemRef:
    """How a document line designates an item: any of these may be present."""

    gtin: str = fld(pattern=GTIN_PATTERN, description="GTIN-8/12/13/14 (UPC, EAN)")
    vendor_part_number: str = fld(max_length=64)
    buyer_part_number: str = fld(max_length=64)
    manufacturer_part_number: str = fld(max_length=64)
    hibc: str = fld(max_length=64, description="HIBC LIC product code")
    ndc: str = fld(max_length=16, description="US National Drug Code (X12 N4)")
    description: str = fld(max_length=1024)

    def key(self):
        """Most specific identifier for keys: GTIN, buyer, vendor then manufacturer part."""
        for attr, label in (
            ("gtin", "gtin"),
            ("buyer_part_number", "bpn"),
            ("vendor_part_number", "vpn"),
            ("manufacturer_part_number", "mpn"),
            ("hibc", "hibc"),
            ("ndc", "ndc"),
        ):
            value = getattr(self, attr)
            if value:
                return f"{label}={value}"
        return None

    def _check(self, path):
        if not any(
            (
                self.gtin,
                self.vendor_part_number,
                self.buyer_part_number,
                self.manufacturer_part_number,
                self.hibc,
                self.ndc,
                self.description,
            )
        ):
            return [error(path, "required", "an item needs an identifier or description")]
        return []


@dataclass(kw_only=True)
class TaxLine:
    """A tax applied to a line or a tax subtotal of a document."""

    tax_type: str = fld("VAT", max_length=32, description="VAT, GST, sales tax...")
    category: str = fld(max_length=32, description="UNCL5305 category: S, Z, E, AE...")
    rate: Decimal = fld(minimum=0, description="Percent, e.g. 25 for 25%")
    taxable_amount: Decimal = fld()
    amount: Decimal = fld(
        description="Tax amount; absent when a line only states its tax category and rate"
    )
    exemption_reason: str = fld(max_length=256, description="Why exempt (E, AE, K, G, O)")


@dataclass(kw_only=True)
class AllowanceCharge:
    """A document-level or line-level allowance (discount) or charge (freight...)."""

    is_charge: bool = fld(required=True)
    amount: Decimal = fld(required=True, minimum=0)
    reason_code: str = fld(max_length=16)
    reason: str = fld(max_length=256)
    taxes: list[TaxLine] = fld(list, description="Tax category and rate of the amount")


# ---------------------------------------------------------------------------------------
# Master data
# ---------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class BankAccount:
    """Supplier bank details (encrypted and masked once stored in Odoo)."""

    iban: str = fld(max_length=34, pattern=r"^[A-Z]{2}\d{2}[A-Z0-9]{1,30}$")
    account_number: str = fld(max_length=64)
    routing_number: str = fld(max_length=32, description="ABA routing / sort code")
    bic: str = fld(pattern=r"^[A-Z0-9]{8}([A-Z0-9]{3})?$")
    holder_name: str = fld(max_length=256)

    def _check(self, path):
        if not (self.iban or self.account_number):
            return [error(path, "required", "iban or account_number is required")]
        return []


# Credential types a vendor master may carry (``hc.vendor.credential``'s types).
CREDENTIAL_TYPES = ("licence", "insurance", "tax_form", "quality", "other")


@dataclass(kw_only=True)
class VendorCredential:
    """A credential of the vendor (licence, insurance, W-9, quality certification): the
    vendor's credential of that type and number is created or updated from it."""

    credential_type: str = fld(required=True, enum=CREDENTIAL_TYPES)
    number: str = fld(required=True, max_length=128, description="Licence/policy/certificate no.")
    issuer: str = fld(max_length=256, description="Licensing board, insurer, certifier")
    valid_from: date = fld()
    valid_to: date = fld(description="Empty: does not expire")

    def _check(self, path):
        if self.valid_from and self.valid_to and self.valid_from > self.valid_to:
            return [error(f"{path}.valid_to", "range", "ends before it starts")]
        return []


@dataclass(kw_only=True)
class Vendor(CanonicalDocument):
    """Vendor master record."""

    doc_type: ClassVar[str] = "vendor"

    identifiers: list[Identifier] = fld(list, required=True, min_items=1)
    name: str = fld(required=True, max_length=256)
    legal_name: str = fld(max_length=256)
    address: Address = fld()
    email: str = fld(max_length=256)
    phone: str = fld(max_length=64)
    currency: str = fld(pattern=CURRENCY_PATTERN)
    payment_terms: str = fld(max_length=64)
    category: str = fld(max_length=64, description="Vendor category for routing")
    bank_accounts: list[BankAccount] = fld(list)
    credentials: list[VendorCredential] = fld(
        list, description="Credentials (type + number identify one; expired ones hold the vendor)"
    )
    active: bool = fld(True)

    @property
    def party(self):
        """The vendor as a :class:`Party` (for key computation)."""
        return Party(identifiers=self.identifiers, name=self.name, address=self.address)

    def natural_key(self):
        return f"vendor:{self.party.key()}"

    def correlation_keys(self):
        # Every identifier: a document naming the vendor by DUNS finds a GLN-keyed vendor.
        return _unique(f"vendor:{i.key()}" for i in self.identifiers)

    def _check(self, path):
        errors = []
        seen = set()
        for index, ident in enumerate(self.identifiers):
            if (ident.scheme, ident.value) in seen:
                errors.append(error(f"identifiers[{index}]", "format", "duplicate identifier"))
            seen.add((ident.scheme, ident.value))
        credentials = set()
        for index, cred in enumerate(self.credentials):
            if (cred.credential_type, cred.number) in credentials:
                errors.append(error(f"credentials[{index}]", "format", "duplicate credential"))
            credentials.add((cred.credential_type, cred.number))
        return errors


@dataclass(kw_only=True)
class Item(CanonicalDocument):
    """Item master record (a product the hospital buys)."""

    doc_type: ClassVar[str] = "item"

    gtin: str = fld(pattern=GTIN_PATTERN)
    vendor_part_number: str = fld(max_length=64)
    buyer_part_number: str = fld(max_length=64)
    manufacturer_part_number: str = fld(max_length=64)
    hibc: str = fld(max_length=64, description="HIBC LIC product code")
    ndc: str = fld(max_length=16, description="US National Drug Code")
    description: str = fld(required=True, max_length=1024)
    vendor: Party = fld()
    manufacturer: str = fld(max_length=256)
    uom: str = fld(required=True, pattern=UOM_PATTERN, description="Unit of use/purchase")
    pack_factor: Decimal = fld(
        Decimal(1), exclusive_minimum=0, description="Units of use in one purchase unit"
    )
    base_uom: str = fld(pattern=UOM_PATTERN, description="Unit the pack factor counts")
    category: str = fld(max_length=128)
    unspsc: str = fld(pattern=r"^\d{8}$")
    critical: bool = fld(False, description="Critical supply: receipts go to fast lane")
    lot_tracked: bool = fld(False, description="Lot and expiry required on receipt")
    serial_tracked: bool = fld(False)
    active: bool = fld(True)

    @property
    def item_ref(self):
        return ItemRef(
            gtin=self.gtin,
            vendor_part_number=self.vendor_part_number,
            buyer_part_number=self.buyer_part_number,
            manufacturer_part_number=self.manufacturer_part_number,
            hibc=self.hibc,
            ndc=self.ndc,
        )

    def natural_key(self):
        ref = self.item_ref
        if self.gtin or self.buyer_part_number:
            return f"item:{ref.key()}"
        # A vendor part number is only unique within that vendor's catalogue.
        vendor = self.vendor.key() if self.vendor else "unknown"
        return f"item:{vendor}:{ref.key()}"

    def correlation_keys(self):
        keys = [f"item:{label}={value}" for label, value in self._ids()]
        if self.vendor:
            keys.append(f"vendor:{self.vendor.key()}")
        return _unique(keys)

    def _ids(self):
        return [
            (label, value)
            for label, value in (
                ("gtin", self.gtin),
                ("bpn", self.buyer_part_number),
                ("mpn", self.manufacturer_part_number),
                ("hibc", self.hibc),
                ("ndc", self.ndc),
            )
            if value
        ]

    def _check(self, path):
        if not (
            self.gtin
            or self.buyer_part_number
            or self.vendor_part_number
            or self.manufacturer_part_number
            or self.hibc
            or self.ndc
        ):
            return [
                error(
                    "gtin",
                    "required",
                    "one of gtin, buyer_part_number, vendor_part_number, "
                    "manufacturer_part_number, hibc, ndc is required",
                )
            ]
        return []


@dataclass(kw_only=True)
class ContractPrice(CanonicalDocument):
    """A contract (GPO / local agreement) price of an item from a vendor."""

    doc_type: ClassVar[str] = "contract_price"

    contract_reference: str = fld(required=True, max_length=64)
    vendor: Party = fld(required=True)
    item: ItemRef = fld(required=True)
    price: Decimal = fld(required=True, minimum=0)
    currency: str = fld(required=True, pattern=CURRENCY_PATTERN)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    min_quantity: Decimal = fld(minimum=0)
    date_start: date = fld(required=True)
    date_end: date = fld()
    facilities: list[Party] = fld(
        list,
        description="The facilities (GLN, HIN, DEA...) the price is restricted to; "
        "empty: every facility of the company",
    )

    def facility_key(self):
        """The facilities' keys, sorted and joined (``""`` when unrestricted)."""
        return ",".join(sorted({party.key() for party in self.facilities}))

    def natural_key(self):
        parts = [
            "contract_price",
            self.vendor.key(),
            self.contract_reference,
            self.item.key() or "",
            self.uom,
            self.date_start.isoformat(),
        ]
        if self.min_quantity:
            parts.append(f"min={self.min_quantity.normalize():f}")
        if self.facilities:
            # the same tier may be priced differently for two groups of members
            parts.append(f"at={self.facility_key()}")
        return ":".join(parts)

    def correlation_keys(self):
        keys = [f"vendor:{self.vendor.key()}", f"contract:{self.contract_reference}"]
        if self.item.key():
            keys.append(f"item:{self.item.key()}")
        # The price itself first (the message's correlation key): messages are ordered
        # per price, so that one price waiting (for its item, a facility) does not hold
        # back the other prices of its contract a catalog brings.
        return [self.natural_key(), *_unique(keys)]

    def _check(self, path):
        if self.date_end and self.date_end < self.date_start:
            return [error("date_end", "range", "must not be before date_start")]
        return []

    def is_valid_on(self, day):
        """Whether the price applies on ``day`` (both bounds inclusive)."""
        return self.date_start <= day and (self.date_end is None or day <= self.date_end)


# ---------------------------------------------------------------------------------------
# Purchase order and acknowledgment
# ---------------------------------------------------------------------------------------

PO_APPROVAL_STATUSES = ("draft", "pending", "approved", "rejected", "cancelled")
PO_PURPOSES = ("original", "change", "cancel")
# What a change order does to a line (X12 860 POC02, UBL OrderChange LineStatusCode).
PO_LINE_CHANGES = ("add", "change", "delete", "unchanged")


@dataclass(kw_only=True)
class PurchaseOrderLine:
    """A purchase order line."""

    line_number: str = fld(required=True, max_length=32)
    item: ItemRef = fld(required=True)
    quantity: Decimal = fld(required=True, exclusive_minimum=0)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    unit_price: Decimal = fld(minimum=0)
    requested_date: date = fld()
    contract_reference: str = fld(max_length=64)
    critical: bool = fld(False)
    change_code: str = fld(
        enum=PO_LINE_CHANGES, description="Change orders: what the change does to this line"
    )
    note: str = fld(max_length=512, description="Free text for the supplier")


@dataclass(kw_only=True)
class PurchaseOrder(CanonicalDocument):
    """Purchase order sent by a sourcing system."""

    doc_type: ClassVar[str] = "purchase_order"

    number: str = fld(required=True, max_length=64)
    order_date: date = fld(required=True)
    purpose: str = fld("original", enum=PO_PURPOSES)
    currency: str = fld(pattern=CURRENCY_PATTERN)
    vendor: Party = fld(required=True)
    buyer: Party = fld()
    ship_to: Party = fld(description="Receiving facility (GLN)")
    bill_to: Party = fld()
    approval_status: str = fld("approved", enum=PO_APPROVAL_STATUSES)
    contract_reference: str = fld(max_length=64)
    payment_terms: str = fld(max_length=128)
    requested_date: date = fld()
    total_amount: Decimal = fld(minimum=0, description="Total as stated by the sender")
    lines: list[PurchaseOrderLine] = fld(list, required=True, min_items=1)
    revision: str = fld(
        pattern=r"^\d{1,8}$",
        description="Change orders: sequence number of the change (X12 BCH05, cXML "
        "orderVersion, UBL SequenceNumberID)",
    )
    change_date: date = fld(description="Change orders and cancellations: when issued")
    note: str = fld(max_length=1024, description="Free text, e.g. why the order is cancelled")

    def natural_key(self):
        return f"purchase_order:{self.number}"

    def correlation_keys(self):
        keys = [self.natural_key(), f"vendor:{self.vendor.key()}"]
        if self.contract_reference:
            keys.append(f"contract:{self.contract_reference}")
        return _unique(keys)

    def lines_total(self):
        """Sum of quantity x unit price of the priced lines."""
        return sum(
            (ln.quantity * ln.unit_price for ln in self.lines if ln.unit_price is not None),
            Decimal(0),
        )

    def amount_findings(self):
        """``[AmountFinding]``: the stated total against quantity x unit price of the lines.

        Only checked when the total is stated and every line is priced.
        """
        findings = []
        if all(ln.unit_price is not None for ln in self.lines):
            _compare(
                findings,
                "po_total",
                "total_amount",
                self.total_amount,
                self.lines_total(),
                self.currency,
                "quantity x unit price of the lines",
            )
        return findings

    def _check(self, path):
        return _check_line_numbers(self.lines, "lines")


ACK_STATUSES = ("accepted", "accepted_with_changes", "rejected")
ACK_LINE_STATUSES = ("accept", "change", "reject", "backorder")


@dataclass(kw_only=True)
class PoAckLine:
    """The supplier's answer for one PO line."""

    line_number: str = fld(required=True, max_length=32, description="PO line ref")
    status: str = fld(required=True, enum=ACK_LINE_STATUSES)
    item: ItemRef = fld()
    ordered_quantity: Decimal = fld(minimum=0)
    quantity: Decimal = fld(minimum=0, description="New (confirmed) quantity")
    uom: str = fld(pattern=UOM_PATTERN)
    unit_price: Decimal = fld(minimum=0, description="New (confirmed) unit price")
    scheduled_date: date = fld(description="New (confirmed) delivery date")
    reason: str = fld(max_length=256)


@dataclass(kw_only=True)
class PoAck(CanonicalDocument):
    """Purchase order acknowledgment (X12 855 / JSON)."""

    doc_type: ClassVar[str] = "po_ack"

    po_number: str = fld(required=True, max_length=64)
    ack_number: str = fld(max_length=64)
    ack_date: date = fld(required=True)
    status: str = fld(required=True, enum=ACK_STATUSES)
    vendor: Party = fld()
    buyer: Party = fld()
    currency: str = fld(pattern=CURRENCY_PATTERN)
    lines: list[PoAckLine] = fld(list)

    def natural_key(self):
        return f"po_ack:{self.po_number}:{self.ack_number or self.ack_date.isoformat()}"

    def correlation_keys(self):
        return [f"purchase_order:{self.po_number}"]

    def dependencies(self):
        return [f"purchase_order:{self.po_number}"]

    def _check(self, path):
        errors = _check_line_numbers(self.lines, "lines")
        for index, line in enumerate(self.lines):
            if line.status == "change" and (
                line.quantity is None and line.unit_price is None and line.scheduled_date is None
            ):
                errors.append(
                    error(
                        f"lines[{index}]",
                        "required",
                        "a changed line needs a new quantity, unit_price or scheduled_date",
                    )
                )
        return errors


# ---------------------------------------------------------------------------------------
# Logistics
# ---------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class ShipNoticeLine:
    """A shipped item, with its traceability data."""

    line_number: str = fld(required=True, max_length=32)
    po_number: str = fld(max_length=64, description="When the ASN covers several POs")
    po_line_ref: str = fld(max_length=32)
    item: ItemRef = fld(required=True)
    quantity: Decimal = fld(required=True, minimum=0)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    ordered_quantity: Decimal = fld(minimum=0)
    lot: str = fld(max_length=20, description="GS1 AI (10)")
    expiry_date: date = fld(description="GS1 AI (17)")
    serials: list[str] = fld(list, max_length=20, description="GS1 AI (21)")


@dataclass(kw_only=True)
class ShipNotice(CanonicalDocument):
    """Advance ship notice (X12 856 / JSON)."""

    doc_type: ClassVar[str] = "ship_notice"

    asn_number: str = fld(required=True, max_length=64)
    po_number: str = fld(required=True, max_length=64)
    ship_date: date = fld(required=True)
    expected_delivery_date: date = fld()
    vendor: Party = fld()
    ship_from: Party = fld()
    ship_to: Party = fld()
    carrier: str = fld(max_length=128)
    tracking_number: str = fld(max_length=128)
    lines: list[ShipNoticeLine] = fld(list, required=True, min_items=1)

    def po_numbers(self):
        """All PO numbers the shipment covers."""
        return _unique([self.po_number, *(ln.po_number for ln in self.lines)])

    def natural_key(self):
        # An ASN number is unique per vendor and a PO has one vendor: PO + ASN is global.
        return f"ship_notice:{self.po_number}:{self.asn_number}"

    def correlation_keys(self):
        return [f"purchase_order:{n}" for n in self.po_numbers()]

    def dependencies(self):
        return [f"purchase_order:{n}" for n in self.po_numbers()]

    def total_quantity(self):
        """Sum of shipped quantities (what X12 CTT02 states)."""
        return sum((ln.quantity for ln in self.lines), Decimal(0))

    def _check(self, path):
        errors = []
        for index, line in enumerate(self.lines):
            if len(line.serials) != len(set(line.serials)):
                errors.append(
                    error(f"lines[{index}].serials", "format", "duplicate serial numbers")
                )
        return errors


@dataclass(kw_only=True)
class ReceiptLine:
    """A received PO line (partial receipts are normal)."""

    line_number: str = fld(required=True, max_length=32)
    po_line_ref: str = fld(max_length=32)
    item: ItemRef = fld(required=True)
    quantity_received: Decimal = fld(required=True, minimum=0)
    quantity_rejected: Decimal = fld(minimum=0)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    lot: str = fld(max_length=20)
    expiry_date: date = fld()
    serials: list[str] = fld(list, max_length=20)
    critical: bool = fld(False)
    reject_reason: str = fld(max_length=256)


@dataclass(kw_only=True)
class Receipt(CanonicalDocument):
    """Goods receipt posted by a warehouse / facility receiving system."""

    doc_type: ClassVar[str] = "receipt"

    receipt_id: str = fld(required=True, max_length=64)
    po_number: str = fld(required=True, max_length=64)
    asn_number: str = fld(max_length=64)
    facility: Party = fld(required=True, description="Receiving facility (GLN)")
    received_date: date = fld(required=True)
    received_by: str = fld(max_length=128)
    lines: list[ReceiptLine] = fld(list, required=True, min_items=1)

    def natural_key(self):
        return f"receipt:{self.po_number}:{self.receipt_id}"

    def correlation_keys(self):
        keys = [f"purchase_order:{self.po_number}"]
        if self.asn_number:
            keys.append(f"ship_notice:{self.po_number}:{self.asn_number}")
        return _unique(keys)

    def dependencies(self):
        return [f"purchase_order:{self.po_number}"]

    @property
    def is_critical(self):
        """Whether any line is a critical item (real-time lane)."""
        return any(line.critical for line in self.lines)

    def _check(self, path):
        return _check_line_numbers(self.lines, "lines")


# ---------------------------------------------------------------------------------------
# Finance
# ---------------------------------------------------------------------------------------

MOVE_TYPES = ("invoice", "credit_note")


@dataclass(kw_only=True)
class InvoiceLine:
    """An invoice (or credit note) line."""

    line_number: str = fld(required=True, max_length=32)
    po_number: str = fld(max_length=64)
    po_line_ref: str = fld(max_length=32)
    item: ItemRef = fld(required=True)
    quantity: Decimal = fld(required=True)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    unit_price: Decimal = fld(required=True, minimum=0)
    price_base_quantity: Decimal = fld(Decimal(1), exclusive_minimum=0)
    allowance_charges: list[AllowanceCharge] = fld(list)
    line_total: Decimal = fld(description="Net line amount (after line allowances)")
    taxes: list[TaxLine] = fld(list)

    def computed_total(self):
        """quantity x unit price / base quantity, plus line charges, minus allowances."""
        total = self.quantity * self.unit_price / (self.price_base_quantity or 1)
        for ac in self.allowance_charges:
            total += ac.amount if ac.is_charge else -ac.amount
        return total


@dataclass(kw_only=True)
class Invoice(CanonicalDocument):
    """Supplier invoice or credit note."""

    doc_type: ClassVar[str] = "invoice"

    number: str = fld(required=True, max_length=64)
    move_type: str = fld("invoice", enum=MOVE_TYPES)
    issue_date: date = fld(required=True)
    due_date: date = fld()
    currency: str = fld(required=True, pattern=CURRENCY_PATTERN)
    vendor: Party = fld(required=True)
    buyer: Party = fld()
    ship_to: Party = fld()
    remit_to: Party = fld()
    po_numbers: list[str] = fld(list, max_length=64)
    original_invoice_number: str = fld(max_length=64, description="Credit notes")
    payment_terms: str = fld(max_length=128)
    lines: list[InvoiceLine] = fld(list, required=True, min_items=1)
    allowance_charges: list[AllowanceCharge] = fld(list)
    taxes: list[TaxLine] = fld(list, description="Tax subtotals")
    net_total: Decimal = fld(description="Sum of line totals")
    allowance_total: Decimal = fld(minimum=0)
    charge_total: Decimal = fld(minimum=0)
    tax_exclusive_total: Decimal = fld(
        description="Total without tax: net_total - allowance_total + charge_total"
    )
    tax_total: Decimal = fld()
    gross_total: Decimal = fld(required=True, description="Total including tax")
    prepaid_amount: Decimal = fld()
    rounding_amount: Decimal = fld(description="Added to the total to round the amount due")
    payable_amount: Decimal = fld()

    @property
    def is_credit_note(self):
        return self.move_type == "credit_note"

    def all_po_numbers(self):
        """PO numbers referenced in the header or on any line."""
        return _unique([*self.po_numbers, *(ln.po_number for ln in self.lines)])

    def natural_key(self):
        # Credit notes may share a number with an invoice of the same vendor.
        kind = ":credit_note" if self.is_credit_note else ""
        return f"invoice:{self.vendor.key()}{kind}:{self.number}"

    def correlation_keys(self):
        keys = [f"purchase_order:{n}" for n in self.all_po_numbers()]
        keys.append(f"vendor:{self.vendor.key()}")
        if self.original_invoice_number:
            keys.append(f"invoice:{self.vendor.key()}:{self.original_invoice_number}")
        return _unique(keys)

    def dependencies(self):
        # The original invoice of a credit note is only correlated, not awaited: it may
        # predate the integration (paper) and the credit must not park forever.
        return [f"purchase_order:{n}" for n in self.all_po_numbers()]

    def amount_findings(self):
        """``[AmountFinding]``: where the document's own stated amounts disagree.

        Checks, each only when the amounts involved are stated (``None`` is not checked):
        every line's quantity x unit price / base quantity + charges - allowances against
        its ``line_total``; the line totals against ``net_total``; the document allowances
        and charges against ``allowance_total`` / ``charge_total``; ``net_total -
        allowance_total + charge_total`` against ``tax_exclusive_total``; the tax subtotals
        that state an amount against ``tax_total``; the amount without tax plus
        ``tax_total`` against ``gross_total``; ``gross_total - prepaid_amount +
        rounding_amount`` against ``payable_amount``.  Computed values are rounded to the
        currency's minor unit (or to the stated value's decimals when finer) first.
        A due date before the issue date is not an amount: see the parsers' issues.
        """
        cur = self.currency
        findings = []
        line_totals = []
        for index, line in enumerate(self.lines):
            computed = line.computed_total()
            _compare(
                findings,
                "line_amount",
                f"lines[{index}].line_total",
                line.line_total,
                computed,
                cur,
                "quantity x unit price / base quantity + charges - allowances",
            )
            line_totals.append(
                line.line_total
                if line.line_total is not None
                else _round(computed, cur, Decimal(0))
            )
        _compare(
            findings,
            "lines_total",
            "net_total",
            self.net_total,
            sum(line_totals, Decimal(0)),
            cur,
            "the line totals",
        )
        allowances = sum(
            (ac.amount for ac in self.allowance_charges if not ac.is_charge), Decimal(0)
        )
        charges = sum((ac.amount for ac in self.allowance_charges if ac.is_charge), Decimal(0))
        _compare(
            findings,
            "allowance_total",
            "allowance_total",
            self.allowance_total,
            allowances,
            cur,
            "the document allowances",
        )
        _compare(
            findings,
            "charge_total",
            "charge_total",
            self.charge_total,
            charges,
            cur,
            "the document charges",
        )
        without_tax = None
        if self.net_total is not None:
            without_tax = (
                self.net_total
                - (self.allowance_total if self.allowance_total is not None else allowances)
                + (self.charge_total if self.charge_total is not None else charges)
            )
            _compare(
                findings,
                "tax_exclusive_total",
                "tax_exclusive_total",
                self.tax_exclusive_total,
                without_tax,
                cur,
                "net_total - allowance_total + charge_total",
            )
        if self.tax_exclusive_total is not None:
            without_tax = self.tax_exclusive_total
        stated_taxes = [t.amount for t in self.taxes if t.amount is not None]
        if stated_taxes:
            _compare(
                findings,
                "tax_total",
                "tax_total",
                self.tax_total,
                sum(stated_taxes, Decimal(0)),
                cur,
                "the tax subtotals",
            )
        tax = self.tax_total
        if tax is None and not self.taxes:
            tax = Decimal(0)  # a document that states no tax at all
        if without_tax is not None and tax is not None:
            _compare(
                findings,
                "gross_total",
                "gross_total",
                self.gross_total,
                without_tax + tax,
                cur,
                "the amount without tax + tax_total",
            )
        _compare(
            findings,
            "payable_amount",
            "payable_amount",
            self.payable_amount,
            self.gross_total - (self.prepaid_amount or 0) + (self.rounding_amount or 0),
            cur,
            "gross_total - prepaid_amount + rounding_amount",
        )
        return findings

    def _check(self, path):
        errors = _check_line_numbers(self.lines, "lines")
        # A due date before the issue date is a data-quality issue (formats.parse), never
        # a reason to refuse an invoice the supplier has legally issued.
        if self.original_invoice_number and not self.is_credit_note:
            errors.append(
                error(
                    "original_invoice_number",
                    "format",
                    "only a credit note references an original invoice",
                )
            )
        return errors


PAYMENT_STATUSES = ("paid", "rejected", "hold", "scheduled")


@dataclass(kw_only=True)
class PaymentInvoiceRef:
    """An invoice settled (or held...) by a payment, from the remittance detail."""

    invoice_number: str = fld(required=True, max_length=64)
    amount_paid: Decimal = fld()
    amount_invoiced: Decimal = fld()
    discount_amount: Decimal = fld()
    po_number: str = fld(max_length=64)
    invoice_date: date = fld()


@dataclass(kw_only=True)
class Payment(CanonicalDocument):
    """Payment status from AP, a bank or treasury (X12 820 / JSON / bank batch)."""

    doc_type: ClassVar[str] = "payment"

    payment_id: str = fld(required=True, max_length=64)
    status: str = fld(required=True, enum=PAYMENT_STATUSES)
    vendor: Party = fld(description="Payee")
    payer: Party = fld()
    amount: Decimal = fld(required=True, minimum=0)
    currency: str = fld(required=True, pattern=CURRENCY_PATTERN)
    payment_date: date = fld(required=True)
    method: str = fld(max_length=32, description="check, ach, wire...")
    reason: str = fld(max_length=512)
    invoices: list[PaymentInvoiceRef] = fld(list)

    def natural_key(self):
        # Each status of a payment (scheduled, then paid) is its own document.
        return f"payment:{self.payment_id}:{self.status}"

    def correlation_keys(self):
        # Payees are often identified differently by banks than by the AP feed, so the
        # invoices are correlated by number and the processor resolves them per vendor.
        keys = [f"payment:{self.payment_id}"]
        keys += [f"invoice_number:{ref.invoice_number}" for ref in self.invoices]
        keys += [f"purchase_order:{ref.po_number}" for ref in self.invoices if ref.po_number]
        if self.vendor:
            keys.append(f"vendor:{self.vendor.key()}")
        return _unique(keys)

    def remitted_total(self):
        """Sum of the amounts paid per invoice."""
        return sum((r.amount_paid for r in self.invoices if r.amount_paid is not None), Decimal(0))

    def _check(self, path):
        if self.status in ("rejected", "hold") and not self.reason:
            return [error("reason", "required", f"a {self.status} payment needs a reason")]
        return []


# ---------------------------------------------------------------------------------------
# Hospital supply chain: inter-facility transfers, stock adjustments, recalls
# ---------------------------------------------------------------------------------------

TRANSFER_EVENTS = ("requested", "shipped", "received")
ADJUSTMENT_REASONS = ("count", "correction", "wastage", "expired", "damaged")
# Reasons whose quantity leaves stock for good (Odoo scrap); ``count`` sets the counted
# quantity, ``correction`` adds a signed quantity.
SCRAP_REASONS = ("wastage", "expired", "damaged")
RECALL_CLASSIFICATIONS = ("class_i", "class_ii", "class_iii", "market_withdrawal", "safety_notice")


@dataclass(frozen=True)
class LotTrace:
    """What a line says about the unit it designates: its own fields, completed by its
    GS1 / HIBC UDI (``normalize.gs1``).  ``issues`` are the UDI's data-quality defects."""

    gtin: str | None
    lot: str | None
    expiry: date | None
    serial: str | None
    issues: tuple = ()


def read_udi(udi):
    """``BarcodeData`` of a GS1 (AI 01/10/17/21) or HIBC string; raises ``BarcodeError``."""
    return parse_barcode(udi)


class _TracedLine:
    """Lines that designate lots: ``lot``, ``expiry_date``, ``serials`` and ``udi``.

    A UDI (GS1 element string, bracketed or raw, or HIBC) fills in what the line does
    not state; a UDI that contradicts the stated lot, expiry or GTIN is an error, as is
    one that cannot be read.
    """

    def trace(self):
        lot, expiry, serials = self.lot, self.expiry_date, list(self.serials or ())
        gtin = self.item.gtin if self.item else None
        if not self.udi:
            return LotTrace(gtin, lot, expiry, serials[0] if len(serials) == 1 else None)
        data = read_udi(self.udi)
        return LotTrace(
            gtin or data.gtin,
            lot or data.lot,
            expiry or data.expiry,
            (serials[0] if len(serials) == 1 else None) or data.serial,
            tuple(data.issues),
        )

    def _check_trace(self, path):
        errors = []
        if not self.item and not self.udi:
            errors.append(error(f"{path}.item", "required", "a line needs an item or a UDI"))
        if not self.udi:
            return errors
        try:
            data = read_udi(self.udi)
        except BarcodeError as exc:
            return [*errors, error(f"{path}.udi", "format", f"unreadable UDI: {exc}")]
        gtin = self.item.gtin if self.item else None
        for name, stated, read in (
            ("lot", self.lot, data.lot),
            ("expiry_date", self.expiry_date, data.expiry),
            ("item.gtin", gtin and gtin.zfill(14), data.gtin),
        ):
            if stated and read and stated != read:
                errors.append(
                    error(f"{path}.{name}", "format", f"{stated} contradicts the UDI ({read})")
                )
        if not (data.lot or data.serial or self.lot or self.serials):
            errors.append(error(f"{path}.udi", "format", "the UDI names no lot or serial"))
        return errors


@dataclass(kw_only=True)
class StockTransferLine(_TracedLine):
    """An item moved between facilities, with its lot (or serials) and expiry."""

    line_number: str = fld(required=True, max_length=32)
    item: ItemRef = fld()
    quantity: Decimal = fld(required=True, minimum=0)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    lot: str = fld(max_length=64, description="GS1 AI (10)")
    expiry_date: date = fld(description="GS1 AI (17)")
    serials: list[str] = fld(list, max_length=64, description="GS1 AI (21)")
    udi: str = fld(max_length=256, description="GS1 element string or HIBC of the unit")

    def _check(self, path):
        return self._check_trace(path)


@dataclass(kw_only=True)
class StockTransfer(CanonicalDocument):
    """One event (requested, shipped, received) of a transfer between two facilities.

    A facility is a warehouse (by GLN of its address, or its code) of a company of the
    network; between two warehouses of one company the transfer is internal, between two
    companies it goes through the inter-company transit location.  The three events of
    one ``transfer_id`` share its correlation key; a receipt waits for its shipment.
    """

    doc_type: ClassVar[str] = "stock_transfer"

    transfer_id: str = fld(required=True, max_length=64)
    event: str = fld(required=True, enum=TRANSFER_EVENTS)
    event_date: date = fld(required=True)
    from_facility: Party = fld(required=True, description="Shipping facility (GLN or code)")
    to_facility: Party = fld(required=True, description="Receiving facility (GLN or code)")
    reference: str = fld(max_length=128, description="The facility system's own reference")
    carrier: str = fld(max_length=128)
    tracking_number: str = fld(max_length=128)
    lines: list[StockTransferLine] = fld(list, required=True, min_items=1)

    def natural_key(self):
        return f"stock_transfer:{self.transfer_id}:{self.event}"

    def correlation_keys(self):
        return [f"stock_transfer:{self.transfer_id}"]

    def dependencies(self):
        if self.event == "received":
            return [f"stock_transfer:{self.transfer_id}:shipped"]
        return []

    def _check(self, path):
        errors = _check_line_numbers(self.lines, "lines")
        if self.from_facility.key() == self.to_facility.key():
            errors.append(error("to_facility", "format", "a transfer needs two facilities"))
        return errors


@dataclass(kw_only=True)
class StockAdjustmentLine(_TracedLine):
    """A counted, corrected or written-off quantity of an item (lot) at a location."""

    line_number: str = fld(required=True, max_length=32)
    item: ItemRef = fld()
    reason: str = fld(required=True, enum=ADJUSTMENT_REASONS)
    quantity: Decimal = fld(
        required=True,
        description="count: the quantity counted; correction: the signed difference; "
        "wastage, expired, damaged: the quantity written off (positive)",
    )
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    location: str = fld(max_length=128, description="Location barcode or full name")
    lot: str = fld(max_length=64)
    expiry_date: date = fld()
    serials: list[str] = fld(list, max_length=64)
    udi: str = fld(max_length=256)
    note: str = fld(max_length=512)

    def _check(self, path):
        errors = self._check_trace(path)
        if self.reason != "correction" and self.quantity < 0:
            errors.append(
                error(f"{path}.quantity", "range", f"must not be negative for {self.reason}")
            )
        if self.reason in SCRAP_REASONS and self.quantity == 0:
            errors.append(error(f"{path}.quantity", "range", "nothing to write off"))
        return errors


@dataclass(kw_only=True)
class StockAdjustment(CanonicalDocument):
    """Counts and write-offs a facility system posts for its locations."""

    doc_type: ClassVar[str] = "stock_adjustment"

    adjustment_id: str = fld(required=True, max_length=64)
    facility: Party = fld(required=True, description="The facility (warehouse: GLN or code)")
    adjustment_date: date = fld(required=True)
    counted_by: str = fld(max_length=128)
    lines: list[StockAdjustmentLine] = fld(list, required=True, min_items=1)

    def natural_key(self):
        return f"stock_adjustment:{self.facility.key()}:{self.adjustment_id}"

    def _check(self, path):
        return _check_line_numbers(self.lines, "lines")


@dataclass(kw_only=True)
class Recall(CanonicalDocument):
    """A recall notice: an item and the lots (or UDIs, or a serial range) recalled."""

    doc_type: ClassVar[str] = "recall"

    recall_id: str = fld(required=True, max_length=64)
    item: ItemRef = fld(required=True)
    manufacturer: Party = fld()
    classification: str = fld(required=True, enum=RECALL_CLASSIFICATIONS)
    reason: str = fld(required=True, max_length=2048)
    issued_date: date = fld(required=True)
    lots: list[str] = fld(list, max_length=64)
    udis: list[str] = fld(list, max_length=256, description="GS1 or HIBC of recalled units")
    serial_first: str = fld(max_length=64, description="First serial of a recalled range")
    serial_last: str = fld(max_length=64, description="Last serial of a recalled range")

    def natural_key(self):
        return f"recall:{self.recall_id}"

    def correlation_keys(self):
        return _unique([f"item:{self.item.key()}" if self.item.key() else None])

    def lot_names(self):
        """Recalled lot and serial names: the lots stated and those the UDIs name."""
        names = list(self.lots)
        for udi in self.udis:
            data = read_udi(udi)
            names.extend(n for n in (data.lot, data.serial) if n)
        return sorted(set(names))

    def _check(self, path):
        errors = []
        for index, udi in enumerate(self.udis):
            try:
                data = read_udi(udi)
            except BarcodeError as exc:
                errors.append(error(f"udis[{index}]", "format", f"unreadable UDI: {exc}"))
                continue
            gtin = self.item.gtin
            if gtin and data.gtin and gtin.zfill(14) != data.gtin:
                errors.append(
                    error(f"udis[{index}]", "format", f"GTIN {data.gtin} is not the item's")
                )
            if not (data.lot or data.serial):
                errors.append(error(f"udis[{index}]", "format", "names no lot or serial"))
        if bool(self.serial_first) != bool(self.serial_last):
            errors.append(error("serial_last", "required", "a serial range needs both ends"))
        elif self.serial_first and not serial_in_range(
            self.serial_first, self.serial_first, self.serial_last
        ):
            errors.append(error("serial_last", "range", "the range is empty"))
        if not (self.lots or self.udis or self.serial_first):
            errors.append(error("lots", "required", "name the lots, UDIs or a serial range"))
        return errors


_SERIAL_PARTS = re.compile(r"^(.*?)(\d+)$")


def serial_in_range(serial, first, last):
    """Whether ``serial`` lies in ``first``..``last`` (inclusive).

    Serials with a common prefix and a numeric tail (``SN-00120``) compare by number, so
    ``SN-9`` < ``SN-10``; anything else compares as text of equal length.
    """
    parts = [_SERIAL_PARTS.match(s or "") for s in (serial, first, last)]
    if all(parts) and len({p.group(1) for p in parts}) == 1:
        low, value, high = (int(p.group(2)) for p in (parts[1], parts[0], parts[2]))
        return low <= value <= high
    if len({len(s) for s in (serial, first, last)}) == 1:
        return first <= serial <= last
    return False


# AK901/IK901 functional group status and AK501/IK501 set status (X12 997/999).
ACK_GROUP_STATUSES = ("A", "E", "P", "R", "M", "W", "X")


@dataclass(kw_only=True)
class AckedSet:
    """One transaction set of ours a 997/999 answers (AK2 with its AK5 / IK5)."""

    set_id: str = fld(required=True, pattern=r"^\d{3}$", description="AK201")
    control_number: str = fld(required=True, max_length=9, description="AK202 (our ST02)")
    status: str = fld(enum=ACK_GROUP_STATUSES, description="AK501 / IK501")
    codes: list[str] = fld(list, description="AK502-AK506 / IK502-IK506 error codes")


@dataclass(kw_only=True)
class FunctionalAck(CanonicalDocument):
    """A trading partner's 997 / 999 for one of our outbound interchanges.

    Matched to what was sent by the envelope's sender and receiver (the partner's ISA06
    is our ISA08) and the group control number it answers (AK102, our GS06).
    """

    doc_type: ClassVar[str] = "functional_ack"

    ack_set: str = fld(required=True, enum=("997", "999"))
    sender_qualifier: str = fld(max_length=2, description="ISA05 of the acknowledgment")
    sender_id: str = fld(required=True, max_length=15, description="ISA06: the partner")
    receiver_qualifier: str = fld(max_length=2, description="ISA07")
    receiver_id: str = fld(required=True, max_length=15, description="ISA08: us")
    interchange_control_number: str = fld(
        required=True, pattern=r"^\d{1,9}$", description="ISA13 of the acknowledgment"
    )
    functional_id: str = fld(max_length=2, description="AK101 (PO, IN, RA...)")
    group_control_number: int = fld(required=True, minimum=1, description="AK102")
    group_status: str = fld(required=True, enum=ACK_GROUP_STATUSES, description="AK901")
    sets: list[AckedSet] = fld(list)

    def natural_key(self):
        return (
            f"functional_ack:{self.sender_id}:{self.interchange_control_number}:"
            f"{self.group_control_number}"
        )

    def correlation_keys(self):
        return [f"interchange:{self.receiver_id}:{self.group_control_number}"]


# Point of use
# ---------------------------------------------------------------------------------------

CONSUMPTION_SOURCES = ("cabinet", "or", "cath_lab", "department", "pharmacy", "other")
# A case reference is an opaque token of the case system (no spaces: never a name).
CASE_REFERENCE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$"
# ISO 8601 date-time with a time zone (Z or +hh:mm), seconds optional.
DATETIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$"


@dataclass(kw_only=True)
class Consumption(CanonicalDocument):
    """Usage of an item at a point of use (supply cabinet, OR / cath-lab case, department).

    Patient-free: the only link to the case is ``case_reference``, an opaque token of the
    case system; the schema has no other field, and unknown fields are refused.  The
    location is a facility's stock location by its barcode or complete name, or by GLN
    (``location_gln``).  ``udi`` is a GS1 (AI 01/10/17/21) or HIBC scan: lot, serial and
    GTIN are read from it when not given.
    """

    doc_type: ClassVar[str] = "consumption"

    consumption_id: str = fld(
        required=True, max_length=64, description="The point-of-use system's event id"
    )
    source_system: str = fld(required=True, enum=CONSUMPTION_SOURCES)
    source_name: str = fld(max_length=128, description="Cabinet / case system name")
    facility: Party = fld(description="The facility (GLN), when the location alone is ambiguous")
    location: str = fld(max_length=128, description="Stock location barcode or full name")
    location_gln: str = fld(pattern=r"^\d{13}$", description="GLN of the stock location")
    item: ItemRef = fld(required=True)
    lot: str = fld(max_length=64)
    serial: str = fld(max_length=64)
    udi: str = fld(max_length=256, description="GS1 or HIBC UDI as scanned")
    quantity: Decimal = fld(required=True, exclusive_minimum=0)
    uom: str = fld(required=True, pattern=UOM_PATTERN)
    case_reference: str = fld(pattern=CASE_REFERENCE_PATTERN, description="Patient-free")
    consumed_at: str = fld(required=True, pattern=DATETIME_PATTERN, description="ISO 8601")
    critical: bool = fld(False)

    def natural_key(self):
        return f"consumption:{self.source_system}:{self.consumption_id}"

    def correlation_keys(self):
        keys = [f"item:{self.item.key()}"] if self.item.key() else []
        if self.case_reference:
            keys.append(f"case:{self.case_reference}")
        return _unique(keys)

    @property
    def is_critical(self):
        return bool(self.critical)

    def consumed_datetime(self):
        """``consumed_at`` as a naive UTC :class:`~datetime.datetime` (Odoo's storage)."""
        moment = datetime.fromisoformat(self.consumed_at.replace("Z", "+00:00"))
        return moment.astimezone(UTC).replace(tzinfo=None)

    def _check(self, path):
        errors = []
        if not (self.location or self.location_gln):
            errors.append(error("location", "required", "a location or a location_gln is needed"))
        try:
            self.consumed_datetime()
        except ValueError:
            errors.append(error("consumed_at", "format", "not a valid date and time"))
        if self.serial and self.quantity != 1:
            errors.append(error("quantity", "format", "a serial number is one unit"))
        return errors


DOCUMENT_CLASSES = {
    cls.doc_type: cls
    for cls in (
        Vendor,
        Item,
        ContractPrice,
        PurchaseOrder,
        PoAck,
        ShipNotice,
        Receipt,
        Invoice,
        Payment,
        StockTransfer,
        StockAdjustment,
        Recall,
        FunctionalAck,
        Consumption,
    )
}
DOC_TYPES = tuple(DOCUMENT_CLASSES)
