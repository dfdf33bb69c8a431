"""Cryptography and trust, pure (no ORM): Fernet encryption, masking and fingerprints of
secrets (:mod:`.crypto`, keys owned by ``hc.vault``), and the flag marking writes the
engine alone may make (:mod:`.trusted`)."""
