"""`repro-keygen`: make an Ed25519 key pair for signing lineages, never overwriting a key.

    repro-keygen signing.pem            writes signing.pem (0600) and signing.pem.pub (0644)

The private key signs (`REPRO_PRIVATE_KEY=signing.pem` where training runs); the
public key verifies and may be handed to anyone (`REPRO_PUBLIC_KEY=signing.pem.pub`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.errors import EXIT_OK, ArtifactError
from pytest_repro.lineage.ed25519 import PUBLIC_SUFFIX, Ed25519PrivateKey, write_new_file

PRIVATE_MODE = 0o600
PUBLIC_MODE = 0o644


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-keygen`; exit 0 when both files were written, 2 when one exists or cannot be written."""
    parser = make_parser("repro-keygen", "Generate an Ed25519 key pair for signing lineages (DSSE).")
    parser.add_argument("private", type=Path, metavar="PRIVATE_KEY", help="private key file to create (PEM)")
    parser.add_argument(
        "--public",
        type=Path,
        default=None,
        help=f"public key file to create (default: PRIVATE_KEY{PUBLIC_SUFFIX})",
    )
    args = parser.parse_args(argv)

    def run() -> int:
        public = args.public or args.private.with_name(args.private.name + PUBLIC_SUFFIX)
        key = generate_key_pair(args.private, public)
        print(f"wrote {args.private.as_posix()} (private, mode 0600): set REPRO_PRIVATE_KEY to it to sign")
        print(f"wrote {public.as_posix()} (public): set REPRO_PUBLIC_KEY to it to verify")
        print(f"keyid {key.keyid}")
        return EXIT_OK

    return run_cli(run)


def generate_key_pair(private: Path, public: Path) -> Ed25519PrivateKey:
    """Write a new private key (0600) and its public key; refuse, writing nothing, if either exists."""
    if private.resolve() == public.resolve():
        raise ArtifactError(f"{private.as_posix()}: the private and public key files must differ")
    for path in (private, public):
        if path.exists() or path.is_symlink():
            raise ArtifactError(f"{path.as_posix()}: already exists; refusing to overwrite a key")
        if not path.parent.is_dir():
            raise ArtifactError(f"{path.parent.as_posix()}: no such folder")
    key = Ed25519PrivateKey.generate()
    _create(private, key.pem(), PRIVATE_MODE)
    try:
        _create(public, key.public.pem(), PUBLIC_MODE)
    except BaseException:
        # Half a pair is useless and would block the next attempt: remove the private key we made.
        with contextlib.suppress(FileNotFoundError):
            private.unlink()
        raise
    return key


def _create(path: Path, data: bytes, mode: int) -> None:
    try:
        write_new_file(path, data, mode)
    except FileExistsError:
        raise ArtifactError(f"{path.as_posix()}: already exists; refusing to overwrite a key") from None
    except OSError as exc:
        raise ArtifactError(f"{path.as_posix()}: cannot write the key ({exc.strerror})") from None


if __name__ == "__main__":
    raise SystemExit(main())
