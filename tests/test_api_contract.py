import json

import requests

from odoo.tests import HttpCase
from odoo.tests import tagged

from .common import HcCase


@tagged("post_install", "-at_install")
class TestApiContract(HcCase, HttpCase):
    """What API fuzzing (make fuzz) found: every answer under the API is the documented JSON."""

    def test_every_reference_of_the_openapi_document_resolves(self):
        doc = self.url_open("/api/hc/v1/openapi.json").json()
        refs = set()

        def walk(value):
            if isinstance(value, dict):
                if isinstance(value.get("$ref"), str):
                    refs.add(value["$ref"])
                for item in value.values():
                    walk(item)
            elif isinstance(value, list):
                for item in value:
                    walk(item)

        walk(doc)
        self.assertTrue(refs)
        components = doc["components"]["schemas"]
        for ref in refs:
            self.assertTrue(ref.startswith("#/components/schemas/"), ref)
            self.assertIn(ref.rsplit("/", 1)[1], components, ref)

    def test_unknown_paths_answer_json_404(self):
        headers = {"Authorization": f"Bearer {self.api_key}"}
        for method, path in (
            ("GET", "/api/hc/v1/messages/1.5e-38"),
            ("POST", "/api/hc/v1/messages/null,null/replay"),
            ("GET", "/api/hc/v1/no/such/thing"),
            # a newline is beyond the catch-all route's path converter (make fuzz, admin pass)
            ("POST", "/api/hc/v1/messages/%F1%90%B0%A1%0Al%24%C2%8B/replay"),
            ("GET", "/api/hc/v1/messages/1%0A2"),
        ):
            response = self.opener.request(
                method, self.base_url() + path, headers=headers, data=json.dumps({"reason": "x"})
            )
            self.assertEqual(response.status_code, 404, path)
            self.assertTrue(response.headers["Content-Type"].startswith("application/json"), path)
            self.assertEqual(response.json()["error"]["code"], "unknown_endpoint", path)
        # the real routes still win over the catch-all
        response = self.url_open("/api/hc/v1/messages/999999", headers=headers)
        self.assertEqual(response.status_code, 404)
        self.assertEqual(response.json()["error"]["code"], "not_found")

    def test_fuzzing_findings_answer_4xx_not_500(self):
        """What schemathesis found as 500s: NUL and control characters in an idempotency
        key, an id past 32 bits, a NUL in a replay reason."""
        headers = {"Authorization": f"Bearer {self.api_key}"}
        for bad in ("a\x00b", "tab\there", ""):
            response = self.url_open(
                "/api/hc/v1/messages?idempotency_key=" + requests.utils.quote(bad),
                headers=headers,
            )
            expected = 400
            self.assertEqual(response.status_code, expected, (bad, response.text))
            code = response.json()["error"]["code"]
            self.assertIn(code, {"invalid_idempotency_key", "missing_parameter"})
        post = self.url_open(
            "/api/hc/v1/vendors",
            data=json.dumps(self.vendor_doc()).encode(),
            headers={**headers, "Content-Type": "application/json", "Idempotency-Key": "k\x01"},
            method="POST",
        )
        self.assertEqual(post.status_code, 400, post.text)
        self.assertEqual(post.json()["error"]["code"], "invalid_idempotency_key")
        huge = self.url_open("/api/hc/v1/messages/99999999999", headers=headers)
        self.assertEqual(huge.status_code, 404, huge.text)
        self.assertEqual(huge.json()["error"]["code"], "not_found")
        admin_key = (
            self.env["res.users.apikeys"]
            .with_user(self.env.ref("base.user_admin"))
            .sudo()
            ._generate("hc_p2p", "contract test", None)
        )
        mid = self.post_vendor()
        replay = self.url_open(
            f"/api/hc/v1/messages/{mid}/replay",
            data=json.dumps({"reason": "nul\x00inside"}).encode(),
            headers={"Authorization": f"Bearer {admin_key}"},
            method="POST",
        )
        self.assertEqual(replay.status_code, 422, replay.text)
        self.assertEqual(replay.json()["error"]["code"], "invalid_reason")
        huge_replay = self.url_open(
            "/api/hc/v1/messages/99999999999/replay",
            data=b'{"reason": "x"}',
            headers={"Authorization": f"Bearer {admin_key}"},
            method="POST",
        )
        self.assertEqual(huge_replay.status_code, 404, huge_replay.text)

    def test_rejected_batch_is_documented_as_its_results(self):
        """A batch none of whose documents was accepted answers 422 with per-document
        results: the OpenAPI document says so (schemathesis flagged the mismatch)."""
        doc = self.url_open("/api/hc/v1/openapi.json").json()
        schema = doc["paths"]["/api/hc/v1/vendors"]["post"]["responses"]["422"]["content"][
            "application/json"
        ]["schema"]
        self.assertIn({"$ref": "#/components/schemas/BatchResult"}, schema["oneOf"])
        response = self.url_open(
            "/api/hc/v1/vendors",
            data=json.dumps([{"name": "x" * 300}]).encode(),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
            method="POST",
        )
        self.assertEqual(response.status_code, 422, response.text)
        body = response.json()
        self.assertEqual(body["counts"]["rejected"], 1)
        self.assertIn("results", body)

    def post_vendor(self):
        response = self.url_open(
            "/api/hc/v1/vendors",
            data=json.dumps(self.vendor_doc()).encode(),
            headers={"Authorization": f"Bearer {self.api_key}", "Content-Type": "application/json"},
            method="POST",
        )
        self.assertIn(response.status_code, (200, 202), response.text)
        return response.json()["id"]

    def test_options_on_health_lists_methods_without_running_the_check(self):
        """A health check answers 503 when a lane stalls: an OPTIONS probe (schemathesis
        sends them) is told the allowed methods instead of running the check."""
        response = self.opener.request("OPTIONS", self.base_url() + "/api/hc/v1/health")
        self.assertEqual(response.status_code, 204, response.text)
        self.assertEqual(response.headers["Allow"], "GET, HEAD")
