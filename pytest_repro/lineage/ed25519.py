"""Ed25519 keys for DSSE envelopes: a private key signs, its public key verifies and cannot sign.

HMAC (`pytest_repro.lineage.signing.HmacKey`) lets whoever can verify also sign.  With
Ed25519 a CI holds the private key and everybody else gets the public one: they can
check a lineage, never produce one that passes.  Ed25519 signatures are deterministic
(RFC 8032), so two identical runs still write identical envelopes.

Keys are PEM files: PKCS#8 for the private key and SubjectPublicKeyInfo for the public
key, the forms `openssl pkey` and most signing tools read.  `cryptography` is an
optional dependency (`pip install 'pytest-repro[sign]'`), imported only when an
Ed25519 key is used; HMAC needs none.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Any

from pytest_repro.errors import ConfigError, MissingExtraError, Problem
from pytest_repro.lineage.atomic import fsync_folder
from pytest_repro.lineage.hashing import sha256_bytes

PRIVATE_KEY_ENV = "REPRO_PRIVATE_KEY"
PUBLIC_KEY_ENV = "REPRO_PUBLIC_KEY"
PUBLIC_SUFFIX = ".pub"
MAX_KEY_FILE_BYTES = 64 * 1024  # a PEM Ed25519 key is about 120 bytes
_PEM_START = "-----BEGIN"


def _crypto() -> Any:
    """Import cryptography's Ed25519 and serialisation modules, or say in one line which extra to install."""
    try:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise MissingExtraError("Ed25519 signing", extra="sign", package="cryptography") from None
    return ed25519, serialization, InvalidSignature


class Ed25519PublicKey:
    """A verifying key: checks signatures, cannot make them."""

    can_sign = False
    algorithm = "ed25519"

    def __init__(self, key: Any):
        _, serialization, _ = _crypto()
        self._key = key
        raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.keyid = sha256_bytes(raw)[:16]

    def verifies(self, message: bytes, signature: bytes) -> bool:
        """Whether `signature` is this key's Ed25519 signature of `message`."""
        _, _, invalid = _crypto()
        try:
            self._key.verify(signature, message)
        except invalid:
            return False
        return True

    def pem(self) -> bytes:
        """Return the key as a SubjectPublicKeyInfo PEM block."""
        _, serialization, _ = _crypto()
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class Ed25519PrivateKey:
    """A signing key; it also verifies, through its public half."""

    can_sign = True
    algorithm = "ed25519"

    def __init__(self, key: Any):
        self._key = key
        self.public = Ed25519PublicKey(key.public_key())
        self.keyid = self.public.keyid

    @classmethod
    def generate(cls) -> Ed25519PrivateKey:
        ed25519, _, _ = _crypto()
        return cls(ed25519.Ed25519PrivateKey.generate())

    def sign(self, message: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of `message` (deterministic: same key and message, same bytes)."""
        return self._key.sign(message)

    def verifies(self, message: bytes, signature: bytes) -> bool:
        return self.public.verifies(message, signature)

    def pem(self) -> bytes:
        """Return the key as an unencrypted PKCS#8 PEM block."""
        _, serialization, _ = _crypto()
        return self._key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )


def private_key_from(value: str, source: str = PRIVATE_KEY_ENV) -> Ed25519PrivateKey:
    """Load a private key from `value`: PEM text itself (a CI secret) or the path of a PEM file."""
    ed25519, serialization, _ = _crypto()
    data, where = _pem_bytes(value, source)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise _problem(source, f"{where}: the private key is encrypted; give an unencrypted key") from None
    except ValueError:
        if b"PUBLIC KEY" in data:
            raise _problem(source, f"{where}: holds a public key; signing needs the private key") from None
        raise _problem(source, f"{where}: not a PEM private key") from None
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise _problem(source, f"{where}: not an Ed25519 key ({type(key).__name__}); use repro-keygen")
    return Ed25519PrivateKey(key)


def public_key_from(value: str, source: str = PUBLIC_KEY_ENV) -> Ed25519PublicKey:
    """Load a public key from `value`: PEM text itself or the path of a PEM file.

    A private key is refused here: whoever is handed a verifying key must not be able to
    sign, so a private key given by mistake is an error rather than silently accepted.
    """
    ed25519, serialization, _ = _crypto()
    data, where = _pem_bytes(value, source)
    if b"PRIVATE KEY" in data:
        raise _problem(
            source, f"{where}: holds a private key; give the public key (the {PUBLIC_SUFFIX} file) instead"
        )
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        raise _problem(source, f"{where}: not a PEM public key") from None
    if not isinstance(key, ed25519.Ed25519PublicKey):
        raise _problem(source, f"{where}: not an Ed25519 key ({type(key).__name__}); use repro-keygen")
    return Ed25519PublicKey(key)


def _pem_bytes(value: str, source: str) -> tuple[bytes, str]:
    """Return the PEM bytes and how to name them in a message (the file, or "the PEM text")."""
    text = value.strip()
    if text.startswith(_PEM_START):
        return text.encode("ascii", "replace") + b"\n", "the PEM text"
    path = Path(text)
    shown = path.as_posix()
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise _problem(source, f"{shown}: key file not found") from None
    except IsADirectoryError:
        raise _problem(source, f"{shown}: is a folder, expected a PEM key file") from None
    except OSError as exc:
        raise _problem(source, f"{shown}: cannot read the key file ({exc.strerror})") from None
    if len(data) > MAX_KEY_FILE_BYTES:
        raise _problem(source, f"{shown}: larger than {MAX_KEY_FILE_BYTES} bytes; not a PEM key")
    return data, shown


def _problem(source: str, message: str) -> ConfigError:
    return ConfigError([Problem("environment", source, message)])


def write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create `path` with `data` and `mode`, atomically, and never replace an existing file.

    The bytes go to a temporary file that mkstemp creates readable by its owner only (a
    private key is never readable by others, not even for a moment), fsynced, given
    `mode`, then hard-linked to `path`: `link` fails if `path` exists, so a key is never
    overwritten and a reader never sees half a key.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    temporary = Path(name)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)  # exactly `mode`, whatever the umask
        os.link(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    fsync_folder(path.parent)
