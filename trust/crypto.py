"""Encryption of secrets at rest (bank account numbers, HMAC secrets).

The keys never live in the database: they come from the Odoo server configuration option
``hc_p2p_encryption_keys`` (or the environment variable ``HC_P2P_ENCRYPTION_KEYS``), a
comma-separated list of Fernet keys, newest first.  Encryption always uses the first key;
decryption tries each, so a key is rotated by prepending a new one, re-encrypting
(:func:`rotate`), then dropping the old one.  Without a key, encryption refuses: secrets
are never stored in clear by accident.
"""

import base64
import hashlib
import hmac
import json
import os
import re

from cryptography.fernet import Fernet
from cryptography.fernet import InvalidToken
from cryptography.fernet import MultiFernet

CONFIG_OPTION = "hc_p2p_encryption_keys"
ENV_VARIABLE = "HC_P2P_ENCRYPTION_KEYS"


class KeyMissingError(RuntimeError):
    """No encryption key is configured: refuse rather than store a secret in clear."""


class DecryptionError(ValueError):
    """A stored token does not decrypt with any configured key (wrong key or tampering)."""


def generate_key():
    return Fernet.generate_key().decode()


def keys_from_config(config):
    """The configured keys (a list, newest first) from an Odoo-like config mapping."""
    raw = ""
    if config is not None:
        raw = config.get(CONFIG_OPTION) or ""
    raw = raw or os.environ.get(ENV_VARIABLE, "")
    return [k.strip() for k in raw.split(",") if k.strip()]


def cipher(keys):
    if not keys:
        raise KeyMissingError(
            f"no encryption key configured: set '{CONFIG_OPTION}' in the Odoo server "
            f"configuration (or {ENV_VARIABLE}); generate one with "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        )
    try:
        return MultiFernet([Fernet(k.encode() if isinstance(k, str) else k) for k in keys])
    except (ValueError, TypeError) as exc:
        raise KeyMissingError(f"'{CONFIG_OPTION}' holds an invalid Fernet key") from exc


def encrypt(keys, plaintext):
    """Encrypt text; None and '' stay as they are (nothing to protect)."""
    if plaintext in (None, ""):
        return plaintext
    return cipher(keys).encrypt(plaintext.encode()).decode()


def decrypt(keys, token):
    if token in (None, ""):
        return token
    try:
        return cipher(keys).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret does not decrypt with the configured keys") from exc


def rotate(keys, token):
    """Re-encrypt a token under the newest key (after prepending a new key)."""
    if token in (None, ""):
        return token
    try:
        return cipher(keys).rotate(token.encode()).decode()
    except InvalidToken as exc:
        raise DecryptionError("stored secret does not decrypt with the configured keys") from exc


def mask(value, keep=4, fill="•"):
    """Show only the last ``keep`` characters of an identifier (account numbers, IBANs)."""
    if not value:
        return value or ""
    compact = "".join(value.split())
    if len(compact) <= keep:
        return fill * len(compact)
    return fill * (len(compact) - keep) + compact[-keep:]


def constant_time_equal(a, b):
    """Compare secrets or signatures without leaking where they differ."""
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    return hmac.compare_digest(a or b"", b or b"")


# -- bank details ------------------------------------------------------------------------

FINGERPRINT_PREFIX = "HCFP"
_FINGERPRINT_CONTEXT = b"hc-p2p bank account fingerprint v1"


def sanitize_account(value):
    """An account number reduced as Odoo does (``res.partner.bank``): no separators, upper."""
    return re.sub(r"\W+", "", value or "").upper()


def _fingerprint_key(key):
    raw = key.encode() if isinstance(key, str) else key
    try:
        material = base64.urlsafe_b64decode(raw)
    except (ValueError, TypeError) as exc:
        raise KeyMissingError(f"'{CONFIG_OPTION}' holds an invalid Fernet key") from exc
    # A key of its own for fingerprints, derived from (never equal to) the Fernet key.
    return hmac.new(material, _FINGERPRINT_CONTEXT, hashlib.sha256).digest()


def fingerprints(keys, value):
    """Keyed fingerprints of an account number, one per configured key (newest first).

    What de-duplication and uniqueness compare instead of the number: equal numbers give
    equal fingerprints under one key, and without the key a fingerprint reveals nothing
    (unlike a plain hash of a 10-digit account number, which is brute-forced in seconds).
    """
    if not keys:
        cipher(keys)  # raises KeyMissingError with the instructions
    compact = sanitize_account(value)
    if not compact:
        return []
    return [
        FINGERPRINT_PREFIX
        + hmac.new(_fingerprint_key(k), compact.encode(), hashlib.sha256).hexdigest()[:40].upper()
        for k in keys
    ]


def fingerprint(keys, value):
    """The fingerprint under the newest key (what is stored)."""
    found = fingerprints(keys, value)
    return found[0] if found else ""


def mask_account(value):
    """A bank account number or IBAN as shown to people without the privilege.

    The last four characters, and the country of an IBAN; the length is not disclosed.
    """
    compact = sanitize_account(value)
    if not compact:
        return ""
    if len(compact) <= 4:
        return "•" * 4
    prefix = compact[:2] if re.match(r"^[A-Z]{2}\d{2}", compact) and len(compact) > 14 else ""
    return f"{prefix}••••{compact[-4:]}"


def mask_name(value):
    """A person's or company's name as shown without the privilege: the first letter of
    each word (``Mallory Smith`` -> ``M••• S•••``); the length is not disclosed."""
    words = (value or "").split()
    return " ".join(f"{w[0]}•••" for w in words)


def encrypt_json(keys, value):
    return encrypt(keys, json.dumps(value, sort_keys=True))


def decrypt_json(keys, token):
    if token in (None, ""):
        return None
    return json.loads(decrypt(keys, token))
