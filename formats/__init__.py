# Copyright 2026 healthcare_p2p_integration contributors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl-3.0).
"""Inbound formats: raw payload + content type -> canonical documents.

* :mod:`.registry`: the one way in: content types, XML sniffing, ``split`` (a batch into
  the exact bytes of each document), ``parse`` and the format's acknowledgment;
* the readers: :mod:`.json_doc`, :mod:`.x12` (envelope, mappers, 997/999), :mod:`.ubl`,
  :mod:`.cxml` and :mod:`.csv_master`; they return :class:`.parsed.ParsedDocument` and
  raise :mod:`.errors`, and import nothing from the registry;
* :mod:`.safe_xml`: hardened XML parsing shared by the XML readers.
"""
