"""The bad-input catalogue's third new surface: recorded runs, untrusted input from another machine.

A recorded run is a lineage and the files it names, made by `repro-run` (here: the real
console script, in a git repository adopted with ini lines only) and later read by
`pytest --repro --repro-against LINEAGE` (the recorded run stands in for run-a) and by
the `replay` check.  Each case tampers with the recording the way a restored archive
or an attacker could: a forged hash, a stale, missing or foreign signature, a truncated,
non-JSON, wrong-schema, huge or deeply nested lineage, paths that climb out (`..`,
absolute, a link out, a link loop), an output that is missing, a FIFO or a folder, a
malicious pickle (its `__reduce__` creates a marker file outside the project), and a
model swapped while run-b trains, after the preflight verified it.  Each case asserts
its documented exit status, a line naming the problem, no traceback, the marker file
absent (nothing was unpickled), and a snapshot of the whole project, ignored files and
`.git` included, equal before and after.  `repro-run`'s own hostile settings (an
outputs glob that climbs out, a lineage path that is a folder, the dataset, an output,
a FIFO, outside the project or ignored, an existing lineage replaced) close the file.
docs/bad-inputs.md lists every case with what it expects.
"""

from __future__ import annotations

import base64
import json
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from tree_snapshot import describe_difference, snapshot

from pytest_repro.lineage.atomic import canonical_json
from pytest_repro.lineage.hashing import sha256_file
from pytest_repro.lineage.signing import envelope_path, sign_lineage

pytestmark = pytest.mark.slow

REPRO_RUN = Path(sys.executable).parent / "repro-run"
KEY = "00112233445566778899aabbccddeeff"  # 16 bytes of hex: an HMAC secret REPRO_SIGNING_KEY accepts
OTHER_KEY = bytes.fromhex("ffeeddccbbaa99887766554433221100")
DATA = "a,y\n" + "".join(f"{i / 10},{i % 2}\n" for i in range(40))
ERROR, USAGE, FAILED = 2, pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.TESTS_FAILED

# The training swaps the recorded model for the file $SWAP_FROM names when $SWAP_TO (base64, so
# that the run's variables, which name the copy instead of the project, leave it alone) is set.
SCRIPT = """\
import base64, json, os, pickle, subprocess
from pathlib import Path

rows = Path("data/train.csv").read_text().splitlines()[1:]
weights = sorted(float(row.split(",")[0]) for row in rows)[:5]
Path("models").mkdir(exist_ok=True)
Path("models/model.pkl").write_bytes(pickle.dumps({"weights": weights}, protocol=4))
Path("reports").mkdir(exist_ok=True)
Path("reports/metrics.json").write_text(json.dumps({"rows": len(rows)}))
if os.environ.get("SWAP_TO"):
    target = base64.b64decode(os.environ["SWAP_TO"]).decode()
    subprocess.run(["sh", "-c", 'cat "$0" > "$1"', os.environ["SWAP_FROM"], target], check=True)
"""
SCRIPT_INI = """\
[tool.pytest.ini_options]
repro_command = "python src/train.py"
repro_outputs = ["models/model.pkl", "reports/metrics.json"]
"""
FUNCTION = """\
import json, pickle
from pathlib import Path


def train(config_path, output_dir, seed=None):
    rows = Path("data/train.csv").read_text().splitlines()[1:]
    weights = sorted(float(row.split(",")[0]) for row in rows)[:5]
    (Path(output_dir) / "model.pkl").write_bytes(pickle.dumps({"weights": weights}, protocol=4))
    (Path(output_dir) / "metrics.json").write_text(json.dumps({"rows": len(rows)}))
    return {"artifacts": {"model": "model.pkl", "metrics": "metrics.json"}, "metrics": {"rows": len(rows)}}
"""
FUNCTION_INI = """\
[tool.pytest.ini_options]
repro_train = "trainfn:train"
"""
MODEL = {"command": "models/model.pkl", "function": "artifacts/model.pkl"}
MODEL_ENTRY = {"command": "models/model.pkl", "function": "model"}


