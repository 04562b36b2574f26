"""Signed lineage: a DSSE envelope beside the manifest, checked before any hash in it is trusted.

The envelope follows the DSSE specification (github.com/secure-systems-lab/dsse,
`envelope.md` and `protocol.md`)::

    {"payload": base64(lineage bytes), "payloadType": PAYLOAD_TYPE,
     "signatures": [{"keyid": ..., "sig": base64(HMAC-SHA256(key, PAE(type, payload)))}]}

The payload is the lineage file's bytes exactly, so verification compares bytes and
never re-serialises JSON.  The signature algorithm is HMAC-SHA256 with a shared
secret from `REPRO_SIGNING_KEY`: CI trains and checks with the same secret, and the
standard library is enough.  HMAC does not give public verifiability (whoever can
verify can also sign); docs/security.md says what that means.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import string
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_repro.errors import ConfigError, Problem, SignatureError
from pytest_repro.lineage.atomic import canonical_json, write_bytes_atomic
from pytest_repro.lineage.hashing import sha256_bytes
from pytest_repro.lineage.manifest import MAX_LINEAGE_BYTES, read_lineage_bytes
from pytest_repro.parsing import loads_json
from pytest_repro.regular_files import read_regular

# The type the in-toto signing envelope uses for in-toto JSON payloads; the lineage is
# signed byte for byte, and `repro-export intoto` turns it into a Statement v1.
PAYLOAD_TYPE = "application/vnd.in-toto+json"
ENVELOPE_SUFFIX = ".dsse.json"
KEY_ENV = "REPRO_SIGNING_KEY"
REQUIRE_ENV = "REPRO_REQUIRE_SIGNATURE"
MIN_KEY_BYTES = 16  # 128 bits; HMAC-SHA256 keys shorter than this are guessable offline from one envelope
MAX_ENVELOPE_BYTES = 2 * MAX_LINEAGE_BYTES  # base64 grows the payload by a third

SIGNED = "signed"
UNSIGNED = "unsigned"
UNVERIFIED = "unverified"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}


def pae(payload_type: str, body: bytes) -> bytes:
    """Return DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body.

    LEN is the decimal byte length (not the character count), so no choice of type and
    body can be read as another pair.
    """
    type_bytes = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(type_bytes), type_bytes, len(body), body)


def keyid_for(key: bytes) -> str:
    """Return the key's public hint: the first 16 hex digits of its SHA-256."""
    return sha256_bytes(key)[:16]


def parse_key(text: str, source: str = KEY_ENV) -> bytes:
    """Turn a configured key into bytes: even-length hex is decoded, anything else is UTF-8 text.

    Surrounding whitespace is dropped (a secret pasted with a trailing newline is the
    same key).  Signer and verifier parse the same way, so the rule only has to be fixed,
    not unambiguous.
    """
    text = text.strip()
    if len(text) % 2 == 0 and text and all(c in string.hexdigits for c in text):
        key = bytes.fromhex(text)
    else:
        key = text.encode("utf-8")
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            [
                Problem(
                    "environment",
                    source,
                    f"signing key is {len(key)} bytes; at least {MIN_KEY_BYTES} are required "
                    f"(e.g. {2 * 32} hex digits from `python -c 'import secrets; print(secrets.token_hex(32))'`)",
                )
            ]
        )
    return key


