"""Outbound delivery, pure (no ORM): signed webhook requests, the circuit breaker and the
retry delays (:mod:`.outbound`, :mod:`.backoff`), which the inbox's retries use too."""
