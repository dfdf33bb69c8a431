import hashlib
import logging

from odoo import api
from odoo import fields
from odoo import models
from odoo.exceptions import AccessError
from odoo.exceptions import UserError

from ..normalize.exclusion import SOURCE_LEIE
from ..normalize.exclusion import SOURCE_SAM
from ..normalize.exclusion import Candidate
from ..normalize.exclusion import ExclusionFormatError
from ..normalize.exclusion import ExclusionRecord
from ..normalize.exclusion import match_candidate
from ..normalize.exclusion import name_tokens
from ..normalize.exclusion import normalize_npi
from ..normalize.exclusion import normalize_tax_id
from ..normalize.exclusion import read_exclusions

_logger = logging.getLogger(__name__)

COMPLIANCE_GROUP = "healthcare_p2p_integration.group_hc_vendor_compliance"
SOURCES = [(SOURCE_LEIE, "OIG LEIE"), (SOURCE_SAM, "SAM.gov exclusions")]
MAX_ERRORS_KEPT = 500
# Words too common in supplier names to look candidates up by (the name score still
# counts them).
LOOKUP_STOP_WORDS = frozenset(
    {
        "AND", "THE", "OF", "MEDICAL", "SUPPLY", "SUPPLIES", "HEALTH", "HEALTHCARE", "CARE",
        "SERVICES", "SERVICE", "GROUP", "CENTER", "CENTRE", "HOSPITAL", "PHARMACY", "CLINIC",
        "SYSTEMS", "PRODUCTS", "INTERNATIONAL", "USA", "AMERICA", "NATIONAL", "DBA",
    }
)  # fmt: skip


def _decoded_lines(stream):
    """Text lines of a binary stream, read one at a time: UTF-8 (a BOM is dropped by the
    reader), a line that is not UTF-8 is read as Windows-1252 (older extracts)."""
    for raw in stream:
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            yield raw.decode("cp1252", errors="replace")


