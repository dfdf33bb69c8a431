"""The documents the API benchmarks post (``run.py`` over HTTP, ``accept.py`` in-process):
one definition, so that both measure the same bodies."""


def vendor(i, run):
    return {
        "identifiers": [{"scheme": "SOURCE", "value": f"bench-{run}-{i}"}],
        "name": f"Bench Vendor {run} {i}",
        "address": {"city": "Springfield", "country_code": "US"},
    }


def consumption(i, run):
    """A point-of-use consumption of one of 50 bench items at ``WH/Stock``."""
    return {
        "consumption_id": f"bench-{run}-{i}",
        "source_system": "cabinet",
        "location": "WH/Stock",
        "item": {"buyer_part_number": f"BENCH-{hash(i) % 50}"},  # i: a number or a str
        "quantity": "1",
        "uom": "EA",
        "case_reference": f"CASE-{run}-{i}",
        "consumed_at": "2026-12-06T08:00:00Z",
    }
