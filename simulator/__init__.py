"""A day in a fictional regional hospital network, generated, replayed and scored.

``python -m simulator`` (run from the addon root; ``make demo`` does everything) has three
parts that can be used on their own:

* :mod:`simulator.generator` - pure Python, deterministic for a seed: the network (facilities,
  vendors with GLNs, items with GTINs, units and contract prices) and a day of inbound
  documents in their real formats (JSON, UBL 2.1, X12 810, cXML), together with the
  *truth*: which invoices it made faulty, and how;
* :mod:`simulator.driver` - posts the documents to a running Odoo over HTTP, in the day's
  order (some out of order on purpose), and waits for the inbox to drain;
* :mod:`simulator.score` - reads the outcome back as an administrator (JSON-RPC) and compares
  it with the truth: exception recall and precision, touchless rate of clean bills, and a
  summary a finance lead can read.

Nothing here imports Odoo: :mod:`simulator.odoo_server` starts Odoo as a subprocess and runs
set-up code inside it the same way ``bench/run.py`` does.

It is named ``simulator``, not ``demo``: in an Odoo addon ``demo/`` holds demo data (the
manifest's ``demo`` key), and this is tooling, not data.
"""
