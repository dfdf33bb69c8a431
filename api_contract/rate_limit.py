"""Token bucket arithmetic for per-connector rate limits (pure; the state lives in SQL).

A bucket holds at most ``burst`` tokens and gains ``rate`` tokens per second; a request
takes one token or, when less than one is left, is refused (HTTP 429) without taking
anything.  ``models/hc_rate_bucket.py`` runs exactly this step as one atomic SQL
statement; :func:`take` is the reference the tests compare it with.
"""

import math


def take(tokens, elapsed, rate, burst):
    """One request against a bucket: ``(granted, tokens_after)``.

    :param tokens: tokens left after the previous request
    :param elapsed: seconds since the previous request (negative counts as 0)
    """
    available = min(float(burst), tokens + rate * max(0.0, elapsed))
    if available >= 1:
        return True, available - 1
    return False, available


def retry_after(tokens, rate):
    """Whole seconds until one token is available again (at least 1): ``Retry-After``."""
    if rate <= 0:
        return 1
    return max(1, math.ceil((1 - tokens) / rate))


def is_unlimited(rate):
    """A rate of 0 means no limit (and no SQL at all on the hot path)."""
    return not rate or rate <= 0


def effective_burst(rate, burst):
    """The bucket size: ``burst``, or when 0 one second's worth of ``rate`` (at least 1)."""
    if burst and burst > 0:
        return int(burst)
    return max(1, math.ceil(rate or 0))
