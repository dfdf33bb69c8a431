import pytest

from ..trust import crypto


def test_round_trip_and_rotation():
    old, new = crypto.generate_key(), crypto.generate_key()
    token = crypto.encrypt([old], "DE89370400440532013000")
    assert "370400" not in token
    assert crypto.decrypt([new, old], token) == "DE89370400440532013000"
    rotated = crypto.rotate([new, old], token)
    assert crypto.decrypt([new], rotated) == "DE89370400440532013000"
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt([new], token)


def test_refuses_without_key(monkeypatch):
    monkeypatch.delenv(crypto.ENV_VARIABLE, raising=False)
    assert crypto.keys_from_config({}) == []
    with pytest.raises(crypto.KeyMissingError):
        crypto.encrypt([], "123456789")
    with pytest.raises(crypto.KeyMissingError):
        crypto.encrypt(["not-a-key"], "123456789")


def test_keys_from_config_and_env(monkeypatch):
    monkeypatch.setenv(crypto.ENV_VARIABLE, "b, a")
    assert crypto.keys_from_config({}) == ["b", "a"]
    assert crypto.keys_from_config({crypto.CONFIG_OPTION: "x,y"}) == ["x", "y"]


def test_mask_and_compare():
    assert crypto.mask("DE89 3704 0044 0532 0130 00") == "•" * 18 + "3000"
    assert crypto.mask("123") == "•••"
    assert crypto.mask(False) == ""
    assert crypto.constant_time_equal("abc", "abc")
    assert not crypto.constant_time_equal("abc", "abd")
    assert not crypto.constant_time_equal(None, "x")
