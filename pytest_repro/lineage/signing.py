"""Signed lineage: a DSSE envelope beside the manifest, checked before any hash in it is trusted.

The envelope follows the DSSE specification (github.com/secure-systems-lab/dsse,
`envelope.md` and `protocol.md`)::

    {"payload": base64(lineage bytes), "payloadType": PAYLOAD_TYPE,
     "signatures": [{"keyid": ..., "sig": base64(signature over PAE(type, payload))}]}

The payload is the lineage file's bytes exactly, so verification compares bytes and
never re-serialises JSON.  Two algorithms sign, side by side in one envelope:

- HMAC-SHA256 with a shared secret from `REPRO_SIGNING_KEY`: CI trains and checks with
  the same secret and the standard library is enough, but whoever can verify can sign;
- Ed25519 (`pytest_repro.lineage.ed25519`), a private key from `REPRO_PRIVATE_KEY`
  signing and its public key from `REPRO_PUBLIC_KEY` verifying, for readers who must
  not be able to sign.

Every configured key must verify a signature in the envelope; docs/security.md says
what that proves.  Both algorithms are deterministic, so identical runs write
identical envelopes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pytest_repro.core.parsing import loads_json
from pytest_repro.core.regular_files import read_regular
from pytest_repro.errors import ConfigError, Problem, SignatureError
from pytest_repro.lineage.atomic import canonical_json, write_bytes_atomic
from pytest_repro.lineage.ed25519 import PRIVATE_KEY_ENV, PUBLIC_KEY_ENV, private_key_from, public_key_from
from pytest_repro.lineage.hashing import sha256_bytes
from pytest_repro.lineage.manifest import MAX_LINEAGE_BYTES, read_lineage_bytes

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


class SignatureKey(Protocol):
    """What signing and verification need of a key; HmacKey and the Ed25519 keys have it."""

    keyid: str
    algorithm: str
    can_sign: bool

    def verifies(self, message: bytes, signature: bytes) -> bool: ...


class HmacKey:
    """A shared HMAC-SHA256 secret: it signs and verifies alike."""

    can_sign = True
    algorithm = "hmac-sha256"

    def __init__(self, secret: bytes):
        self.secret = secret
        self.keyid = keyid_for(secret)

    def sign(self, message: bytes) -> bytes:
        return hmac.new(self.secret, message, hashlib.sha256).digest()

    def verifies(self, message: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.sign(message), signature)


# What the signing and verifying functions accept: an HMAC secret as bytes (the original
# form), a key object, or several of them; `as_keys` turns any of these into a tuple.
Keys = bytes | SignatureKey | Sequence[bytes | SignatureKey]


def as_keys(keys: Keys | None) -> tuple[Any, ...]:
    """Return the keys as a tuple of key objects (bytes become HmacKey); None and () mean no key."""
    if keys is None:
        return ()
    if isinstance(keys, bytes | bytearray) or not isinstance(keys, Sequence):
        keys = (keys,)
    return tuple(HmacKey(bytes(key)) if isinstance(key, bytes | bytearray) else key for key in keys)


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


def key_from_env(environ: Mapping[str, str] | None = None) -> tuple[Any, ...] | None:
    """Return every key the environment configures, or None when there is none.

    REPRO_SIGNING_KEY is an HMAC secret; REPRO_PRIVATE_KEY an Ed25519 private key and
    REPRO_PUBLIC_KEY a public one (each a PEM file's path or the PEM text).  The order
    is fixed (HMAC, private, public), so the envelope's signatures are too.  A value of
    whitespace only is an error: it is a secret that went missing on its way into the
    environment, and treating it as "no key" would silently train unsigned.
    """
    environ = os.environ if environ is None else environ
    keys: list[Any] = []
    for name, load in (
        (KEY_ENV, lambda text: HmacKey(parse_key(text))),
        (PRIVATE_KEY_ENV, private_key_from),
        (PUBLIC_KEY_ENV, public_key_from),
    ):
        text = environ.get(name, "")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # bytes that are not UTF-8 arrive as lone surrogates
            raise ConfigError(
                [Problem("environment", name, f"not UTF-8 text (byte {exc.start}); set a key of UTF-8 text")]
            ) from None
        if text and not text.strip():
            raise ConfigError(
                [Problem("environment", name, "set but blank (whitespace only); set the key or unset it")]
            )
        if text:
            keys.append(load(text))
    return tuple(keys) or None


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


def signing_keys(keys: Keys | None) -> tuple[Any, ...]:
    """Return the keys that can sign (HMAC secrets and Ed25519 private keys), in order."""
    return tuple(key for key in as_keys(keys) if key.can_sign)


def sign_envelope(payload: bytes, key: Keys, payload_type: str = PAYLOAD_TYPE) -> dict[str, Any]:
    """Return a DSSE JSON envelope holding `payload` and one signature over its PAE per signing key."""
    signers = signing_keys(key)
    if not signers:
        raise ConfigError(
            [
                Problem(
                    "environment",
                    PUBLIC_KEY_ENV,
                    f"a public key cannot sign; set {PRIVATE_KEY_ENV} (or {KEY_ENV}) to sign",
                )
            ]
        )
    message = pae(payload_type, payload)
    return {
        "payload": base64.b64encode(payload).decode("ascii"),
        "payloadType": payload_type,
        "signatures": [
            {"keyid": signer.keyid, "sig": base64.b64encode(signer.sign(message)).decode("ascii")}
            for signer in signers
        ],
    }


def envelope_bytes(lineage_bytes: bytes, key: Keys) -> bytes:
    """Return the envelope file's bytes for a lineage's bytes (canonical JSON)."""
    return canonical_json(sign_envelope(lineage_bytes, key))


def sign_lineage(lineage_path: str | Path, key: Keys) -> Path:
    """Sign an existing lineage file and write its envelope beside it atomically; return the envelope path."""
    lineage_path = Path(lineage_path)
    target = envelope_path(lineage_path)
    write_bytes_atomic(target, envelope_bytes(read_lineage_bytes(lineage_path), key))
    return target


@dataclass(frozen=True)
class SignatureStatus:
    """The outcome of checking a lineage's signature, and the lineage bytes that were checked.

    `status` is "signed" (every configured key verified a signature), "unsigned" (no
    envelope) or "unverified" (an envelope whose payload matches the lineage, but no key
    to check its signature with).  `keyid` lists the keys that verified, comma-separated.
    Callers parse `lineage_bytes` (and copy `envelope_bytes`) rather than reading the
    files again, so what they trust is what was verified.
    """

    status: str
    lineage_bytes: bytes
    keyid: str | None = None
    envelope: str | None = None
    envelope_bytes: bytes | None = None


def verify_signature(lineage_path: str | Path, key: Keys | None, required: bool) -> SignatureStatus:
    """Check the envelope beside `lineage_path`; raise SignatureError on anything but a clean result.

    Fails on: a missing envelope when `required`; an unreadable or malformed envelope;
    an envelope with no signature; a payload that differs from the lineage file by any
    byte; a configured key that verifies none of its signatures; an unexpected
    payloadType.  `key` may be public keys only: verifying never needs a signing key.  A lineage
    without an envelope is "unsigned", not a failure, unless `required`.  `required`
    without a key is a configuration error (exit 2): nothing could be verified.
    """
    lineage_path = Path(lineage_path)
    keys = as_keys(key)
    # A configured key means signatures are required: otherwise deleting the envelope and
    # rehashing a tampered file would pass as "unsigned".  Opting out must be explicit.
    required = required or (bool(keys) and not opted_out_of_signatures())
    if required and not keys:
        raise ConfigError(
            [
                Problem(
                    "environment",
                    KEY_ENV,
                    f"not set, nor {PUBLIC_KEY_ENV}; a required signature cannot be verified without a key",
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
    raw_envelope, envelope = _read_envelope(path)
    payload_type, payload, signatures = _parse_envelope(envelope, shown)
    if payload != lineage_bytes:
        raise SignatureError(
            f"{lineage_path.as_posix()}: does not match the payload signed in {shown} "
            f"({_first_difference(lineage_bytes, payload)}); the lineage was changed after signing",
            file=lineage_path.as_posix(),
        )
    if not keys:
        return SignatureStatus(UNVERIFIED, lineage_bytes, envelope=shown, envelope_bytes=raw_envelope)
    message = pae(payload_type, payload)
    for configured in keys:
        # DSSE: the keyid is an unauthenticated hint, so every signature is tried whatever it claims.
        if not any(configured.verifies(message, sig) for _, sig in signatures):
            claimed = ", ".join(sorted({keyid or "(none)" for keyid, _ in signatures}))
            raise SignatureError(
                f"{shown}: no signature verifies with the configured key ({configured.algorithm}, "
                f"keyid {configured.keyid}; envelope keyids: {claimed}); wrong key, or the envelope was altered",
                file=shown,
            )
    if payload_type != PAYLOAD_TYPE:
        raise SignatureError(
            f"{shown}: payloadType is {payload_type!r}, expected {PAYLOAD_TYPE!r}", file=shown
        )
    keyids = ",".join(configured.keyid for configured in keys)
    return SignatureStatus(SIGNED, lineage_bytes, keyid=keyids, envelope=shown, envelope_bytes=raw_envelope)


def _read_envelope(path: Path) -> tuple[bytes, Any]:
    """Return the envelope file's bytes and their parsed JSON."""
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
        return data, loads_json(data.decode("utf-8"))
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
