"""Outcome classes a processor raises to tell the inbox what to do with a message.

The lane worker (``hc.lane.worker._failure_outcome``) sorts every failure into one of
three fates, following the OCA ``edi_oca`` convention: transient problems are retried
with backoff, a missing prerequisite parks the message until it arrives, everything else
is final ("dead") with its reason.
"""


class PipelineError(Exception):
    """Base class: ``code`` is stable and machine-readable, ``message`` is for people."""

    code = "pipeline_error"

    def __init__(self, message, code=None, path=None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.path = path


class PermanentError(PipelineError):
    """Retrying cannot help (invalid content, unknown reference that will never come).

    ``exceptions`` lists the problems a person must handle, as keyword dicts for
    ``hc.exception._raise`` (``exception_type``, ``name``, ``dedup_key`` and any field
    values): the inbox raises them *after* rolling back the failed apply, so they survive
    the rollback that keeps the message from being half-applied.
    """

    code = "permanent"

    def __init__(self, message, code=None, path=None, exceptions=None):
        super().__init__(message, code=code, path=path)
        self.exceptions = list(exceptions or [])


class TransientError(PipelineError):
    """Retrying later may help (lock contention, a remote system briefly down)."""

    code = "transient"


class WaitingForDependency(PipelineError):
    """A prerequisite document (``key``) has not been processed yet: park the message.

    ``review``: when a person must look at the parked message (an invoice whose vendor
    is unknown), the ``hc.exception._raise`` keyword dict the inbox raises after rolling
    back the apply, so that it outlives it.
    """

    code = "waiting"
    review = None

    def __init__(self, key, message=None, review=None):
        super().__init__(message or f"waiting for {key}")
        self.key = key
        if review is not None:
            self.review = review
