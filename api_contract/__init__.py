"""The HTTP API's contract, as pure rules (no ORM): what ``controllers/`` and the connector
model enforce.

* :mod:`.intake`: content negotiation, batch splitting and the cheap 400/413/422 checks a
  client hears about before anything is stored;
* :mod:`.signature` and :mod:`.rate_limit`: request signatures and the token bucket;
* :mod:`.openapi`: the published OpenAPI 3.1 document;
* :mod:`.errors`: the outcome vocabulary a processor raises (permanent, transient,
  waiting), whose stable codes a client reads back in a message's status.
"""
