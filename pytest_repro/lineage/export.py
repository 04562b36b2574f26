"""Export a verified lineage in formats other tools read: an in-toto SLSA provenance statement, SHA256SUMS.

    repro-export intoto     [--lineage PATH] [--output FILE]   in-toto Statement v1, SLSA Provenance v1
    repro-export sha256sums [--lineage PATH] [--output FILE]   lines for `sha256sum -c`

Both are written from the lineage's recorded hashes after one verification (the
signature when there is one, then every file's SHA-256): an export never vouches for
files that no longer match.  Without --output the export goes to standard output, and
SHA256SUMS paths are then relative to the current folder.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pytest_repro.errors import LineageError
from pytest_repro.lineage.hashing import sha256_bytes
from pytest_repro.lineage.manifest import INPUT, OUTPUT, Entry, entries, parse_lineage
from pytest_repro.lineage.signing import Keys, SignatureStatus, verify_signature
from pytest_repro.lineage.verify import lineage_root, resolve_entry, verify_lineage

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://github.com/pytest-repro/pytest-repro/training@v1"
BUILDER_ID = "https://github.com/pytest-repro/pytest-repro/builder/local@v1"
# An input of this name whose file is YAML or JSON is embedded, parsed, as the build's parameters.
CONFIG_INPUT = "config"
_PARSED_CONFIG_SUFFIXES = (".yaml", ".yml", ".json")
MAX_PARSED_BYTES = 16 * 1024 * 1024  # a config or metrics file an export parses; larger is not one


class VerifiedLineage:
    """A lineage whose signature (if any) and files were verified, with the bytes that were checked."""

    def __init__(
        self,
        path: Path,
        data: bytes,
        project_root: Path | None = None,
        signature: SignatureStatus | None = None,
    ):
        self.path = path
        self.data = data
        self.signature = signature
        self.lineage = parse_lineage(data, path)
        self.root = lineage_root(self.lineage, path, project_root)
        self.entries: tuple[Entry, ...] = entries(self.lineage, path)

    def resolve(self, item: Entry) -> Path:
        """Return the resolved path of an entry, kept inside the lineage's root."""
        return resolve_entry(self.root, item.path, name=item.name, lineage_path=self.path)

    def role(self, role: str) -> list[Entry]:
        """Return the inputs or the outputs."""
        return [item for item in self.entries if item.role == role]


def load_verified(
    lineage_path: Path,
    *,
    signing_key: Keys | None,
    require_signature: bool,
    project_root: Path | None = None,
) -> VerifiedLineage:
    """Verify the signature, then every recorded file; raise LineageError naming what does not match.

    With `project_root` (the command line passes the working directory), every path the
    lineage names, and its `root`, must stay inside it: an export never reads or lists a
    file outside the project, whatever the manifest says.
    """
    signature = verify_signature(lineage_path, signing_key, require_signature)
    report = verify_lineage(lineage_path, project_root=project_root, data=signature.lineage_bytes)
    if not report.passed:
        details = "; ".join(failure.describe() for failure in report.failures)
        raise LineageError(f"{lineage_path}: refusing to export, the artifacts do not match: {details}")
    return VerifiedLineage(lineage_path, signature.lineage_bytes, project_root, signature)


