"""Replays generated documents against a running Odoo over real HTTP, then waits.

Documents go to ``POST /api/hc/v1/<endpoint>`` with the connector's API key, their
``Idempotency-Key`` and content type, one by one in the day's order (out-of-order
arrivals are in the data on purpose).  Draining is watched as an administrator over
Odoo's JSON API: the inbox is drained when no message is received, processing or failed (due
for a retry) any more; *waiting* messages wait for something that never came that day.
"""

import time

import requests


class Rpc:
    """Minimal client of Odoo 19's external JSON API (``POST /json/2/<model>/<method>``).

    Authenticated by a user's API key (``Authorization: bearer``); arguments by name.
    """

    def __init__(self, url, db, api_key):
        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"bearer {api_key}", "X-Odoo-Database": db})

    def __call__(self, model, method, **kwargs):
        response = self.session.post(
            f"{self.url}/json/2/{model}/{method}", json=kwargs, timeout=300
        )
        if response.status_code != 200:
            raise RuntimeError(
                f"{model}.{method}: HTTP {response.status_code} {response.text[:500]}"
            )
        return response.json()


def post_all(base_url, keys, documents, progress=None):
    """POST ``documents`` in order; return per-document ``(status code, body)``."""
    sessions = {}
    results = []
    for n, doc in enumerate(documents):
        session = sessions.get(doc["connector"])
        if session is None:
            session = sessions[doc["connector"]] = requests.Session()
            session.headers["Authorization"] = f"Bearer {keys[doc['connector']]}"
        response = session.post(
            f"{base_url}/api/hc/v1/{doc['endpoint']}",
            data=doc["body"].encode(),
            headers={
                "Content-Type": doc["content_type"],
                "Idempotency-Key": doc["idempotency_key"],
            },
            timeout=300,
        )
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:500]}
        results.append((response.status_code, body))
        if progress and (n + 1) % 100 == 0:
            progress(n + 1, len(documents))
    return results


PENDING = ("received", "processing", "failed")


def wait_drained(rpc, timeout=1800, settle=3.0, progress=None):
    """Wait until no inbox message is pending; return the seconds waited.

    Raises ``TimeoutError`` after ``timeout`` seconds with what is still pending.
    """
    start = time.time()
    last_report = 0
    quiet_since = None
    while True:
        pending = rpc("hc.inbox.message", "search_count", domain=[("state", "in", list(PENDING))])
        now = time.time()
        if pending == 0:
            quiet_since = quiet_since or now
            if now - quiet_since >= settle:
                return now - start
        else:
            quiet_since = None
        if now - start > timeout:
            raise TimeoutError(f"{pending} messages still pending after {timeout} s")
        if progress and now - last_report > 15:
            progress(pending, now - start)
            last_report = now
        time.sleep(1.0)