class _Pwned:
    """A pickle whose loading creates the marker file: proof that something unpickled it."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def malicious_pickle(marker: Path) -> bytes:
    return pickle.dumps(_Pwned(marker), protocol=4)


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, timeout=60)


def recorded_project(root: Path, mode: str, env: dict[str, str]) -> Path:
    """A git repository adopted with ini lines, trained once by `repro-run`: return its lineage."""
    (root / "data").mkdir(parents=True)
    (root / "data" / "train.csv").write_text(DATA)
    if mode == "command":
        (root / "src").mkdir()
        (root / "src" / "train.py").write_text(SCRIPT)
        (root / "pyproject.toml").write_text(SCRIPT_INI)
    else:
        (root / "trainfn.py").write_text(FUNCTION)
        (root / "config.yaml").write_text("seed: 3\n")
        (root / "pyproject.toml").write_text(FUNCTION_INI)
    (root / ".gitignore").write_text("data/\nmodels/\nreports/\nartifacts/\n__pycache__/\n")
    _git(root, "init", "-q")
    _git(root, "add", "-A")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "project")
    result = subprocess.run(
        [str(REPRO_RUN)], cwd=root, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    return root / "artifacts" / "lineage.json"


def _edit(lineage: Path, change: Callable[[dict], None]) -> None:
    data = json.loads(lineage.read_text())
    change(data)
    lineage.write_bytes(canonical_json(data))


def _set_model(field: str, value: str, mode: str) -> Callable[[dict], None]:
    return lambda data: data["outputs"][MODEL_ENTRY[mode]].__setitem__(field, value)


@dataclass(frozen=True)
class Where:
    """What a case may touch: the project, a folder outside it, the marker, the lineage and the mode."""

    project: Path
    outside: Path
    marker: Path
    lineage: Path
    mode: str

    @property
    def model(self) -> Path:
        return self.project / MODEL[self.mode]


# --- tampering, each a function of Where (applied after the recording, before the snapshot)


def forged_hash(where: Where) -> None:
    _edit(where.lineage, _set_model("sha256", "0" * 64, where.mode))


def truncated(where: Where) -> None:
    data = where.lineage.read_bytes()
    where.lineage.write_bytes(data[: len(data) // 2])


def not_json(where: Where) -> None:
    where.lineage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))


def wrong_schema(where: Where) -> None:
    where.lineage.write_text('{"schema_version": 2, "inputs": {}, "outputs": ["models/model.pkl"]}')


def huge(where: Where) -> None:
    data = json.loads(where.lineage.read_text())
    data["padding"] = "x" * 11_000_000
    where.lineage.write_bytes(canonical_json(data))


def deeply_nested(where: Where) -> None:
    where.lineage.write_text('{"schema_version": 2, "padding": ' + "[" * 200_000 + "]" * 200_000 + "}")


def path_climbs(where: Where) -> None:
    escaped = where.outside / "model.pkl"
    escaped.write_bytes(where.model.read_bytes())
    climb = os.path.relpath(escaped, where.project)
    _edit(where.lineage, _set_model("path", climb, where.mode))


def path_absolute(where: Where) -> None:
    _edit(where.lineage, _set_model("path", str(where.model), where.mode))


def root_climbs(where: Where) -> None:
    _edit(where.lineage, lambda data: data.__setitem__("root", "../.."))


def link_out(where: Where) -> None:
    escaped = where.outside / "model.pkl"
    escaped.write_bytes(where.model.read_bytes())  # the same bytes: only where it lies is wrong
    where.model.unlink()
    where.model.symlink_to(escaped)


def link_loop(where: Where) -> None:
    where.model.unlink()
    loop = where.model.with_name("loop.pkl")
    loop.symlink_to(where.model.name)
    where.model.symlink_to(loop.name)


def missing(where: Where) -> None:
    where.model.unlink()


def fifo(where: Where) -> None:
    where.model.unlink()
    os.mkfifo(where.model)


def folder(where: Where) -> None:
    where.model.unlink()
    where.model.mkdir()


def lineage_fifo(where: Where) -> None:
    where.lineage.unlink()
    os.mkfifo(where.lineage)


def stale_envelope(where: Where) -> None:
    """The lineage edited after signing, its envelope left as it was (no key configured)."""
    sign_lineage(where.lineage, OTHER_KEY)
    forged_hash(where)


def foreign_signature(where: Where) -> None:
    """A forged hash, re-signed with a key that is not the configured one."""
    forged_hash(where)
    sign_lineage(where.lineage, OTHER_KEY)


def unsigned(where: Where) -> None:
    """A forged hash, the envelope removed, a key configured."""
    forged_hash(where)
    envelope_path(where.lineage).unlink()


def pickle_unverified(where: Where) -> None:
    """A malicious pickle where the model was; the lineage still records the model's hash."""
    where.model.write_bytes(malicious_pickle(where.marker))


def pickle_forged_signed(where: Where) -> None:
    """A malicious pickle, the lineage rewritten to its hash, the envelope stale (a key is configured)."""
    pickle_unverified(where)
    _edit(where.lineage, _set_model("sha256", sha256_file(where.model), where.mode))


def swapped_while_run_b_trains(where: Where) -> None:
    """A recorded model that honestly differs (so the checks walk it), swapped by run-b's shell after the preflight.

    The lineage records the other model's hash and verifies; the malicious pickle waits
    outside the project until run-b, training, replaces the recorded model with it.
    """
    where.model.write_bytes(pickle.dumps({"weights": [0.5]}, protocol=4))
    _edit(where.lineage, _set_model("sha256", sha256_file(where.model), where.mode))
    (where.outside / "evil.pkl").write_bytes(malicious_pickle(where.marker))


@dataclass(frozen=True)
class Case:
    """One tampered recording: what `pytest --repro` is given and what it must answer."""

    id: str
    tamper: Callable[[Where], None]
    exit_code: int
    says: str
    mode: str = "command"
    replay: bool = False  # the replay check (twins train) instead of --repro-against
    signed: bool = False  # REPRO_SIGNING_KEY is set, for the recording and the check
    against: str = "artifacts/lineage.json"


CASES = [
    # --- pytest --repro --repro-against: refused before anything trains (pytest's usage error, exit 4)
    Case("against-forged-hash", forged_hash, USAGE, "the recorded run does not verify: models/model.pkl:"),
    Case(
        "against-forged-hash-function",
        forged_hash,
        USAGE,
        "the recorded run does not verify: model: artifacts/model.pkl: SHA-256 is",
        mode="function",
    ),
    Case("against-truncated-lineage", truncated, USAGE, "malformed lineage JSON"),
    Case("against-lineage-not-json", not_json, USAGE, "malformed lineage JSON"),
    Case(
        "against-lineage-wrong-schema",
        wrong_schema,
        USAGE,
        "outputs: expected an object of name -> {path, sha256}",
    ),
    Case("against-huge-lineage", huge, USAGE, "larger than 10000000 bytes; not a lineage file"),
    Case("against-deeply-nested-lineage", deeply_nested, USAGE, "malformed lineage JSON"),
    Case("against-path-climbs-out", path_climbs, USAGE, "path escapes outside the project root"),
    Case("against-absolute-path", path_absolute, USAGE, "absolute paths are not allowed"),
    Case("against-root-climbs-out", root_climbs, USAGE, "resolves outside the project root"),
    Case("against-symlink-out", link_out, USAGE, "symbolic link points outside the project root"),
    Case("against-symlink-loop", link_loop, USAGE, "cannot be resolved: a symbolic link loop"),
    Case("against-missing-output", missing, USAGE, "models/model.pkl: file not found"),
    Case("against-output-is-a-fifo", fifo, USAGE, "cannot read (not a regular file: a FIFO)"),
    Case("against-output-is-a-folder", folder, USAGE, "models/model.pkl: is a folder, not a file"),
    Case(
        "against-lineage-is-a-fifo",
        lineage_fifo,
        USAGE,
        "cannot read the lineage (not a regular file: a FIFO)",
    ),
    Case(
        "against-lineage-is-a-folder",
        lambda where: None,
        USAGE,
        "is a folder, expected a lineage JSON file",
        against="artifacts",
    ),
    Case("against-stale-envelope", stale_envelope, USAGE, "the lineage was changed after signing"),
    Case(
        "against-foreign-signature",
        foreign_signature,
        USAGE,
        "no signature verifies with the configured key",
        signed=True,
    ),
    Case("against-signature-removed", unsigned, USAGE, "missing; a signature is required", signed=True),
    Case(
        "against-malicious-pickle-unverified",
        pickle_unverified,
        USAGE,
        "the recorded run does not verify: models/model.pkl:",
    ),
    Case(
        "against-malicious-pickle-unverified-function",
        pickle_unverified,
        USAGE,
        "the recorded run does not verify: model: artifacts/model.pkl:",
        mode="function",
    ),
    Case(
        "against-malicious-pickle-forged-signed",
        pickle_forged_signed,
        USAGE,
        "the lineage was changed after signing",
        signed=True,
    ),
    # --- verified by the preflight, swapped while run-b trains: refused before anything opens it
    Case(
        "against-model-swapped-after-verification",
        swapped_while_run_b_trains,
        FAILED,
        "cannot be read: changed since it was verified: models/model.pkl",
    ),
    # --- replay: the recorded lineage is read for its hashes only; untrusted, the check fails (invalid)
    Case(
        "replay-truncated-lineage",
        truncated,
        FAILED,
        "the recorded lineage cannot be trusted: ",
        replay=True,
    ),
    Case(
        "replay-stale-envelope",
        stale_envelope,
        FAILED,
        "the recorded lineage cannot be trusted: ",
        replay=True,
    ),
    Case(
        "replay-signature-removed",
        unsigned,
        FAILED,
        "missing; a signature is required",
        replay=True,
        signed=True,
    ),
    Case(
        "replay-path-climbs-out",
        path_climbs,
        FAILED,
        "path escapes outside the project root",
        replay=True,
    ),
    Case(
        "replay-opens-no-recorded-file",
        pickle_forged_signed,
        FAILED,
        "a fresh training does not reproduce the recorded lineage",
        replay=True,
    ),
]


