"""repro-export: an in-toto Statement v1 / SLSA Provenance v1 and a SHA256SUMS that sha256sum accepts."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
import yaml
from fake_project import FakeProject

from pytest_repro.cli.repro_export import main
from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_bytes, sha256_file
from pytest_repro.lineage.signing import KEY_ENV, REQUIRE_ENV, sign_lineage

KEY = bytes(range(32))
COMMIT = "0123456789abcdef0123456789abcdef01234567"
CONFIG = "seed: 11\ndata:\n  path: data/rows.csv\n  test_size: 0.25\nfeatures:\n  epsilon: 1.0e-06\n"
FILES = {
    "dataset": "data/rows.csv",
    "config": "config.yaml",
    "model": "artifacts/best_model.joblib",
    "threshold": "artifacts/threshold.txt",
    "metrics": "artifacts/metrics.json",
    "drift_baseline": "artifacts/drift_baseline.json",
}
OUTPUTS = ("model", "threshold", "metrics", "drift_baseline")
HEX = re.compile(r"[0-9a-f]+")
ENVIRONMENT = {"python": "3.11.9", "packages": {"scikit-learn": "1.9.0"}}


@pytest.fixture(autouse=True)
def _no_signing_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv(REQUIRE_ENV, raising=False)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A trained-looking project, and the working directory: exports run from the project's root."""
    fake = FakeProject(tmp_path / "project", FILES)
    monkeypatch.chdir(fake.root.parent)
    fake.write_files(
        {name: CONFIG.encode() if name == "config" else f"{name} bytes\n".encode() for name in FILES}
    )
    fake.write_lineage(
        seed=11,
        folds={"n_splits": 3, "sha256": "f" * 64},
        environment=ENVIRONMENT,
        code={"git_commit": COMMIT, "dirty": False},
    )
    monkeypatch.chdir(fake.root)
    return fake.root


def _lineage(root: Path) -> dict[str, Any]:
    return json.loads((root / "artifacts" / "lineage.json").read_text(encoding="utf-8"))


# --- a hand-written check of the in-toto Statement v1 and SLSA Provenance v1 shapes -------------

DESCRIPTOR_FIELDS = {"name", "uri", "digest", "content", "downloadLocation", "mediaType", "annotations"}


def _is_uri(value: Any) -> bool:
    parsed = urlparse(value) if isinstance(value, str) else None
    return bool(parsed and parsed.scheme == parsed.scheme.lower() and parsed.scheme and parsed.netloc)


def _check_digest_set(digest: Any, where: str) -> None:
    assert isinstance(digest, dict) and digest, f"{where}: DigestSet must be a non-empty object"
    for algorithm, value in digest.items():
        assert algorithm in {"sha256", "gitCommit"}, f"{where}: unexpected algorithm {algorithm}"
        assert isinstance(value, str) and HEX.fullmatch(value), f"{where}.{algorithm}: lowercase hex"
        assert len(value) == 64 if algorithm == "sha256" else len(value) in (40, 64), where


def _check_descriptor(descriptor: Any, where: str) -> None:
    assert isinstance(descriptor, dict), f"{where}: ResourceDescriptor must be an object"
    assert set(descriptor) <= DESCRIPTOR_FIELDS, (
        f"{where}: unknown fields {set(descriptor) - DESCRIPTOR_FIELDS}"
    )
    assert {"uri", "digest", "content"} & set(descriptor), f"{where}: needs one of uri, digest, content"
    if "digest" in descriptor:
        _check_digest_set(descriptor["digest"], f"{where}.digest")
    if "uri" in descriptor:
        assert _is_uri(descriptor["uri"]), f"{where}.uri: not an absolute URI"
    if "name" in descriptor:
        assert isinstance(descriptor["name"], str), f"{where}.name"
    if "annotations" in descriptor:
        assert isinstance(descriptor["annotations"], dict), f"{where}.annotations"


def _spec_keys(value: Any, where: str, free: set[str]) -> None:
    """SLSA: non-extension field names never contain an underscore (user data excepted)."""
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{where}.{key}"
            assert "_" not in key, f"{here}: field names in the predicate are lowerCamelCase"
            if here not in free:
                _spec_keys(item, here, free)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _spec_keys(item, f"{where}[{index}]", free)


