import json
import os
import time
import uuid
from unittest.mock import patch

from odoo import tools

from ..api_contract import signature
from ..trust import crypto
from .common import HcCase


class ApiClientMixin:
    """Posts to the API as a connector would (mixed into an HttpCase with HcCase)."""

    @classmethod
    def ensure_encryption_key(cls):
        """Secrets at rest need a key: the dev/CI odoo.conf has one; else use a test key."""
        if not crypto.keys_from_config(tools.config):
            patcher = patch.dict(os.environ, {crypto.ENV_VARIABLE: crypto.generate_key()})
            patcher.start()
            cls.addClassCleanup(patcher.stop)

    def post(self, endpoint, body, key=None, content_type="application/json", headers=None):
        hdrs = {"Content-Type": content_type}
        if key is not False:
            hdrs["Authorization"] = f"Bearer {key or self.api_key}"
        hdrs.update(headers or {})
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return self.url_open(f"/api/hc/v1/{endpoint}", data=data, headers=hdrs, method="POST")

    def get(self, path, key=None, headers=None):
        hdrs = {"Authorization": f"Bearer {key or self.api_key}"}
        hdrs.update(headers or {})
        return self.url_open(f"/api/hc/v1/{path}", headers=hdrs)

    def assertError(self, response, status, code):
        self.assertEqual(response.status_code, status, response.text)
        self.assertEqual(response.json()["error"]["code"], code, response.text)

    @staticmethod
    def signed_headers(secret, body, target, method="POST", ts=None, nonce=None):
        ts = int(time.time()) if ts is None else ts
        nonce = nonce or uuid.uuid4().hex
        return {
            signature.HEADER_TIMESTAMP: str(ts),
            signature.HEADER_NONCE: nonce,
            signature.HEADER_SIGNATURE: signature.sign(secret, method, target, ts, nonce, body),
        }

    def post_signed(self, endpoint, doc, secret, key=None, ts=None, nonce=None, headers=None):
        body = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
        hdrs = self.signed_headers(secret, body, f"/api/hc/v1/{endpoint}", ts=ts, nonce=nonce)
        hdrs.update(headers or {})
        return self.post(endpoint, body, key=key, headers=hdrs)


class SecurityCase(ApiClientMixin, HcCase):
    """HcCase with an encryption key for secrets at rest."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ensure_encryption_key()