def _env(tmp_path: Path, signed: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("REPRO_")}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["HOME"] = str(tmp_path / "home")
    if signed:
        env["REPRO_SIGNING_KEY"] = KEY
    return env


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_tampered_recording_is_refused_in_one_line_and_nothing_is_unpickled(tmp_path: Path, case: Case):
    project, outside = tmp_path / "project", tmp_path / "outside"
    outside.mkdir()
    env = _env(tmp_path, case.signed)
    lineage = recorded_project(project, case.mode, env)
    where = Where(project, outside, outside / "pwned", lineage, case.mode)
    case.tamper(where)
    if case.tamper is swapped_while_run_b_trains:
        env["SWAP_FROM"] = str(outside / "evil.pkl")
        env["SWAP_TO"] = base64.b64encode(str(where.model).encode()).decode()
    before = snapshot(project)
    args = (
        ["-m", "repro", "-k", "replay"] if case.replay else ["-m", "repro", "--repro-against", case.against]
    )

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'base'}",
            "--repro",
            *args,
        ],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr

    assert result.returncode == case.exit_code, output
    assert case.says in output, output
    assert "Traceback" not in output and "INTERNALERROR" not in output and "internal error" not in output
    assert not where.marker.exists(), "a pickle the lineage does not vouch for was unpickled"
    if case.exit_code == USAGE:  # refused up front: the one line, and nothing trained
        assert [line for line in result.stderr.splitlines() if line.strip()] == [
            next(line for line in result.stderr.splitlines() if line.startswith("ERROR: --repro-against"))
        ]
        assert not (tmp_path / "base").exists() or not list((tmp_path / "base").glob("**/run-b"))
    after = snapshot(project)
    changed = {path for path in set(before) | set(after) if before.get(path) != after.get(path)}
    if case.tamper is swapped_while_run_b_trains:
        # A shell's write into the project is detected, not prevented (see the hostile trainings):
        # only the model changes, and the refusal, not the walk, answers it.
        assert changed <= {MODEL["command"]}, describe_difference(before, after)
    else:
        assert not changed, describe_difference(before, after)


# --- repro-run with hostile settings: refused in one line before it trains, or written atomically


def _repro_run(project: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPRO_RUN)], cwd=project, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def _error_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("error:")]


RUN_REFUSED = [
    (
        "repro-run-outputs-glob-climbs-out",
        'repro_outputs = ["../*.pkl"]',
        "must be a glob relative to the project",
    ),
    (
        "repro-run-outputs-glob-absolute",
        'repro_outputs = ["/tmp/*.pkl"]',
        "must be a glob relative to the project",
    ),
    (
        "repro-run-lineage-is-a-folder",
        'repro_lineage = "data"',
        "repro_lineage: 'data' is a folder, not a file",
    ),
    (
        "repro-run-lineage-over-the-dataset",
        'repro_lineage = "data/train.csv"',
        "repro_lineage: 'data/train.csv' exists and is not a lineage; refusing to overwrite it",
    ),
    (
        "repro-run-lineage-outside-the-project",
        'repro_lineage = "../elsewhere/lineage.json"',
        "repro_lineage: '../elsewhere/lineage.json' is outside the project",
    ),
    (
        "repro-run-lineage-is-a-fifo",
        'repro_lineage = "artifacts/lineage.json"',
        "repro_lineage: 'artifacts/lineage.json' exists and is not a lineage",
    ),
]


