import json
import logging
import time
import traceback

from odoo.tests import HttpCase
from odoo.tests import tagged

from .security_api_common import SecurityCase

IBAN = "NL91ABNA0417164300"
ACCOUNT_NUMBER = "000123456789"
ROUTING_NUMBER = "026009593"


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def text(self):
        lines = []
        for record in self.records:
            lines.append(f"{record.name} {record.levelname} {record.getMessage()}")
            if record.exc_info:
                lines.append("".join(traceback.format_exception(*record.exc_info)))
            if record.exc_text:
                lines.append(record.exc_text)
            if record.stack_info:
                lines.append(record.stack_info)
        return "\n".join(lines)


@tagged("post_install", "-at_install")
class TestNoSecretInLogs(SecurityCase, HttpCase):
    """Every log record of a full run (API key and secret issuance, posts, refusals,
    processing) is captured at DEBUG level and searched for the secrets."""

    def capture_logs(self):
        handler = _Capture()
        root = logging.getLogger()
        saved_levels = {
            name: logging.getLogger(name).level for name in ("", "odoo", "werkzeug", "odoo.sql_db")
        }
        saved_handlers = [(h, h.level) for h in root.handlers]
        for existing, _level in saved_handlers:
            existing.setLevel(max(existing.level, logging.WARNING))  # keep the console quiet
        root.addHandler(handler)
        for name in ("", "odoo", "werkzeug"):
            logging.getLogger(name).setLevel(logging.DEBUG)
        # Query logging (DEBUG of odoo.sql_db) prints every SQL statement by design and is
        # never enabled in production; everything else is captured at DEBUG.
        logging.getLogger("odoo.sql_db").setLevel(logging.INFO)

        def restore():
            root.removeHandler(handler)
            for existing, level in saved_handlers:
                existing.setLevel(level)
            for name, level in saved_levels.items():
                logging.getLogger(name).setLevel(level)

        self.addCleanup(restore)
        return handler

    def test_secrets_never_reach_the_logs(self):
        handler = self.capture_logs()
        secrets = {}
        # credentials issued (and rotated) through the wizards an administrator uses
        key_action = (
            self.env["hc.connector.key.wizard"]
            .create({"connector_id": self.connector.id, "overlap_hours": 1})
            .action_generate()
        )
        secrets["api key"] = key_action["context"]["default_key"]
        secrets["previous api key"] = self.api_key
        secret_action = (
            self.env["hc.connector.secret.wizard"]
            .create({"connector_id": self.connector.id, "overlap_hours": 1})
            .action_generate()
        )
        first_secret = secret_action["context"]["default_secret"]
        secrets["first signing secret"] = first_secret
        self.connector.write(
            {"require_signature": True, "rate_limit_per_second": 0.01, "rate_limit_burst": 8}
        )
        signing_secret = self.connector._generate_signing_secret(overlap_hours=1)
        secrets["signing secret"] = signing_secret
        secrets["IBAN"] = IBAN
        secrets["account number"] = ACCOUNT_NUMBER
        secrets["routing number"] = ROUTING_NUMBER
        key = secrets["api key"]

        vendor = self.vendor_doc(
            bank_accounts=[
                {
                    "iban": IBAN,
                    "bic": "ABNANL2A",
                    "account_number": ACCOUNT_NUMBER,
                    "routing_number": ROUTING_NUMBER,
                    "holder_name": "Medline Industries",
                }
            ]
        )
        ok = self.post_signed("vendors", vendor, signing_secret, key=key)
        self.assertEqual(ok.status_code, 202, ok.text)
        # the previous key during its overlap, signed with the previous secret
        also = self.post_signed(
            "vendors", self.vendor_doc(gln="0614141000029"), first_secret, key=self.api_key
        )
        self.assertEqual(also.status_code, 202, also.text)
        # a document invalid because of its bank details (field errors name the path)
        bad_bank = self.vendor_doc(
            gln="0614141000036",
            bank_accounts=[{"iban": IBAN.lower() + "!", "account_number": ACCOUNT_NUMBER}],
        )
        rejected = self.post_signed("vendors", bad_bank, signing_secret, key=key)
        self.assertEqual(rejected.status_code, 422, rejected.text)
        # every kind of signature refusal
        body = json.dumps(vendor).encode()
        refusals = [
            self.post("vendors", body, key=key),
            self.post(
                "vendors",
                body,
                key=key,
                headers=self.signed_headers("wrong-" + signing_secret, body, "/api/hc/v1/vendors"),
            ),
            self.post_signed(
                "vendors", vendor, signing_secret, key=key, ts=int(time.time()) - 3600
            ),
        ]
        replayed = self.signed_headers(signing_secret, body, "/api/hc/v1/vendors")
        self.post("vendors", body, key=key, headers=replayed)
        refusals.append(self.post("vendors", body, key=key, headers=replayed))
        self.assertEqual([r.status_code for r in refusals], [401] * 4)
        # wrong and mangled credentials
        self.assertEqual(self.post("vendors", body, key=key[::-1]).status_code, 401)
        self.assertEqual(self.post("vendors", body, key=f"{key} {signing_secret}").status_code, 401)
        # the rate limit runs out
        statuses = [self.post("vendors", body, key=key).status_code for _i in range(3)]
        self.assertIn(429, statuses)
        # processing: the vendor with bank details, and a message that dies
        self.assertEqual(len(self.accept([{"name": "no identifiers", "iban": IBAN}])), 1)
        self.process()
        message = self.Inbox.browse(ok.json()["id"])
        self.assertEqual(message.state, "done", message.error_message)

        text = handler.text()
        # the capture really saw the run (a test that cannot fail proves nothing)
        self.assertIn("Refused a request of connector", text)
        self.assertIn("timestamp_out_of_window", text)
        self.assertIn("/api/hc/v1/vendors", text)
        for name, value in secrets.items():
            with self.subTest(name):
                self.assertTrue(value)
                # assertFalse, not assertNotIn: a failure must not print the secret itself
                self.assertFalse(value in text, f"the {name} appears in the logs")
        for name in ("api key", "previous api key", "signing secret"):
            # not even a recognisable part of a credential
            self.assertFalse(secrets[name][:16] in text, f"part of the {name} is logged")
