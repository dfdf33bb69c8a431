import base64
import csv
import io
from collections import defaultdict

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

from ..canonical import RECALL_CLASSIFICATIONS
from ..canonical import read_udi
from ..canonical import serial_in_range
from .hc_processor_receipt import VALIDATE_CONTEXT

CLASSIFICATION_LABELS = {
    "class_i": "Class I (serious harm likely)",
    "class_ii": "Class II (temporary or reversible harm)",
    "class_iii": "Class III (harm unlikely)",
    "market_withdrawal": "Market withdrawal",
    "safety_notice": "Field safety notice",
}
QUARANTINE_NAME = "Quarantine"
EXPORT_COLUMNS = (
    ("kind", "Kind"),
    ("company", "Facility (company)"),
    ("warehouse", "Warehouse"),
    ("product", "Item"),
    ("lot", "Lot / serial"),
    ("expiration_date", "Expiry"),
    ("quantity", "Quantity"),
    ("uom", "Unit"),
    ("location", "From"),
    ("location_dest", "To"),
    ("reference", "Reference"),
    ("date", "Date"),
    ("quarantined", "Quarantined"),
)


class HcRecall(models.Model):
    """A recall notice: an item and the lots, UDIs or serial range recalled.

    Opening it (from the form, or on arrival over the API) traces the recalled lots
    across every facility of the network: each receipt, transfer, consumption and
    write-off (``stock.move.line`` with those lots) and the stock still on hand
    (``stock.quant``); moves what is on hand to the quarantine location of its warehouse
    (an internal transfer per warehouse, lots kept); and opens a ``recall`` exception
    for the receiving team of each facility holding or having received them.  The traced
    lines export as CSV (and through the list's own export).
    """

    _name = "hc.recall"
    _description = "Recall notice"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "issued_date desc, id desc"

    name = fields.Char("Recall", required=True, index=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    product_id = fields.Many2one("product.product", "Item", required=True, tracking=True)
    classification = fields.Selection(
        [(code, CLASSIFICATION_LABELS[code]) for code in RECALL_CLASSIFICATIONS],
        required=True,
        default="class_ii",
        tracking=True,
    )
    reason = fields.Text(required=True)
    manufacturer = fields.Char()
    issued_date = fields.Date(required=True, default=fields.Date.context_today)
    lot_names = fields.Text(
        "Lots / serials", help="The recalled lots or serial numbers, one per line."
    )
    udis = fields.Text(
        "UDIs", help="GS1 (AI 01/10/17/21) or HIBC strings of recalled units, one per line."
    )
    serial_first = fields.Char("Serials from")
    serial_last = fields.Char("Serials to")
    state = fields.Selection(
        [("draft", "Draft"), ("open", "Traced and quarantined"), ("closed", "Closed")],
        default="draft",
        required=True,
        tracking=True,
    )
    lot_ids = fields.Many2many("stock.lot", string="Recalled lots", readonly=True)
    line_ids = fields.One2many("hc.recall.line", "recall_id", string="Trace", readonly=True)
    line_count = fields.Integer(compute="_compute_counts")
    on_hand_qty = fields.Float("Still on hand", compute="_compute_counts")
    quarantine_picking_ids = fields.Many2many(
        "stock.picking", string="Quarantine transfers", readonly=True
    )
    exception_count = fields.Integer(compute="_compute_counts")
    message_id = fields.Many2one(
        "hc.inbox.message", "Inbox message", readonly=True, index="btree_not_null"
    )

    _name_company_uniq = models.Constraint(
        "unique(name, company_id)", "A recall is recorded once per company."
    )

    @api.depends("line_ids")
    def _compute_counts(self):
        for recall in self:
            lines = recall._visible_lines()
            recall.line_count = len(lines)
            recall.on_hand_qty = sum(
                lines.filtered(lambda x: x.kind == "on_hand").mapped("quantity")
            )
            recall.exception_count = self.env["hc.exception"].search_count(
                [("res_model", "=", self._name), ("res_id", "=", recall.id)]
            )

    def _visible_lines(self):
        """The trace lines of the user's own facilities (the record rules apply)."""
        return self.env["hc.recall.line"].search([("recall_id", "in", self.ids)])

    # ------------------------------------------------------------------ matching

    def _udi_lot_names(self):
        names = []
        for udi in (self.udis or "").splitlines():
            if udi.strip():
                data = read_udi(udi.strip())
                names += [n for n in (data.lot, data.serial) if n]
        return names

    def _recalled_lots(self):
        """Every lot of the item, in every company, that the notice names."""
        self.ensure_one()
        names = {n.strip() for n in (self.lot_names or "").splitlines() if n.strip()}
        names |= set(self._udi_lot_names())
        domain = [("product_id", "=", self.product_id.id)]
        if not (self.serial_first and self.serial_last):
            domain.append(("name", "in", sorted(names)))
        lots = self.env["stock.lot"].sudo().search(domain)
        return lots.filtered(
            lambda lot: (
                lot.name in names
                or (
                    self.serial_first
                    and self.serial_last
                    and serial_in_range(lot.name, self.serial_first, self.serial_last)
                )
            )
        )

    # ------------------------------------------------------------------ opening

    def action_open(self):
        """Trace, quarantine and route: the button, and what the API's recall does.

        The work below runs as superuser (it moves every facility's recalled stock), so
        who may start it is checked first: write access to the recall (supply chain
        users of its company), whatever the path (button or RPC).
        """
        self.check_access("write")
        for recall in self:
            if not (recall.lot_names or recall.udis or recall.serial_first):
                raise UserError(self.env._("Name the recalled lots, UDIs or serial range."))
            lots = recall._recalled_lots()
            recall.sudo().write({"lot_ids": [(6, 0, lots.ids)]})
            recall._quarantine(lots)
            recall._trace(lots)
            recall._raise_exceptions()
            recall.sudo().state = "open"
            self.env["hc.audit.log"]._log(
                "recall_opened",
                recall,
                data={"lots": lots.mapped("name"), "lines": len(recall.sudo().line_ids)},
            )
        return True

    def action_retrace(self):
        """Trace again (stock may have moved since): new on-hand stock is quarantined."""
        return self.action_open()

    def action_close(self):
        self.check_access("write")
        self.sudo().write({"state": "closed"})

    def _trace(self, lots):
        self.ensure_one()
        Line = self.env["hc.recall.line"].sudo()
        self.sudo().line_ids.unlink()
        vals = []
        move_lines = (
            self.env["stock.move.line"]
            .sudo()
            .search([("lot_id", "in", lots.ids), ("state", "=", "done")], order="date, id")
        )
        for ml in move_lines:
            vals.append(
                {
                    "recall_id": self.id,
                    "kind": self._kind(ml),
                    "company_id": ml.company_id.id,
                    "warehouse_id": (
                        ml.location_dest_id.warehouse_id or ml.location_id.warehouse_id
                    ).id,
                    "product_id": ml.product_id.id,
                    "lot_id": ml.lot_id.id,
                    "quantity": ml.quantity,
                    "location_id": ml.location_id.id,
                    "location_dest_id": ml.location_dest_id.id,
                    "move_line_id": ml.id,
                    "picking_id": ml.picking_id.id,
                    "reference": ml.reference or ml.picking_id.name,
                    "date": ml.date,
                }
            )
        for quant in self._on_hand(lots, transit=True):
            location = quant.location_id
            vals.append(
                {
                    "recall_id": self.id,
                    "kind": "in_transit" if location.usage == "transit" else "on_hand",
                    "company_id": (quant.company_id or location.company_id).id,
                    "warehouse_id": location.warehouse_id.id,
                    "product_id": quant.product_id.id,
                    "lot_id": quant.lot_id.id,
                    "quantity": quant.quantity,
                    "location_id": location.id,
                    "quarantined": location.name == QUARANTINE_NAME,
                    "date": fields.Datetime.now(),
                }
            )
        Line.create([v for v in vals if v["company_id"]])

    @api.model
    def _kind(self, ml):
        src, dst = ml.location_id, ml.location_dest_id
        if ml.move_id.is_inventory:
            return "adjustment"
        if ml.move_id.scrap_id or dst.usage == "inventory":
            return "write_off"
        if src.usage == "supplier":
            return "receipt"
        if "transit" in (src.usage, dst.usage):
            return "transfer"
        if dst.usage in ("customer", "production"):
            return "consumption"
        if dst.name == QUARANTINE_NAME:
            return "quarantine"
        return "internal"

    @api.model
    def _on_hand(self, lots, transit=False):
        usages = ("internal", "transit") if transit else ("internal",)
        return (
            self.env["stock.quant"]
            .sudo()
            .search(
                [
                    ("lot_id", "in", lots.ids),
                    ("quantity", ">", 0),
                    ("location_id.usage", "in", usages),
                ]
            )
        )

    # ------------------------------------------------------------------ quarantine

    @api.model
    def _quarantine_location(self, warehouse):
        """The warehouse's quarantine location (an internal location under it)."""
        Location = self.env["stock.location"].sudo()
        location = Location.search(
            [
                ("location_id", "=", warehouse.view_location_id.id),
                ("name", "=", QUARANTINE_NAME),
            ],
            limit=1,
        )
        return location or Location.create(
            {
                "name": QUARANTINE_NAME,
                "location_id": warehouse.view_location_id.id,
                "usage": "internal",
                "company_id": warehouse.company_id.id,
            }
        )

    def _quarantine(self, lots):
        """Move the recalled stock on hand to its warehouse's quarantine location."""
        self.ensure_one()
        by_warehouse = defaultdict(lambda: self.env["stock.quant"])
        for quant in self._on_hand(lots):
            warehouse = quant.location_id.warehouse_id
            if warehouse and quant.location_id.name != QUARANTINE_NAME:
                by_warehouse[warehouse] |= quant
        pickings = self.env["stock.picking"]
        for warehouse, quants in by_warehouse.items():
            pickings |= self._quarantine_picking(warehouse, quants)
        if pickings:
            self.sudo().quarantine_picking_ids = [(4, p.id) for p in pickings]

    def _quarantine_picking(self, warehouse, quants):
        company = warehouse.company_id
        target = self._quarantine_location(warehouse)
        picking = (
            self.env["stock.picking"]
            .sudo()
            .with_company(company)
            .create(
                {
                    "picking_type_id": warehouse.int_type_id.id,
                    "company_id": company.id,
                    "location_id": warehouse.lot_stock_id.id,
                    "location_dest_id": target.id,
                    "origin": self.env._("Recall %s", self.name),
                }
            )
        )
        by_move = defaultdict(lambda: self.env["stock.quant"])
        for quant in quants:
            by_move[quant.product_id, quant.location_id] |= quant
        moves = (
            self.env["stock.move"]
            .sudo()
            .create(
                [
                    {
                        "picking_id": picking.id,
                        "product_id": product.id,
                        "product_uom_qty": sum(group.mapped("quantity")),
                        "product_uom": product.uom_id.id,
                        "location_id": location.id,
                        "location_dest_id": target.id,
                        "company_id": company.id,
                    }
                    for (product, location), group in by_move.items()
                ]
            )
        )
        moves._action_confirm(merge=False)
        moves.move_line_ids.unlink()
        self.env["stock.move.line"].sudo().create(
            [
                {
                    "move_id": move.id,
                    "picking_id": picking.id,
                    "product_id": quant.product_id.id,
                    "product_uom_id": quant.product_id.uom_id.id,
                    "lot_id": quant.lot_id.id,
                    "quantity": quant.quantity,
                    "location_id": quant.location_id.id,
                    "location_dest_id": target.id,
                    "company_id": company.id,
                    "picked": True,
                }
                for move in moves
                for quant in by_move[move.product_id, move.location_id]
            ]
        )
        moves.picked = True
        picking.with_context(**VALIDATE_CONTEXT).button_validate()
        picking.message_post(
            body=self.env._(
                "Quarantined by recall %(recall)s: %(reason)s", recall=self.name, reason=self.reason
            )
        )
        return picking

    # ------------------------------------------------------------------ exceptions

    def _raise_exceptions(self):
        """One ``recall`` exception per facility the lots reached: per warehouse (a
        hospital's receiving team), or per company for what no warehouse holds.  Lines
        with no warehouse (a consumption, stock in transit) go with their company's only
        warehouse when it has one."""
        self.ensure_one()
        Line = self.env["hc.recall.line"]
        by_facility = defaultdict(lambda: Line)
        loose = defaultdict(lambda: Line)
        for line in self.sudo().line_ids:
            if line.warehouse_id:
                by_facility[line.company_id, line.warehouse_id] |= line
            else:
                loose[line.company_id] |= line
        for company, lines in loose.items():
            warehouses = [wh for (co, wh) in by_facility if co == company]
            key = (company, warehouses[0]) if len(warehouses) == 1 else (company, None)
            by_facility[key] |= lines
        for (company, warehouse), lines in by_facility.items():
            on_hand = lines.filtered(lambda x: x.kind in ("on_hand", "in_transit"))
            consumed = lines.filtered(lambda x: x.kind == "consumption")
            self.env["hc.exception"]._raise(
                "recall",
                self.env._(
                    "Recall %(recall)s (%(cls)s) at %(facility)s: %(product)s lot(s) %(lots)s",
                    recall=self.name,
                    facility=(warehouse or company).name,
                    cls=dict(self._fields["classification"].selection)[self.classification],
                    product=self.product_id.display_name,
                    lots=", ".join(sorted(set(lines.lot_id.mapped("name")))),
                ),
                f"recall:{self.name}:{company.id}" + (f":{warehouse.id}" if warehouse else ""),
                company_id=company.id,
                res_model=self._name,
                res_id=self.id,
                severity="high",
                description=self.env._(
                    "%(reason)s\n%(held)s on hand or in transit (quarantined: %(q)s), "
                    "%(used)s consumed (patients' cases to review), %(n)s traced movement(s).",
                    reason=self.reason,
                    held=sum(on_hand.mapped("quantity")),
                    q=sum(on_hand.filtered("quarantined").mapped("quantity")),
                    used=sum(consumed.mapped("quantity")),
                    n=len(lines),
                ),
                details={
                    "recall": self.name,
                    "lots": sorted(set(lines.lot_id.mapped("name"))),
                    "locations": sorted({loc.complete_name for loc in on_hand.location_id if loc}),
                },
                hint=self.env._(
                    "Check the quarantine location, return or destroy the stock as the "
                    "manufacturer instructs, and review the consumptions listed in the trace."
                ),
            )

    def action_view_exceptions(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Recall exceptions"),
            "res_model": "hc.exception",
            "view_mode": "list,form",
            "domain": [("res_model", "=", self._name), ("res_id", "=", self.id)],
        }

    # ------------------------------------------------------------------ report

    def _csv(self):
        """The traced lines the user may see, as CSV text."""
        self.ensure_one()
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([label for _key, label in EXPORT_COLUMNS])
        for line in self._visible_lines():
            row = line._export_row()
            writer.writerow([row[key] for key, _label in EXPORT_COLUMNS])
        return out.getvalue()

    def action_export_csv(self):
        """Download the trace as CSV (an attachment of the recall)."""
        self.ensure_one()
        self.check_access("read")
        attachment = self.env["ir.attachment"].create(
            {
                "name": f"recall-{self.name}.csv",
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "text/csv",
                "datas": base64.b64encode(self._csv().encode("utf-8")),
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }
