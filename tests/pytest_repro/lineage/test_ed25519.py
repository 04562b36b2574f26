"""Ed25519 DSSE signatures: repro-keygen, signing with the private key, verifying with the public key only."""

from __future__ import annotations

import base64
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from fake_project import FakeProject

from pytest_repro.cli import repro_keygen as keygen
from pytest_repro.errors import ConfigError, SignatureError
from pytest_repro.lineage.ed25519 import PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, private_key_from, public_key_from
from pytest_repro.lineage.signing import (
    KEY_ENV,
    REQUIRE_ENV,
    envelope_path,
    key_from_env,
    sign_lineage,
    verify_signature,
)
from pytest_repro.lineage.writing import write_lineage

HMAC_KEY = bytes(range(32))
ALL_KEY_ENVS = (KEY_ENV, PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, REQUIRE_ENV)


@pytest.fixture(autouse=True)
def _no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ALL_KEY_ENVS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A key pair made by repro-keygen: keys/signing.pem and keys/signing.pem.pub."""
    folder = tmp_path / "keys"
    folder.mkdir()
    assert keygen.main([str(folder / "signing.pem")]) == 0
    return folder / "signing.pem"


@pytest.fixture
def lineage_path(fake_project: FakeProject) -> Path:
    return fake_project.write_lineage()


def _public(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def _without_key_variables() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key not in ALL_KEY_ENVS}


def _python(cwd: Path, env: dict[str, str], code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _repro_check(
    cwd: Path, env: dict[str, str], *args: str, prelude: str = ""
) -> subprocess.CompletedProcess[str]:
    """Run repro-check in a new process that has exactly the environment `env`."""
    arguments = ["--no-report", *args]
    return _python(
        cwd,
        env,
        f"{prelude}from pytest_repro.cli.repro_check import main; raise SystemExit(main({arguments!r}))",
    )


# --- repro-keygen -------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_readable_only_by_its_owner_and_a_public_key(keys: Path):
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600
    assert keys.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----\n")
    assert _public(keys).read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----\n")
    assert private_key_from(str(keys)).keyid == public_key_from(str(_public(keys))).keyid
    assert not [path.name for path in keys.parent.iterdir() if path.name.endswith(".tmp")]


def test_keygen_never_overwrites_a_key_and_writes_nothing_when_one_exists(
    keys: Path, capsys: pytest.CaptureFixture[str]
):
    before = keys.read_bytes(), _public(keys).read_bytes()
    capsys.readouterr()
    assert keygen.main([str(keys)]) == 2
    assert (
        capsys.readouterr().err == f"error: {keys.as_posix()}: already exists; refusing to overwrite a key\n"
    )
    assert (keys.read_bytes(), _public(keys).read_bytes()) == before

    # Only the public half is in the way: the private key is not written either.
    fresh = keys.with_name("fresh.pem")
    _public(fresh).write_bytes(b"someone else's key\n")
    assert keygen.main([str(fresh)]) == 2
    assert not fresh.exists()


def test_keygen_private_key_is_0600_whatever_the_umask(tmp_path: Path):
    old = os.umask(0)
    try:
        assert keygen.main([str(tmp_path / "open.pem")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "open.pem").stat().st_mode) == 0o600


# --- signing and verifying ------------------------------------------------------------------------


def test_a_process_with_only_the_public_key_verifies_and_cannot_sign(
    keys: Path, fake_project: FakeProject, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(PRIVATE_KEY_ENV, str(keys))
    lineage = write_lineage(
        fake_project.lineage_path,
        inputs={"dataset": fake_project.files["dataset"]},
        outputs={"model": fake_project.files["model"]},
        seed=3,
        code=None,
    )
    envelope = json.loads(envelope_path(lineage).read_text(encoding="utf-8"))
    assert [len(base64.b64decode(s["sig"])) for s in envelope["signatures"]] == [64]

    # The verifier never sees the private key: only the public file is left, elsewhere.
    public = tmp_path / "handed-out.pub"
    public.write_bytes(_public(keys).read_bytes())
    keys.unlink()
    _public(keys).unlink()
    env = {**_without_key_variables(), PUBLIC_KEY_ENV: str(public)}
    result = _repro_check(fake_project.root, env, "--require-signature")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["signature"] == "signed"

    with pytest.raises(ConfigError, match="a public key cannot sign"):
        sign_lineage(lineage, public_key_from(str(public)))


def test_a_signature_by_another_key_is_refused(keys: Path, lineage_path: Path, tmp_path: Path):
    other = tmp_path / "other.pem"
    assert keygen.main([str(other)]) == 0
    sign_lineage(lineage_path, private_key_from(str(other)))
    with pytest.raises(SignatureError, match=r"no signature verifies with the configured key \(ed25519"):
        verify_signature(lineage_path, public_key_from(str(_public(keys))), required=True)
    env = {**_without_key_variables(), PUBLIC_KEY_ENV: str(_public(keys))}
    result = _repro_check(lineage_path.parent.parent, env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no signature verifies" in result.stderr


@pytest.mark.parametrize("stride", [pytest.param(1, marks=pytest.mark.slow, id="every-byte"), 29])
def test_any_changed_byte_of_the_lineage_or_the_signature_is_refused(
    keys: Path, lineage_path: Path, stride: int
):
    public = public_key_from(str(_public(keys)))
    sign_lineage(lineage_path, private_key_from(str(keys)))
    original = lineage_path.read_bytes()
    for offset in [*range(0, len(original), stride), len(original) - 1]:
        changed = bytearray(original)
        changed[offset] ^= 0x01
        lineage_path.write_bytes(bytes(changed))
        with pytest.raises(SignatureError, match="changed after signing"):
            verify_signature(lineage_path, public, required=False)
    lineage_path.write_bytes(original)

    path = envelope_path(lineage_path)
    envelope = json.loads(path.read_text(encoding="utf-8"))
    signature = base64.b64decode(envelope["signatures"][0]["sig"])
    for offset in range(len(signature)):
        changed = bytearray(signature)
        changed[offset] ^= 0x80
        envelope["signatures"][0]["sig"] = base64.b64encode(bytes(changed)).decode()
        path.write_text(json.dumps(envelope), encoding="utf-8")
        with pytest.raises(SignatureError, match="no signature verifies"):
            verify_signature(lineage_path, public, required=False)


def test_a_changed_payload_type_is_refused(keys: Path, lineage_path: Path):
    sign_lineage(lineage_path, private_key_from(str(keys)))
    path = envelope_path(lineage_path)
    envelope = json.loads(path.read_text(encoding="utf-8"))
    envelope["payloadType"] = "application/json"
    path.write_text(json.dumps(envelope), encoding="utf-8")
    with pytest.raises(SignatureError, match="no signature verifies"):
        verify_signature(lineage_path, public_key_from(str(_public(keys))), required=False)


def test_identical_runs_write_identical_envelopes(
    keys: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(PRIVATE_KEY_ENV, str(keys))
    monkeypatch.setenv(KEY_ENV, HMAC_KEY.hex())
    envelopes = []
    for run in ("first", "second"):
        project = FakeProject(tmp_path / run / "project").write_files()
        files = project.files
        write_lineage(
            project.lineage_path,
            inputs={"dataset": files["dataset"]},
            outputs={"model": files["model"]},
            seed=7,
            environment={"python": "3.11.9"},
            code=None,
        )
        envelopes.append(envelope_path(project.lineage_path).read_bytes())
        sign_lineage(project.lineage_path, key_from_env())
        envelopes.append(envelope_path(project.lineage_path).read_bytes())
    assert len(set(envelopes)) == 1
    # Both keys signed, HMAC first: the order is fixed, so the bytes are.
    keyids = [s["keyid"] for s in json.loads(envelopes[0])["signatures"]]
    assert keyids == [key.keyid for key in key_from_env()]


def test_every_configured_key_must_verify(keys: Path, lineage_path: Path):
    sign_lineage(lineage_path, private_key_from(str(keys)))
    public = public_key_from(str(_public(keys)))
    assert verify_signature(lineage_path, public, required=True).status == "signed"
    # An HMAC key is configured too, but the envelope holds no HMAC signature: refused.
    with pytest.raises(SignatureError, match="hmac-sha256"):
        verify_signature(lineage_path, [HMAC_KEY, public], required=True)


def test_a_configured_public_key_makes_the_signature_required(
    keys: Path, lineage_path: Path, monkeypatch: pytest.MonkeyPatch
):
    public = public_key_from(str(_public(keys)))
    with pytest.raises(SignatureError, match="a signature is required"):
        verify_signature(lineage_path, public, required=False)
    monkeypatch.setenv(REQUIRE_ENV, "0")
    assert verify_signature(lineage_path, public, required=False).status == "unsigned"


# --- keys in the environment ------------------------------------------------------------------------


def test_keys_are_read_from_a_path_or_from_pem_text(keys: Path):
    by_text = key_from_env({PRIVATE_KEY_ENV: keys.read_text(), PUBLIC_KEY_ENV: _public(keys).read_text()})
    by_path = key_from_env({PRIVATE_KEY_ENV: str(keys), PUBLIC_KEY_ENV: str(_public(keys))})
    assert [key.keyid for key in by_text] == [key.keyid for key in by_path]
    assert [key.can_sign for key in by_path] == [True, False]


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (PUBLIC_KEY_ENV, "{private}", "holds a private key; give the public key"),
        (PRIVATE_KEY_ENV, "{public}", "holds a public key; signing needs the private key"),
        (PRIVATE_KEY_ENV, "{folder}/missing.pem", "key file not found"),
        (PUBLIC_KEY_ENV, "{folder}", "is a folder, expected a PEM key file"),
        (
            PUBLIC_KEY_ENV,
            "-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----",
            "not a PEM public key",
        ),
        (PRIVATE_KEY_ENV, "  \n", "set but blank"),
    ],
)
def test_a_bad_key_is_one_line_naming_the_variable(keys: Path, variable: str, value: str, message: str):
    value = value.format(private=keys, public=_public(keys), folder=keys.parent)
    with pytest.raises(ConfigError) as raised:
        key_from_env({variable: value})
    assert len(raised.value.lines()) == 1
    assert raised.value.lines()[0].startswith(f"environment: {variable}: ")
    assert message in raised.value.lines()[0]


def test_an_rsa_key_is_refused_as_not_ed25519(tmp_path: Path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "rsa.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    with pytest.raises(ConfigError, match="not an Ed25519 key"):
        key_from_env({PRIVATE_KEY_ENV: str(path)})


# --- without the extra ------------------------------------------------------------------------------

# `sys.modules[name] = None` makes every import of the package fail as if it were not installed.
_WITHOUT_CRYPTOGRAPHY = "import sys; sys.modules['cryptography'] = None; "
MISSING_LINE = (
    "error: Ed25519 signing needs the optional package 'cryptography', which is not installed: "
    "pip install 'pytest-repro[sign]'\n"
)


def test_without_the_sign_extra_keygen_says_which_extra_to_install(tmp_path: Path):
    result = _python(
        tmp_path,
        _without_key_variables(),
        _WITHOUT_CRYPTOGRAPHY
        + "from pytest_repro.cli.repro_keygen import main; raise SystemExit(main(['new.pem']))",
    )
    assert (result.returncode, result.stderr) == (2, MISSING_LINE)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("variable", [PUBLIC_KEY_ENV, PRIVATE_KEY_ENV])
def test_without_the_sign_extra_a_configured_key_says_which_extra_to_install(
    keys: Path, lineage_path: Path, variable: str
):
    env = {**_without_key_variables(), variable: str(keys if variable == PRIVATE_KEY_ENV else _public(keys))}
    result = _repro_check(lineage_path.parent.parent, env, prelude=_WITHOUT_CRYPTOGRAPHY)
    assert (result.returncode, result.stderr) == (2, MISSING_LINE)


def test_hmac_needs_no_extra(lineage_path: Path):
    sign_lineage(lineage_path, HMAC_KEY)
    env = {**_without_key_variables(), KEY_ENV: HMAC_KEY.hex()}
    result = _repro_check(lineage_path.parent.parent, env, prelude=_WITHOUT_CRYPTOGRAPHY)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["signature"] == "signed"
