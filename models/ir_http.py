from odoo import models
from odoo.http import request

from ..api_contract.openapi import PREFIX


class IrHttp(models.AbstractModel):
    _inherit = "ir.http"

    @classmethod
    def _serve_fallback(cls):
        """A path under the API that no route takes answers the API's JSON 404.

        The API's catch-all route (``<path:unknown>``) cannot take every path: werkzeug's
        path converter does not match a newline, so ``/api/hc/v1/messages/1%0A2/replay``
        (found by ``make fuzz``) fell through to Odoo's HTML page.
        """
        response = super()._serve_fallback()
        path = request.httprequest.path
        if response is None and (path == PREFIX or path.startswith(f"{PREFIX}/")):
            return request.make_json_response(
                {
                    "error": {
                        "code": "unknown_endpoint",
                        "message": f"No such resource: {path}.",
                        "fields": [],
                    }
                },
                status=404,
            )
        return response
