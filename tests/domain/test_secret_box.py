"""Secrets at rest: Fernet keys, rotation lists, and the embedded default's key file."""

import pytest

from domain.secret_box import SecretBox, SecretKeyError, generate_key, load_secret_box
from domain.settings import Settings


def test_round_trip_and_ciphertext_hides_the_value():
    box = SecretBox([generate_key()])
    token = box.encrypt({"password": "hunter2"})
    assert "hunter2" not in token
    assert box.decrypt(token) == {"password": "hunter2"}


def test_rotation_list_first_key_encrypts_all_decrypt():
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).encrypt("s")
    rotated_box = SecretBox([new, old])
    assert rotated_box.decrypt(token) == "s"
    assert SecretBox([new]).decrypt(rotated_box.rotate(token)) == "s"
    with pytest.raises(SecretKeyError):
        SecretBox([new]).decrypt(token)


def test_settings_key_list_is_comma_separated():
    old, new = generate_key(), generate_key()
    token = SecretBox([old]).encrypt("s")
    box = load_secret_box(Settings(secret_key=f" {new} , {old} "))
    assert box.decrypt(token) == "s"


@pytest.mark.parametrize("bad", ["short", "x" * 44])
def test_malformed_key_is_a_clear_startup_error(bad):
    with pytest.raises(SecretKeyError, match="generate-key"):
        load_secret_box(Settings(secret_key=bad))


def test_embedded_default_generates_a_private_key_file_and_reuses_it(tmp_path):
    settings = Settings(key_file=str(tmp_path / "smsauth.key"))
    token = load_secret_box(settings).encrypt("s")
    assert (tmp_path / "smsauth.key").stat().st_mode & 0o777 == 0o600
    assert load_secret_box(settings).decrypt(token) == "s"


def test_shared_database_requires_an_explicit_key(tmp_path):
    settings = Settings(database_url="postgres://db/smsauth", key_file=str(tmp_path / "k"))
    with pytest.raises(SecretKeyError, match="SMSAUTH_SECRET_KEY"):
        load_secret_box(settings)
    assert not (tmp_path / "k").exists()
