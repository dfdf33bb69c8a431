import logging
from decimal import Decimal

from odoo import api
from odoo import fields
from odoo import models

from ..matching.engine import BillLine
from ..matching.engine import ChargeLine
from ..matching.engine import ContractPrice
from ..matching.engine import PoLine
from ..matching.engine import ReceiptQty
from ..matching.engine import StatedAmounts
from ..matching.engine import explain_exception
from ..matching.engine import match_bill
from .hc_queue_mixin import auto_commit

_logger = logging.getLogger(__name__)


def _line_label(line):
    """How people name a bill line: its position among the bill's lines, and what it is
    ("2 (Nitrile exam gloves, M)"), never a database id."""
    siblings = line.move_id.invoice_line_ids.filtered(lambda ln: ln.display_type == "product")
    position = (siblings.ids.index(line.id) + 1) if line.id in siblings.ids else ""
    what = (line.product_id.display_name or line.name or "").splitlines()[0:1]
    what = what[0][:40] if what else ""
    return f"{position} ({what})" if what else str(position)


def _dec(value):
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value or 0)


# Match problems a bill may not be paid with until a person has decided, whatever else.
HIGH_SEVERITY = ("no_po", "total_variance", "total_mismatch", "tax_variance")


class HcThreeWayMatch(models.AbstractModel):
    """Three-way match of vendor bills: reads Odoo records, runs the pure engine, acts.

    The decision itself is the ORM-free ``matching.engine.match_bill``; this service only
    gathers its inputs in a few batched reads, stores the explainable per-line result on
    the bill, opens (or closes) one exception per distinct problem, and releases matched
    bills for payment without a human (touchless).
    """

    _name = "hc.three.way.match"
    _description = "Three-way match service"

    @api.model
    def _match_bills(self, bills, autopost=True, in_order=False, new=False):
        """Match ``bills`` (vendor bills / refunds); return ``{bill: BillMatchResult}``.

        ``autopost=False``: a released bill is not posted here (it is being posted).
        ``in_order``: the bills were created together in the order of their ids (the
        partial bills of one order, imported in one batch): each counts as previously
        billed only what bills before it billed, exactly as when they are imported and
        matched one at a time, not the quantities of the bills after it.
        ``new``: the bills were created in this transaction: no earlier verdict of theirs
        (explained lines, match exceptions) to replace.
        """
        bills = bills.filtered(
            lambda m: m.move_type in ("in_invoice", "in_refund") and m.state != "cancel"
        )
        results = {}
        resolvers = {}
        # the exceptions that may hold each bill, read once for the batch
        open_by_bill = {}
        for exc in bills._hc_open_exceptions():
            bill = exc.move_id if exc.move_id in bills else bills.browse(exc.res_id)
            open_by_bill[bill] = open_by_bill.get(bill, exc.browse()) | exc
        later = self._later_quantities(bills) if in_order and len(bills) > 1 else {}
        contracts = self._contract_infos(bills) if len(bills) > 1 else None
        for bill in bills:
            company = bill.company_id
            if company not in resolvers:
                resolvers[company] = self.env["hc.tolerance.rule"]._resolver(company)
            result = self._match_one(bill, resolvers[company], later.get(bill.id), contracts)
            self._store(
                bill,
                result,
                autopost=autopost,
                open_exceptions=open_by_bill.get(bill, self.env["hc.exception"]),
                new=new,
            )
            results[bill] = result
        return results

    @api.model
    def _billed_quantities(self, bill, lines):
        """``{purchase.order.line: quantity}`` that ``lines`` of ``bill`` bill, in the
        order line's unit, negative for a refund (as the order line's invoiced quantity)."""
        is_refund = bill.move_type == "in_refund"
        billed = {}
        for line in lines:
            pol = line.purchase_line_id
            if not pol:
                continue
            qty = line.product_uom_id._compute_quantity(
                line.quantity, pol.product_uom_id, round=False
            )
            billed[pol] = billed.get(pol, 0.0) + (-qty if is_refund else qty)
        return billed

    @api.model
    def _later_quantities(self, bills):
        """``{bill id: {purchase.order.line: quantity}}``: what the bills of ``bills``
        with a higher id count in the invoiced quantity of the order lines each bill
        bills (every line linked to an order line, as Odoo's ``qty_invoiced``)."""
        per_bill = {}
        for bill in bills:
            per_bill[bill.id] = self._billed_quantities(bill, bill.invoice_line_ids)
        later, running = {}, {}
        for bill_id in sorted(per_bill, reverse=True):
            later[bill_id] = {pol: running[pol] for pol in per_bill[bill_id] if running.get(pol)}
            for pol, qty in per_bill[bill_id].items():
                running[pol] = running.get(pol, 0.0) + qty
        return later

    @api.model
    def _match_one(self, bill, resolver, later=None, contracts=None):
        """``later``: ``{purchase.order.line: quantity}`` billed by bills created after
        this one in the same batch, not counted as previously billed; ``contracts``: the
        contract prices of a batch of bills, read at once (:meth:`_contract_infos`)."""
        later = later or {}
        all_lines = bill.invoice_line_ids.filtered(lambda line: line.display_type == "product")

        def kind(line):
            # a negative price line a person keyed in (a discount) is an allowance: it is
            # in the buyer's favour and never a goods line with a "negative price"
            if line.hc_charge_kind:
                return line.hc_charge_kind
            return "allowance" if line.price_unit < 0 and line.quantity >= 0 else False

        lines = all_lines.filtered(lambda line: not kind(line))
        po_lines = lines.purchase_line_id
        is_refund = bill.move_type == "in_refund"
        own_qty = self._billed_quantities(bill, lines)
        ref_unit = {}

        def factor(uom, product):
            if not uom or not product:
                return Decimal(1)
            key = (uom.id, product.uom_id.id)
            if key not in ref_unit:
                # Odoo multiplies factors of any two units: only units of one family
                # (a common reference unit) convert, else None ("cannot be converted").
                ref_unit[key] = (
                    _dec(uom._compute_quantity(1.0, product.uom_id, round=False))
                    if uom._has_common_reference(product.uom_id)
                    else None
                )
            return ref_unit[key]

        engine_po_lines = [
            PoLine(
                id=pol.id,
                po_id=pol.order_id.id,
                po_name=pol.order_id.name,
                product_id=pol.product_id.id,
                ordered_qty=_dec(pol.product_qty),
                price_unit=_dec(pol.price_unit),
                uom_factor=factor(pol.product_uom_id, pol.product_id),
                vendor_id=pol.order_id.partner_id.commercial_partner_id.id,
                category_path=tuple(
                    int(c)
                    for c in reversed(
                        (pol.product_id.categ_id.parent_path or "").strip("/").split("/")
                    )
                    if c
                ),
                currency=pol.currency_id.name,
                previously_billed_qty=_dec(
                    pol.qty_invoiced - own_qty.get(pol, 0.0) - later.get(pol, 0.0)
                ),
                po_date=(pol.order_id.date_approve or pol.order_id.date_order).date(),
                uom_name=pol.product_uom_id.name,
                product_name=pol.product_id.display_name,
            )
            for pol in po_lines
        ]
        receipts = [ReceiptQty(po_line_id=pol.id, qty=_dec(pol.qty_received)) for pol in po_lines]
        bill_lines = [
            BillLine(
                id=line.id,
                po_line_id=line.purchase_line_id.id or None,
                product_id=line.product_id.id or None,
                qty=_dec(line.quantity),
                price_unit=_dec(line.price_unit),
                uom_factor=factor(
                    line.product_uom_id, line.product_id or line.purchase_line_id.product_id
                ),
                is_credit_note=is_refund,
                uom_name=line.product_uom_id.name or "",
                description=line.name or "",
                label=_line_label(line),
            )
            for line in lines
        ]
        contract_prices = self._contract_prices(bill, po_lines, factor, contracts)
        by_ref = {line.hc_line_ref: line.id for line in lines if line.hc_line_ref}
        charges = [
            ChargeLine(
                id=line.id,
                amount=abs(_dec(line.price_subtotal)),
                is_charge=kind(line) == "charge",
                label=line.name or "",
                bill_line_id=by_ref.get(line.hc_charge_line_ref),
                **self._agreed_charge(line, is_refund),
            )
            for line in all_lines
            if kind(line) in ("charge", "allowance")
        ]
        return match_bill(
            engine_po_lines,
            receipts,
            bill_lines,
            resolver,
            _dec(bill.currency_id.rounding),
            contract_prices,
            vendor_id=bill.partner_id.commercial_partner_id.id,
            charges=charges,
            stated=self._stated(bill),
            credit_note=is_refund,
        )

    @api.model
    def _agreed_charge(self, line, is_refund):
        """What the purchase order agreed of a charge linked to its service line: the
        line's amount not billed by other bills."""
        pol = line.purchase_line_id
        if not pol or line.hc_charge_kind != "charge" or is_refund:
            return {}
        own = line.product_uom_id._compute_quantity(line.quantity, pol.product_uom_id, round=False)
        left = (pol.product_qty - (pol.qty_invoiced - own)) * pol.price_unit
        return {"agreed": _dec(max(left, 0.0)), "agreed_on": f"{pol.order_id.name}: {pol.name}"}

    @api.model
    def _stated(self, bill):
        """The supplier's stated amounts beside the bill's (None for bills keyed in)."""
        stated = bill.hc_stated_amounts
        if not stated:
            return None
        return StatedAmounts(
            bill_untaxed=_dec(bill.amount_untaxed),
            bill_tax=_dec(bill.amount_tax),
            bill_total=_dec(bill.amount_total),
            untaxed=stated.get("untaxed"),
            tax=stated.get("tax"),
            total=stated.get("total"),
            prepaid=stated.get("prepaid"),
        )

    @api.model
    def _contract_domain(self, vendors, products):
        return [
            ("hc_contract_ref", "!=", False),
            ("partner_id", "in", vendors.ids),
            "|",
            ("product_id", "in", products.ids),
            ("product_tmpl_id", "in", products.product_tmpl_id.ids),
        ]

    @api.model
    def _contract_infos(self, bills):
        """The contract prices of every bill of ``bills``, in one search."""
        products = bills.invoice_line_ids.purchase_line_id.product_id
        if not products:
            return self.env["product.supplierinfo"].sudo()
        vendors = bills.partner_id.commercial_partner_id
        return (
            self.env["product.supplierinfo"].sudo().search(self._contract_domain(vendors, products))
        )

    @api.model
    def _contract_prices(self, bill, po_lines, factor, contracts=None):
        products = po_lines.product_id
        if not products:
            return []
        vendor = bill.partner_id.commercial_partner_id
        if contracts is None:
            infos = (
                self.env["product.supplierinfo"]
                .sudo()
                .search(self._contract_domain(vendor, products))
            )
        else:  # the same records, out of the batch's
            infos = contracts.filtered(
                lambda i: (
                    i.partner_id == vendor
                    and (i.product_id in products or i.product_tmpl_id in products.product_tmpl_id)
                )
            )
        # the bill's company's prices (or shared ones); a price restricted to other
        # facilities than the orders' does not apply
        infos = infos.filtered(lambda i: i.company_id in (bill.company_id, i.company_id.browse()))
        facilities = self.env["res.partner"].browse()
        for order in po_lines.order_id:
            facilities |= order._hc_facility_partners()
        infos = infos.filtered(
            lambda i: i._hc_is_eligible(facilities or bill.company_id.partner_id)
        )
        prices = []
        for info in infos:
            for product in info.product_id or info.product_tmpl_id.product_variant_ids & products:
                if factor(info.product_uom_id, product) is None:
                    continue  # a price in a unit of another family compares with nothing
                prices.append(
                    ContractPrice(
                        product_id=product.id,
                        vendor_id=bill.partner_id.commercial_partner_id.id,
                        price=_dec(info.price),
                        contract_ref=info.hc_contract_ref,
                        uom_factor=factor(info.product_uom_id, product),
                        valid_from=info.date_start or None,
                        valid_to=info.date_end or None,
                        currency=info.currency_id.name or "",
                    )
                )
        return prices

    @api.model
    def _store(self, bill, result, autopost=True, open_exceptions=None, new=False):
        """Write the verdict on the bill, its lines' explanations and the exceptions.

        ``new``: a bill created in this transaction has neither match lines nor match
        exceptions yet (nothing stale to close or replace)."""
        Exception_ = self.env["hc.exception"].sudo()
        keys = set()
        accepted_all = True
        problems = list(result.exceptions)
        if any(p.type != "total_variance" for p in problems):
            # The total variance of a bill with line problems is their consequence, not
            # a second problem for the clerk; it stands alone once the lines match.
            problems = [p for p in problems if p.type != "total_variance"]
        for problem in problems:
            line_ids = ",".join(str(i) for i in sorted(problem.line_ids, key=str))
            key = f"match:{bill.id}:{problem.type}:{line_ids}:{problem.amount}"
            keys.add(key)
            accepted = Exception_.search_count(
                [
                    ("dedup_key", "=", key),
                    ("state", "=", "resolved"),
                    ("resolution_action", "=", "accept"),
                ]
            )
            if accepted:
                continue
            accepted_all = False
            explain = Exception_._hc_explain_vals(explain_exception(result, problem))
            if problem.type in ("no_po", "uom_mismatch"):
                imported = Exception_.search(
                    [
                        ("exception_type", "=", problem.type),
                        ("res_model", "=", "account.move"),
                        ("res_id", "=", bill.id),
                        ("state", "not in", ("resolved", "cancelled")),
                        ("dedup_key", "not like", "match:%"),
                    ]
                )
                if imported:
                    # the invoice import already raised this very problem: it gets the
                    # match's figures
                    imported.filtered(lambda e: not e.explain_check).write(explain)
                    continue
            exc = Exception_._raise(
                problem.type,
                self.env._(
                    "%(type)s on %(bill)s",
                    type=dict(Exception_._fields["exception_type"].selection)[problem.type],
                    bill=bill.ref or bill.name,
                ),
                key,
                severity="high" if problem.type in HIGH_SEVERITY else "medium",
                company_id=bill.company_id.id,
                partner_id=bill.partner_id.commercial_partner_id.id,
                move_id=bill.id,
                res_model="account.move",
                res_id=bill.id,
                purchase_id=bill.invoice_line_ids.purchase_line_id.order_id[:1].id,
                amount=float(problem.amount),
                currency_id=bill.currency_id.id,
                description=problem.explanation,
                hint=problem.hint,
                details=problem.to_dict(),
                message_id=bill.hc_message_id.id,
                **explain,
            )
            if not exc.explain_check:
                exc.write(explain)  # raised before the match explained its figures
        # problems a re-match no longer sees (a receipt arrived, a credit note, a looser
        # tolerance) close by themselves
        if not new:
            stale = Exception_.search(
                [
                    ("move_id", "=", bill.id),
                    ("dedup_key", "=like", f"match:{bill.id}:%"),
                    ("state", "not in", ("resolved", "cancelled")),
                    ("dedup_key", "not in", list(keys)),
                ]
            )
            stale._resolve("auto", self.env._("No longer found by the three-way match."))
        if result.matched:
            state = "matched"
        elif accepted_all:
            state = "accepted"
        else:
            state = "blocked"
        explanation = result.explanation
        if open_exceptions is None:
            open_exceptions = bill._hc_open_exceptions()
        # the match's own exceptions are its verdict above (stale ones were just closed)
        held = open_exceptions.filtered(
            lambda e: (
                e.state not in ("resolved", "cancelled")
                and not (e.dedup_key or "").startswith(f"match:{bill.id}:")
            )
        )
        if state != "blocked" and held:
            # the match alone never releases a bill somebody still has to look at
            state = "blocked"
            explanation = self.env._(
                "%(verdict)s Held: %(count)s open exception(s) on the bill must be resolved "
                "first (%(names)s).",
                verdict=explanation,
                count=len(held),
                names="; ".join(held.mapped("name")),
            )
        by_line = {line.bill_line_id: line for line in result.lines}
        if not new:
            self.env["hc.bill.match.line"].sudo().search([("move_id", "=", bill.id)]).unlink()
        self.env["hc.bill.match.line"].sudo().create(
            [
                {
                    "move_id": bill.id,
                    "move_line_id": line_id,
                    "status": line.status,
                    "explanation": line.explanation,
                    "decided_by": line.decided_by,
                    "ordered_qty": float(line.ordered_qty or 0),
                    "received_qty": float(line.received_qty or 0),
                    "previously_billed_qty": float(line.previously_billed_qty or 0),
                    "billed_qty": float(line.billed_qty or 0),
                    "po_price": float(line.po_price or 0),
                    "bill_price": float(line.bill_price or 0),
                    "contract_price": float(line.contract_price or 0),
                    "details": line.to_dict(),
                }
                for line_id, line in by_line.items()
            ]
        )
        bill.sudo()._hc_write_outside_lines(
            {
                "hc_match_state": state,
                "hc_match_explanation": explanation,
                "hc_match_date": fields.Datetime.now(),
                "hc_match_total_check": self._checks_to_store(result),
            }
        )
        if state in ("matched", "accepted"):
            bill._hc_release(touchless=state == "matched", autopost=autopost)
        return state

    @api.model
    def _checks_to_store(self, result):
        """The bill-level checks (total, charges, stated amounts) kept on the bill."""
        if not result.total_check:
            return False
        stored = result.total_check.to_dict()
        if result.charge_check:
            stored["charges"] = result.charge_check.to_dict()
        if result.amount_checks:
            stored["stated_amounts"] = [check.to_dict() for check in result.amount_checks]
        return stored

    @api.model
    def _open_bills_domain(self):
        return [
            ("move_type", "in", ("in_invoice", "in_refund")),
            ("state", "!=", "cancel"),
            ("hc_match_state", "in", ("blocked", "matched", "accepted", "pending")),
            ("payment_state", "not in", ("paid", "in_payment", "reversed")),
        ]

    @api.model
    def _cron_rematch_open_bills(self, batch_size=200, companies=None):
        """Re-match open bills in batches (after tolerance, receipt or credit note changes).

        Safe to run beside live traffic and to re-run: each batch commits with its
        progress (in a cron job), and a re-match of an unchanged bill changes nothing.
        Run by the ``rematch_open_bills`` reconciliation rule; returns the bills matched.
        """
        domain = self._open_bills_domain()
        if companies is not None:
            domain.append(("company_id", "in", companies.ids))
        bills = self.env["account.move"].search(domain, order="id")
        commit = auto_commit() and bool(self.env.context.get("ir_cron_progress_id"))
        if commit:
            self.env["ir.cron"]._commit_progress(remaining=len(bills))
        done = 0
        for start in range(0, len(bills), batch_size):
            batch = bills[start : start + batch_size]
            self._match_bills(batch)
            done += len(batch)
            if commit and not self.env["ir.cron"]._commit_progress(len(batch)):
                break
        return done
