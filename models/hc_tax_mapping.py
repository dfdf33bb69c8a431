from decimal import Decimal

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import ValidationError

from ..normalize.taxes import RATE_PLACES


class HcTaxMapping(models.Model):
    """Which purchase taxes a tax stated by a supplier becomes on the bill.

    Suppliers state a tax scheme (VAT, GST, sales), a UNCL5305 category (S standard, Z
    zero rated, E exempt, AE reverse charge...) and a rate; the bill must carry exactly
    that, never the product's or the purchase order's default taxes.  A mapping names the
    taxes for a category and/or rate, per company and optionally per vendor; an empty
    tax list means "no tax on the bill" (exempt).  Without a mapping, a standard rate
    maps to the company's only purchase tax of that percentage and an exempt or zero
    rated category to no tax; anything else (reverse charge, two taxes of one rate) must
    be mapped here, or the bill is blocked with a ``tax_unmapped`` exception.
    """

    _name = "hc.tax.mapping"
    _description = "Supplier tax mapping"
    _order = "company_id, partner_id, sequence, id"

    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    partner_id = fields.Many2one(
        "res.partner",
        string="Vendor",
        ondelete="cascade",
        help="Only for this vendor's documents; empty: every vendor of the company.",
    )
    tax_scheme = fields.Char(
        help="Tax scheme as the documents state it (VAT, GST, SALES...); empty: any scheme."
    )
    category = fields.Char(
        help="UNCL5305 tax category (S, Z, E, AE, K, G, O, L, M); empty: any category."
    )
    match_rate = fields.Boolean(
        string="Rate applies",
        help="Only for this rate; otherwise any rate of the category.",
    )
    rate = fields.Float(string="Rate (%)", digits=(16, 4))
    tax_ids = fields.Many2many(
        "account.tax",
        string="Taxes on the bill",
        domain="[('type_tax_use', '=', 'purchase'), ('company_id', 'parent_of', company_id)]",
        help="Purchase taxes the bill line gets; empty: no tax (exempt, outside scope).",
    )
    note = fields.Char()

    @api.constrains("tax_scheme", "category", "match_rate", "partner_id")
    def _check_selective(self):
        for mapping in self:
            if not (mapping.category or mapping.match_rate or mapping.tax_scheme):
                raise ValidationError(
                    self.env._(
                        "A tax mapping needs a category, a rate or a tax scheme: one mapping "
                        "for every tax would hide what suppliers state."
                    )
                )

    @api.constrains("tax_ids", "company_id")
    def _check_taxes(self):
        for mapping in self:
            wrong = mapping.tax_ids.filtered(lambda t: t.type_tax_use != "purchase")
            if wrong:
                raise ValidationError(
                    self.env._("Only purchase taxes can be mapped (%s).", wrong[0].display_name)
                )

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        for mapping in mappings:
            self.env["hc.audit.log"]._log("tax_mapping_created", mapping, data=mapping._audit())
        return mappings

    def write(self, vals):
        res = super().write(vals)
        for mapping in self:
            self.env["hc.audit.log"]._log("tax_mapping_changed", mapping, data=mapping._audit())
        return res

    def unlink(self):
        for mapping in self:
            self.env["hc.audit.log"]._log("tax_mapping_deleted", mapping, data=mapping._audit())
        return super().unlink()

    def _audit(self):
        return {
            "company": self.company_id.id,
            "partner": self.partner_id.id,
            "scheme": self.tax_scheme,
            "category": self.category,
            "rate": self.rate if self.match_rate else None,
            "taxes": self.tax_ids.ids,
            "active": self.active,
        }

    def _matches(self, key, vendor):
        self.ensure_one()
        if self.partner_id and self.partner_id != vendor:
            return False
        if self.tax_scheme and self.tax_scheme.strip().upper() != key.scheme:
            return False
        if self.category and self.category.strip().upper() != key.category:
            return False
        if self.match_rate:
            if key.rate is None:
                return False
            return Decimal(repr(self.rate)).quantize(RATE_PLACES) == key.rate
        return True

    def _specificity(self):
        return (
            bool(self.partner_id),
            bool(self.match_rate) + bool(self.category) + bool(self.tax_scheme),
            -self.sequence,
        )

    @api.model
    def _resolver(self, company, vendor):
        """``resolve(TaxKey) -> (account.tax recordset, None) | (None, reason)``.

        Reads the company's mappings and purchase taxes once; memoised per key, so a
        500-line bill costs two queries.
        """
        mappings = self.sudo().search(
            [
                ("company_id", "=", company.id),
                "|",
                ("partner_id", "=", False),
                ("partner_id", "=", vendor.commercial_partner_id.id),
            ]
        )
        vendor = vendor.commercial_partner_id
        taxes = None
        cache = {}

        def percent_taxes():
            nonlocal taxes
            if taxes is None:
                taxes = (
                    self.env["account.tax"]
                    .sudo()
                    .search(
                        [
                            *self.env["account.tax"]._check_company_domain(company),
                            ("type_tax_use", "=", "purchase"),
                            ("amount_type", "=", "percent"),
                        ]
                    )
                    .filtered(lambda t: not t.price_include)
                )
            return taxes

        def resolve(key):
            if key in cache:
                return cache[key]
            found = [m for m in mappings if m._matches(key, vendor)]
            if found:
                best = max(found, key=lambda m: m._specificity())
                cache[key] = (best.tax_ids, None)
                return cache[key]
            if key.is_zero:
                cache[key] = (self.env["account.tax"], None)
                return cache[key]
            if (key.category and key.category not in ("S", "STANDARD")) or key.rate is None:
                cache[key] = (
                    None,
                    self.env._(
                        "%s: no tax mapping for this category (Configuration > Tax mappings).",
                        key.describe(),
                    ),
                )
                return cache[key]
            places = Decimal("0.01") if key.implied else RATE_PLACES
            same = percent_taxes().filtered(
                lambda t: Decimal(repr(t.amount)).quantize(places) == key.rate.quantize(places)
            )
            if len(same) == 1:
                cache[key] = (same, None)
            elif not same:
                cache[key] = (
                    None,
                    self.env._(
                        "%s: the company has no purchase tax of this rate; create it or map "
                        "the tax (Configuration > Tax mappings).",
                        key.describe(),
                    ),
                )
            else:
                cache[key] = (
                    None,
                    self.env._(
                        "%(tax)s: several purchase taxes have this rate (%(names)s); say which "
                        "one in Configuration > Tax mappings.",
                        tax=key.describe(),
                        names=", ".join(same.mapped("name")),
                    ),
                )
            return cache[key]

        return resolve
