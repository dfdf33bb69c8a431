import pytest

from ..trust import crypto

IBAN = "DE89370400440532013000"


def test_fingerprint_is_keyed_stable_and_normalised():
    key, other = crypto.generate_key(), crypto.generate_key()
    fp = crypto.fingerprint([key], IBAN)
    assert fp.startswith(crypto.FINGERPRINT_PREFIX)
    assert "0532013000" not in fp
    # separators and case do not matter (Odoo's sanitized number)
    assert crypto.fingerprint([key], "de89 3704 0044 0532 0130 00") == fp
    assert crypto.fingerprint([key], "DE89370400440532013001") != fp
    # another key, another fingerprint: without the key nothing can be brute-forced
    assert crypto.fingerprint([other], IBAN) != fp
    # one per configured key, newest first (searches during a rotation find both)
    assert crypto.fingerprints([other, key], IBAN) == [crypto.fingerprint([other], IBAN), fp]
    assert crypto.fingerprints([key], "") == []


def test_fingerprint_refuses_without_key(monkeypatch):
    with pytest.raises(crypto.KeyMissingError):
        crypto.fingerprint([], IBAN)
    with pytest.raises(crypto.KeyMissingError):
        crypto.fingerprint(["not a key!"], IBAN)


def test_mask_account():
    assert crypto.mask_account(IBAN) == "DE••••3000"
    assert crypto.mask_account("DE89 3704 0044 0532 0130 00") == "DE••••3000"
    assert crypto.mask_account("4099887766") == "••••7766"
    assert crypto.mask_account("021000021") == "••••0021"
    assert crypto.mask_account("123") == "••••"
    assert crypto.mask_account(None) == ""
    # a short number that merely starts like an IBAN keeps no prefix
    assert crypto.mask_account("AB12345") == "••••2345"


def test_json_round_trip_and_sanitize():
    key = crypto.generate_key()
    token = crypto.encrypt_json([key], [{"acc_number": IBAN}])
    assert IBAN not in token
    assert crypto.decrypt_json([key], token) == [{"acc_number": IBAN}]
    assert crypto.decrypt_json([key], None) is None
    assert crypto.sanitize_account(" gb29-nwbk 6016 1331 9268 19 ") == "GB29NWBK60161331926819"
