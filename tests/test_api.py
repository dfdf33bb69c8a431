import json

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase


@tagged("post_install", "-at_install")
class TestApi(HcCase, HttpCase):
    """The HTTP API as a connector meets it: status codes, stable error codes, JSON."""

    def post(self, endpoint, body, key=None, content_type="application/json", headers=None):
        hdrs = {"Content-Type": content_type}
        if key is not False:
            hdrs["Authorization"] = f"Bearer {key or self.api_key}"
        hdrs.update(headers or {})
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.url_open(f"/api/hc/v1/{endpoint}", data=data, headers=hdrs, method="POST")

    def get(self, path, key=None):
        return self.url_open(
            f"/api/hc/v1/{path}", headers={"Authorization": f"Bearer {key or self.api_key}"}
        )

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"]["code"], code)

    def test_post_accepts_fast_and_status_follows(self):
        response = self.post("vendors", self.vendor_doc())
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        self.assertEqual(body["state"], "received")
        self.assertEqual(response.headers["Location"], f"/api/hc/v1/messages/{body['id']}")
        message = self.Inbox.browse(body["id"])
        self.assertEqual(message.connector_id, self.connector)
        # the answer, built from what was stored, is what the message shows
        self.assertIs(body.pop("duplicate"), False)
        self.assertEqual(self.get(f"messages/{body['id']}").json(), body)
        self.process()
        status = self.get(f"messages/{body['id']}").json()
        self.assertEqual(status["state"], "done")
        self.assertEqual(status["result"]["model"], "res.partner")

    def test_duplicate_post_returns_the_original(self):
        first = self.post("vendors", self.vendor_doc(), headers={"Idempotency-Key": "v-1"}).json()
        again = self.post("vendors", self.vendor_doc(), headers={"Idempotency-Key": "v-1"})
        self.assertEqual(again.status_code, 200)
        self.assertEqual(again.json()["id"], first["id"])
        self.assertTrue(again.json()["duplicate"])
        by_key = self.url_open(
            "/api/hc/v1/messages?idempotency_key=v-1",
            headers={"Authorization": f"Bearer {self.api_key}"},
        )
        self.assertEqual(by_key.json()["id"], first["id"])

    def test_conflicting_idempotency_key_is_409(self):
        self.post("vendors", self.vendor_doc(), headers={"Idempotency-Key": "v-2"})
        response = self.post(
            "vendors", self.vendor_doc(name="Changed"), headers={"Idempotency-Key": "v-2"}
        )
        self.assertError(response, 409, "idempotency_conflict")

    def test_authentication_and_scopes(self):
        self.assertError(self.post("vendors", self.vendor_doc(), key=False), 401, "unauthenticated")
        self.assertError(
            self.post("vendors", self.vendor_doc(), key="0" * 40), 401, "invalid_credentials"
        )
        self.connector.allowed_doc_type_ids = self.doc_types.filtered(lambda d: d.code == "invoice")
        self.assertError(self.post("vendors", self.vendor_doc()), 403, "document_type_not_allowed")
        other = self.env["res.company"].create({"name": "Facility B"})
        self.connector.allowed_doc_type_ids = self.doc_types
        response = self.post("vendors", self.vendor_doc(), headers={"X-Company-Id": str(other.id)})
        self.assertError(response, 403, "company_not_allowed")
        self.connector.active = False
        self.assertError(self.post("vendors", self.vendor_doc()), 401, "invalid_credentials")

    def test_rotated_key_overlaps_then_expires(self):
        old_key = self.api_key
        new_key = self.connector._generate_api_key(expiration_days=30, overlap_hours=24)
        # during the overlap both keys work, so the sender can switch without downtime
        self.assertEqual(self.post("vendors", self.vendor_doc(), key=new_key).status_code, 202)
        self.assertEqual(
            self.post("vendors", self.vendor_doc(gln="0614141000029"), key=old_key).status_code, 202
        )
        self.assertEqual(len(self.connector.key_ids), 2)
        self.env.cr.execute(
            "SELECT key FROM res_users_apikeys WHERE user_id = %s", [self.connector.user_id.id]
        )
        stored = [row[0] for row in self.env.cr.fetchall()]
        self.assertNotIn(new_key, stored, "only a hash is stored")
        # a rotation without overlap is a revocation: effective at once
        newest = self.connector._generate_api_key(expiration_days=30, overlap_hours=0)
        self.assertError(
            self.post("vendors", self.vendor_doc(gln="0614141000036"), key=new_key),
            401,
            "invalid_credentials",
        )
        self.assertEqual(
            self.post("vendors", self.vendor_doc(gln="0614141000036"), key=newest).status_code, 202
        )

    def test_bad_requests_have_stable_codes(self):
        self.assertError(self.post("vendors", b"{not json"), 400, "malformed_json")
        self.assertError(self.post("vendors", b"\xff\xfe"), 400, "invalid_encoding")
        self.assertError(self.post("nothing-here", self.vendor_doc()), 404, "unknown_endpoint")
        self.assertError(
            self.post("vendors", b"<x/>", content_type="application/xml"),
            415,
            "unsupported_media_type",
        )
        deep = {"name": "x"}
        for _i in range(40):
            deep = {"nested": deep}
        self.assertError(self.post("vendors", deep), 400, "too_deep")
        response = self.post("vendors", {"name": "no identifiers"})
        self.assertError(response, 422, "invalid_document")
        self.assertEqual(response.json()["error"]["fields"][0]["path"], "identifiers")
        self.connector.max_payload_bytes = 100
        self.assertError(self.post("vendors", self.vendor_doc()), 413, "payload_too_large")

    def test_batch_answers_per_document(self):
        docs = [
            self.vendor_doc(gln="0614141000029"),
            {"name": "broken"},
            self.vendor_doc(gln="0614141000036"),
        ]
        response = self.post("vendors", docs)
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        self.assertEqual(
            body["counts"], {"created": 2, "duplicate": 0, "rejected": 1, "conflict": 0}
        )
        self.assertEqual([r["status"] for r in body["results"]], ["created", "rejected", "created"])
        ndjson = b"\n".join(json.dumps(d).encode() for d in docs[::2])
        again = self.post("vendors", ndjson, content_type="application/x-ndjson").json()
        self.assertEqual(again["counts"]["duplicate"], 2, "same documents, same messages")

    def test_message_of_another_connector_is_404(self):
        other = self.env["hc.connector"].create(
            {"name": "Other", "code": "other", "allowed_doc_type_ids": [(6, 0, self.doc_types.ids)]}
        )
        other_key = other._generate_api_key()
        mid = self.post("vendors", self.vendor_doc()).json()["id"]
        self.assertError(self.get(f"messages/{mid}", key=other_key), 404, "not_found")

    def test_replay_over_api_needs_an_admin_key(self):
        mid = self.post("vendors", self.vendor_doc()).json()["id"]
        self.process()
        url = f"/api/hc/v1/messages/{mid}/replay"
        denied = self.url_open(
            url,
            data=b'{"reason": "x"}',
            headers={"Authorization": f"Bearer {self.api_key}"},
            method="POST",
        )
        self.assertError(denied, 403, "forbidden")
        admin_key = (
            self.env["res.users.apikeys"]
            .with_user(self.env.ref("base.user_admin"))
            .sudo()
            ._generate("hc_p2p", "admin test", None)
        )
        no_reason = self.url_open(
            url, data=b"{}", headers={"Authorization": f"Bearer {admin_key}"}, method="POST"
        )
        self.assertError(no_reason, 422, "reason_required")
        ok = self.url_open(
            url,
            data=b'{"reason": "supplier fixed data"}',
            headers={"Authorization": f"Bearer {admin_key}"},
            method="POST",
        )
        self.assertEqual(ok.status_code, 202, ok.text)
        self.assertEqual(ok.json()["state"], "received")