def intoto_statement(verified: VerifiedLineage, *, builder_id: str = BUILDER_ID) -> dict[str, Any]:
    """Return an in-toto Statement v1 whose predicate is SLSA Provenance v1, from the lineage's records.

    Inputs are ResourceDescriptors named by their path relative to the project root and
    identified by digest; no `uri` is invented for them, since the lineage deliberately
    holds no absolute path and a relative path is not an RFC 3986 URI.
    """
    lineage = verified.lineage
    subject = [_descriptor(item) for item in verified.role(OUTPUT)]
    dependencies = [_descriptor(item) for item in verified.role(INPUT)]
    code = lineage.get("code")
    if isinstance(code, Mapping) and code.get("git_commit"):
        dependencies.append(
            {
                "name": "code",
                "digest": {"gitCommit": str(code["git_commit"])},
                "annotations": {"dirty": bool(code.get("dirty"))},
            }
        )
    external: dict[str, Any] = {"seed": lineage.get("seed")}
    config = next((item for item in verified.role(INPUT) if item.name == CONFIG_INPUT), None)
    if config is not None:
        external["config"] = {"path": config.path, "sha256": config.sha256}
        if config.path.endswith(_PARSED_CONFIG_SUFFIXES):
            external["config"]["content"] = config_content(verified, config)
    lineage_name = _posix_relative(verified.path.resolve(), verified.root)
    byproducts = [
        {
            "name": lineage_name,
            "digest": {"sha256": sha256_bytes(verified.data)},
            "mediaType": "application/json",
        }
    ]
    folds = lineage.get("cv_folds")
    if isinstance(folds, Mapping) and isinstance(folds.get("sha256"), str):
        byproducts.append(
            {
                "name": "cv_folds",
                "digest": {"sha256": folds["sha256"]},
                "annotations": {"nSplits": folds.get("n_splits")},
            }
        )
    metadata = {"invocationId": lineage["run_id"]} if lineage.get("run_id") else {}
    return {
        "_type": STATEMENT_TYPE,
        "subject": subject,
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "buildDefinition": {
                "buildType": BUILD_TYPE,
                "externalParameters": external,
                "internalParameters": {"environment": lineage.get("environment") or {}},
                "resolvedDependencies": dependencies,
            },
            "runDetails": {
                "builder": {"id": builder_id},
                "metadata": metadata,
                "byproducts": byproducts,
            },
        },
    }


def _descriptor(item: Entry) -> dict[str, Any]:
    return {"name": item.path, "digest": {"sha256": item.sha256}}


def config_content(verified: VerifiedLineage, config: Entry) -> Any:
    """Parse the config from bytes whose SHA-256 matches the lineage, read once (no check-then-read race)."""
    from pytest_repro.core.config_files import MAX_CONFIG_BYTES, parse_yaml_bytes

    return parse_yaml_bytes(verified_bytes(verified, config, MAX_CONFIG_BYTES), str(verified.resolve(config)))


def verified_bytes(verified: VerifiedLineage, item: Entry, limit: int = MAX_PARSED_BYTES) -> bytes:
    """Read an entry's file once and return its bytes if their SHA-256 is still the recorded one.

    What is parsed is what was hashed: a file swapped after the lineage was verified is
    refused, not read.  `limit` bounds the read, for files an export parses whole.
    """
    from pytest_repro.core.regular_files import read_regular

    path = verified.resolve(item)
    try:
        data = read_regular(path, limit)
    except OSError as exc:
        raise LineageError(f"{path}: cannot read {item.name} ({exc.strerror})") from None
    if len(data) > limit:
        raise LineageError(
            f"{path}: {item.name} is larger than {limit} bytes; too large to export its content"
        )
    actual = sha256_bytes(data)
    if actual != item.sha256:
        raise LineageError(
            f"{path}: changed while exporting; SHA-256 is {actual}, lineage records {item.sha256}"
        )
    return data


def sha256sums(verified: VerifiedLineage, folder: Path) -> str:
    """Return SHA256SUMS text for every file the lineage names and the lineage itself, relative to `folder`.

    Lines are `<hex>  <path>` (text mode, as `sha256sum` writes them); a path holding a
    backslash or newline is escaped the way GNU coreutils does, with a leading backslash.
    """
    lines = []
    for item in verified.entries:
        lines.append(_sum_line(item.sha256, _posix_relative(verified.resolve(item), folder)))
    lines.append(_sum_line(sha256_bytes(verified.data), _posix_relative(verified.path.resolve(), folder)))
    return "".join(lines)


def _sum_line(digest: str, path: str) -> str:
    if "\\" in path or "\n" in path or "\r" in path:
        escaped = path.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
        return f"\\{digest}  {escaped}\n"
    return f"{digest}  {path}\n"


def _posix_relative(path: Path, start: Path) -> str:
    return Path(os.path.relpath(path, start.resolve())).as_posix()
