"""Token bucket arithmetic (the reference the SQL statement is checked against)."""

from ..api_contract import rate_limit as rl


def test_burst_then_refill():
    tokens, granted_count = 3.0, 0
    for _ in range(5):
        granted, tokens = rl.take(tokens, 0, rate=1, burst=3)
        granted_count += granted
    assert granted_count == 3
    assert tokens == 0
    granted, tokens = rl.take(tokens, 1.5, rate=1, burst=3)
    assert granted and tokens == 0.5


def test_refused_requests_take_nothing_and_refill_is_capped():
    granted, tokens = rl.take(0.4, 0, rate=1, burst=3)
    assert not granted and tokens == 0.4
    granted, tokens = rl.take(0.4, 0.6, rate=1, burst=3)
    assert granted and abs(tokens) < 1e-9
    granted, tokens = rl.take(0, 3600, rate=10, burst=5)
    assert granted and tokens == 4
    # a clock going backwards refills nothing
    assert rl.take(0.5, -10, rate=1, burst=3) == (False, 0.5)


def test_retry_after_is_whole_seconds_at_least_one():
    assert rl.retry_after(0.0, 1) == 1
    assert rl.retry_after(0.0, 0.1) == 10
    assert rl.retry_after(0.95, 0.1) == 1
    assert rl.retry_after(0.0, 50) == 1
    assert rl.retry_after(0.0, 0) == 1


def test_unlimited_and_effective_burst():
    assert rl.is_unlimited(0) and rl.is_unlimited(None) and rl.is_unlimited(-1)
    assert not rl.is_unlimited(0.5)
    assert rl.effective_burst(2.5, 0) == 3
    assert rl.effective_burst(0.1, 0) == 1
    assert rl.effective_burst(5, 20) == 20
