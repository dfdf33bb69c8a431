"""Retry delays: exponential backoff with full jitter, capped."""

import random


def retry_delay(attempt, base_seconds=30, max_seconds=3600, rng=random):
    """Seconds to wait before retry number ``attempt`` (1 for the first retry).

    "Full jitter" (a uniform draw between half the exponential delay and the delay) spreads
    the retries of a burst of failures so they do not come back at once and collide again.
    """
    if attempt < 1:
        raise ValueError("attempt starts at 1")
    ceiling = min(max_seconds, base_seconds * (2 ** (attempt - 1)))
    return ceiling / 2 + rng.random() * ceiling / 2
