from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import UserError

DOCUMENT_KINDS = [("po", "Purchase order"), ("bill", "Vendor bill without purchase order")]


class HcApprovalRule(models.Model):
    """Who must approve a purchase order or a non-PO vendor bill, by company, amount and
    product category.

    On top of Odoo's purchase double validation (Settings > Purchase > Purchase Order
    Approval: one amount per company, approved by a purchase manager), which keeps
    working: a rule adds approvals by amount *and* category, with a group of its own, and
    covers vendor bills with no purchase order, which Odoo does not approve at all.

    * A purchase order a rule applies to goes to *To Approve* when confirmed by someone not
      in the rule's group (Odoo's ``_approval_allowed``); *Approve Order* by a member
      confirms it.  The state cannot be forced over RPC (``purchase.order.write``).
    * A non-PO bill a rule applies to is posted by a member of the rule's group only.
    * With *Not the requester*, the approver is not the document's creator.

    Approvals and refusals are audited.
    """

    _name = "hc.approval.rule"
    _description = "Approval rule (purchase orders, non-PO bills)"
    _order = "company_id, document_kind, min_amount desc, id"

    name = fields.Char(required=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda s: s.env.company, index=True
    )
    currency_id = fields.Many2one(related="company_id.currency_id")
    document_kind = fields.Selection(DOCUMENT_KINDS, required=True, default="po")
    category_id = fields.Many2one(
        "product.category",
        string="Product category",
        help="Applies when a line's product is in this category (or below it); empty: any.",
    )
    min_amount = fields.Monetary(
        string="From amount (total, company currency)",
        currency_field="currency_id",
        required=True,
        default=0.0,
    )
    group_id = fields.Many2one(
        "res.groups",
        string="Approved by",
        required=True,
        help="The role whose members approve (e.g. Purchase / Administrator, AP Manager).",
    )
    sod_not_requester = fields.Boolean(
        string="Not the requester",
        default=True,
        help="Segregation of duties: whoever created the document does not approve it.",
    )

    _min_amount_positive = models.Constraint(
        "CHECK(min_amount >= 0)", "An approval rule's amount cannot be negative."
    )

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        for rule in rules:
            self.env["hc.audit.log"]._log("approval_rule_created", rule, data=rule._hc_audit_data())
        return rules

    def write(self, vals):
        res = super().write(vals)
        for rule in self:
            self.env["hc.audit.log"]._log(
                "approval_rule_changed",
                rule,
                data=dict(rule._hc_audit_data(), changed=sorted(vals)),
            )
        return res

    def _hc_audit_data(self):
        return {
            "company": self.company_id.id,
            "kind": self.document_kind,
            "category": self.category_id.display_name or "",
            "min_amount": self.min_amount,
            "group": self.group_id.display_name,
            "sod_not_requester": self.sod_not_requester,
            "active": self.active,
        }

    @api.model
    def _hc_company_amount(self, doc):
        if doc._name == "account.move":
            return abs(doc.amount_total_signed)
        return doc.currency_id._convert(
            doc.amount_total,
            doc.company_id.currency_id,
            doc.company_id,
            doc.date_order or fields.Date.context_today(self),
        )

    @api.model
    def _hc_products(self, doc):
        if doc._name == "account.move":
            return doc.invoice_line_ids.product_id
        return doc.order_line.product_id

    @api.model
    def _hc_rules_for(self, doc, kind):
        """The active rules of ``doc``'s company and kind whose amount it reaches and
        whose category one of its products is in."""
        rules = self.sudo().search(
            [("company_id", "=", doc.company_id.id), ("document_kind", "=", kind)]
        )
        if not rules:
            return rules
        amount = self._hc_company_amount(doc)
        currency = doc.company_id.currency_id
        paths = self._hc_products(doc).categ_id.mapped("parent_path")
        return rules.filtered(
            lambda r: (
                currency.compare_amounts(amount, r.min_amount) >= 0
                and (
                    not r.category_id or any(p.startswith(r.category_id.parent_path) for p in paths)
                )
            )
        )

    def _hc_missing_for(self, doc, user):
        """The rules of ``self`` that ``user`` cannot approve ``doc`` for."""
        return self.filtered(
            lambda r: (
                user not in r.group_id.all_user_ids
                or (r.sod_not_requester and doc.create_uid == user)
            )
        )

    @api.model
    def _hc_approval_missing(self, doc, kind):
        return self._hc_rules_for(doc, kind)._hc_missing_for(doc, self.env.user)

    @api.model
    def _hc_refuse(self, doc, kind, missing):
        rule = missing[0]
        self.env["hc.audit.log"]._log_detached(
            "approval_refused",
            doc,
            reason=kind,
            data={
                "rules": missing.mapped("name"),
                "group": rule.group_id.display_name,
                "user": self.env.user.login,
                "amount": self._hc_company_amount(doc),
            },
        )
        raise UserError(
            self.env._(
                "%(doc)s needs the approval of %(group)s (rule %(rule)s: from %(amount)s)%(sod)s.",
                doc=doc.display_name,
                group=rule.group_id.display_name,
                rule=rule.name,
                amount=rule.currency_id.format(rule.min_amount),
                sod=self.env._(", by someone other than its creator")
                if rule.sod_not_requester
                else "",
            )
        )

    @api.model
    def _hc_log_approved(self, doc, kind, rules):
        self.env["hc.audit.log"]._log(
            "approval_granted",
            doc,
            reason=kind,
            data={
                "rules": rules.mapped("name"),
                "groups": rules.group_id.mapped("display_name"),
                "amount": self._hc_company_amount(doc),
            },
        )

    @api.model
    def _hc_check_bills(self, moves):
        """Posting non-PO vendor bills: by an approver of every rule that applies."""
        bills = moves.filtered(
            lambda m: (
                m.move_type in ("in_invoice", "in_receipt")
                and not m.invoice_line_ids.purchase_line_id
            )
        )
        if not bills or not self.sudo().search_count([("document_kind", "=", "bill")], limit=1):
            return
        for bill in bills:
            rules = self._hc_rules_for(bill, "bill")
            if not rules:
                continue
            missing = rules._hc_missing_for(bill, self.env.user)
            if missing:
                self._hc_refuse(bill, "bill", missing)
            self._hc_log_approved(bill, "bill", rules)
