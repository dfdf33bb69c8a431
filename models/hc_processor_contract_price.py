from odoo import api
from odoo import models
from odoo.fields import Command

from ..api_contract.errors import WaitingForDependency


class HcProcessorContractPrice(models.AbstractModel):
    """Contract price: the vendor's ``product.supplierinfo`` entry for a contract.

    One entry per vendor, product, contract, start date, minimum quantity (price tiers are
    separate entries) and eligible facilities; a later document for the same entry updates
    it in place.  A price whose vendor or item has not been processed yet waits for it.

    Eligible facilities (an X12 832/845's member N1 loops, by GLN, HIN, DEA...) are found
    through the identifier crosswalk: a facility that is a company of this one's (itself
    or a child company) gets the price as a price of that company (Odoo's own
    ``company_id`` restriction); any other facility (a hospital site, a warehouse address)
    is kept in ``hc_facility_partner_ids``, and Odoo proposes the price only on orders
    for it (see ``product.supplierinfo._get_filtered_supplier``).  A facility nobody is
    known by parks the price on ``facility:<id>`` with a data-quality exception: applied
    without it, the price would reach facilities the contract excludes.
    """

    _name = "hc.processor.contract_price"
    _inherit = "hc.processor"
    _description = "Contract price processor"

    # -- applying ------------------------------------------------------------------------

    @api.model
    def _apply(self, message, document):
        vendor = self._resolve_vendor(message, document.vendor)
        if not vendor:
            raise WaitingForDependency(f"vendor:{document.vendor.key()}")
        product = self._resolve_product(document.item, vendor)
        if not product:
            raise WaitingForDependency(self._item_wait_key(document.item, document.vendor))
        companies, partners = self._resolve_facilities(message, document.facilities)
        uom = self._resolve_uom(document.uom, product)
        currency = self._resolve_currency(document.currency)
        min_qty = float(document.min_quantity or 0)
        vals = {
            "price": float(document.price),
            "currency_id": currency.id,
            "product_uom_id": uom.id,
            "min_qty": min_qty,
            "date_start": document.date_start,
            "date_end": document.date_end or False,
        }
        if document.item.vendor_part_number:
            vals["product_code"] = document.item.vendor_part_number
        infos = self.env["product.supplierinfo"].sudo()
        created = changed = 0
        # the facility companies' prices, or the message company's (for its own sites)
        targets = companies if companies and not partners else companies | message.company_id
        for company in targets:
            # a company named as a whole is not narrowed to some of its sites
            own_sites = company == message.company_id and company not in companies
            restricted = partners if own_sites else partners.browse()
            info, is_new, is_changed = self._upsert(
                message, document, vendor, product, company, restricted, vals
            )
            infos |= info
            created += is_new
            changed += is_changed
        labels = {"ref": document.contract_reference, "product": product.display_name}
        if created:
            summary = self.env._("Contract price %(ref)s of %(product)s created", **labels)
        elif changed:
            summary = self.env._("Contract price %(ref)s of %(product)s updated", **labels)
        else:
            summary = self.env._("Contract price %(ref)s of %(product)s unchanged", **labels)
        return {
            "records": infos,
            "summary": summary,
            "produced_keys": [*document.correlation_keys(), document.natural_key()],
        }

    @api.model
    def _upsert(self, message, document, vendor, product, company, partners, vals):
        """``(supplierinfo, created, changed)`` of the price for ``company``."""
        Supplierinfo = self.env["product.supplierinfo"].sudo()
        facility_key = document.facility_key() or False
        companies = (company.id, False) if company == message.company_id else (company.id,)
        info = Supplierinfo.search(
            [
                ("partner_id", "=", vendor.id),
                ("product_tmpl_id", "=", product.product_tmpl_id.id),
                ("hc_contract_ref", "=", document.contract_reference),
                ("date_start", "=", document.date_start),
                ("company_id", "in", companies),
                ("hc_facility_key", "=", facility_key),
            ]
        ).filtered(lambda i: i.min_qty == vals["min_qty"])[:1]
        if not info:
            info = Supplierinfo.create(
                dict(
                    vals,
                    partner_id=vendor.id,
                    product_tmpl_id=product.product_tmpl_id.id,
                    product_id=product.id
                    if product.product_tmpl_id.product_variant_count > 1
                    else False,
                    hc_contract_ref=document.contract_reference,
                    hc_facility_key=facility_key,
                    hc_facility_partner_ids=[Command.set(partners.ids)],
                    company_id=company.id,
                )
            )
            return info, True, False
        changed = bool(self._write_changed(info, vals))
        if info.hc_facility_partner_ids != partners:
            info.hc_facility_partner_ids = [Command.set(partners.ids)]
            changed = True
        return info, False, changed

    @api.model
    def _resolve_facilities(self, message, parties):
        """``(companies, partners)`` the facility ``parties`` designate.

        :raise WaitingForDependency: a facility no partner is known by
        :raise PermanentError: ``cross_company_reference`` (a facility of another company)
        """
        Company = self.env["res.company"].sudo()
        companies, partners = Company.browse(), self.env["res.partner"].sudo()
        if not parties:
            return companies, partners
        own = Company.search([("id", "child_of", message.company_id.id)])
        for party in parties:
            partner = self._lookup_vendor(message, party)
            if not partner:
                raise self._unknown_facility(party)
            company = Company.search([("partner_id", "=", partner.id)], limit=1)
            label = self.env._("Facility %s", party.name or party.key())
            if company:
                if company not in own:
                    raise self._cross_company_error(message, label)
                companies |= company
            else:
                self._check_records_company(message, partner, label)
                partners |= partner
        return companies, partners

    @api.model
    def _unknown_facility(self, party):
        """Park the price on ``facility:<id>`` with one exception per facility."""
        key = party.key()
        exc = WaitingForDependency(f"facility:{key}")
        exc.review = {
            "exception_type": "data_quality",
            "name": self.env._("Unknown facility %s on a contract price", party.name or key),
            "dedup_key": f"unknown_facility:{key}",
            "severity": "medium",
            "hint": self.env._(
                "Give the facility's identifier to its company or address (Identifiers), "
                "then replay the waiting prices."
            ),
            "description": self.env._(
                "A price list restricts a contract price to the facility %(name)s (%(key)s), "
                "which no company or address is known by. The price waits: applied without "
                "the facility, it would reach facilities the contract excludes.",
                name=party.name or "?",
                key=key,
            ),
            "details": {"facility": key, "waiting_key": f"facility:{key}"},
        }
        return exc