@tagged("post_install", "-at_install")
class TestInboxTour(HcCase, HttpCase):
    def test_admin_finds_dead_letter(self):
        [(message, _s)] = self.accept([{"name": "no identifiers at all"}])
        self.process()
        self.assertEqual(message.state, "dead")
        # an integration administrator of the demo, not the superuser
        self.make_demo_user("data.steward")
        self.start_tour("/odoo", "hc_inbox_dead_letter_tour", login="data.steward")


@tagged("post_install", "-at_install")
class TestOpenApi(HcCase, HttpCase):
    def test_openapi_describes_every_route(self):
        import re

        response = self.url_open("/api/hc/v1/openapi.json")
        self.assertEqual(response.status_code, 200)
        doc = response.json()
        self.assertEqual(doc["openapi"], "3.1.0")
        documented = {
            (path, method.upper()) for path, item in doc["paths"].items() for method in item
        }
        endpoints = self.env["hc.document.type"].search([]).mapped("endpoint")
        served = set()
        for rule in self.env["ir.http"].routing_map().iter_rules():
            if not rule.rule.startswith("/api/hc/v1") or "<path:unknown>" in rule.rule:
                continue  # (the catch-all answering JSON 404s is no resource)
            for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
                if "<string:endpoint>" in rule.rule:
                    served |= {
                        (rule.rule.replace("<string:endpoint>", e), method) for e in endpoints
                    }
                else:
                    served.add((re.sub(r"<\w+:(\w+)>", r"{\1}", rule.rule), method))
        self.assertTrue(served)
        self.assertEqual(served, documented)
        # every document type's schema is published and names its required fields
        vendor = doc["components"]["schemas"]["Vendor"]
        self.assertIn("identifiers", vendor["required"])


