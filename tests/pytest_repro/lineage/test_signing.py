"""DSSE-signed lineage: the encoding, sign/verify, every way to break it, and the check (the demo's signing: tests/training)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from fake_project import FakeProject, set_entry

from pytest_repro.cli import repro_check as check_module
from pytest_repro.errors import ConfigError, SignatureError
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.signing import (
    KEY_ENV,
    PAYLOAD_TYPE,
    REQUIRE_ENV,
    envelope_path,
    keyid_for,
    pae,
    parse_key,
    sign_envelope,
    sign_lineage,
    verify_signature,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
FILES = FakeProject.FILES


@pytest.fixture(autouse=True)
def _no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)


@pytest.fixture
def lineage_path(fake_project: FakeProject) -> Path:
    return fake_project.write_lineage()


def _envelope(lineage_path: Path) -> dict:
    return json.loads(envelope_path(lineage_path).read_text(encoding="utf-8"))


def _write_envelope(lineage_path: Path, envelope: dict) -> None:
    envelope_path(lineage_path).write_bytes(canonical_json(envelope))


def _run_check(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], root: Path, *args: str):
    monkeypatch.chdir(root)
    code = check_module.main(["--no-report", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- the encoding -----------------------------------------------------------------------------


def test_pae_matches_the_dsse_spec_example():
    # protocol.md, "Test Vectors": SERIALIZED_BODY "hello world", PAYLOAD_TYPE http://example.com/HelloWorld
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )
    assert (
        sign_envelope(b"hello world", KEY, "http://example.com/HelloWorld")["payload"] == "aGVsbG8gd29ybGQ="
    )


def test_pae_lengths_count_bytes_not_characters():
    assert pae("tybé", b"") == b"DSSEv1 5 tyb\xc3\xa9 0 "


def test_envelope_has_the_dsse_fields_and_keyid_is_the_key_hash_prefix(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    envelope = _envelope(lineage_path)
    assert set(envelope) == {"payload", "payloadType", "signatures"}
    assert envelope["payloadType"] == PAYLOAD_TYPE
    assert base64.b64decode(envelope["payload"]) == lineage_path.read_bytes()
    [signature] = envelope["signatures"]
    assert set(signature) == {"keyid", "sig"}
    assert signature["keyid"] == keyid_for(KEY) and len(signature["keyid"]) == 16
    assert len(base64.b64decode(signature["sig"])) == 32  # HMAC-SHA256


def test_hex_key_is_decoded_and_other_text_is_used_as_is():
    assert parse_key(KEY.hex()) == KEY
    assert parse_key(f"  {KEY.hex().upper()}\n") == KEY
    assert parse_key("correct horse battery staple") == b"correct horse battery staple"
    with pytest.raises(ConfigError, match="REPRO_SIGNING_KEY: signing key is 5 bytes"):
        parse_key("short")


# --- verification -----------------------------------------------------------------------------


def test_sign_then_verify_roundtrip(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    status = verify_signature(lineage_path, KEY, required=True)
    assert status.status == "signed"
    assert status.keyid == keyid_for(KEY)
    assert status.lineage_bytes == lineage_path.read_bytes()


def test_one_flipped_byte_anywhere_in_the_lineage_fails(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    original = lineage_path.read_bytes()
    with lineage_path.open("r+b") as handle:  # one handle: flip a byte in place, check, restore
        for offset, byte in enumerate(original):
            handle.seek(offset)
            handle.write(bytes([byte ^ 0x01]))
            handle.flush()
            with pytest.raises(SignatureError, match=f"first difference at byte {offset},"):
                verify_signature(lineage_path, KEY, required=False)
            handle.seek(offset)
            handle.write(bytes([byte]))
            handle.flush()
    assert verify_signature(lineage_path, KEY, required=True).status == "signed"


def test_wrong_key_fails(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    with pytest.raises(SignatureError, match="no signature verifies with the configured key") as raised:
        verify_signature(lineage_path, OTHER_KEY, required=False)
    assert raised.value.file == envelope_path(lineage_path).as_posix()


def test_altered_signature_fails(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    envelope = _envelope(lineage_path)
    sig = bytearray(base64.b64decode(envelope["signatures"][0]["sig"]))
    sig[0] ^= 0x80
    envelope["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    _write_envelope(lineage_path, envelope)
    with pytest.raises(SignatureError, match="no signature verifies"):
        verify_signature(lineage_path, KEY, required=False)


def test_envelope_with_no_signature_fails_even_when_not_required(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    envelope = _envelope(lineage_path)
    envelope["signatures"] = []
    _write_envelope(lineage_path, envelope)
    with pytest.raises(SignatureError, match="the envelope holds no signature"):
        verify_signature(lineage_path, KEY, required=False)
    with pytest.raises(SignatureError, match="the envelope holds no signature"):
        verify_signature(lineage_path, None, required=False)


def test_signature_for_another_payload_type_is_rejected(lineage_path: Path):
    envelope = sign_envelope(lineage_path.read_bytes(), KEY, "application/octet-stream")
    _write_envelope(lineage_path, envelope)
    with pytest.raises(SignatureError, match="payloadType"):
        verify_signature(lineage_path, KEY, required=False)


def test_url_safe_base64_is_accepted(lineage_path: Path):
    envelope = sign_envelope(lineage_path.read_bytes(), KEY)
    for field in (envelope, envelope["signatures"][0]):
        key = "payload" if field is envelope else "sig"
        raw = base64.b64decode(field[key])
        field[key] = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    _write_envelope(lineage_path, envelope)
    assert verify_signature(lineage_path, KEY, required=True).status == "signed"


def test_a_configured_key_requires_the_envelope(lineage_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Deleting the envelope (and rehashing a tampered file) must not pass as "unsigned" when a key is set."""
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    for required in (False, True):
        with pytest.raises(SignatureError, match="a signature is required"):
            verify_signature(lineage_path, KEY, required=required)


