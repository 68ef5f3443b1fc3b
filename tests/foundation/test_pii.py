"""Personal data: encryption round trip, key rotation, blind index, masking, validation."""

import base64

import pytest

from realname.errors import ValidationError
from services import pii
from services.pii import PiiCipher
from tests.factories import make_credit_code, make_id_number

K1 = "k1:" + base64.urlsafe_b64encode(b"1" * 32).decode()
K2 = "k2:" + base64.urlsafe_b64encode(b"2" * 32).decode()


def test_round_trip_and_nondeterminism():
    c = PiiCipher(K1, "bidx")
    a, b = c.encrypt("630102199001011234"), c.encrypt("630102199001011234")
    assert a != b and a.startswith("k1$")
    assert "630102199001011234" not in a
    assert c.decrypt(a) == "630102199001011234"
    assert c.encrypt(None) is None and c.decrypt(None) is None


def test_key_rotation_old_values_still_readable():
    old = PiiCipher(K1, "bidx")
    token = old.encrypt("18956091977")
    rotated = PiiCipher(f"{K2},{K1}", "bidx")
    assert rotated.decrypt(token) == "18956091977"
    assert rotated.needs_rotation(token)
    fresh = rotated.encrypt("18956091977")
    assert fresh.startswith("k2$") and not rotated.needs_rotation(fresh)
    with pytest.raises(KeyError):
        PiiCipher(K2, "bidx").decrypt(token)


def test_tampered_ciphertext_fails():
    c = PiiCipher(K1, "bidx")
    token = c.encrypt("secret")
    kid, payload = token.split("$")
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    from cryptography.exceptions import InvalidTag

    with pytest.raises(InvalidTag):
        c.decrypt(f"{kid}${base64.b64encode(bytes(raw)).decode()}")


def test_blind_index_exact_match_keyed():
    c1, c2 = PiiCipher(K1, "key-one"), PiiCipher(K1, "key-two")
    n = make_id_number()
    assert c1.blind_index("id", n) == c1.blind_index("id", n.lower())
    assert c1.blind_index("id", n) != c2.blind_index("id", n)
    assert c1.blind_index("id", n) != c1.blind_index("phone", n)


def test_masking():
    assert pii.mask_id_number("340124199001010933") == "340124*****0933"
    assert pii.mask_phone("18956091977") == "189****1977"
    assert pii.mask_bank_card("6222021234567890123") == "6222 **** **** 0123"
    assert pii.mask_id_number("") == ""


def test_id_number_validation():
    good = make_id_number()
    assert pii.validate_id_number(good) == good
    bad_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    with pytest.raises(ValidationError) as err:
        pii.validate_id_number(bad_check, field="id_number")
    assert err.value.field == "id_number" and err.value.code == "invalid_id_number"
    with pytest.raises(ValidationError):
        pii.validate_id_number("630102199002301234")  # 30 February
    with pytest.raises(ValidationError) as err:
        pii.validate_id_number("", field="x")
    assert err.value.code == "required" and err.value.field == "x"


def test_credit_code_validation():
    good = make_credit_code()
    assert pii.validate_credit_code(good.lower()) == good
    with pytest.raises(ValidationError) as err:
        pii.validate_credit_code(good[:-1] + ("0" if good[-1] != "0" else "1"))
    assert err.value.code == "invalid_credit_code"


def test_phone_validation():
    assert pii.validate_phone("+86 18956091977") == "18956091977"
    with pytest.raises(ValidationError):
        pii.validate_phone("12345")
    assert pii.validate_phone("", required=False) is None
