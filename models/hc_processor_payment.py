from datetime import timedelta

from odoo import api
from odoo import fields
from odoo import models

from ..api_contract.errors import PermanentError
from ..api_contract.errors import WaitingForDependency
from ..normalize.references import normalize_reference

# How long a payment status may wait for the invoice it names before it is dead.
WAIT_PARAM = "healthcare_p2p_integration.payment_invoice_wait_hours"
DEFAULT_WAIT_HOURS = 72


class HcProcessorPayment(models.AbstractModel):
    """Payment status from AP, a bank or treasury -> the status on the bills it names.

    The bank or treasury system owns the money: ``paid`` is recorded on the bill
    (reference, date, amount remitted) but registers no accounting payment, that is done
    by bank reconciliation.  A ``rejected`` payment opens a ``payment_rejected`` exception
    with the bank's reason; ``hold`` and ``scheduled`` are recorded.  A status naming an
    invoice not imported yet waits for it (invoices and payments travel on different
    feeds), then is dead after ``healthcare_p2p_integration.payment_invoice_wait_hours``.
    """

    _name = "hc.processor.payment"
    _inherit = "hc.processor"
    _description = "Payment status processor"

    @api.model
    def _apply(self, message, document):
        # The payee is optional: the invoice references then name the bills.
        vendor = self._resolve_vendor(message, document.vendor).commercial_partner_id
        bills_by_ref = []
        for ref in document.invoices:
            bill = self._find_bill(message, document, vendor, ref)
            if not bill:
                # Another company's bill is not there, as if it did not exist (F16).
                self._wait_for_invoice(message, ref)
            bills_by_ref.append((ref, bill))
        if not bills_by_ref:
            raise PermanentError(
                self.env._("Payment %s names no invoice.", document.payment_id), code="no_invoice"
            )
        updated = self.env["account.move"]
        for ref, bill in bills_by_ref:
            if self._record_status(message, document, ref, bill):
                updated |= bill
        bills = self.env["account.move"].union(*(bill for _ref, bill in bills_by_ref))
        return {
            "records": bills,
            "summary": self.env._(
                "Payment %(payment)s %(status)s on %(n)s bill(s)",
                payment=document.payment_id,
                status=document.status,
                n=len(updated),
            ),
            "produced_keys": [document.natural_key()],
        }

    @api.model
    def _find_bill(self, message, document, vendor, ref):
        """The vendor bill a remittance line names: vendor + normalised reference.

        Banks often identify the payee differently from the AP feed: without a known
        vendor the reference alone must designate one bill, disambiguated by the PO
        number and the amount invoiced when several vendors used it.
        """
        normalized = normalize_reference(ref.invoice_number)
        if not normalized:
            raise PermanentError(
                self.env._("Invoice reference %r is empty once normalised.", ref.invoice_number),
                code="invalid_invoice_reference",
            )
        domain = [
            ("company_id", "=", message.company_id.id),
            ("move_type", "=", "in_invoice"),
            ("hc_ref_normalized", "=", normalized),
            ("state", "!=", "cancel"),
        ]
        if vendor:
            domain.append(("commercial_partner_id", "=", vendor.id))
        bills = self.env["account.move"].sudo().search(domain, order="invoice_date desc, id desc")
        if len(bills) > 1 and ref.po_number:
            same_po = bills.filtered(
                lambda b: (
                    ref.po_number in b.invoice_line_ids.purchase_order_id.mapped("name")
                    or ref.po_number in (b.invoice_origin or "")
                )
            )
            bills = same_po or bills
        if len(bills) > 1 and ref.amount_invoiced is not None:
            amount = float(ref.amount_invoiced)
            same_amount = bills.filtered(
                lambda b: (
                    b.currency_id.compare_amounts(b.hc_stated_total or b.amount_total, amount) == 0
                )
            )
            bills = same_amount or bills
        if len(bills) > 1 and ref.invoice_date:
            bills = bills.filtered(lambda b: b.invoice_date == ref.invoice_date) or bills
        if len(bills.commercial_partner_id) > 1:
            raise PermanentError(
                self.env._(
                    "Invoice %(number)s matches bills of several vendors (%(vendors)s): the "
                    "payment must identify its payee.",
                    number=ref.invoice_number,
                    vendors=", ".join(bills.commercial_partner_id.mapped("display_name")),
                ),
                code="ambiguous_invoice",
            )
        # Same vendor reusing a number across years: the most recent bill is the one paid.
        return bills[:1]

    @api.model
    def _wait_for_invoice(self, message, ref):
        """Park the message on the invoice's number, or give up after the waiting time."""
        hours = int(
            self.env["ir.config_parameter"].sudo().get_param(WAIT_PARAM, DEFAULT_WAIT_HOURS)
        )
        received = message.received_at or fields.Datetime.now()
        if fields.Datetime.now() - received > timedelta(hours=hours):
            raise PermanentError(
                self.env._(
                    "Invoice %(number)s was not received within %(hours)s hours.",
                    number=ref.invoice_number,
                    hours=hours,
                ),
                code="unknown_invoice",
            )
        raise WaitingForDependency(f"invoice_number:{normalize_reference(ref.invoice_number)}")

    @api.model
    def _record_status(self, message, document, ref, bill):
        """Write the status on ``bill``; return False when it was not applied.

        A late ``scheduled`` or ``hold`` of the same payment never overwrites ``paid``:
        feeds are not always delivered in order and a paid bill must not look open.
        """
        if (
            bill.hc_payment_status == "paid"
            and bill.hc_payment_ref == document.payment_id
            and document.status in ("scheduled", "hold")
        ):
            return False
        amount = ref.amount_paid
        if amount is None and len(document.invoices) == 1:
            amount = document.amount
        bill.write(
            {
                "hc_payment_status": document.status,
                "hc_payment_ref": document.payment_id,
                "hc_payment_date": document.payment_date,
                "hc_payment_amount": float(amount) if amount is not None else 0.0,
                "hc_payment_note": document.reason or False,
            }
        )
        self.env["hc.audit.log"]._log(
            "payment_status",
            bill,
            reason=document.reason,
            data={
                "payment_id": document.payment_id,
                "status": document.status,
                "amount": str(amount) if amount is not None else None,
                "currency": document.currency,
                "date": document.payment_date.isoformat(),
                "message_id": message.id,
            },
        )
        if document.status == "rejected":
            self.env["hc.exception"]._raise(
                "payment_rejected",
                self.env._(
                    "Payment %(payment)s of %(bill)s rejected",
                    payment=document.payment_id,
                    bill=bill.ref or bill.display_name,
                ),
                f"payment_rejected:{document.payment_id}:{bill.id}",
                severity="high",
                company_id=message.company_id.id,
                partner_id=bill.commercial_partner_id.id,
                message_id=message.id,
                res_model="account.move",
                res_id=bill.id,
                description=self.env._(
                    "The bank rejected payment %(payment)s (%(method)s) on %(date)s: "
                    "%(reason)s. Check the vendor's bank details before paying again.",
                    payment=document.payment_id,
                    method=document.method or "-",
                    date=document.payment_date,
                    reason=document.reason,
                ),
                details={"payment_id": document.payment_id, "reason": document.reason},
            )
        return True