def key_from_env(environ: Mapping[str, str] | None = None) -> bytes | None:
    """Return the signing key from REPRO_SIGNING_KEY, or None when it is unset or empty.

    A key of whitespace only is an error: it is a secret that went missing on its way
    into the environment, and treating it as "no key" would silently train unsigned.
    """
    environ = os.environ if environ is None else environ
    text = environ.get(KEY_ENV, "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # bytes that are not UTF-8 arrive as lone surrogates
        raise ConfigError(
            [Problem("environment", KEY_ENV, f"not UTF-8 text (byte {exc.start}); set a key of UTF-8 text")]
        ) from None
    if text and not text.strip():
        raise ConfigError(
            [Problem("environment", KEY_ENV, "set but blank (whitespace only); set the key or unset it")]
        )
    return parse_key(text) if text else None


def opted_out_of_signatures(environ: Mapping[str, str] | None = None) -> bool:
    """Whether REPRO_REQUIRE_SIGNATURE says explicitly that no signature is required (0/false/no/off)."""
    environ = os.environ if environ is None else environ
    value = environ.get(REQUIRE_ENV)
    return value is not None and value.strip().lower() in _FALSE - {""}


def require_from_env(environ: Mapping[str, str] | None = None) -> bool:
    """Return whether REPRO_REQUIRE_SIGNATURE asks for a signature (1/true/yes/on; 0/false/no/off/unset)."""
    environ = os.environ if environ is None else environ
    value = environ.get(REQUIRE_ENV, "").strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConfigError(
        [Problem("environment", REQUIRE_ENV, f"got {value!r}; expected 1/true/yes/on or 0/false/no/off")]
    )


def envelope_path(lineage_path: str | Path) -> Path:
    """Return where a lineage's envelope lives: `<lineage file name>.dsse.json` beside it."""
    lineage_path = Path(lineage_path)
    return lineage_path.with_name(lineage_path.name + ENVELOPE_SUFFIX)


def _mac(key: bytes, payload_type: str, payload: bytes) -> bytes:
    return hmac.new(key, pae(payload_type, payload), hashlib.sha256).digest()


def sign_envelope(payload: bytes, key: bytes, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    """Return a DSSE JSON envelope holding `payload` and one HMAC-SHA256 signature over its PAE."""
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {
                "keyid": keyid_for(key),
                "sig": base64.b64encode(_mac(key, payload_type, payload)).decode("ascii"),
            }
        ],
    }


def envelope_bytes(lineage_bytes: bytes, key: bytes) -> bytes:
    """Return the envelope file's bytes for a lineage's bytes (canonical JSON)."""
    return canonical_json(sign_envelope(lineage_bytes, key))


def sign_lineage(lineage_path: str | Path, key: bytes) -> Path:
    """Sign an existing lineage file and write its envelope beside it atomically; return the envelope path."""
    lineage_path = Path(lineage_path)
    target = envelope_path(lineage_path)
    write_bytes_atomic(target, envelope_bytes(read_lineage_bytes(lineage_path), key))
    return target


@dataclass(frozen=True)
class SignatureStatus:
    """The outcome of checking a lineage's signature, and the lineage bytes that were checked.

    `status` is "signed" (a signature verified with the configured key), "unsigned" (no
    envelope) or "unverified" (an envelope whose payload matches the lineage, but no key
    to check its signature with).  Callers parse `lineage_bytes` rather than reading the
    file again, so what they trust is what was verified.
    """

    status: str
    lineage_bytes: bytes
    keyid: str | None = None
    envelope: str | None = None


def verify_signature(lineage_path: str | Path, key: bytes | None, required: bool) -> SignatureStatus:
    """Check the envelope beside `lineage_path`; raise SignatureError on anything but a clean result.

    Fails on: a missing envelope when `required`; an unreadable or malformed envelope;
    an envelope with no signature; a payload that differs from the lineage file by any
    byte; no signature that verifies with `key`; an unexpected payloadType.  A lineage
    without an envelope is "unsigned", not a failure, unless `required`.  `required`
    without a key is a configuration error (exit 2): nothing could be verified.
    """
    lineage_path = Path(lineage_path)
    # A configured key means signatures are required: otherwise deleting the envelope and
    # rehashing a tampered file would pass as "unsigned".  Opting out must be explicit.
    required = required or (key is not None and not opted_out_of_signatures())
    if required and key is None:
        raise ConfigError(
            [
                Problem(
                    "environment", KEY_ENV, "not set; a required signature cannot be verified without the key"
                )
            ]
        )
    lineage_bytes = read_lineage_bytes(lineage_path)
    path = envelope_path(lineage_path)
    shown = path.as_posix()
    if not path.exists() and not path.is_symlink():
        if required:
            raise SignatureError(
                f"{shown}: missing; a signature is required ({REQUIRE_ENV} or --require-signature) "
                f"and {lineage_path.as_posix()} is unsigned",
                file=shown,
            )
        return SignatureStatus(UNSIGNED, lineage_bytes)
    envelope = _read_envelope(path)
    payload_type, payload, signatures = _parse_envelope(envelope, shown)
    if payload != lineage_bytes:
        raise SignatureError(
            f"{lineage_path.as_posix()}: does not match the payload signed in {shown} "
            f"({_first_difference(lineage_bytes, payload)}); the lineage was changed after signing",
            file=lineage_path.as_posix(),
        )
    if key is None:
        return SignatureStatus(UNVERIFIED, lineage_bytes, envelope=shown)
    expected = _mac(key, payload_type, payload)
    # DSSE: the keyid is an unauthenticated hint, so every signature is tried whatever it claims.
    if not any(hmac.compare_digest(sig, expected) for _, sig in signatures):
        claimed = ", ".join(sorted({keyid or "(none)" for keyid, _ in signatures}))
        raise SignatureError(
            f"{shown}: no signature verifies with the configured key (keyid {keyid_for(key)}; "
            f"envelope keyids: {claimed}); wrong key, or the envelope was altered",
            file=shown,
        )
    if payload_type != PAYLOAD_TYPE:
        raise SignatureError(
            f"{shown}: payloadType is {payload_type!r}, expected {PAYLOAD_TYPE!r}", file=shown
        )
    return SignatureStatus(SIGNED, lineage_bytes, keyid=keyid_for(key), envelope=shown)


