from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from ..matching.tolerance import NUMERIC_FIELDS
from ..matching.tolerance import Tolerance
from ..matching.tolerance import ToleranceConfigError
from ..matching.tolerance import ToleranceRule
from ..matching.tolerance import make_resolver

# the numeric limits, one Odoo field each, named as in the pure engine
LIMIT_FIELDS = NUMERIC_FIELDS


class HcToleranceRule(models.Model):
    """A three-way match tolerance: company default, or for a vendor and/or category.

    The most specific rule wins field by field (vendor + category > vendor > category >
    company default); a limit left empty falls back to the less specific rule, and a
    dimension nobody limits must match exactly.  A change re-matches open bills in a
    batch (cron), never inside the settings transaction.
    """

    _name = "hc.tolerance.rule"
    _description = "Three-way match tolerance"
    _order = "company_id, partner_id, categ_id, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda s: s.env.company)
    partner_id = fields.Many2one("res.partner", string="Vendor", ondelete="cascade")
    categ_id = fields.Many2one("product.category", string="Product category", ondelete="cascade")
    currency_id = fields.Many2one(related="company_id.currency_id")
    qty_pct = fields.Float("Quantity %", digits=(16, 2))
    qty_abs = fields.Float("Quantity (units)", digits="Product Unit")
    price_pct = fields.Float("Unit price %", digits=(16, 2))
    price_abs = fields.Float("Unit price (amount)", digits="Product Price")
    total_pct = fields.Float("Bill total %", digits=(16, 2))
    total_abs = fields.Float("Bill total (amount)", digits="Account")
    charge_pct = fields.Float(
        "Charges %",
        digits=(16, 2),
        help="Freight, handling, fuel and small-order charges a bill may carry without review, "
        "as a percentage of the goods' net amount on the bill.",
    )
    charge_abs = fields.Float(
        "Charges (amount)",
        digits="Account",
        help="Charges a bill may carry without review, as an amount in the bill currency.",
    )
    stated_abs = fields.Float(
        "Stated totals (amount)",
        digits="Account",
        help="How far the bill's untaxed, tax and total amounts may be from the supplier's "
        "stated ones (rounding between the supplier's system and Odoo). Not set: equal to "
        "the currency's precision.",
    )
    allow_over_receipt = fields.Boolean(
        help="Bill up to the received quantity even beyond what was ordered."
    )
    combine = fields.Selection(
        [("either", "Within % or amount"), ("both", "Within % and amount")],
        default="either",
        required=True,
        help="How a percentage and an absolute limit of the same dimension combine.",
    )
    scope = fields.Selection(
        [
            ("company", "Company default"),
            ("category", "Product category"),
            ("vendor", "Vendor"),
            ("vendor_category", "Vendor and category"),
        ],
        compute="_compute_scope",
        store=True,
    )

    _scope_unique = models.UniqueIndex(
        "(company_id, COALESCE(partner_id, 0), COALESCE(categ_id, 0)) WHERE active",
        "There is already a tolerance rule for this company, vendor and category.",
    )

    @api.depends("partner_id", "categ_id")
    def _compute_scope(self):
        for rule in self:
            if rule.partner_id:
                rule.scope = "vendor_category" if rule.categ_id else "vendor"
            else:
                rule.scope = "category" if rule.categ_id else "company"

    def _to_tolerance(self):
        """The pure :class:`Tolerance` of this rule (0 is "not set" except on a company rule).

        Odoo floats cannot be empty, so on vendor and category rules a 0 limit means "not
        set here, fall back"; on the company default, 0 means "exact".
        """
        self.ensure_one()
        values = {}
        for name in LIMIT_FIELDS:
            value = self[name]
            if value or self.scope == "company":
                values[name] = str(value)
        return Tolerance(
            **values,
            allow_over_receipt=self.allow_over_receipt or None,
            # the combine mode is inherited too unless a specific rule changes it
            combine=self.combine if self.scope == "company" or self.combine != "either" else None,
        )

    def _to_rule(self):
        self.ensure_one()
        return ToleranceRule(
            rule_id=self.id,
            company_id=self.company_id.id,
            tolerance=self._to_tolerance(),
            vendor_id=self.partner_id.commercial_partner_id.id or None,
            category_id=self.categ_id.id or None,
            name=self.name,
        )

    @api.constrains(*LIMIT_FIELDS, "allow_over_receipt", "partner_id", "categ_id")
    def _check_limits(self):
        for rule in self:
            if any(rule[name] < 0 for name in LIMIT_FIELDS):
                raise ValidationError(self.env._("Tolerances cannot be negative (%s).", rule.name))
            if (
                rule.scope != "company"
                and not any(rule[n] for n in LIMIT_FIELDS)
                and not rule.allow_over_receipt
            ):
                raise ValidationError(
                    self.env._("Rule %s sets no limit: set one, or delete the rule.", rule.name)
                )
            try:
                rule._to_rule()
            except (ToleranceConfigError, ValueError) as exc:
                raise ValidationError(str(exc)) from exc

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        rules._schedule_rematch("created")
        return rules

    def write(self, vals):
        res = super().write(vals)
        self._schedule_rematch("changed", vals)
        return res

    def unlink(self):
        for rule in self:
            self.env["hc.audit.log"]._log(
                "tolerance_deleted",
                rule,
                data={
                    "name": rule.name,
                    "company": rule.company_id.id,
                    "partner": rule.partner_id.id,
                    "categ": rule.categ_id.id,
                    **{k: rule[k] for k in (*LIMIT_FIELDS, "allow_over_receipt")},
                },
            )
        res = super().unlink()
        cron = self.env.ref(
            "healthcare_p2p_integration.ir_cron_hc_rematch_open_bills", raise_if_not_found=False
        )
        if cron:
            cron._trigger()
        return res

    def _schedule_rematch(self, what, vals=None):
        for rule in self:
            self.env["hc.audit.log"]._log(
                "tolerance_" + what,
                rule,
                data={k: v for k, v in (vals or {}).items() if k != "name"},
            )
        cron = self.env.ref(
            "healthcare_p2p_integration.ir_cron_hc_rematch_open_bills", raise_if_not_found=False
        )
        if cron:
            cron._trigger()

    def action_whatif(self):
        """What if this rule changed: the open bills that would be released or blocked."""
        self.ensure_one()
        return self.env["hc.tolerance.whatif.wizard"]._open(self, self.company_id)

    @api.model
    def _resolver(self, company):
        """A cached ``resolver(vendor_id, category_path)`` over the company's active rules."""
        rules = self.sudo().search([("company_id", "=", company.id)])
        return make_resolver([rule._to_rule() for rule in rules], company.id)
