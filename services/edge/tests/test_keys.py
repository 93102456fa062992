"""API key store: hashed at rest, constant-time lookup, revocation seen by a running reader."""

from __future__ import annotations

import json
import stat

import pytest

from services.edge.keys import ApiKeyStore, KeyExistsError, Role, main


def test_created_key_authenticates_with_its_role_and_accounts(tmp_path):
    store = ApiKeyStore(tmp_path / "keys.json")
    key = store.create(name="dev", role="trader", accounts=["DU1"])
    principal = store.authenticate(key)
    assert principal is not None
    assert (principal.name, principal.role, principal.accounts) == ("dev", Role.TRADER, ("DU1",))
    assert principal.default_account == "DU1"


def test_keys_file_holds_no_plaintext_and_is_private(tmp_path):
    path = tmp_path / "keys.json"
    key = ApiKeyStore(path).create(name="dev", role="viewer", accounts=["DU1"])
    text = path.read_text()
    secret = key.split("_", 2)[2]  # ibkr_<hex key id>_<secret>; the secret itself may contain "_"
    assert len(secret) >= 32
    assert key not in text and secret not in text
    assert json.loads(text)["keys"][0]["algorithm"] == "hmac-sha256-peppered"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "keys.json.pepper").stat().st_mode) == 0o600


@pytest.mark.parametrize("presented", [None, "", "garbage", "ibkr_", "ibkr_0000_x", "Bearer x" * 100])
def test_junk_keys_are_rejected_without_error(tmp_path, presented):
    store = ApiKeyStore(tmp_path / "keys.json")
    store.create(name="dev", role="viewer", accounts=["DU1"])
    assert store.authenticate(presented) is None


def test_tampered_secret_is_rejected(tmp_path):
    store = ApiKeyStore(tmp_path / "keys.json")
    key = store.create(name="dev", role="viewer", accounts=["DU1"])
    assert store.authenticate(key[:-1] + ("A" if key[-1] != "A" else "B")) is None


def test_keys_file_without_its_pepper_authenticates_nothing(tmp_path):
    store = ApiKeyStore(tmp_path / "keys.json")
    key = store.create(name="dev", role="viewer", accounts=["DU1"])
    (tmp_path / "keys.json.pepper").unlink()
    assert ApiKeyStore(tmp_path / "keys.json").authenticate(key) is None


def test_revoke_is_seen_by_a_running_reader(tmp_path):
    reader = ApiKeyStore(tmp_path / "keys.json")
    key = ApiKeyStore(tmp_path / "keys.json").create(name="dev", role="admin", accounts=["*"])
    assert reader.authenticate(key) is not None
    assert ApiKeyStore(tmp_path / "keys.json").revoke("dev") is True
    assert reader.authenticate(key) is None
    assert reader.list() == []


def test_create_existing_name_needs_replace_and_replace_invalidates_old_key(tmp_path):
    store = ApiKeyStore(tmp_path / "keys.json")
    old = store.create(name="dev", role="viewer", accounts=["DU1"])
    with pytest.raises(KeyExistsError):
        store.create(name="dev", role="viewer", accounts=["DU1"])
    new = store.create(name="dev", role="trader", accounts=["DU1"], replace=True)
    assert store.authenticate(old) is None
    assert store.authenticate(new).role is Role.TRADER


def test_wildcard_account_key_can_access_any_account_but_has_no_default(tmp_path):
    store = ApiKeyStore(tmp_path / "keys.json")
    principal = store.authenticate(store.create(name="ops", role="admin", accounts=["*"]))
    assert principal.can_access("DU999") and principal.default_account is None


def test_cli_create_list_revoke(tmp_path, capsys):
    path = str(tmp_path / "keys.json")
    assert main(["--file", path, "create", "--name", "ci", "--role", "trader", "--account", "DU1"]) == 0
    key = capsys.readouterr().out.strip()
    assert ApiKeyStore(path).authenticate(key).name == "ci"
    assert main(["--file", path, "list"]) == 0
    listing = capsys.readouterr().out
    assert "ci" in listing and key not in listing
    assert main(["--file", path, "revoke", "--name", "ci"]) == 0
    assert main(["--file", path, "revoke", "--name", "ci"]) == 1
    assert ApiKeyStore(path).authenticate(key) is None