X12_850 = [
    "BEG*00*SA*PO-{n}**20250301",
    "CUR*BY*USD",
    "N1*BY*General Hospital*UL*0614141000005",
    "N1*SE*Acme Medical*1*123456789",
    "PO1*1*10*EA*25.50**VP*GL-100*UK*00614141000029",
    "PID*F****Nitrile gloves M",
    "CTT*1",
]


def x12_interchange(sets, se_count_fix=0):
    isa = "*".join(
        [
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            "ZZ",
            "HOSPITAL".ljust(15),
            "ZZ",
            "VENDOR".ljust(15),
            "250301",
            "1200",
            "U",
            "00401",
            "000000101",
            "0",
            "P",
            ">",
        ]
    )
    segs = [isa, "GS*PO*HOSPITAL*VENDOR*20250301*1200*77*X*004010"]
    for index, body in enumerate(sets, start=1):
        tx = [f"ST*850*{index:04d}", *body]
        segs += [*tx, f"SE*{len(tx) + 1 + se_count_fix}*{index:04d}"]
    segs += [f"GE*{len(sets)}*77", "IEA*1*000000101"]
    return ("~\n".join(segs) + "~\n").encode()


@tagged("post_install", "-at_install")
class TestApiStandardFormats(HcCase, HttpCase):
    def post(self, endpoint, body, content_type):
        return self.url_open(
            f"/api/hc/v1/{endpoint}",
            data=body,
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": content_type},
            method="POST",
        )

    def test_x12_interchange_is_a_batch_with_a_997(self):
        sets = [[s.format(n=n) for s in X12_850] for n in (1, 2)]
        response = self.post("purchase-orders", x12_interchange(sets), "application/edi-x12")
        self.assertEqual(response.status_code, 202, response.text)
        body = response.json()
        self.assertEqual(body["counts"]["created"], 2, "one message per transaction set")
        self.assertIn("AK1*PO*77", body["functional_ack"])
        self.assertIn("AK9*A*2*2*2", body["functional_ack"])
        messages = self.Inbox.browse([r["id"] for r in body["results"]])
        self.assertEqual(set(messages.mapped("content_type")), {"application/edi-x12"})
        self.assertTrue(
            all(
                b"ST*850" in self.env["hc.inbox.message"].browse(m.id)._payload_text().encode()
                for m in messages
            )
        )

    def test_broken_interchange_is_400_with_a_rejecting_997(self):
        sets = [[s.format(n=3) for s in X12_850]]
        response = self.post(
            "purchase-orders", x12_interchange(sets, se_count_fix=5), "application/edi-x12"
        )
        self.assertEqual(response.status_code, 400, response.text)
        body = response.json()
        self.assertTrue(body["error"]["code"].startswith("x12_"))
        self.assertIn("AK9*R", body["functional_ack"])

    def test_csv_vendor_batch(self):
        csv = (
            b"source_id,name,gln,city,country_code\n"
            b"V-1,Owens & Minor,0614141000029,Mechanicsville,US\n"
            b"V-2,Cardinal Health,0614141000036,Dublin,US\n"
        )
        response = self.post("vendors", csv, "text/csv")
        self.assertEqual(response.status_code, 202, response.text)
        self.assertEqual(response.json()["counts"]["created"], 2)
        self.process()
        names = self.Inbox.browse([r["id"] for r in response.json()["results"]]).mapped("state")
        self.assertEqual(names, ["done", "done"])
