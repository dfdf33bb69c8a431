from markupsafe import Markup

from odoo import api
from odoo import models
from odoo.tools import float_compare
from odoo.tools import format_date

from ..pipeline.errors import WaitingForDependency


class HcProcessorPoAck(models.AbstractModel):
    """Purchase order acknowledgment: the supplier's changes applied to the order lines.

    Each acknowledged line is kept as an ``hc.po.ack.line`` with the order line's values
    before and after (quantity, price, date), the order's acknowledgment state is set
    and a chatter message summarises the changes.  An acknowledgment is applied once:
    processing it again finds its history lines and changes nothing.
    """

    _name = "hc.processor.po_ack"
    _inherit = "hc.processor"
    _description = "PO acknowledgment processor"

    @api.model
    def _dependency_met(self, message, key):
        """A purchase order also counts as arrived when it exists in Odoo (made by hand)."""
        if key.startswith("purchase_order:") and self.env[
            "hc.processor.purchase_order"
        ]._find_order(message.company_id, key.split(":", 1)[1]):
            return True
        if key.startswith("purchase_order:") and self._foreign_po_exists(
            message, key.split(":", 1)[1]
        ):
            return True  # another company's order: applied at once, to be refused
        return super()._dependency_met(message, key)

    @api.model
    def _apply(self, message, document):
        order = self.env["hc.processor.purchase_order"]._find_order(
            message.company_id, document.po_number
        )
        if not order:
            self._check_po_company(message, document.po_number)
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
        history_vals = [
            self._apply_line(message, order, ack_key, document, ln) for ln in document.lines
        ]
        history = History.create(history_vals)
        if document.status == "rejected" or (
            history and all(h.status == "reject" for h in history)
        ):
            state = "rejected"
        elif document.status == "accepted_with_changes" or any(history.mapped("changed")):
            state = "changed"
        else:
            state = "acknowledged"
        order.write({"hc_ack_state": state})
        order.message_post(body=self._chatter_body(document, state, history))
        summary = self.env._(
            "Acknowledgment of %(po)s applied: %(state)s, %(changed)s line(s) changed",
            po=order.name,
            state=dict(order._fields["hc_ack_state"].selection)[state],
            changed=len(history.filtered("changed")),
        )
        return {"records": order, "summary": summary, "produced_keys": produced}

    @api.model
    def _apply_line(self, message, order, ack_key, document, ack_line):
        """Apply one acknowledged line to its order line; return its history values."""
        vals = {
            "order_id": order.id,
            "message_id": message.id,
            "ack_key": ack_key,
            "ack_number": document.ack_number,
            "ack_date": document.ack_date,
            "line_number": ack_line.line_number,
            "status": ack_line.status,
            "note": ack_line.reason,
        }
        line = self._find_line(order, ack_line)
        if not line:
            vals["note"] = self.env._("No order line %s: not applied.", ack_line.line_number)
            return vals
        vals.update(
            purchase_line_id=line.id,
            product_id=line.product_id.id,
            old_qty=line.product_qty,
            old_price=line.price_unit,
            old_date=line.date_planned,
        )
        qty_factor_uom = line.product_uom_id
        if ack_line.uom:
            qty_factor_uom = self.env["hc.processor.item"]._uom(ack_line.uom, line.product_id)
        new = {}
        if ack_line.status == "reject":
            new["product_qty"] = 0.0
        elif ack_line.quantity is not None:
            new["product_qty"] = qty_factor_uom._compute_quantity(
                float(ack_line.quantity), line.product_uom_id, round=False
            )
        if ack_line.status != "reject" and ack_line.unit_price is not None:
            new["price_unit"] = qty_factor_uom._compute_price(
                float(ack_line.unit_price), line.product_uom_id
            )
        if ack_line.scheduled_date:
            new["date_planned"] = self.env["hc.processor.purchase_order"]._datetime(
                ack_line.scheduled_date
            )
        precision = {
            "product_qty": line.product_uom_id.rounding,
            "price_unit": order.currency_id.rounding,
        }
        new = {
            name: value
            for name, value in new.items()
            if (
                float_compare(value, line[name], precision_rounding=precision[name]) != 0
                if name in precision
                else line[name].date() != value.date()
            )
        }
        if new:
            if order.locked:
                order.button_unlock()
            # Price written with the quantity, so that Odoo does not recompute it.
            new.setdefault("price_unit", line.price_unit)
            line.write(new)
        vals.update(
            changed=bool(new),
            new_qty=line.product_qty,
            new_price=line.price_unit,
            new_date=line.date_planned,
        )
        return vals

    @api.model
    def _find_line(self, order, ack_line):
        """The order line ``ack_line`` answers: by source line number, else by its item."""
        lines = order.order_line.filtered(lambda ln: not ln.display_type)
        line = lines.filtered(lambda ln: ln.hc_line_ref == ack_line.line_number)
        if line:
            return line[:1]
        if ack_line.item and ack_line.item.key():
            product = self.env["hc.processor.contract_price"]._find_item(
                ack_line.item, order.partner_id
            )
            line = lines.filtered(lambda ln: product and ln.product_id == product)
            if len(line) == 1:
                return line
        return lines.browse()

    @api.model
    def _chatter_body(self, document, state, history):
        """HTML summary of an acknowledgment for the order's chatter."""
        label = dict(self.env["purchase.order"]._fields["hc_ack_state"].selection)[state]
        items = Markup()
        for hist in history:
            parts = [dict(hist._fields["status"].selection)[hist.status]]
            if hist.purchase_line_id and hist.changed:
                if float_compare(hist.old_qty, hist.new_qty, precision_digits=6):
                    parts.append(
                        self.env._("qty %(old)s → %(new)s", old=hist.old_qty, new=hist.new_qty)
                    )
                if float_compare(hist.old_price, hist.new_price, precision_digits=6):
                    parts.append(
                        self.env._(
                            "price %(old)s → %(new)s", old=hist.old_price, new=hist.new_price
                        )
                    )
                if hist.old_date != hist.new_date:
                    parts.append(
                        self.env._(
                            "date %(old)s → %(new)s",
                            old=format_date(self.env, hist.old_date),
                            new=format_date(self.env, hist.new_date),
                        )
                    )
            if hist.note:
                parts.append(hist.note)
            items += Markup("<li>%s: %s</li>") % (hist.line_number, ", ".join(parts))
        title = self.env._(
            "Supplier acknowledgment %(number)s of %(date)s: %(state)s",
            number=document.ack_number or "",
            date=format_date(self.env, document.ack_date),
            state=label,
        )
        return Markup("<p>%s</p><ul>%s</ul>") % (title, items)
