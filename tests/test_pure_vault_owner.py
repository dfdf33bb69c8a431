"""One owner of the encryption keys: ``hc.vault`` (models/hc_vault.py).

Odoo code reads the keys, encrypts, decrypts and rotates only through it, and it refuses a
field not declared ``hc_encrypted``: so its registry lists every encrypted column and its
rotation visits them all (the Odoo side is tested in tests/test_key_rotation.py).  A model
calling the Fernet helpers of ``trust/crypto.py`` directly would store ciphertext that a
rotation never re-encrypts; this test names it.
"""

import ast
from pathlib import Path

ADDON = Path(__file__).resolve().parents[1]
OWNER = ADDON / "models" / "hc_vault.py"
# what needs a key: reading the keys, encrypting, decrypting, rotating, keyed fingerprints
KEYED = {
    "keys_from_config",
    "cipher",
    "encrypt",
    "decrypt",
    "rotate",
    "encrypt_json",
    "decrypt_json",
    "fingerprint",
    "fingerprints",
}


def _keyed_calls(path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.endswith("crypto"):
            found += [(node.lineno, a.name) for a in node.names if a.name in KEYED]
        if isinstance(node, ast.ImportFrom) and node.module and "fernet" in node.module:
            found += [(node.lineno, a.name) for a in node.names]
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "crypto"
            and node.attr in KEYED
        ):
            found.append((node.lineno, f"crypto.{node.attr}"))
    return found


def test_only_the_vault_uses_the_keys():
    offenders = []
    for folder in ("models", "wizards", "controllers"):
        for path in sorted((ADDON / folder).glob("*.py")):
            if path == OWNER:
                continue
            offenders += [f"{path.relative_to(ADDON)}:{n} {name}" for n, name in _keyed_calls(path)]
    assert not offenders, (
        "encrypt, decrypt and read keys through hc.vault (a field declared hc_encrypted), "
        f"so that key rotation visits it: {offenders}"
    )


def test_the_check_sees_a_direct_call(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from ..trust import crypto\n"
        "from cryptography.fernet import Fernet\n"
        "token = crypto.encrypt(crypto.keys_from_config(config), 'x')\n"
        "masked = crypto.mask_account('x')\n"
    )
    assert sorted(name for _n, name in _keyed_calls(sample)) == [
        "Fernet",
        "crypto.encrypt",
        "crypto.keys_from_config",
    ]
