from markupsafe import Markup

from odoo import api
from odoo import models
from odoo.tools import float_compare
from odoo.tools import format_date
from odoo.tools.misc import formatLang

from ..api_contract.errors import WaitingForDependency

CONFIRMED_STATES = ("purchase", "done")


class HcProcessorPoAck(models.AbstractModel):
    """Purchase order acknowledgment: the supplier's answer to an order, line by line.

    Each acknowledged line is kept as an ``hc.po.ack.line`` with the order line's values
    as agreed (quantity, price, date), the supplier's proposal (a rejected line proposes
    quantity 0) and the decision taken on it.

    * A **request for quotation** (an order not yet confirmed: draft, sent, to approve) is
      still being negotiated: the supplier's values are taken at once, as quoted.
    * A **confirmed order** (``purchase`` / ``done``) is an agreement: an acknowledgment
      never changes it.  A line whose quantity, price or date differs, or that the supplier
      rejects or backorders, or that is not on the order, is recorded as a proposal, and
      one ``po_ack_change`` exception per acknowledgment goes to the buyer (the receiving
      and supply chain queue) with the changes line by line and the money at stake.  The
      buyer accepts (the proposal is applied to the order) or rejects it (the order stays
      as agreed): see ``hc.exception._po_ack_decide``.  Until then the three-way match
      compares invoices with the order as agreed.
    * An acknowledgment that accepts every line as ordered changes nothing and raises
      nothing.

    An acknowledgment is applied once: processing it again (a replay) finds its history
    lines and changes nothing; its exception's ``dedup_key`` names the order and the
    acknowledgment.
    """

    _name = "hc.processor.po_ack"
    _inherit = "hc.processor"
    _description = "PO acknowledgment processor"
    # A purchase order keyed in by hand, in any state, is there for its acknowledgment.
    _hc_order_dependency_states = ()

    @api.model
    def _apply(self, message, document):
        order = self._resolve_order(message.company_id, document.po_number)
        if not order:
            raise WaitingForDependency(f"purchase_order:{document.po_number}")
        ack_key = document.natural_key()
        History = self.env["hc.po.ack.line"].sudo()
        produced = [ack_key, *document.correlation_keys()]
        if History.search_count([("order_id", "=", order.id), ("ack_key", "=", ack_key)]):
            return {
                "records": order,
                "summary": self.env._("Acknowledgment of %s already applied", order.name),
                "produced_keys": produced,
            }
        confirmed = order.state in CONFIRMED_STATES
        if document.lines:
            history_vals = [
                self._line_vals(message, order, ack_key, document, ln) for ln in document.lines
            ]
        elif document.status == "rejected":
            history_vals = self._whole_order_rejected(message, order, ack_key, document)
        else:
            history_vals = []
        history = History.create(history_vals)
        proposals = history.filtered(lambda h: h.changed and h.purchase_line_id)
        exception = self.env["hc.exception"]
        if confirmed:
            proposals.write({"decision": "pending"})
            if proposals or history.filtered(lambda h: not h.purchase_line_id):
                exception = self._raise_change(message, order, document, history)
            state = "proposed" if proposals else "acknowledged"
        else:
            proposals._apply_to_order("applied")
            if document.status == "rejected" or (
                history and all(h.status == "reject" for h in history)
            ):
                state = "rejected"
            elif proposals:
                state = "changed"
            else:
                state = "acknowledged"
        order.write({"hc_ack_state": state})
        order.message_post(body=self._chatter_body(document, state, history, exception))
        summary = self.env._(
            "Acknowledgment of %(po)s: %(state)s, %(changed)s line(s) with changes",
            po=order.name,
            state=dict(order._fields["hc_ack_state"].selection)[state],
            changed=len(proposals),
        )
        return {"records": order, "summary": summary, "produced_keys": produced}

    @api.model
    def _base_vals(self, message, order, ack_key, document):
        return {
            "order_id": order.id,
            "message_id": message.id,
            "ack_key": ack_key,
            "ack_number": document.ack_number,
            "ack_date": document.ack_date,
            "decision": "none",
        }

    @api.model
    def _line_vals(self, message, order, ack_key, document, ack_line):
        """History values of one acknowledged line: agreed, proposed, changed or not."""
        vals = dict(
            self._base_vals(message, order, ack_key, document),
            line_number=ack_line.line_number,
            status=ack_line.status,
            note=ack_line.reason,
        )
        line = self._find_line(order, ack_line)
        if not line:
            vals.update(
                note=self.env._("No order line %s: not applied.", ack_line.line_number),
                proposed_qty=float(ack_line.quantity or 0),
                proposed_price=float(ack_line.unit_price or 0),
            )
            return vals
        qty_factor_uom = line.product_uom_id
        if ack_line.uom:
            qty_factor_uom = self._resolve_uom(ack_line.uom, line.product_id)
        qty, price, planned = line.product_qty, line.price_unit, line.date_planned
        if ack_line.status == "reject":
            qty = 0.0  # price and date of a line that will not be delivered do not matter
        else:
            if ack_line.quantity is not None:
                qty = qty_factor_uom._compute_quantity(
                    float(ack_line.quantity), line.product_uom_id, round=False
                )
            if ack_line.unit_price is not None:
                price = qty_factor_uom._compute_price(
                    float(ack_line.unit_price), line.product_uom_id
                )
            if ack_line.scheduled_date:
                planned = self._datetime(ack_line.scheduled_date)
        currency = order.currency_id
        changed = (
            ack_line.status in ("reject", "backorder")
            or float_compare(qty, line.product_qty, precision_rounding=line.product_uom_id.rounding)
            != 0
            or float_compare(price, line.price_unit, precision_rounding=currency.rounding) != 0
            or (planned and (not line.date_planned or planned.date() != line.date_planned.date()))
        )
        keep = 1.0 - (line.discount or 0.0) / 100.0
        vals.update(
            purchase_line_id=line.id,
            product_id=line.product_id.id,
            old_qty=line.product_qty,
            old_price=line.price_unit,
            old_date=line.date_planned,
            proposed_qty=qty,
            proposed_price=price,
            proposed_date=planned,
            # until applied or accepted, the order holds what was agreed
            new_qty=line.product_qty,
            new_price=line.price_unit,
            new_date=line.date_planned,
            changed=bool(changed),
            amount_change=currency.round((qty * price - line.product_qty * line.price_unit) * keep),
        )
        return vals

    @api.model
    def _whole_order_rejected(self, message, order, ack_key, document):
        """An acknowledgment rejecting the order without lines rejects each of its lines."""
        vals_list = []
        for line in order.order_line.filtered(lambda ln: not ln.display_type):
            keep = 1.0 - (line.discount or 0.0) / 100.0
            vals_list.append(
                dict(
                    self._base_vals(message, order, ack_key, document),
                    line_number=line.hc_line_ref or str(line.sequence or line.id),
                    status="reject",
                    note=self.env._("The supplier rejected the whole order."),
                    purchase_line_id=line.id,
                    product_id=line.product_id.id,
                    old_qty=line.product_qty,
                    old_price=line.price_unit,
                    old_date=line.date_planned,
                    proposed_qty=0.0,
                    proposed_price=line.price_unit,
                    proposed_date=line.date_planned,
                    new_qty=line.product_qty,
                    new_price=line.price_unit,
                    new_date=line.date_planned,
                    changed=True,
                    amount_change=order.currency_id.round(
                        -line.product_qty * line.price_unit * keep
                    ),
                )
            )
        return vals_list

    @api.model
    def _raise_change(self, message, order, document, history):
        """One ``po_ack_change`` exception for the buyer, naming every change."""
        lines = history.filtered(lambda h: h.decision == "pending" or not h.purchase_line_id)
        currency = order.currency_id
        at_stake = currency.round(sum(abs(h.amount_change) for h in lines))
        net = currency.round(sum(lines.mapped("amount_change")))
        ack = document.ack_number or format_date(self.env, document.ack_date)
        header = self.env._(
            "Supplier acknowledgment %(ack)s of %(date)s proposes changes to the confirmed "
            "order %(po)s (order value %(net)s). The order stays as agreed until you decide.",
            ack=ack,
            date=format_date(self.env, document.ack_date),
            po=order.name,
            net=formatLang(self.env, net, currency_obj=currency),
        )
        description = "\n".join([header, *(f"- {self._change_text(h)}" for h in lines)])
        exception = self.env["hc.exception"]._raise(
            "po_ack_change",
            self.env._(
                "Acknowledgment %(ack)s changes %(po)s (%(count)s line(s))",
                ack=ack,
                po=order.name,
                count=len(lines),
            ),
            f"po_ack_change:{order.id}:{history[:1].ack_key}",
            severity="high"
            if any(h.status in ("reject", "backorder") for h in lines)
            else "medium",
            company_id=order.company_id.id,
            partner_id=order.partner_id.commercial_partner_id.id,
            purchase_id=order.id,
            res_model="purchase.order",
            res_id=order.id,
            message_id=message.id,
            amount=at_stake,
            currency_id=currency.id,
            description=description,
            hint=self.env._(
                "Accept changes applies the supplier's values to the order; Reject changes "
                "keeps the order as agreed (tell the supplier). Invoices are matched against "
                "the order as agreed until then."
            ),
            details={
                "ack_key": history[:1].ack_key,
                "ack_number": document.ack_number,
                "ack_date": document.ack_date.isoformat(),
                "ack_status": document.status,
                "order": order.name,
                "net_change": net,
                "changes": [self._change_details(h) for h in lines],
            },
        )
        lines.write({"exception_id": exception.id})
        return exception

    @api.model
    def _change_details(self, hist):
        def day(value):
            return value.date().isoformat() if value else None

        return {
            "line": hist.line_number,
            "history_id": hist.id,
            "purchase_line_id": hist.purchase_line_id.id or None,
            "product": hist.product_id.display_name or None,
            "status": hist.status,
            "changes": self._changed_fields(hist),
            "agreed": {"qty": hist.old_qty, "price": hist.old_price, "date": day(hist.old_date)},
            "proposed": {
                "qty": hist.proposed_qty,
                "price": hist.proposed_price,
                "date": day(hist.proposed_date),
            },
            "amount_change": hist.amount_change,
            "reason": hist.note or None,
        }

    @api.model
    def _changed_fields(self, hist):
        """Which of quantity, price and date the line proposes to change."""
        if not hist.purchase_line_id:
            return []
        changed = []
        uom_rounding = hist.purchase_line_id.product_uom_id.rounding
        if float_compare(hist.proposed_qty, hist.old_qty, precision_rounding=uom_rounding):
            changed.append("qty")
        if hist.status != "reject" and float_compare(
            hist.proposed_price, hist.old_price, precision_rounding=hist.currency_id.rounding
        ):
            changed.append("price")
        if (
            hist.status != "reject"
            and hist.proposed_date
            and (not hist.old_date or hist.proposed_date.date() != hist.old_date.date())
        ):
            changed.append("date")
        return changed

    @api.model
    def _change_text(self, hist):
        """One line of the exception's description: what the supplier proposes."""
        currency = hist.currency_id
        name = hist.product_id.display_name
        label = (
            self.env._("Line %(line)s (%(product)s)", line=hist.line_number, product=name)
            if name
            else self.env._("Line %s", hist.line_number)
        )
        if not hist.purchase_line_id:
            return self.env._("%s: not on the order, nothing can be applied.", label) + (
                f" ({hist.note})" if hist.note else ""
            )
        parts = []
        if hist.status == "reject":
            parts.append(self.env._("rejected by the supplier"))
        elif hist.status == "backorder":
            parts.append(self.env._("backordered"))
        changed = self._changed_fields(hist)
        if "qty" in changed:
            parts.append(
                self.env._(
                    "quantity %(old)s → %(new)s",
                    old=f"{hist.old_qty:g}",
                    new=f"{hist.proposed_qty:g}",
                )
            )
        if "price" in changed:
            parts.append(
                self.env._(
                    "price %(old)s → %(new)s",
                    old=formatLang(self.env, hist.old_price, currency_obj=currency),
                    new=formatLang(self.env, hist.proposed_price, currency_obj=currency),
                )
            )
        if "date" in changed:
            parts.append(
                self.env._(
                    "date %(old)s → %(new)s",
                    old=format_date(self.env, hist.old_date),
                    new=format_date(self.env, hist.proposed_date),
                )
            )
        if not currency.is_zero(hist.amount_change):
            parts.append(
                self.env._(
                    "value %(sign)s%(amount)s",
                    sign="+" if hist.amount_change > 0 else "-",
                    amount=formatLang(self.env, abs(hist.amount_change), currency_obj=currency),
                )
            )
        text = f"{label}: {', '.join(parts)}"
        if hist.note:
            text += self.env._(" (supplier's reason: %s)", hist.note)
        return text

    @api.model
    def _find_line(self, order, ack_line):
        """The order line ``ack_line`` answers: by source line number, else by its item."""
        lines = order.order_line.filtered(lambda ln: not ln.display_type)
        line = lines.filtered(lambda ln: ln.hc_line_ref == ack_line.line_number)
        if line:
            return line[:1]
        if ack_line.item and ack_line.item.key():
            product = self._resolve_product(ack_line.item, order.partner_id, order)
            line = lines.filtered(lambda ln: product and ln.product_id == product)
            if len(line) == 1:
                return line
        return lines.browse()

    @api.model
    def _chatter_body(self, document, state, history, exception):
        """HTML summary of an acknowledgment for the order's chatter."""
        label = dict(self.env["purchase.order"]._fields["hc_ack_state"].selection)[state]
        items = Markup()
        for hist in history:
            parts = [dict(hist._fields["status"].selection)[hist.status]]
            if hist.decision in ("pending", "applied"):
                parts.append(self._change_text(hist).split(": ", 1)[-1])
            elif hist.note:
                parts.append(hist.note)
            items += Markup("<li>%s: %s</li>") % (hist.line_number, ", ".join(parts))
        title = self.env._(
            "Supplier acknowledgment %(number)s of %(date)s: %(state)s",
            number=document.ack_number or "",
            date=format_date(self.env, document.ack_date),
            state=label,
        )
        body = Markup("<p>%s</p><ul>%s</ul>") % (title, items)
        if exception:
            body += Markup("<p>%s</p>") % self.env._(
                "The order is unchanged: the buyer decides on exception %s.", exception.name
            )
        return body
