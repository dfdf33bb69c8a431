"""How a document's references become Odoo records: one answer, in one place.

Every processor (``hc.processor`` and its ``hc.processor.<doc_type>``) inherits this
model, like Odoo's e-invoicing formats inherit ``account.edi.common``: a GLN, a GTIN, a
unit code, a currency code or a purchase order number is resolved here and nowhere else,
so a rule changed here holds for every document type.
"""

import contextvars
import re

from odoo import api
from odoo import models
from odoo.fields import Command

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency
from ..canonical.documents import Address
from ..canonical.documents import Identifier
from ..canonical.documents import Party
from ..normalize.identifiers import normalize_identifier
from ..normalize.identifiers import scheme_for
from ..normalize.product_ids import normalize_hibc
from ..normalize.product_ids import normalize_ndc
from ..normalize.uom import CATEGORY_PACK
from ..normalize.uom import normalize_uom

# Set by a lane worker for the duration of a batch (``hc.lane.worker._process_batch``):
# ``{"cr": the batch's cursor}``, and the memos of its current transaction
# (:meth:`HcReferenceResolver._hc_memo`).  Not in ``cr.cache``, which Odoo empties at
# every commit: there, the memos served only the batch's first transaction.
BATCH_MEMO = contextvars.ContextVar("hc_batch_memo", default=None)

# Schemes unique world-wide (after alias mapping: 0088 -> gln...), stored as our name.
# Any other scheme is the sending system's own id, only unique within that system.
GLOBAL_SCHEMES = {"gln": "gln", "duns": "duns", "vat": "vat", "tax_id": "vat"}

# Item keys that name one product whatever the vendor (the others are scoped by vendor).
GLOBAL_ITEM_KEYS = ("mpn=", "hibc=", "ndc=")

# "Net 30", "NET30", "30 days", "30": the number of days of a plain net term.
_NET_DAYS = re.compile(r"^\s*(?:net\s*)?(\d{1,3})(?:\s*days?)?\s*$", re.IGNORECASE)
_IMMEDIATE = {"immediate", "immediate payment", "due on receipt", "net 0", "0 days", "cod"}


