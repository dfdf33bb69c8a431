"""Writes only the module's own Python code may make.

The three-way match and the exception resolution decide what is paid: their fields
(match state, release, an exception's decision and amount at stake) are written by them
alone.  A client controls the context of its RPC calls, so a context key cannot say
"this write comes from the engine"; this flag can only be set by Python code running in
the server, for the duration of a ``with engine_write():`` block in the current thread
(or task), and is reset when the block ends, whatever happens inside.
"""

import contextlib
import contextvars

_ENGINE_WRITE = contextvars.ContextVar("hc_engine_write", default=False)


@contextlib.contextmanager
def engine_write():
    """Mark the writes of the block as the engine's own."""
    token = _ENGINE_WRITE.set(True)
    try:
        yield
    finally:
        _ENGINE_WRITE.reset(token)


def is_engine_write():
    """True inside an ``engine_write()`` block."""
    return _ENGINE_WRITE.get()