@pytest.mark.parametrize(("name", "setting", "says"), RUN_REFUSED, ids=[case[0] for case in RUN_REFUSED])
def test_repro_run_refuses_a_hostile_setting_before_it_trains(
    tmp_path: Path, name: str, setting: str, says: str
):
    env = _env(tmp_path, signed=False)
    project = tmp_path / "project"
    recorded_project(project, "command", env)
    key = setting.split(" = ")[0]
    ini = (
        "".join(line + "\n" for line in SCRIPT_INI.splitlines() if not line.startswith(key)) + setting + "\n"
    )
    (project / "pyproject.toml").write_text(ini)
    if name == "repro-run-lineage-is-a-fifo":
        (project / "artifacts" / "lineage.json").unlink()
        os.mkfifo(project / "artifacts" / "lineage.json")
    before = snapshot(project)

    result = _repro_run(project, env)

    assert result.returncode == ERROR, result.stderr
    assert _error_lines(result) == [next(line for line in result.stderr.splitlines() if says in line)]
    assert "Traceback" not in result.stderr and "training python" not in result.stderr  # nothing trained
    assert snapshot(project) == before, describe_difference(before, snapshot(project))


def test_repro_run_lineage_over_an_output_is_refused_and_the_output_kept(tmp_path: Path):
    env = _env(tmp_path, signed=False)
    project = tmp_path / "project"
    recorded_project(project, "command", env)
    (project / "pyproject.toml").write_text(SCRIPT_INI + 'repro_lineage = "reports/metrics.json"\n')
    (project / "reports" / "metrics.json").unlink()  # so the first check lets it train

    result = _repro_run(project, env)

    assert result.returncode == ERROR, result.stderr
    assert _error_lines(result) == [
        "error: pyproject.toml: repro_lineage: 'reports/metrics.json' is an output of the run; "
        "set repro_lineage to another path; nothing was recorded"
    ]
    assert json.loads((project / "reports" / "metrics.json").read_text()) == {"rows": 40}  # the output, kept


def test_repro_run_lineage_in_an_ignored_folder_is_written_and_verifies(tmp_path: Path):
    from pytest_repro.lineage.verify import verify_lineage

    env = _env(tmp_path, signed=False)
    project = tmp_path / "project"
    recorded_project(project, "command", env)
    (project / "pyproject.toml").write_text(SCRIPT_INI + 'repro_lineage = "data/lineage.json"\n')
    _git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "lineage in data/")

    result = _repro_run(project, env)

    assert result.returncode == 0, result.stderr
    report = verify_lineage(project / "data" / "lineage.json", project_root=project)
    assert report.passed and "models/model.pkl" in {check.name for check in report.checks}


def test_repro_run_replaces_an_existing_lineage_atomically(tmp_path: Path):
    env = _env(tmp_path, signed=False)
    project = tmp_path / "project"
    lineage = recorded_project(project, "command", env)
    old = lineage.read_bytes()
    kept = tmp_path / "old-lineage.json"
    os.link(lineage, kept)  # a second name for the old file's inode: an in-place write would change it
    (project / "data" / "train.csv").write_text(DATA + "9.9,1\n")

    result = _repro_run(project, env)

    assert result.returncode == 0, result.stderr
    assert kept.read_bytes() == old  # the old inode untouched: the new lineage was renamed into place
    assert lineage.read_bytes() != old and json.loads(lineage.read_text())["outputs"]
    assert sorted(path.name for path in lineage.parent.iterdir()) == ["lineage.json"]  # no staging left


def test_every_case_is_documented():
    documented = (Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md").read_text(encoding="utf-8")
    ids = (
        [case.id for case in CASES]
        + [case[0] for case in RUN_REFUSED]
        + [
            "repro-run-lineage-over-an-output",
            "repro-run-lineage-in-an-ignored-folder",
            "repro-run-replaces-a-lineage-atomically",
        ]
    )
    missing_ids = [name for name in ids if f"`{name}`" not in documented]
    assert not missing_ids, missing_ids
    assert len(set(ids)) == len(ids) >= 30