def _exactly(text):
    """``text`` as an ``=ilike`` pattern matching itself only (wildcards escaped)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class HcReferenceResolver(models.AbstractModel):
    """Resolve document references: vendor, product, unit, currency, purchase order.

    Policies, each deliberate:

    * **Vendor**: through the identifier crosswalk (``hc.partner.identifier``).  Scheme
      codes are mapped to our schemes first (``0088``/``GLN``/``EAN`` -> gln, ``0060``/
      ``DUNS`` -> duns, ``VAT``/``TAX`` -> vat...); a global identifier is tried
      normalised, then as sent; any other scheme is the sending connector's own id.  A
      vendor private to another company is refused (cross-company reference).
    * **Product**: on a document about purchase orders, a product ordered on them that any
      identifier of the line names comes first.  Otherwise, in order of trust: GTIN
      (barcode), buyer part number (internal reference), vendor part number (the vendor's
      catalogue, ``product.supplierinfo``), manufacturer part number, HIBC, NDC; these
      last three only name a product whose GTIN and internal reference do not contradict
      the document's (packaging levels share them).  On a purchase order's document a
      vendor part number may also be the internal reference of a product ordered on it.
      Archived products are found too (the item master reactivates them).
    * **Unit**: the code folded to its canonical spelling, then the product's own units
      and packagings, a steward's alias, the units' global codes.  Unknown codes and
      unknown pack sizes park the document for a data steward.
    * **Currency**: by ISO code, and only an **active** currency is used.  An inactive
      currency refuses the document (``inactive_currency``), an unknown code too
      (``unknown_currency``): activate the currency, then replay the message.  Odoo keeps
      no rates for an inactive currency, so a price, order or bill in it would be
      converted at a rate nobody maintains.  This holds for every document (vendor
      master, contract price, purchase order, invoice).
    * **Purchase order**: by the number it was received as (``hc_source_ref``), then by
      name, in the message's company only (another company's order is as if it did not
      exist).
    """

    _name = "hc.reference.resolver"
    _description = "Document reference resolver"

    # ------------------------------------------------------------------------------
    # Vendor
    # ------------------------------------------------------------------------------

    @api.model
    def _crosswalk_entries(self, message, party):
        """``(scheme, value, source_system, valid)`` for each identifier of ``party``.

        :param party: a canonical :class:`Party` or :class:`Vendor` (anything with
            ``identifiers`` and ``address``)
        """
        address = getattr(party, "address", None)
        country = address.country_code if address else None
        entries = []
        for ident in party.identifiers:
            resolved = scheme_for(ident.scheme)
            result = normalize_identifier(ident.value, ident.scheme, country)
            if resolved in GLOBAL_SCHEMES:
                entries.append((GLOBAL_SCHEMES[resolved], result.value, "", result.valid))
            else:
                # A proprietary id is only unique within the system that issued it.
                source = f"{message.connector_id.code}:{ident.scheme}".lower()
                entries.append(("source", result.value or ident.value, source, True))
        return entries

    @api.model
    def _vendor_lookups(self, message, party):
        """``(scheme, value, source)`` look-ups: each global id normalised, then as sent."""
        lookups = []
        for (scheme, value, source, _valid), ident in zip(
            self._crosswalk_entries(message, party), party.identifiers, strict=True
        ):
            values = (value, (ident.value or "").strip()) if not source else (value,)
            lookups.extend((scheme, v, source) for v in dict.fromkeys(values) if v)
        return lookups

    @api.model
    def _resolve_vendor(self, message, party):
        """The partner ``party`` designates, through the identifier crosswalk.

        :param message: the inbox message (its connector scopes source-system ids, its
            company bounds what may be referenced)
        :param party: a canonical :class:`Party`, or ``None``
        :return: a ``res.partner`` (empty when no identifier is known)
        :raise PermanentError: ``cross_company_reference``
        """
        partner = self._lookup_vendor(message, party)
        if not partner:
            return partner
        # A vendor private to another company is not this company's to use.
        self._check_records_company(
            message, partner, self.env._("Vendor %s", party.name or partner.name)
        )
        return partner

    @api.model
    def _lookup_vendor(self, message, party):
        """The partner ``party``'s identifiers point to, company boundaries unchecked."""
        if not party or not party.identifiers:
            return self.env["res.partner"]
        return self.env["hc.partner.identifier"]._find_partner(self._vendor_lookups(message, party))

    @api.model
    def _lookup_stored_vendor(self, message, data):
        """The commercial partner a stored document's party (a dict) names, or empty.

        For what is shown about a message that was never applied (a dead invoice's
        exception): no company check, nothing refused.
        """
        data = data or {}
        country = (data.get("address") or {}).get("country_code")
        party = Party(
            identifiers=[
                Identifier(scheme=i["scheme"], value=i["value"])
                for i in data.get("identifiers") or []
                if i.get("scheme") and i.get("value")
            ],
            address=Address(country_code=country) if country else None,
        )
        return self._lookup_vendor(message, party).commercial_partner_id

    # ------------------------------------------------------------------------------
    # Product
    # ------------------------------------------------------------------------------

    @api.model
    def _product_steps(self, item, vendors):
        """The searches naming a product, in order of trust: ``[callable -> products]``."""
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        steps = []

        def by(field, value):
            return lambda: Product.search([(field, "=", value)])

        if item.gtin:
            steps.append(by("barcode", item.gtin))
        if item.buyer_part_number:
            steps.append(by("default_code", item.buyer_part_number))
        if item.vendor_part_number and vendors:
            steps.append(lambda: self._catalogue_products(item.vendor_part_number, vendors))

        def secondary(field, value):
            # One manufacturer part number (or HIBC, NDC) covers several packaging levels
            # of an item, each with its own GTIN: a product whose GTIN or internal
            # reference contradicts the document's is another item.
            def search():
                return Product.search([(field, "=", value)]).filtered(
                    lambda p: (
                        (not item.gtin or not p.barcode or p.barcode == item.gtin)
                        and (
                            not item.buyer_part_number
                            or not p.default_code
                            or p.default_code == item.buyer_part_number
                        )
                    )
                )

            return search

        if item.manufacturer_part_number:
            steps.append(secondary("hc_manufacturer_part_number", item.manufacturer_part_number))
        hibc = normalize_hibc(item.hibc)
        if hibc:
            steps.append(secondary("hc_hibc", hibc))
        ndc = normalize_ndc(item.ndc)
        if ndc:
            steps.append(secondary("hc_ndc", ndc))
        return steps

    @api.model
    def _catalogue_products(self, vendor_part_number, vendors):
        """The products ``vendors`` sell as ``vendor_part_number`` (their supplierinfo)."""
        infos = (
            self.env["product.supplierinfo"]
            .sudo()
            .with_context(active_test=False)
            .search([("partner_id", "in", vendors.ids), ("product_code", "=", vendor_part_number)])
        )
        return (
            infos.product_id
            | infos.filtered(lambda i: not i.product_id).product_tmpl_id.product_variant_ids
        )

    @api.model
    def _resolve_product(self, item, vendor=None, orders=None):
        """The product a document's item reference names, or an empty recordset.

        :param item: a canonical :class:`ItemRef` (or an :class:`Item` master's
            ``item_ref``)
        :param vendor: the document's vendor: its catalogue gives vendor part numbers
            (defaults to the orders' vendor)
        :param orders: the purchase orders the document is about: a product ordered on
            them that any of the item's identifiers names comes first, and there a vendor
            part number may also be the product's internal reference
        """
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        orders = orders or self.env["purchase.order"]
        vendor = vendor or orders.partner_id
        vendors = vendor | vendor.commercial_partner_id if vendor else self.env["res.partner"]
        steps = self._product_steps(item, vendors)
        if not orders:
            for step in steps:
                found = step()
                if found:
                    return found[:1]
            return Product
        ordered = orders.order_line.product_id
        if item.gtin:
            # barcodes are unique: the ordered product with this GTIN is the one the
            # barcode search would find first among the ordered ones (no search per line)
            hit = ordered.filtered(lambda p: p.barcode == item.gtin)
            if hit:
                return hit[:1]
        if item.vendor_part_number:
            part = item.vendor_part_number
            steps.append(lambda: ordered.filtered(lambda p: p.default_code == part))
        found = [step() for step in steps]
        for products in found:
            if products & ordered:
                return (products & ordered)[:1]
        return next((products[:1] for products in found if products), Product)

    @api.model
    def _item_wait_key(self, item_ref, vendor_party=None):
        """The key the item master of ``item_ref`` produces (what a document waits for).

        Mirrors ``Item.natural_key``: a vendor part number alone is scoped by vendor.
        """
        key = item_ref.key()
        if item_ref.gtin or item_ref.buyer_part_number or not key:
            return f"item:{key}"
        if key.startswith(GLOBAL_ITEM_KEYS):
            return f"item:{key}"
        return f"item:{vendor_party.key() if vendor_party else 'unknown'}:{key}"

    @api.model
    def _resolve_contract_price(
        self, vendor, product, day, quantity, uom, currency, company, ref=None, facilities=None
    ):
        """The contract price valid for buying ``quantity`` ``uom`` of ``product`` on ``day``.

        Among ``vendor``'s supplierinfo entries that carry a contract reference (``ref``
        only, when given), valid on ``day`` and whose minimum quantity ``quantity``
        reaches, the one of the highest tier; its price converted to ``uom`` and to
        ``currency``.

        :param facilities: the ``res.partner`` facilities the order buys for (default: the
            company's partner); a price restricted to other facilities does not apply
        :return: ``(supplierinfo, price)``, or ``(empty recordset, None)`` when there is no
            contract price to compare with
        """
        domain = [
            ("partner_id", "in", (vendor | vendor.commercial_partner_id).ids),
            ("product_tmpl_id", "=", product.product_tmpl_id.id),
            ("product_id", "in", (product.id, False)),
            ("hc_contract_ref", "!=", False),
            ("company_id", "in", (company.id, False)),
            "|",
            ("date_start", "=", False),
            ("date_start", "<=", day),
            "|",
            ("date_end", "=", False),
            ("date_end", ">=", day),
        ]
        if ref:
            domain.append(("hc_contract_ref", "=", ref))
        facilities = company.partner_id if facilities is None else facilities
        infos = (
            self.env["product.supplierinfo"]
            .sudo()
            .search(domain)
            .filtered(lambda i: i._hc_is_eligible(facilities))
        )
        if not infos and ref:
            # The line names a contract the vendor's price list does not hold: compare
            # with whatever contract price is valid for the vendor.
            return self._resolve_contract_price(
                vendor, product, day, quantity, uom, currency, company, facilities=facilities
            )
        applicable = infos.filtered(
            lambda i: (
                uom._compute_quantity(quantity, i.product_uom_id, round=False) >= i.min_qty - 1e-9
            )
        )
        if not applicable:
            return infos.browse(), None
        best = applicable.sorted(lambda i: (i.min_qty, -i.price), reverse=True)[0]
        price = best.product_uom_id._compute_price(best.price, uom)
        if best.currency_id != currency:
            price = best.currency_id._convert(price, currency, company, day, round=False)
        return best, price

    # ------------------------------------------------------------------------------
    # Units
    # ------------------------------------------------------------------------------

    @api.model
    def _resolve_uom(self, code, product=None):
        """The Odoo unit a document's unit code designates (for ``product`` when given).

        The code is folded to its canonical spelling (C62, H87, PCE -> EA; CA -> CS...),
        then looked up among the product's own units (its unit and packagings, where a
        pack code such as CS finds *this* item's case), a steward's alias, and the units'
        global codes.  A code nobody mapped parks the message on ``uom:<CODE>`` with one
        ``unknown_uom`` exception per code for the data stewards; a pack code the item
        has no size for parks it on ``uom:<CODE>:<product id>``.  A unit of another family
        than the product's (kilograms for an item counted in units) is refused: Odoo
        would convert it with a meaningless ratio.

        :raise WaitingForDependency: (with ``review``) the code or pack size is unknown
        :raise PermanentError: ``uom_incompatible``
        """
        info = normalize_uom(code)
        key = info.code
        Uom = self.env["uom.uom"].sudo().with_context(active_test=False)
        if product:
            own = (product.uom_id | product.uom_ids).sudo()
            hit = own.filtered(lambda u: key in (u.hc_pack_code, u.hc_code))
            if hit:
                return hit[0]
        uom = self.env["hc.uom.alias"].sudo().search([("code", "=", key)], limit=1).uom_id
        if not uom:
            uom = Uom.search([("hc_code", "=", key)], limit=1)
        if not uom:
            if info.category == CATEGORY_PACK and product:
                raise self._unknown_pack(key, code, product)
            raise self._unknown_uom(key, code)
        if product and product.uom_id and not uom._has_common_reference(product.uom_id):
            raise PermanentError(
                self.env._(
                    "Unit %(code)s (%(unit)s) cannot be converted to %(product)s's unit %(ref)s.",
                    code=code,
                    unit=uom.name,
                    product=product.display_name,
                    ref=product.uom_id.name,
                ),
                code="uom_incompatible",
            )
        return uom

    @api.model
    def _unknown_uom(self, key, code):
        """Park the message on ``uom:<CODE>``, with one exception per code.

        The inbox fills in the message and its company; the steward's mapping
        (:meth:`hc.exception._map_unknown_uom`) releases every message parked on it.
        """
        exc = WaitingForDependency(f"uom:{key}")
        exc.review = {
            "exception_type": "unknown_uom",
            "name": self.env._("Unknown unit of measure %s", key),
            "dedup_key": f"unknown_uom:{key}",
            "severity": "medium",
            "hint": self.env._("Map the code to an Odoo unit (button Map unit)."),
            "description": self.env._(
                "Documents name the unit code %(code)s, which no unit is mapped to (UN/ECE "
                "Rec 20 and X12 codes are mapped out of the box). Pick the Odoo unit it "
                "means: the mapping is kept and every document waiting for it is applied.",
                code=code,
            ),
            "details": {"code": key, "waiting_key": f"uom:{key}"},
        }
        return exc

    @api.model
    def _unknown_pack(self, key, code, product):
        """Park the message until the item's size of pack ``key`` is known."""
        waiting = f"uom:{key}:{product.id}"
        exc = WaitingForDependency(waiting)
        exc.review = {
            "exception_type": "unknown_uom",
            "name": self.env._(
                "No %(code)s pack size for %(product)s", code=key, product=product.display_name
            ),
            "dedup_key": f"unknown_uom:{key}:product:{product.id}",
            "severity": "medium",
            "hint": self.env._(
                "Give the pack size (button Map unit) or send the item master with its pack factor."
            ),
            "description": self.env._(
                "A document counts %(product)s in %(code)s, but the item master does not say "
                "how many %(unit)s one %(code)s holds. State the pack size: it is kept on the "
                "product (Packagings) and the documents waiting for it are applied.",
                product=product.display_name,
                code=code,
                unit=product.uom_id.name,
            ),
            "details": {"code": key, "product_id": product.id, "waiting_key": waiting},
        }
        return exc

    @api.model
    def _pack_unit(self, code, quantity, base):
        """The packaging unit "<pack> of <quantity>" of ``base`` units (found or created).

        Packagings are shared by the items of the same size, like Odoo's own "Pack of 6".
        """
        key = normalize_uom(code).code
        quantity = float(quantity)
        Uom = self.env["uom.uom"].sudo()
        unit = Uom.search(
            [
                ("hc_pack_code", "=", key),
                ("relative_uom_id", "=", base.id),
                ("relative_factor", "=", quantity),
            ],
            limit=1,
        )
        if unit:
            return unit
        label = (normalize_uom(key).label or key).capitalize()
        size = (
            f"{quantity:g}"
            if base == self.env.ref("uom.product_uom_unit")
            else (f"{quantity:g} {base.name}")
        )
        return Uom.create(
            {
                "name": self.env._("%(pack)s of %(size)s", pack=label, size=size),
                "relative_factor": quantity,
                "relative_uom_id": base.id,
                "hc_pack_code": key,
            }
        )

    @api.model
    def _set_packaging(self, product, pack):
        """Make ``pack`` the product's packaging for its pack code (replacing another size).

        :return: the waiting key the documents parked on this pack size wait on
        """
        template = product.product_tmpl_id.sudo()
        stale = template.uom_ids.filtered(
            lambda u: u.hc_pack_code == pack.hc_pack_code and u != pack
        )
        commands = [Command.unlink(u.id) for u in stale]
        if pack not in template.uom_ids:
            commands.append(Command.link(pack.id))
        if commands:
            template.write({"uom_ids": commands})
        return f"uom:{pack.hc_pack_code}:{product.id}"

    @api.model
    def _convert_quantity(self, quantity, from_uom, to_uom):
        """``quantity`` (a Decimal from the document) in ``to_uom``, as a float."""
        quantity = float(quantity or 0)
        if not from_uom or not to_uom or from_uom == to_uom:
            return quantity
        return from_uom._compute_quantity(quantity, to_uom, round=False)

    # ------------------------------------------------------------------------------
    # Currency
    # ------------------------------------------------------------------------------

    @api.model
    def _hc_memo(self, name):
        """A dict that lives as long as the lane worker's batch (see
        ``hc.lane.worker._process_batch``), emptied at any commit or rollback: what one
        batch of documents looks up again and again (a currency, a vendor's tax mappings)
        is read once per batch, never outliving the snapshot it was read in.  Outside a
        batch, a new dict each time (nothing is remembered)."""
        memos = BATCH_MEMO.get()
        if memos is None or memos["cr"] is not self.env.cr:
            return {}  # (outside a batch, or another cursor's transaction)
        # the transaction's timestamp changes at every commit and rollback
        now = self.env.cr.now()
        if memos.get("at") != now:
            memos["at"], memos["by_name"] = now, {}
        return memos["by_name"].setdefault(name, {})

    @api.model
    def _resolve_currency(self, code):
        """The active ``res.currency`` of ISO code ``code`` (see the class's policy).

        :raise PermanentError: ``unknown_currency`` or ``inactive_currency``
        """
        iso = (code or "").strip().upper()
        active = self._hc_memo("active_currency")
        if iso in active:
            return self.env["res.currency"].sudo().browse(active[iso])
        currency = (
            self.env["res.currency"]
            .sudo()
            .with_context(active_test=False)
            .search([("name", "=", iso)], limit=1)
        )
        if not currency:
            raise PermanentError(self.env._("Unknown currency %s.", code), code="unknown_currency")
        if not currency.active:
            raise PermanentError(
                self.env._(
                    "Currency %s is not active in Odoo: activate it, then replay the message.",
                    currency.name,
                ),
                code="inactive_currency",
            )
        active[iso] = currency.id
        return currency

    # ------------------------------------------------------------------------------
    # Master data a document carries
    # ------------------------------------------------------------------------------

    @api.model
    def _resolve_payment_term(self, text, company):
        """The ``account.payment.term`` a vendor's stated terms name, or empty.

        By name (case-insensitive: "30 Days"), a plain net term ("Net 30", "NET30", "30")
        standing for Odoo's "<n> Days" term, "Immediate"/"due on receipt" for Odoo's
        "Immediate Payment"; among ``company``'s terms and the shared ones.  Terms nobody
        can place give an empty recordset (the stated text is kept on the vendor).
        """
        Term = self.env["account.payment.term"].sudo()
        text = " ".join((text or "").split())
        if not text:
            return Term
        if text.casefold() in _IMMEDIATE:
            text = "Immediate Payment"
        elif days := _NET_DAYS.match(text):
            text = f"{int(days.group(1))} Days"
        mine = [("company_id", "in", (company.id, False))]
        return Term.search([*mine, ("name", "=ilike", _exactly(text))], limit=1)

    @api.model
    def _resolve_category(self, model, name, path_sep=" / "):
        """The category (``product.category`` or ``res.partner.category``) ``name`` names.

        Found by its full path or its name, else created (with its parents for a
        "Parent / Child" path): categories come from the hospital's own master data.
        """
        Category = self.env[model].sudo()
        name = " ".join((name or "").split())
        if not name:
            return Category
        if "complete_name" in Category._fields:
            found = Category.search([("complete_name", "=ilike", _exactly(name))], limit=1)
            if found:
                return found
        found = Category.search([("name", "=ilike", _exactly(name))], limit=1)
        if found or "parent_id" not in Category._fields:
            return found or Category.create({"name": name})
        parent = Category
        for part in (p.strip() for p in name.split(path_sep.strip())):
            if not part:
                continue
            child = Category.search(
                [("name", "=ilike", _exactly(part)), ("parent_id", "=", parent.id or False)],
                limit=1,
            )
            parent = child or Category.create({"name": part, "parent_id": parent.id or False})
        return parent

    @api.model
    def _write_changed(self, record, vals):
        """Write only the values that differ: applying a document again changes nothing."""
        changed = {}
        for name, value in vals.items():
            field = record._fields[name]
            current = record[name]
            if field.type == "many2one":
                current = current.id
            elif field.type == "float":
                if field.convert_to_cache(value, record) == current:
                    continue
            if current != value:
                changed[name] = value
        if changed:
            record.write(changed)
        return changed

    # ------------------------------------------------------------------------------
    # Purchase orders
    # ------------------------------------------------------------------------------

    @api.model
    def _resolve_orders(self, company, numbers, states=None):
        """The purchase orders of ``company`` received as or named ``numbers``.

        :param states: only orders in these states (e.g. confirmed ones); all when None
        """
        numbers = [n for n in numbers or () if n]
        if not numbers:
            return self.env["purchase.order"]
        return (
            self.env["purchase.order"]
            .sudo()
            .search(self._resolve_orders_domain(company, numbers, states))
        )

    @api.model
    def _resolve_orders_domain(self, company, numbers, states=None):
        """The domain of :meth:`_resolve_orders` (both numbers indexed for equality)."""
        domain = [
            ("company_id", "=", company.id),
            "|",
            ("hc_source_ref", "in", numbers),
            ("name", "in", numbers),
        ]
        if states:
            domain.append(("state", "in", tuple(states)))
        return domain

    @api.model
    def _resolve_order(self, company, number, states=None):
        """The purchase order of ``company`` received as ``number``, else named so."""
        orders = self._resolve_orders(company, [number], states)
        return orders.filtered(lambda o: o.hc_source_ref == number)[:1] or orders[:1]

    # ------------------------------------------------------------------------------
    # Company boundaries
    # ------------------------------------------------------------------------------

    # A reference by number (a purchase order, an invoice) is looked up in the message's
    # company only, and one that only another company has is treated exactly as one that
    # does not exist (it waits, or is refused as unknown): a sender learns nothing about
    # another facility's records from the answer (security review F16).

    @api.model
    def _check_records_company(self, message, records, reference):
        """Refuse the document when resolved ``records`` belong to another company."""
        if any(r.company_id and r.company_id != message.company_id for r in records.sudo()):
            raise self._cross_company_error(message, reference)

    @api.model
    def _cross_company_error(self, message, reference):
        """The refusal of a document naming another company's record.

        The other company is not named: the error is shown to the sending system and to
        this company's users, who must learn nothing about another facility's records.
        """
        text = self.env._(
            "%(reference)s is not a record of %(company)s: a document of one company "
            "(facility) may not reference another company's records.",
            reference=reference,
            company=message.company_id.name,
        )
        return PermanentError(
            text,
            code="cross_company_reference",
            exceptions=[
                {
                    "exception_type": "cross_company_reference",
                    "name": self.env._(
                        "%(ref)s refused: cross-company reference to %(reference)s",
                        ref=message.display_ref,
                        reference=reference,
                    ),
                    "dedup_key": f"cross_company_reference:{message.id}",
                    "severity": "high",
                    "company_id": message.company_id.id,
                    "message_id": message.id,
                    "res_model": message._name,
                    "res_id": message.id,
                    "description": self.env._(
                        "%s Nothing was applied. Check the sending system's company mapping "
                        "(X-Company-Id) and the connector's scopes, then replay or discard "
                        "the message.",
                        text,
                    ),
                    "details": {"reference": reference, "connector": message.connector_id.code},
                }
            ],
        )
