# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""ASC X12 004010 / 005010: envelope, transaction-set mappers and acknowledgments.

* :mod:`.envelope`: separators, tokenizer, envelope checks, :func:`read_interchange` and
  :func:`split_interchange` (one self-contained interchange per transaction set);
* :mod:`.mappers`: 850, 855, 856, 810 and 820 to canonical documents, :func:`parse_x12`;
* :mod:`.ack`: the 997/999 :func:`functional_ack`.

Callers import the submodule they need; the submodules import each other, never this
package face.
"""