class HcExclusionList(models.Model):
    """A version of an exclusion list loaded from its published CSV file.

    Loading a version supersedes the previous version of the same list and schedules the
    re-screening of every vendor (``_cron_screen``).  Unreadable rows are counted and kept
    with their line numbers and reasons; nothing read is dropped silently.
    """

    _name = "hc.exclusion.list"
    _description = "Exclusion list version"
    _order = "loaded_at desc, id desc"

    name = fields.Char(required=True)
    source = fields.Selection(SOURCES, required=True, index=True)
    version = fields.Char(help="The publication the file is (e.g. 2026-11 for the LEIE).")
    file_name = fields.Char()
    file_sha256 = fields.Char(string="File SHA-256", readonly=True)
    loaded_at = fields.Datetime(readonly=True, default=fields.Datetime.now)
    loaded_by_id = fields.Many2one(
        "res.users", string="Loaded by", readonly=True, default=lambda s: s.env.uid
    )
    state = fields.Selection(
        [("active", "Current"), ("superseded", "Superseded")],
        default="active",
        required=True,
        index=True,
    )
    entry_ids = fields.One2many("hc.exclusion.entry", "list_id", string="Entries")
    entry_count = fields.Integer(readonly=True)
    error_count = fields.Integer(string="Rows not read", readonly=True)
    errors = fields.Text(string="Rows not read (line: reason)", readonly=True)
    screened_at = fields.Datetime(
        readonly=True, help="When every vendor was last screened against this version."
    )
    match_count = fields.Integer(compute="_compute_match_count")

    def _compute_match_count(self):
        counts = dict(
            self.env["hc.exclusion.match"]
            .sudo()
            ._read_group([("list_id", "in", self.ids)], ["list_id"], ["__count"])
        )
        for lst in self:
            lst.match_count = counts.get(lst, 0)

    # -- loading ------------------------------------------------------------------------

    @api.model
    def _hc_check_compliance(self):
        if not (self.env.su or self.env.user.has_group(COMPLIANCE_GROUP)):
            raise AccessError(self.env._("Only a vendor compliance officer loads exclusion lists."))

    @api.model
    def _hc_load(self, stream, source=None, version=None, file_name=None, batch_size=2000):
        """Load a list version from ``stream`` (a binary file object, read line by line:
        a file of any size is never held in memory whole).  ``source`` (``leie``/``sam``)
        is detected from the header when not given.  Returns the new version.
        """
        self._hc_check_compliance()
        lines = _decoded_lines(stream)
        digest = hashlib.sha256()

        def hashed(lines):
            for line in lines:
                digest.update(line.encode("utf-8"))
                yield line

        records = read_exclusions(hashed(lines), source)
        try:
            first = next(records, None)
        except ExclusionFormatError as exc:
            raise UserError(self.env._("Exclusion list refused: %s", exc)) from exc
        if first is None:
            raise UserError(self.env._("Exclusion list refused: the file has no rows."))
        source = first.source if isinstance(first, ExclusionRecord) else source
        if not source:
            # the first row was unreadable: the header decided the layout anyway
            source = SOURCE_LEIE if "LEIE" in (file_name or "").upper() else SOURCE_SAM
        label = dict(SOURCES)[source]
        version_list = self.sudo().create(
            {
                "name": f"{label} {version or fields.Date.context_today(self)}",
                "source": source,
                "version": version or False,
                "file_name": file_name or False,
                "loaded_by_id": self.env.uid,
            }
        )
        Entry = self.env["hc.exclusion.entry"].sudo()
        batch, errors, count = [], [], 0

        def flush():
            nonlocal batch
            if batch:
                Entry.create(batch)
                batch = []

        try:
            for item in _chain(first, records):
                if isinstance(item, ExclusionRecord):
                    batch.append(version_list._entry_vals(item))
                    count += 1
                    if len(batch) >= batch_size:
                        flush()
                else:
                    errors.append(item)
        except ExclusionFormatError as exc:
            raise UserError(self.env._("Exclusion list refused: %s", exc)) from exc
        flush()
        if not count:
            raise UserError(
                self.env._(
                    "Exclusion list refused: no row could be read (%s rows in error).",
                    len(errors),
                )
            )
        previous = self.sudo().search(
            [("source", "=", source), ("state", "=", "active"), ("id", "!=", version_list.id)]
        )
        previous.write({"state": "superseded"})
        version_list.write(
            {
                "entry_count": count,
                "error_count": len(errors),
                "errors": "\n".join(f"{e.line}: {e.reason}" for e in errors[:MAX_ERRORS_KEPT])
                or False,
                "file_sha256": digest.hexdigest(),
            }
        )
        self.env["hc.audit.log"]._log(
            "exclusion_list_loaded",
            version_list,
            data={
                "source": source,
                "version": version or "",
                "entries": count,
                "rows_not_read": len(errors),
                "sha256": digest.hexdigest(),
                "superseded": previous.ids,
            },
        )
        # every vendor is screened again against the new version, in the background
        self.env.ref("healthcare_p2p_integration.ir_cron_hc_exclusion_screen")._trigger()
        return version_list

    def _entry_vals(self, record):
        tokens = record.name_clean.split()
        return {
            "list_id": self.id,
            "source": record.source,
            "entry_key": hashlib.sha256(record.key.encode("utf-8")).hexdigest(),
            "name": record.name,
            "name_clean": record.name_clean,
            "name_first": tokens[0] if tokens else False,
            "name_last": tokens[-1] if tokens else False,
            "is_individual": record.is_individual,
            "npi": record.npi or False,
            "entity_id": record.entity_id or False,
            "tax_id": record.tax_id or False,
            "address": record.address or False,
            "city": record.city or False,
            "state": record.state or False,
            "zip_code": record.zip_code or False,
            "country": record.country or False,
            "exclusion_type": record.exclusion_type or False,
            "agency": record.agency or False,
            "excluded_on": record.excluded_on or False,
            "reinstated_on": record.reinstated_on or False,
            "waiver_on": record.waiver_on or False,
            "active": record.active,
            "line": record.line,
        }

    # -- screening ----------------------------------------------------------------------

    @api.model
    def _hc_candidate(self, partner):
        """What a vendor is screened by: its name, NPI, tax ids and UEI/DUNS."""
        identifiers = partner.sudo().hc_identifier_ids
        tax_ids = [partner.vat, *identifiers.filtered(lambda i: i.scheme == "vat").mapped("value")]
        entity_ids = [
            partner.hc_uei,
            *identifiers.filtered(lambda i: i.scheme == "duns").mapped("value"),
        ]
        return Candidate(
            name=partner.name or "",
            npi=partner.hc_npi or None,
            tax_ids=tuple(t for t in tax_ids if t),
            entity_ids=tuple(t for t in entity_ids if t),
            key=partner.id,
        )

    @api.model
    def _hc_screen(self, partners, requested_by=None, threshold=None):
        """Screen ``partners`` (their commercial partners) against the current versions of
        every list.  New hits become pending matches (one per vendor and exclusion across
        versions: a false positive cleared once is not asked again).  Returns the matches
        created or brought up to date.  Three queries per batch, whatever its size."""
        partners = partners.commercial_partner_id
        if threshold is None:
            threshold = float(
                self.env["ir.config_parameter"]
                .sudo()
                .get_param("healthcare_p2p_integration.exclusion_name_threshold", 90)
            )
        lists = self.sudo().search([("state", "=", "active")])
        Match = self.env["hc.exclusion.match"].sudo()
        if not lists or not partners:
            return Match
        candidates = [self._hc_candidate(p) for p in partners]
        words, npis, ids = set(), set(), set()
        for cand in candidates:
            words |= {w for w in name_tokens(cand.name) if len(w) > 2} - LOOKUP_STOP_WORDS
            npis |= {normalize_npi(cand.npi)} - {None}
            ids |= {normalize_tax_id(t) for t in cand.tax_ids + cand.entity_ids} - {None}
        domain = [("name_first", "in", list(words)), ("name_last", "in", list(words))]
        domain = ["|", *domain] if words else [("id", "=", 0)]
        if npis:
            domain = ["|", ("npi", "in", list(npis)), *domain]
        if ids:
            domain = [
                "|",
                "|",
                ("entity_id", "in", list(ids)),
                ("tax_id", "in", list(ids)),
                *domain,
            ]
        entries = (
            self.env["hc.exclusion.entry"]
            .sudo()
            .search([("list_id", "in", lists.ids), ("active", "=", True), *domain])
        )
        by_record = {}
        for entry in entries:
            by_record[entry._hc_record()] = entry
        existing = {
            (m.partner_id.id, m.entry_key): m
            for m in Match.search([("partner_id", "in", partners.ids)])
        }
        requested_by = requested_by or self.env.user
        touched = Match.browse()
        create_vals = []
        for cand in candidates:
            for hit in match_candidate(cand, list(by_record), threshold):
                entry = by_record[hit.record]
                match = existing.get((cand.key, entry.entry_key))
                vals = {
                    "list_id": entry.list_id.id,
                    "entry_id": entry.id,
                    "matched_on": hit.matched_on,
                    "score": hit.score,
                    "reasons": "; ".join(hit.reasons),
                }
                if match:
                    if match.entry_id != entry:
                        match._hc_system_write(vals)
                    touched |= match
                else:
                    vals.update(
                        partner_id=cand.key,
                        entry_key=entry.entry_key,
                        requested_by_id=requested_by.id,
                    )
                    create_vals.append(vals)
                    existing[(cand.key, entry.entry_key)] = True
        if create_vals:
            created = Match.create(create_vals)
            for match in created:
                self.env["hc.audit.log"]._log(
                    "exclusion_match_found",
                    match,
                    data={
                        "partner": match.partner_id.id,
                        "list": match.list_id.name,
                        "entry": match.entry_id.name,
                        "matched_on": match.matched_on,
                        "score": match.score,
                    },
                )
            touched |= created
        return touched

    @api.model
    def _cron_screen(self, batch_size=500):
        """Screen every vendor against the current lists, when a version was loaded since
        the last run (or ``force`` in the context, the nightly run), in batches that each
        commit with their progress."""
        lists = self.sudo().search([("state", "=", "active")])
        pending = lists.filtered(lambda lst: not lst.screened_at)
        if not pending and not self.env.context.get("hc_screen_all"):
            return 0
        Partner = self.env["res.partner"].sudo().with_context(active_test=False)
        vendors = Partner.search([("parent_id", "=", False), ("supplier_rank", ">", 0)], order="id")
        Cron = self.env["ir.cron"]
        commit = bool(self.env.context.get("ir_cron_progress_id"))
        if commit:
            Cron._commit_progress(remaining=len(vendors))
        requested_by = pending[:1].loaded_by_id or self.env.user
        for start in range(0, len(vendors), batch_size):
            self._hc_screen(vendors[start : start + batch_size], requested_by=requested_by)
            if commit and not Cron._commit_progress(len(vendors[start : start + batch_size])):
                return start + batch_size  # the rest at the next run (screened_at unset)
        pending.sudo().write({"screened_at": fields.Datetime.now()})
        return len(vendors)

    def action_open_matches(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "hc.exclusion.match",
            "view_mode": "list,form",
            "domain": [("list_id", "=", self.id)],
            "name": self.env._("Matches of %s", self.name),
        }


def _chain(first, rest):
    yield first
    yield from rest