def check_statement(statement: Any) -> None:
    """Assert `statement` has the fields and types of an in-toto Statement v1 with SLSA Provenance v1."""
    assert isinstance(statement, dict)
    assert set(statement) == {"_type", "subject", "predicateType", "predicate"}
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://slsa.dev/provenance/v1"
    assert isinstance(statement["subject"], list) and statement["subject"]
    for index, subject in enumerate(statement["subject"]):
        _check_descriptor(subject, f"subject[{index}]")
        assert "digest" in subject, "each subject MUST have digest set"
    names = [subject.get("name") for subject in statement["subject"]]
    assert len(names) == len(set(names)), "subject names SHOULD be unique"

    predicate = statement["predicate"]
    assert set(predicate) == {"buildDefinition", "runDetails"}
    build = predicate["buildDefinition"]
    assert set(build) <= {"buildType", "externalParameters", "internalParameters", "resolvedDependencies"}
    assert {"buildType", "externalParameters"} <= set(build), "REQUIRED for SLSA Build L1"
    assert _is_uri(build["buildType"])
    assert isinstance(build["externalParameters"], dict)
    assert isinstance(build.get("internalParameters", {}), dict)
    for index, dependency in enumerate(build.get("resolvedDependencies", [])):
        _check_descriptor(dependency, f"resolvedDependencies[{index}]")
    assert not set(build["externalParameters"]) & set(build.get("internalParameters", {})), (
        "the same field name SHOULD NOT be used for both parameter kinds"
    )

    run = predicate["runDetails"]
    assert set(run) <= {"builder", "metadata", "byproducts"} and "builder" in run
    assert set(run["builder"]) <= {"id", "version", "builderDependencies"}
    assert _is_uri(run["builder"]["id"])
    assert set(run.get("metadata", {})) <= {"invocationId", "startedOn", "finishedOn"}
    assert isinstance(run.get("metadata", {}).get("invocationId", ""), str)
    for index, byproduct in enumerate(run.get("byproducts", [])):
        _check_descriptor(byproduct, f"byproducts[{index}]")
    free = {
        "predicate.buildDefinition.externalParameters.config.content",
        "predicate.buildDefinition.internalParameters.environment",
    }
    _spec_keys(predicate, "predicate", free)


# --- in-toto ------------------------------------------------------------------------------------


def test_intoto_statement_has_the_spec_fields_and_the_lineage_values(project: Path):
    output = project / "provenance.intoto.json"
    assert (
        main(["intoto", "--lineage", str(project / "artifacts" / "lineage.json"), "--output", str(output)])
        == 0
    )
    statement = json.loads(output.read_text(encoding="utf-8"))
    check_statement(statement)

    lineage = _lineage(project)
    assert statement["subject"] == [
        {"name": FILES[name], "digest": {"sha256": sha256_file(project / FILES[name])}}
        for name in sorted(OUTPUTS)
    ]
    build = statement["predicate"]["buildDefinition"]
    assert build["buildType"] == "https://github.com/pytest-repro/pytest-repro/training@v1"
    assert build["externalParameters"] == {
        "seed": 11,
        "config": {
            "path": "config.yaml",
            "sha256": sha256_file(project / "config.yaml"),
            "content": yaml.safe_load(CONFIG),
        },
    }
    assert build["internalParameters"] == {"environment": ENVIRONMENT}
    dependencies = {d.get("name"): d for d in build["resolvedDependencies"]}
    assert dependencies["data/rows.csv"]["digest"] == {"sha256": sha256_file(project / FILES["dataset"])}
    assert dependencies["config.yaml"]["digest"] == {"sha256": sha256_file(project / "config.yaml")}
    assert dependencies["code"]["digest"] == {"gitCommit": COMMIT}
    run = statement["predicate"]["runDetails"]
    assert run["metadata"] == {"invocationId": lineage["run_id"]}
    byproducts = {b["name"]: b for b in run["byproducts"]}
    lineage_bytes = (project / "artifacts" / "lineage.json").read_bytes()
    assert byproducts["artifacts/lineage.json"]["digest"] == {"sha256": sha256_bytes(lineage_bytes)}