def _read_envelope(path: Path) -> Any:
    shown = path.as_posix()
    try:
        data = read_regular(path, MAX_ENVELOPE_BYTES)
    except IsADirectoryError:
        raise SignatureError(f"{shown}: is a folder, expected a DSSE envelope", file=shown) from None
    except OSError as exc:
        raise SignatureError(f"{shown}: cannot read the envelope ({exc.strerror})", file=shown) from None
    if len(data) > MAX_ENVELOPE_BYTES:
        raise SignatureError(f"{shown}: larger than {MAX_ENVELOPE_BYTES} bytes; not an envelope", file=shown)
    try:
        return loads_json(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):  # RecursionError: nested too deeply
        raise SignatureError(f"{shown}: malformed envelope JSON", file=shown) from None
    except ValueError as exc:  # an integer too long to read
        raise SignatureError(f"{shown}: malformed envelope JSON: {exc}", file=shown) from None


def _parse_envelope(envelope: Any, shown: str) -> tuple[str, bytes, list[tuple[str | None, bytes]]]:
    """Apply DSSE's parsing rules: payload, payloadType, signatures and each sig are required."""
    if not isinstance(envelope, dict):
        raise SignatureError(f"{shown}: top level must be a JSON object", file=shown)
    for field in ("payload", "payloadType"):
        if not isinstance(envelope.get(field), str):
            raise SignatureError(f"{shown}: {field}: missing or not a string", file=shown)
    raw_signatures = envelope.get("signatures")
    if not isinstance(raw_signatures, list):
        raise SignatureError(f"{shown}: signatures: missing or not a list", file=shown)
    if not raw_signatures:
        raise SignatureError(f"{shown}: signatures: empty; the envelope holds no signature", file=shown)
    signatures = []
    for index, item in enumerate(raw_signatures):
        where = f"signatures[{index}]"
        if not isinstance(item, dict) or not isinstance(item.get("sig"), str):
            raise SignatureError(f"{shown}: {where}.sig: missing or not a string", file=shown)
        keyid = item.get("keyid")
        if keyid is not None and not isinstance(keyid, str):
            raise SignatureError(f"{shown}: {where}.keyid: not a string", file=shown)
        signatures.append((keyid, _b64decode(item["sig"], f"{where}.sig", shown)))
    return envelope["payloadType"], _b64decode(envelope["payload"], "payload", shown), signatures


def _b64decode(text: str, field: str, shown: str) -> bytes:
    """Decode standard or URL-safe base64, as DSSE requires verifiers to accept both."""
    padded = text + "=" * (-len(text) % 4)
    altchars = b"-_" if ("-" in text or "_" in text) else None
    try:
        return base64.b64decode(padded, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise SignatureError(f"{shown}: {field}: not valid base64", file=shown) from None


def _first_difference(actual: bytes, signed: bytes) -> str:
    """Say where two byte strings first differ, for a message a reader can act on."""
    limit = min(len(actual), len(signed))
    offset = next((i for i in range(limit) if actual[i] != signed[i]), limit)
    line = actual.count(b"\n", 0, offset) + 1
    return (
        f"first difference at byte {offset}, line {line}; lineage {len(actual)} bytes, signed {len(signed)}"
    )
