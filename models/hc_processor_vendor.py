from odoo import api
from odoo import models
from odoo.fields import Command

from ..api_contract.errors import WaitingForDependency
from ..normalize.vendor_dedup import ACTION_MERGE
from ..normalize.vendor_dedup import ACTION_REVIEW
from ..normalize.vendor_dedup import VendorRecord
from ..normalize.vendor_dedup import match_vendor
from ..trust import crypto


class HcProcessorVendor(models.AbstractModel):
    """Vendor master: res.partner plus its identifier crosswalk, never a silent duplicate.

    The vendor is found through any of its identifiers (GLN, DUNS, tax id, the sender's
    own id).  A vendor no identifier finds, but whose name and location resemble an
    existing vendor, is parked for a data steward (``duplicate_vendor`` exception) rather
    than created as a second supplier record.
    """

    _name = "hc.processor.vendor"
    _inherit = "hc.processor"
    _description = "Vendor master processor"

    @api.model
    def _apply(self, message, document):
        entries = self._crosswalk_entries(message, document)
        # A vendor private to another company is never updated from this one.
        partner = self._resolve_vendor(message, document)
        review_key = f"review:{document.natural_key()}"
        if not partner:
            decision = self._steward_decision(review_key)
            if decision.get("action") == "merge":
                partner = self.env["res.partner"].sudo().browse(decision["partner_id"]).exists()
            elif decision.get("action") != "new":
                candidate = self._similar_vendor(document, message.company_id)
                if candidate:
                    exc = WaitingForDependency(review_key)
                    exc.review = {
                        "exception_type": "duplicate_vendor",
                        "name": self.env._("Possible duplicate vendor: %s", document.name),
                        "dedup_key": review_key,
                        "partner_id": candidate.candidate.key,
                        "company_id": message.company_id.id,
                        "message_id": message.id,
                        "description": self.env._(
                            "%(new)s (from %(connector)s) resembles existing vendor %(old)s: "
                            "%(reason)s. Merge it into the existing vendor or confirm it as new.",
                            new=document.name,
                            connector=message.connector_id.name,
                            old=candidate.candidate.name,
                            reason=candidate.reason,
                        ),
                        "details": {
                            "candidate_partner_id": candidate.candidate.key,
                            "score": candidate.score,
                        },
                    }
                    raise exc
        # Resolved before anything is written: an inactive currency refuses the vendor.
        currency = self._resolve_currency(document.currency) if document.currency else None
        vals = self._partner_vals(document)
        if partner:
            partner.write(vals)
            summary = self.env._("Vendor %s updated", partner.display_name)
        else:
            partner = (
                self.env["res.partner"].sudo().create(dict(vals, company_id=False, supplier_rank=1))
            )
            summary = self.env._("Vendor %s created", partner.display_name)
        self._merge_crosswalk(partner, message, entries)
        gln = next((v for s, v, _src, ok in entries if s == "gln" and ok), None)
        if gln and not partner.global_location_number:
            # Odoo's own GLN field is what UBL/PEPPOL export and import use.
            partner.global_location_number = gln
        self._flag_data_quality(partner, message, document, entries)
        self._apply_purchase_terms(partner, message, document, currency)
        if document.credentials:
            summary = self.env._(
                "%(summary)s; %(credentials)s",
                summary=summary,
                credentials=self._apply_credentials(partner, document),
            )
        # Screened against the current exclusion lists as it arrives (not only by the
        # nightly run): a match holds its orders and payments from the first one.
        matches = self.env["hc.exclusion.list"].sudo()._hc_screen(partner)
        pending = matches.filtered(lambda m: m.state in ("pending", "confirmed"))
        if pending:
            summary = self.env._(
                "%(summary)s; %(count)s exclusion list match(es): vendor on hold",
                summary=summary,
                count=len(pending),
            )
        if document.bank_accounts:
            # Never applied directly: held for an AP manager (payment-fraud vector).
            request = self.env["hc.bank.change.request"]._hc_request_from_vendor(
                partner,
                [
                    {
                        "acc_number": b.iban or b.account_number,
                        "routing_number": b.routing_number,
                        "bic": b.bic,
                        "holder_name": b.holder_name,
                    }
                    for b in document.bank_accounts
                ],
                message,
            )
            if request:
                summary = self.env._(
                    "%(summary)s; bank details change held for approval (request #%(id)s)",
                    summary=summary,
                    id=request.id,
                )
        return {
            "records": partner,
            "summary": summary,
            "produced_keys": [*document.correlation_keys(), document.natural_key()],
        }

    @api.model
    def _apply_credentials(self, partner, document):
        """The vendor's credentials as the master states them: one ``hc.vendor.credential``
        per type and number, created or updated (an archived one comes back), never
        duplicated.  A credential the master no longer lists is left as it is (kept by
        the compliance officer).  An expired one holds the vendor as one entered in the
        form does; each change is audited by the credential itself.  Returns a summary."""
        Credential = self.env["hc.vendor.credential"].sudo().with_context(active_test=False)
        existing = {
            (c.credential_type, c.number): c
            for c in Credential.search([("partner_id", "=", partner.commercial_partner_id.id)])
        }
        created = updated = 0
        for cred in document.credentials:
            vals = {
                "issuer": cred.issuer or False,
                "date_from": cred.valid_from or False,
                "date_to": cred.valid_to or False,
                "active": True,
            }
            record = existing.get((cred.credential_type, cred.number))
            if record:
                updated += bool(self._write_changed(record, vals))
                continue
            existing[cred.credential_type, cred.number] = Credential.create(
                dict(
                    vals,
                    partner_id=partner.commercial_partner_id.id,
                    credential_type=cred.credential_type,
                    number=cred.number,
                )
            )
            created += 1
        partner.invalidate_recordset(["hc_vendor_hold"])
        hold = partner.hc_vendor_hold
        return self.env._(
            "credentials: %(created)s added, %(updated)s updated%(hold)s",
            created=created,
            updated=updated,
            hold=self.env._(", vendor on hold (%s)", hold) if hold else "",
        )

    @api.model
    def _payload_has_secrets(self, document):
        return bool(document.bank_accounts)

    @api.model
    def _stored_document(self, document):
        """The canonical document as kept on the message: bank details masked."""
        data = document.to_dict()
        for account in data.get("bank_accounts") or ():
            for key in ("iban", "account_number", "routing_number"):
                if account.get(key):
                    account[key] = crypto.mask_account(account[key])
            if account.get("bic"):
                account["bic"] = crypto.mask(account["bic"])
        return data

    @api.model
    def _partner_vals(self, document):
        vals = {"name": document.name, "is_company": True, "active": document.active}
        for field in ("email", "phone"):
            if getattr(document, field):
                vals[field] = getattr(document, field)
        address = document.address
        if address:
            vals.update(
                {
                    k: getattr(address, k)
                    for k in ("street", "street2", "city", "zip")
                    if getattr(address, k)
                }
            )
            if address.country_code:
                country = self.env["res.country"].search(
                    [("code", "=", address.country_code)], limit=1
                )
                if country:
                    vals["country_id"] = country.id
        return vals

    @api.model
    def _apply_purchase_terms(self, partner, message, document, currency):
        """Keep the vendor's stated currency, payment terms and category on the partner.

        Currency and payment terms are Odoo's own per-company vendor defaults (the
        purchase currency and the vendor payment terms new orders and bills take), set
        for the message's company.  Terms no Odoo payment term matches keep their text
        (``hc_payment_terms``) and are shown to a data steward; the category becomes a
        partner tag.
        """
        company_partner = partner.with_company(message.company_id)
        vals = {}
        if currency:
            vals["property_purchase_currency_id"] = currency.id
        if document.payment_terms:
            vals["hc_payment_terms"] = document.payment_terms
            term = self._resolve_payment_term(document.payment_terms, message.company_id)
            if term:
                vals["property_supplier_payment_term_id"] = term.id
            else:
                self.env["hc.exception"]._raise(
                    "data_quality",
                    self.env._(
                        "Payment terms %(terms)s of vendor %(vendor)s not known",
                        terms=document.payment_terms,
                        vendor=partner.display_name,
                    ),
                    f"dq:vendor_terms:{partner.id}:{document.payment_terms}",
                    severity="low",
                    partner_id=partner.id,
                    company_id=message.company_id.id,
                    message_id=message.id,
                    description=self.env._(
                        "No payment term of Odoo is called %(terms)s: the text is kept on "
                        "the vendor. Create the payment term (Accounting > Configuration > "
                        "Payment Terms) and set it on the vendor.",
                        terms=document.payment_terms,
                    ),
                )
        if vals:
            self._write_changed(company_partner, vals)
        if document.category:
            tag = self._resolve_category("res.partner.category", document.category)
            if tag not in partner.category_id:
                partner.write({"category_id": [Command.link(tag.id)]})

    @api.model
    def _merge_crosswalk(self, partner, message, entries):
        crosswalk = self.env["hc.partner.identifier"].sudo()
        for scheme, value, source, valid in entries:
            if not value:
                continue
            existing = crosswalk.search(
                [("scheme", "=", scheme), ("value", "=", value), ("source_system", "=", source)],
                limit=1,
            )
            if existing and existing.partner_id != partner:
                # Two vendor records claim one identifier: keep the first, tell a steward.
                self.env["hc.exception"]._raise(
                    "duplicate_vendor",
                    self.env._(
                        "Identifier %(scheme)s %(value)s is on two vendors",
                        scheme=scheme,
                        value=value,
                    ),
                    f"id-conflict:{scheme}:{source}:{value}",
                    partner_id=partner.id,
                    company_id=message.company_id.id,
                    message_id=message.id,
                    description=self.env._(
                        "%(a)s and %(b)s share this identifier.",
                        a=existing.partner_id.display_name,
                        b=partner.display_name,
                    ),
                )
                continue
            if not existing:
                crosswalk.create(
                    {
                        "partner_id": partner.id,
                        "scheme": scheme,
                        "value": value,
                        "source_system": source,
                        "connector_id": message.connector_id.id,
                        "valid": valid,
                    }
                )

    @api.model
    def _flag_data_quality(self, partner, message, document, entries):
        bad = [f"{scheme} {value}" for scheme, value, _src, valid in entries if not valid]
        if bad:
            self.env["hc.exception"]._raise(
                "data_quality",
                self.env._("Invalid identifiers on vendor %s", partner.display_name),
                f"dq:vendor:{partner.id}:{','.join(sorted(bad))}",
                severity="low",
                partner_id=partner.id,
                company_id=message.company_id.id,
                message_id=message.id,
                description=self.env._("Check digits do not verify: %s", ", ".join(bad)),
            )

    @api.model
    def _similar_vendor(self, document, company):
        """The existing vendor this one resembles by name and location, if any."""
        first_word = (document.name or "").split()[:1]
        if not first_word:
            return None
        candidates = (
            self.env["res.partner"]
            .sudo()
            .search(
                [
                    ("is_company", "=", True),
                    ("supplier_rank", ">", 0),
                    ("name", "ilike", first_word[0][:32]),
                ],
                limit=200,
            )
        )
        address = document.address
        new = VendorRecord(
            name=document.name,
            city=address.city if address else None,
            postcode=address.zip if address else None,
            country=address.country_code if address else None,
        )
        existing = [
            VendorRecord(
                name=p.name,
                city=p.city,
                postcode=p.zip,
                country=p.country_id.code or None,
                key=p.id,
            )
            for p in candidates
        ]
        match = match_vendor(new, existing)
        if match.action in (ACTION_REVIEW, ACTION_MERGE) and match.candidate:
            return match
        return None

    @api.model
    def _steward_decision(self, review_key):
        """The data steward's decision on a parked vendor: merge into one, or new."""
        exc = (
            self.env["hc.exception"]
            .sudo()
            .search(
                [("dedup_key", "=", review_key), ("state", "=", "resolved")],
                order="id desc",
                limit=1,
            )
        )
        return (exc.details or {}).get("decision", {}) if exc else {}