def test_intoto_goes_to_standard_output_without_output(
    project: Path, monkeypatch: pytest.MonkeyPatch, capsysbinary: pytest.CaptureFixture[bytes]
):
    monkeypatch.chdir(project)
    assert main(["intoto"]) == 0
    check_statement(json.loads(capsysbinary.readouterr().out))


def test_export_refuses_a_lineage_whose_files_do_not_match(project: Path, capsys: pytest.CaptureFixture[str]):
    (project / FILES["model"]).write_bytes(b"changed")
    output = project / "provenance.intoto.json"
    assert (
        main(["intoto", "--lineage", str(project / "artifacts" / "lineage.json"), "--output", str(output)])
        == 1
    )
    assert "refusing to export" in capsys.readouterr().err
    assert not output.exists()


def test_export_with_required_signature_checks_the_envelope(project: Path, monkeypatch: pytest.MonkeyPatch):
    lineage = project / "artifacts" / "lineage.json"
    monkeypatch.setenv(KEY_ENV, KEY.hex())
    assert main(["sha256sums", "--lineage", str(lineage), "--require-signature"]) == 1
    sign_lineage(lineage, KEY)
    assert main(["sha256sums", "--lineage", str(lineage), "--require-signature"]) == 0


def test_unknown_export_format_is_a_usage_error():
    with pytest.raises(SystemExit) as raised:
        main(["spdx"])
    assert raised.value.code == 2


# --- SHA256SUMS ---------------------------------------------------------------------------------

needs_sha256sum = pytest.mark.skipif(shutil.which("sha256sum") is None, reason="needs GNU sha256sum")


def _sha256sum_check(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, timeout=30, check=False
    )


@needs_sha256sum
def test_sha256sums_passes_sha256sum_check_and_fails_after_one_changed_byte(project: Path):
    folder = project / "artifacts"
    assert (
        main(
            ["sha256sums", "--lineage", str(folder / "lineage.json"), "--output", str(folder / "SHA256SUMS")]
        )
        == 0
    )
    lines = (folder / "SHA256SUMS").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(FILES) + 1  # every file the lineage names, and the lineage itself
    assert all(re.fullmatch(r"[0-9a-f]{64}  \S+", line) for line in lines)
    passed = _sha256sum_check(folder)
    assert passed.returncode == 0, passed.stdout + passed.stderr

    model = project / FILES["model"]
    data = bytearray(model.read_bytes())
    data[0] ^= 0x01
    model.write_bytes(bytes(data))
    failed = _sha256sum_check(folder)
    assert failed.returncode == 1
    assert "best_model.joblib: FAILED" in failed.stdout
    assert failed.stdout.count("FAILED") == 1


@needs_sha256sum
def test_sha256sums_paths_are_relative_to_the_folder_written_to(project: Path, tmp_path: Path):
    elsewhere = tmp_path / "release" / "v1"
    elsewhere.mkdir(parents=True)
    lineage = project / "artifacts" / "lineage.json"
    assert main(["sha256sums", "--lineage", str(lineage), "--output", str(elsewhere / "SHA256SUMS")]) == 0
    assert "../../project/artifacts/best_model.joblib" in (elsewhere / "SHA256SUMS").read_text(
        encoding="utf-8"
    )
    passed = _sha256sum_check(elsewhere)
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_export_refuses_a_lineage_whose_root_leaves_the_project(
    project: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    """A crafted `root` must not make an export read or list a file outside the project."""
    secret = tmp_path / "secret.txt"
    secret.write_text("do not export me\n")
    lineage_path = project / "artifacts" / "lineage.json"
    lineage = json.loads(lineage_path.read_text(encoding="utf-8"))
    lineage["root"] = "../.."
    lineage["inputs"]["config"] = {"path": "secret.txt", "sha256": sha256_file(secret)}
    lineage["config"] = dict(lineage["inputs"]["config"])
    lineage_path.write_bytes(canonical_json(lineage))
    for export in ("intoto", "sha256sums"):
        assert main([export]) == 1
        captured = capsys.readouterr()
        assert "resolves outside the project root" in captured.err
        assert "do not export me" not in captured.out and "secret.txt" not in captured.out