def test_without_a_key_or_with_an_explicit_opt_out_a_missing_envelope_is_unsigned(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(REQUIRE_ENV, raising=False)
    assert verify_signature(lineage_path, None, required=False).status == "unsigned"
    monkeypatch.setenv(REQUIRE_ENV, "0")
    assert verify_signature(lineage_path, KEY, required=False).status == "unsigned"


def test_a_blank_key_is_a_configuration_error_not_silent_unsigned_training(monkeypatch: pytest.MonkeyPatch):
    from pytest_repro.lineage.signing import key_from_env

    with pytest.raises(ConfigError, match="REPRO_SIGNING_KEY: set but blank"):
        key_from_env({KEY_ENV: "  \n"})


def test_envelope_without_a_key_is_unverified_not_signed(lineage_path: Path):
    sign_lineage(lineage_path, KEY)
    assert verify_signature(lineage_path, None, required=False).status == "unverified"
    with pytest.raises(ConfigError, match="REPRO_SIGNING_KEY: not set"):
        verify_signature(lineage_path, None, required=True)


# --- the check command --------------------------------------------------------------------------


def test_check_reports_signed_with_the_key(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    sign_lineage(lineage_path, KEY)
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    code, out, err = _run_check(monkeypatch, capsys, lineage_path.parents[1], "--require-signature")
    assert code == 0, err
    report = json.loads(out)
    assert report["signature"] == "signed"
    assert report["passed"] is True
    assert set(report) >= {"run_id", "checks", "passed"}


def test_check_with_deleted_envelope_and_require_signature_exits_1(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    sign_lineage(lineage_path, KEY)
    envelope_path(lineage_path).unlink()
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    code, _, err = _run_check(monkeypatch, capsys, lineage_path.parents[1], "--require-signature")
    assert code == 1
    assert "lineage.json.dsse.json: missing; a signature is required" in err


def test_require_signature_from_the_environment_exits_1_when_unsigned(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    monkeypatch.setenv(REQUIRE_ENV, "1")
    code, _, err = _run_check(monkeypatch, capsys, lineage_path.parents[1])
    assert code == 1
    assert "a signature is required" in err


def test_unsigned_lineage_without_the_flag_exits_0_and_says_unsigned(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    code, out, err = _run_check(monkeypatch, capsys, lineage_path.parents[1])
    assert code == 0, err
    assert json.loads(out)["signature"] == "unsigned"
    assert err == ""


def test_check_fails_on_a_tampered_lineage_before_hashing_files(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    sign_lineage(lineage_path, KEY)
    # Rewrite the model and the lineage consistently: the hashes agree, the signature does not.
    root = lineage_path.parents[1]
    (root / FILES["model"]).write_bytes(b"replaced model")
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    set_entry(lineage, "model", sha256=sha256_file(root / FILES["model"]))
    lineage_path.write_bytes(canonical_json(lineage))
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    code, out, err = _run_check(monkeypatch, capsys, root)
    assert code == 1
    assert out == ""
    assert "changed after signing" in err


def test_require_signature_without_a_key_is_a_config_error(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    code, _, err = _run_check(monkeypatch, capsys, lineage_path.parents[1], "--require-signature")
    assert code == 2
    assert "REPRO_SIGNING_KEY: not set" in err


def test_bad_require_signature_value_names_the_variable(
    lineage_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.setenv(REQUIRE_ENV, "maybe")
    code, _, err = _run_check(monkeypatch, capsys, lineage_path.parents[1])
    assert code == 2
    assert "REPRO_REQUIRE_SIGNATURE: got 'maybe'" in err
