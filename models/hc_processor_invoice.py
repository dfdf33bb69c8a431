import base64
from datetime import timedelta

from odoo import api
from odoo import models
from odoo.fields import Command
from odoo.tools import SQL

from ..api_contract.errors import PermanentError
from ..api_contract.errors import TransientError
from ..api_contract.errors import WaitingForDependency
from ..formats.attachments import ubl_embedded_files
from ..normalize.references import DEFAULT_WINDOW_DAYS
from ..normalize.references import VERDICT_DUPLICATE
from ..normalize.references import VERDICT_REVIEW
from ..normalize.references import InvoiceKey
from ..normalize.references import find_duplicates
from ..normalize.references import normalize_reference
from ..normalize.taxes import stated_taxes
from .hc_processor import PO_KEY_PREFIX
from .hc_processor import DeferredCreate
from .hc_queue_mixin import auto_commit

# Purchase order states a bill may be matched against (an RFQ is not an order yet).
BILLABLE_PO_STATES = ("purchase", "done")
FILE_EXTENSIONS = {
    "application/json": "json",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/edi-x12": "edi",
    "application/pdf": "pdf",  # a Factur-X / ZUGFeRD invoice: the PDF is the original
}


class HcProcessorInvoice(models.AbstractModel):
    """Supplier invoice / credit note -> draft vendor bill linked to its purchase order lines.

    The bill is always created in draft with what the supplier invoiced (quantities and
    prices), taxes coming from the purchase order line or the product: the document's own
    tax and gross totals are kept on the bill for comparison, never booked.  Whatever a
    person must look at (line without PO line, unknown item, possible duplicate) becomes an
    ``hc.exception`` on the bill rather than a rejected document.  A true duplicate (same
    vendor, reference, amount and year) never makes a second bill.  The three-way match
    takes over through :meth:`account.move._hc_after_import`.
    """

    _name = "hc.processor.invoice"
    _inherit = "hc.processor"
    _description = "Supplier invoice processor"
    # Purchase orders are also keyed in by hand: a confirmed one is there for its bills.
    _hc_order_dependency_states = BILLABLE_PO_STATES

    @api.model
    def _dependency_met(self, message, key):
        """The invoice's purchase order: a billable order in Odoo first (what the bill
        needs; the orders found are the bill's, kept for :meth:`_prepare_apply` in this
        transaction), then a processed message of it."""
        if key.startswith(PO_KEY_PREFIX):
            number = key[len(PO_KEY_PREFIX) :]
            orders = self._resolve_orders(message.company_id, [number], BILLABLE_PO_STATES)
            self.env.cr.cache["hc_invoice_orders"] = (message.id, number, orders.ids)
            if orders:
                return True
        return super()._dependency_met(message, key)

    @api.model
    def _bill_orders(self, message, company, numbers):
        """The billable orders ``numbers`` name: those the dependency check has just
        found for this message (same search, same transaction), else searched."""
        found = self.env.cr.cache.pop("hc_invoice_orders", None)
        if found and len(numbers) == 1 and found[:2] == (message.id, numbers[0]):
            return self.env["purchase.order"].sudo().browse(found[2])
        return self._resolve_orders(company, numbers, BILLABLE_PO_STATES)

    @api.model
    def _find_po_line(self, orders, line, product):
        """The purchase order line an invoice line bills, or an empty recordset.

        By the source's line reference first (``hc_line_ref``, the line number the
        purchase order came with, or the position on an order keyed in by hand), accepted
        only when it is the same product; then by product among the orders' lines, preferring the line
        with the most left to bill.  An item the document identifies (GTIN, part numbers,
        HIBC, NDC) but Odoo does not know is never attached to whatever PO line carries
        the same number: it is an unknown item.  Only a line that names no item at all (a
        summary invoice line carrying its PO reference) is taken at its reference.
        """
        if line.po_number:
            orders = orders.filtered(lambda o: o.name == line.po_number)
        po_lines = orders.order_line.filtered(lambda pol: not pol.display_type)
        if not po_lines:
            return po_lines
        if line.po_line_ref and (product or not self._identifies_item(line.item)):
            candidate = self._po_line_by_ref(orders, line.po_line_ref)
            if candidate and (not product or candidate.product_id == product):
                return candidate
        if product:
            same = po_lines.filtered(lambda pol: pol.product_id == product)
            if same:
                return max(same, key=lambda pol: (pol.product_qty - pol.qty_invoiced, -pol.id))
        return po_lines.browse()

    @api.model
    def _identifies_item(self, item):
        """Whether the document names the item by an identifier (not a description only)."""
        return any(
            (
                item.gtin,
                item.vendor_part_number,
                item.buyer_part_number,
                item.manufacturer_part_number,
                item.hibc,
                item.ndc,
            )
        )

    @api.model
    def _po_line_by_ref(self, orders, ref):
        """The line of ``orders`` the source calls ``ref`` (only with a single order)."""
        if len(orders) != 1:
            return self.env["purchase.order.line"]
        lines = orders.order_line.filtered(lambda pol: not pol.display_type).sorted(
            lambda pol: (pol.sequence, pol.id)
        )
        ref = ref.strip()
        hit = lines.filtered(lambda pol: pol.hc_line_ref == ref)
        if hit:
            return hit[:1]
        # Orders keyed in by hand carry no source line numbers: "1" is the first line.
        if not any(lines.mapped("hc_line_ref")) and ref.isdigit() and 0 < int(ref) <= len(lines):
            return lines[int(ref) - 1]
        return self.env["purchase.order.line"]

    @api.model
    def _line_uom(self, line, product, po_line):
        """The unit to bill the line in, and whether the document's unit was understood.

        The document's unit when it is mapped and convertible to the product's; else the
        purchase order line's (or the product's) unit: Odoo converts quantities between
        units of one family, never across families.
        """
        reference = po_line.product_uom_id or product.uom_id
        try:
            uom = self._resolve_uom(line.uom, product)
        except PermanentError:
            return reference, False
        if reference and not uom._has_common_reference(reference):
            return reference, False
        return uom, True

    # ------------------------------------------------------------------------------
    # Applying
    # ------------------------------------------------------------------------------

    @api.model
    def _apply(self, message, document):
        prepared = self._prepare_apply(message, document)
        if not isinstance(prepared, DeferredCreate):
            return prepared
        return prepared.apply()

    @api.model
    def _batch_keys(self, message, document):
        """What makes two invoices of one batch interfere (see ``DeferredCreate``).

        An invoice may duplicate another of the same batch (same reference or amount,
        whatever identifier names the vendor) or bill the same purchase order: such a
        pair is never created together, so each sees the bills before it exactly as if
        the batch were processed one message at a time.
        """
        keys = {f"ref:{normalize_reference(document.number)}", f"amount:{document.gross_total}"}
        if not self._lines_by_reference(document):
            keys |= {f"po:{number}" for number in document.all_po_numbers()}
        return keys

    @api.model
    def _lines_by_reference(self, document):
        """Whether the document's lines name their order lines, so that the bills of one
        order may be created together (the month-end partial bills).

        Such lines are found by their reference, not by what an earlier bill left to bill
        (``_find_po_line``), and the match of bills created together counts, for each,
        only the bills created before it (``_match_bills(in_order=True)``): the outcome is
        that of one bill at a time.  Charges linked to the order's service lines read what
        earlier bills billed of them: such documents are never created together.
        """
        numbers = document.all_po_numbers()
        return (
            len(numbers) == 1
            and not document.allowance_charges
            and all(line.po_line_ref and not line.allowance_charges for line in document.lines)
        )

    @api.model
    def _prepare_apply(self, message, document):
        """Everything up to creating the bill; the creation itself may be batched.

        :return: the result (replay, duplicate) or a :class:`DeferredCreate` holding the
            bill's values and what to do once it exists
        """
        company = message.company_id
        Move = self.env["account.move"].sudo().with_company(company)
        move_type = "in_refund" if document.is_credit_note else "in_invoice"
        produced = [
            document.natural_key(),
            f"invoice_number:{normalize_reference(document.number)}",
        ]

        # Replay of the same message: its bill is already there.
        bill = Move.search([("hc_message_id", "=", message.id)], limit=1)
        if bill:
            bill._hc_after_import()
            return {
                "records": bill,
                "summary": self.env._(
                    "Bill %s already imported from this message", bill.display_name
                ),
                "produced_keys": produced,
            }

        vendor = self._resolve_vendor(message, document.vendor).commercial_partner_id
        if not vendor:
            raise self._unknown_vendor(message, document)
        self._resolve_unknown_vendor(document, vendor)
        currency = self._resolve_currency(document.currency)

        findings = self._duplicate_findings(company, vendor, move_type, document, currency)
        findings = self._drop_cleared_duplicates(message, findings)
        if findings and findings[0][1].verdict == VERDICT_DUPLICATE:
            original, verdict = findings[0]
            return self._apply_duplicate(message, document, original, verdict, produced)

        orders = self._bill_orders(message, company, document.all_po_numbers())
        resolvers = self._hc_memo("tax_resolver")
        taxes = resolvers.get((company.id, vendor.id))
        if taxes is None:
            taxes = resolvers[company.id, vendor.id] = self.env["hc.tax.mapping"]._resolver(
                company, vendor
            )
        commands, problems = self._line_commands(document, vendor, orders, taxes)
        self._hint_line_amounts(commands, company, currency, move_type)

        def finish(bill):
            self._attach_document(message, document, bill)
            self._raise_line_exceptions(message, document, bill, problems)
            self._raise_amount_exceptions(message, document, bill, problems)
            for original, verdict in findings:
                self._raise_duplicate_finding(message, document, bill, original, verdict)
            return {
                "records": bill,
                "summary": self.env._(
                    "Draft %(kind)s %(bill)s created for %(vendor)s (%(lines)s lines)",
                    kind=self.env._("credit note")
                    if document.is_credit_note
                    else self.env._("bill"),
                    bill=bill.display_name,
                    vendor=vendor.display_name,
                    lines=len(document.lines),
                ),
                "produced_keys": produced,
            }

        # One create with its lines: Odoo syncs taxes and totals once, not per write.
        return DeferredCreate(
            Move.with_context(**self._bill_create_context()),
            dict(
                self._bill_vals(message, document, vendor, currency, move_type),
                journal_id=self._bill_journal(Move, company, move_type, currency),
                invoice_line_ids=commands,
            ),
            finish,
            # then the three-way match (of all the bills of a batch at once)
            after=self._after_bills,
        )

    @api.model
    def _bill_create_context(self):
        """The chatter of the bills the import creates, and what keeps their trail.

        - ``hc_log_creation_notes``: Odoo's purchase note on each new bill ("created
          from" its order) is logged, not posted (see ``account.move.message_post``);
        - ``mail_create_nolog``: no "Vendor Bill Created" entry in the chatter: the
          purchase note above says it, and the module's audit log chains the message
          processed with the bill it became (``message_processed``);
        - ``mail_notrack``: the fields of a bill this transaction creates are not tracked
          (Odoo snapshots every tracked field at the first write and posts the changes
          at commit): a new bill's first verdict is its initial state, kept on the bill
          (verdict, explanation, match lines) and in the audit log (``bill_released``,
          touchless, amount), not a change.  It is for these records in this
          transaction only: a re-match, a person's change and posting are tracked.

        Followers are as before (Odoo's auto-subscription of the responsible user).
        """
        return {"hc_log_creation_notes": True, "mail_create_nolog": True, "mail_notrack": True}

    @api.model
    def _bill_journal(self, Move, company, move_type, currency):
        """The journal Odoo gives a new bill (``account.move._search_default_journal``:
        the company's first purchase journal, one in the bill's currency first), found
        once per batch rather than searched again for every bill."""
        journals = self._hc_memo("bill_journal")
        key = (company.id, move_type, currency.id)
        if key not in journals:
            draft = Move.new(
                {"move_type": move_type, "company_id": company.id, "currency_id": currency.id}
            )
            journals[key] = draft._search_default_journal().id
        return journals[key]

    @api.model
    def _after_bills(self, bills):
        """Match new bills together; retry a blocked one whose receipt was in flight."""
        bills._hc_after_import(in_order=True, new=True)
        for bill in bills.filtered(lambda b: b.hc_match_state == "blocked"):
            self._check_receipts_current(bill)

    @api.model
    def _check_receipts_current(self, bill):
        """Retry when a goods receipt of the bill's PO lines was committed meanwhile.

        Receipts (critical lane) and invoices (standard lane) are processed at the same
        time by different workers: a receipt committed after this transaction's snapshot
        is invisible to the match, and the receipt's own re-match cannot see this bill
        before it is committed, so the bill would stay blocked for a missing receipt or a
        quantity variance until the nightly re-match.  Comparing the done receipt moves
        seen here with a fresh cursor's detects it; the message is retried (transient).
        """
        po_lines = bill.invoice_line_ids.purchase_line_id
        if not po_lines or not auto_commit():
            return  # one transaction (tests): nothing runs concurrently
        self.env.flush_all()
        query = SQL(
            "SELECT count(*), COALESCE(max(id), 0) FROM stock_move "
            "WHERE purchase_line_id IN %s AND state = 'done'",
            tuple(po_lines.ids),
        )
        self.env.cr.execute(query)
        seen = self.env.cr.fetchone()
        with self.env.registry.cursor() as cr:
            cr.execute(query)
            latest = cr.fetchone()
        if tuple(latest) != tuple(seen):
            raise TransientError(
                self.env._(
                    "A goods receipt of %s was processed while the invoice was matched: "
                    "matching again.",
                    ", ".join(po_lines.order_id.mapped("name")),
                ),
                code="receipt_in_flight",
            )

    @api.model
    def _unknown_vendor(self, message, document):
        """Park the message on the vendor's key, with an ``unknown_vendor`` exception.

        The exception travels on the ``WaitingForDependency`` (``review``), so it outlives
        the rolled-back apply; it is resolved once the vendor is known and the bill made.
        """
        vendor_key = f"vendor:{document.vendor.key()}"
        exc = WaitingForDependency(vendor_key)
        idents = ", ".join(f"{i.scheme} {i.value}" for i in document.vendor.identifiers)
        exc.review = {
            "exception_type": "unknown_vendor",
            "name": self.env._(
                "Unknown vendor on invoice %(number)s: %(vendor)s",
                number=document.number,
                vendor=document.vendor.name or idents,
            ),
            "dedup_key": f"unknown_vendor:{document.natural_key()}",
            "severity": "medium",
            "company_id": message.company_id.id,
            "message_id": message.id,
            "description": self.env._(
                "No vendor has any of these identifiers: %(ids)s. Add the identifier to the "
                "vendor (or send its vendor master): the invoice is applied as soon as it "
                "is known.",
                ids=idents or "-",
            ),
            "details": {"vendor_key": vendor_key, "vendor_name": document.vendor.name},
        }
        return exc

    @api.model
    def _resolve_unknown_vendor(self, document, vendor):
        open_ = (
            self.env["hc.exception"]
            .sudo()
            .search(
                [
                    ("dedup_key", "=", f"unknown_vendor:{document.natural_key()}"),
                    ("state", "not in", ("resolved", "cancelled")),
                ]
            )
        )
        if open_:
            open_.write(
                {
                    "state": "resolved",
                    "partner_id": vendor.id,
                    "resolution": self.env._("Vendor found: %s", vendor.display_name),
                }
            )

    # -- duplicates ------------------------------------------------------------------

    @api.model
    def _invoice_key(self, vendor, reference, date, amount, currency):
        return InvoiceKey(
            vendor=str(vendor.id),
            reference=reference or "",
            date=date,
            amount=amount,
            currency=currency.name,
        )

    @api.model
    def _duplicate_findings(self, company, vendor, move_type, document, currency):
        """``[(bill, verdict)]`` of the vendor's bills this document may duplicate.

        Candidates are the vendor's bills of the same kind with the same normalised
        reference, or dated within the suspect window; the pure ``find_duplicates``
        decides (duplicate, review, suspect), most severe first.
        """
        domain = self._duplicate_domain(company, vendor, move_type, document)
        bills = self.env["account.move"].sudo().search(domain, order="invoice_date desc, id desc")
        keyed = {}
        for bill in bills:
            key = self._invoice_key(
                vendor,
                bill.ref,
                bill.invoice_date or bill.date,
                bill.hc_stated_total or bill.amount_total,
                bill.currency_id,
            )
            keyed[id(key)] = (bill, key)
        new = self._invoice_key(
            vendor, document.number, document.issue_date, document.gross_total, currency
        )
        found = find_duplicates(new, [key for _bill, key in keyed.values()])
        return [(keyed[id(key)][0], verdict) for key, verdict in found]

    @api.model
    def _duplicate_domain(self, company, vendor, move_type, document):
        """The candidates of :meth:`_duplicate_findings`: served by indexes (the
        normalised reference; the vendor and amount, ``account.move``'s own), never a scan
        of the vendor's bills, which grow all year."""
        normalized = normalize_reference(document.number)
        window = timedelta(days=DEFAULT_WINDOW_DAYS)
        return [
            ("company_id", "=", company.id),
            ("move_type", "=", move_type),
            ("commercial_partner_id", "=", vendor.id),
            ("state", "!=", "cancel"),
            "|",
            ("hc_ref_normalized", "=", normalized or "-"),
            "&",
            "&",
            ("invoice_date", ">=", document.issue_date - window),
            ("invoice_date", "<=", document.issue_date + window),
            # only a bill of the same amount can be a "suspect" twin: keeps the candidate
            # set small for a vendor sending hundreds of invoices a week
            "|",
            ("hc_stated_total", "=", float(document.gross_total or 0)),
            ("amount_total", "=", float(document.gross_total or 0)),
        ]

    @api.model
    def _drop_cleared_duplicates(self, message, findings):
        """Findings against bills a person declared this very document is not a
        duplicate of (``hc.exception._decide_duplicate``): that decision stands."""
        if not findings or not message.content_hash:
            return findings
        cleared = (
            self.env["hc.exception"]
            .sudo()
            .search(
                [
                    ("exception_type", "=", "duplicate_invoice"),
                    ("resolution_action", "=", "not_duplicate"),
                    ("dedup_key", "=like", f"duplicate_invoice:duplicate:%:{message.content_hash}"),
                ]
            )
        )
        bills = {(exc.details or {}).get("existing_move_id") for exc in cleared}
        return [(bill, verdict) for bill, verdict in findings if bill.id not in bills]

    @api.model
    def _apply_duplicate(self, message, document, bill, verdict, produced):
        """The document is a bill already in Odoo: point the message at it.

        An exact resubmission (same payload, e.g. sent again under another idempotency
        key) is harmless; a different payload with the same vendor, reference and amount
        (a re-keyed copy, a correction sent as a new invoice) is shown to a clerk.
        """
        original = bill.hc_message_id
        if not original or original.content_hash != message.content_hash:
            self.env["hc.exception"]._raise(
                "duplicate_invoice",
                self.env._(
                    "Duplicate invoice %(number)s from %(vendor)s",
                    number=document.number,
                    vendor=bill.partner_id.display_name,
                ),
                f"duplicate_invoice:duplicate:{bill.id}:{message.content_hash}",
                severity="high",
                company_id=message.company_id.id,
                partner_id=bill.commercial_partner_id.id,
                message_id=message.id,
                res_model="account.move",
                res_id=bill.id,
                description=self.env._(
                    "Not billed again: %(reason)s (bill %(bill)s). The document differs from "
                    "the one the bill was made from: check whether it corrects it.",
                    reason=verdict.reason,
                    bill=bill.display_name,
                ),
                details={"verdict": verdict.verdict, "existing_move_id": bill.id},
            )
        return {
            "records": bill,
            "summary": self.env._(
                "Duplicate of %(bill)s: no second bill (%(reason)s)",
                bill=bill.display_name,
                reason=verdict.reason,
            ),
            "produced_keys": produced,
        }

    @api.model
    def _raise_duplicate_finding(self, message, document, bill, other, verdict):
        """A reused number (review) or a same-amount look-alike (suspect) on a new bill."""
        label = {
            VERDICT_REVIEW: self.env._("Invoice number %s reused", document.number),
        }.get(
            verdict.verdict, self.env._("Possible duplicate of %s", other.ref or other.display_name)
        )
        self.env["hc.exception"]._raise(
            "duplicate_invoice",
            self.env._("%(label)s (%(vendor)s)", label=label, vendor=bill.partner_id.display_name),
            f"duplicate_invoice:{verdict.verdict}:{bill.id}:{other.id}",
            severity="medium",
            company_id=message.company_id.id,
            partner_id=bill.commercial_partner_id.id,
            message_id=message.id,
            res_model="account.move",
            res_id=bill.id,
            description=self.env._(
                "%(reason)s. Compare with bill %(other)s before posting.",
                reason=verdict.reason,
                other=other.display_name,
            ),
            details={"verdict": verdict.verdict, "existing_move_id": other.id},
        )

    # -- the bill ---------------------------------------------------------------------

    @api.model
    def _bill_vals(self, message, document, vendor, currency, move_type):
        vals = {
            "move_type": move_type,
            "partner_id": vendor.id,
            "company_id": message.company_id.id,
            "currency_id": currency.id,
            "ref": document.number,
            "invoice_date": document.issue_date,
            "invoice_origin": ", ".join(document.all_po_numbers()) or False,
            "hc_message_id": message.id,
            "hc_stated_total": document.gross_total,
            "hc_stated_tax_total": document.tax_total or 0.0,
            "hc_stated_amounts": self._stated_amounts(document),
        }
        if document.due_date:
            # A stated due date wins over the vendor's payment terms.
            vals.update(invoice_payment_term_id=False, invoice_date_due=document.due_date)
        if document.is_credit_note and document.original_invoice_number:
            original = (
                self.env["account.move"]
                .sudo()
                .search(
                    [
                        ("company_id", "=", message.company_id.id),
                        ("move_type", "=", "in_invoice"),
                        ("commercial_partner_id", "=", vendor.id),
                        (
                            "hc_ref_normalized",
                            "=",
                            normalize_reference(document.original_invoice_number),
                        ),
                        ("state", "!=", "cancel"),
                    ],
                    order="invoice_date desc, id desc",
                    limit=1,
                )
            )
            if original:
                vals["reversed_entry_id"] = original.id
        return vals

    @api.model
    def _stated_amounts(self, document):
        """The supplier's stated amounts, as the match compares them with the bill's.

        The bill carries the supplier's rounding amount as a line of its own, so it is
        part of the stated untaxed amount and total here.
        """
        rounding = document.rounding_amount or 0
        untaxed = document.tax_exclusive_total
        if untaxed is None and document.net_total is not None:
            untaxed = (
                document.net_total - (document.allowance_total or 0) + (document.charge_total or 0)
            )
        if untaxed is None and document.tax_total is not None:
            untaxed = document.gross_total - document.tax_total

        def text(value, add=0):
            return None if value is None else str(abs(value + add))

        return {
            "untaxed": text(untaxed, rounding),
            "tax": text(document.tax_total),
            "total": text(document.gross_total, rounding),
            "prepaid": text(document.prepaid_amount or None),
            "payable": text(document.payable_amount),
            "rounding": text(document.rounding_amount),
        }

    @api.model
    def _tax_command(self, keys, resolve, where, problems):
        """``tax_ids`` of a bill line from the supplier's stated tax ``keys``.

        No stated tax gives no tax (never the product's or PO line's default); a tax
        that cannot be placed is recorded in ``problems["tax"]`` and the line is left
        untaxed for the exception to explain.
        """
        if keys is None:
            problems["tax"].append(
                (where, self.env._("the document states several taxes but none for this line"))
            )
            return [Command.set([])]
        taxes = self.env["account.tax"]
        for key in keys:
            found, reason = resolve(key)
            if found is None:
                problems["tax"].append((where, reason))
                return [Command.set([])]
            taxes |= found
        return [Command.set(taxes.ids)]

    @api.model
    def _line_commands(self, document, vendor, orders, resolve_tax):
        """The bill's lines as create commands, and the problems found.

        Goods lines bill what the supplier invoiced (quantities, prices, the taxes the
        document states); the document's allowances, charges and rounding amount follow
        as lines of their own, marked so that the three-way match treats them apart.

        :return: ``(commands, problems)``: problems a dict of lists of invoice line
            numbers: ``no_po``, ``unknown_item``, ``uom`` (unit not understood, billed in
            the product's unit), and ``tax``: ``(where, reason)`` of taxes not placed
        """
        problems = {"no_po": [], "unknown_item": [], "uom": [], "tax": []}
        stated = stated_taxes(document)
        commands = []
        for index, line in enumerate(document.lines):
            product = self._resolve_product(line.item, vendor, orders)
            po_line = self._find_po_line(orders, line, product)
            product = product or po_line.product_id
            if not po_line:
                problems["no_po"].append(line.line_number)
            if not product:
                problems["unknown_item"].append(line.line_number)
            where = self.env._("line %s", line.line_number)
            vals = {
                "name": line.item.description or product.display_name or line.item.key(),
                "quantity": float(line.quantity),
                "price_unit": float(line.unit_price / (line.price_base_quantity or 1)),
                "hc_line_ref": line.line_number,
                "tax_ids": self._tax_command(stated.lines[index], resolve_tax, where, problems),
            }
            if product:
                uom, understood = self._line_uom(line, product, po_line)
                vals.update(product_id=product.id, product_uom_id=uom.id)
                if not understood:
                    problems["uom"].append(line.line_number)
            if po_line:
                vals["purchase_line_id"] = po_line.id
            commands.append(Command.create(vals))
        for index, line in enumerate(document.lines):
            for position, charge in enumerate(line.allowance_charges):
                keys = stated.line_charges[index][position]
                commands.append(
                    self._charge_command(charge, keys, resolve_tax, problems, line.line_number)
                )
        po_charges = self._po_charge_lines(orders, document.allowance_charges)
        for position, charge in enumerate(document.allowance_charges):
            keys = stated.document_charges[position]
            command = self._charge_command(charge, keys, resolve_tax, problems)
            po_line = po_charges.get(position)
            if po_line:
                command[2].update(purchase_line_id=po_line.id, product_id=po_line.product_id.id)
            commands.append(command)
        if document.rounding_amount:
            commands.append(
                Command.create(
                    {
                        "name": self.env._("Rounding"),
                        "quantity": 1.0,
                        "price_unit": float(document.rounding_amount),
                        "hc_charge_kind": "rounding",
                        "tax_ids": [Command.set([])],
                    }
                )
            )
        return commands, problems

    @api.model
    def _hint_line_amounts(self, commands, company, currency, move_type):
        """Give each bill line, at create, the amounts Odoo's tax synchronisation gives it.

        A new bill's lines are created with no amount; Odoo then writes each line three
        times (``amount_currency``, then ``balance``, in ``_sync_invoice``; then both and
        the tax tags from the tax engine in ``_sync_tax_lines``).  A line created with the
        amounts the tax engine will compute is written by none of them: the engine still
        runs and compares (``is_write_needed``), and writes the line whenever the values
        given differ, so what is stored is Odoo's result whatever this estimate is.

        Only where the estimate is plain: the company's currency (a rate of 1), taxes all
        excluded from the price (the line's untaxed amount is its quantity times its unit
        price, rounded to the currency), no discount, no tax tags.
        """
        if currency != company.currency_id:
            return
        sign = 1 if move_type == "in_invoice" else -1  # account.move.direction_sign
        taxes = self.env["account.tax"].sudo()
        for command in commands:
            vals = command[2]
            tax_ids = vals["tax_ids"][0][2]
            if tax_ids and any(
                tax.price_include
                or tax.amount_type == "division"
                or tax.invoice_repartition_line_ids.tag_ids
                or tax.refund_repartition_line_ids.tag_ids
                for tax in taxes.browse(tax_ids)
            ):
                continue
            amount = sign * currency.round(vals["quantity"] * vals["price_unit"])
            vals.update(amount_currency=amount, balance=amount)

    @api.model
    def _po_charge_lines(self, orders, charges):
        """``{position: purchase.order.line}``: the document charges the order agreed.

        A purchase order may carry freight or handling as a service line; the invoice's
        charge is that line when the charge's reason code is the service's internal
        reference, or its reason names the service, or it is the document's only charge
        and the orders' only service line.  The match then counts only what the charge
        exceeds of what the order agreed.
        """
        services = orders.order_line.filtered(
            lambda pol: not pol.display_type and pol.product_id.type == "service"
        )
        if not services:
            return {}
        found = {}
        positions = [i for i, charge in enumerate(charges) if charge.is_charge]
        for position in positions:
            charge = charges[position]
            code = (charge.reason_code or "").strip().casefold()
            reason = (charge.reason or "").strip().casefold()
            for pol in services - self.env["purchase.order.line"].union(*found.values()):
                ref = (pol.product_id.default_code or "").casefold()
                name = (pol.product_id.name or "").casefold()
                if (code and code == ref) or (
                    reason and name and (name in reason or reason in name)
                ):
                    found[position] = pol
                    break
        if not found and len(positions) == 1 and len(services) == 1:
            found[positions[0]] = services
        return found

    @api.model
    def _charge_command(self, charge, keys, resolve_tax, problems, line_number=None):
        """An allowance or charge as a bill line without product, with its stated tax."""
        label = (
            charge.reason
            or charge.reason_code
            or (self.env._("Charge") if charge.is_charge else self.env._("Allowance"))
        )
        if line_number:
            label = self.env._("%(label)s (line %(line)s)", label=label, line=line_number)
        amount = float(charge.amount)
        return Command.create(
            {
                "name": label,
                "quantity": 1.0,
                "price_unit": amount if charge.is_charge else -amount,
                "hc_charge_kind": "charge" if charge.is_charge else "allowance",
                "hc_charge_line_ref": line_number or False,
                "tax_ids": self._tax_command(keys, resolve_tax, label, problems),
            }
        )

    @api.model
    def _attach_document(self, message, document, bill):
        """Keep the supplier's original document on the bill, as received."""
        content_type = (message.content_type or "").split(";")[0].strip().lower()
        extension = FILE_EXTENSIONS.get(content_type, "txt")
        raw = base64.b64decode(message.sudo().payload or b"")
        source = self.env._("Received from %s", message.connector_id.name)
        vals_list = [
            {
                "name": f"{document.number}.{extension}",
                "raw": raw,
                "mimetype": content_type or "application/octet-stream",
            }
        ]
        if extension == "xml" and not message.payload_encrypted:
            # the supplier's PDF image of the invoice (UBL embeds it): shown beside the bill
            vals_list += [
                {
                    "name": embedded.filename,
                    "raw": embedded.content,
                    "mimetype": embedded.mimetype,
                    "description": embedded.description or False,
                }
                for embedded in ubl_embedded_files(raw)
            ]
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "description": source,
                        **vals,
                        "res_model": "account.move",
                        "res_id": bill.id,
                        "company_id": bill.company_id.id,
                        "hc_received_document": True,
                    }
                    for vals in vals_list
                ]
            )
        )
        pdf = attachments.filtered(lambda a: a.mimetype == "application/pdf")[:1]
        if not bill.message_main_attachment_id or pdf:
            bill._hc_write_outside_lines(
                {"message_main_attachment_id": (pdf or attachments[:1]).id}
            )
        return attachments[:1]

    @api.model
    def _bill_exception_vals(self, message, bill):
        """What every exception the import raises on a bill links to."""
        return {
            "company_id": message.company_id.id,
            "partner_id": bill.commercial_partner_id.id,
            "message_id": message.id,
            "res_model": "account.move",
            "res_id": bill.id,
        }

    @api.model
    def _raise_line_exceptions(self, message, document, bill, problems):
        """One exception per kind of line problem on the bill, naming the lines."""
        common = self._bill_exception_vals(message, bill)
        po_numbers = ", ".join(document.all_po_numbers()) or self.env._("none")
        if problems["no_po"]:
            self.env["hc.exception"]._raise(
                "no_po",
                self.env._(
                    "Invoice %(number)s: %(n)s line(s) without purchase order line",
                    number=document.number,
                    n=len(problems["no_po"]),
                ),
                f"no_po:account.move:{bill.id}",
                severity="high",
                description=self.env._(
                    "Lines %(lines)s match no line of the purchase order(s) referenced "
                    "(%(pos)s). Link them to a PO line or request a credit note.",
                    lines=", ".join(problems["no_po"]),
                    pos=po_numbers,
                ),
                details={"lines": problems["no_po"], "po_numbers": document.all_po_numbers()},
                **common,
            )
        if problems["unknown_item"]:
            self.env["hc.exception"]._raise(
                "unknown_item",
                self.env._(
                    "Invoice %(number)s: %(n)s unknown item(s)",
                    number=document.number,
                    n=len(problems["unknown_item"]),
                ),
                f"unknown_item:account.move:{bill.id}",
                severity="medium",
                description=self.env._(
                    "No product found for lines %(lines)s (by GTIN, buyer or vendor part "
                    "number, or the PO line): %(items)s.",
                    lines=", ".join(problems["unknown_item"]),
                    items="; ".join(
                        ln.item.key() or ln.item.description or "-"
                        for ln in document.lines
                        if ln.line_number in problems["unknown_item"]
                    ),
                ),
                details={"lines": problems["unknown_item"]},
                **common,
            )
        if problems["uom"]:
            self.env["hc.exception"]._raise(
                "uom_mismatch",
                self.env._("Invoice %s: unit of measure not understood", document.number),
                f"uom_mismatch:account.move:{bill.id}",
                severity="high",
                description=self.env._(
                    "Lines %(lines)s: the invoiced unit is not mapped or not convertible to "
                    "the product's unit; the quantity was billed in the product's unit.",
                    lines=", ".join(problems["uom"]),
                ),
                details={
                    "lines": problems["uom"],
                    "units": sorted({ln.uom for ln in document.lines}),
                },
                **common,
            )

    @api.model
    def _raise_amount_exceptions(self, message, document, bill, problems):
        """Taxes the mapping could not place, and a document whose own amounts disagree.

        Both block the bill's release (severity high): a bill is never paid for an
        amount the supplier did not invoice, nor on a document that contradicts itself.
        """
        common = dict(self._bill_exception_vals(message, bill), currency_id=bill.currency_id.id)
        if problems["tax"]:
            self.env["hc.exception"]._raise(
                "tax_unmapped",
                self.env._("Invoice %s: tax not mapped", document.number),
                f"tax_unmapped:account.move:{bill.id}",
                severity="high",
                description=self.env._(
                    "The supplier's tax could not be placed on the bill (it was left "
                    "untaxed rather than guessed): %s. Map the tax in Procure-to-Pay Hub > "
                    "Configuration > Tax mappings, then set it on the lines and re-run the "
                    "match.",
                    "; ".join(f"{where}: {reason}" for where, reason in problems["tax"]),
                ),
                hint=self.env._("Map the tax, correct the bill lines, re-run the match."),
                details={"taxes": [[str(w), str(r)] for w, r in problems["tax"]]},
                **common,
            )
        findings = document.amount_findings()
        if findings:
            self.env["hc.exception"]._raise(
                "document_inconsistent",
                self.env._("Invoice %s: amounts do not add up", document.number),
                f"document_inconsistent:account.move:{bill.id}",
                severity="high",
                description=self.env._(
                    "The supplier's document contradicts itself: %s. Ask the supplier for a "
                    "corrected invoice before paying.",
                    "; ".join(finding.message for finding in findings),
                ),
                hint=self.env._("Request a corrected invoice, or reject the bill."),
                details={
                    "findings": [
                        {
                            "code": f.code,
                            "path": f.path,
                            "stated": str(f.stated),
                            "computed": str(f.computed),
                        }
                        for f in findings
                    ]
                },
                **common,
            )
