"""A run's isolation: its environment, its write guard, and the one-line failure when it writes to the user's files."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from pytest_repro.core.entry_points import ContractError
from pytest_repro.running.isolation import SITE_FOLDER, IsolatedRun, ProjectIsolation


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "data").mkdir()
    (root / "src" / "train.py").write_text("print('train')\n")
    (root / "data" / "small.csv").write_text("a\n1\n")
    (root / "data" / "large.bin").write_bytes(b"x" * 64)
    (root / ".gitignore").write_text("data/\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def _snapshot(root: Path) -> dict[str, tuple[bytes | str, int]]:
    found: dict[str, tuple[bytes | str, int]] = {}
    for path in sorted(root.rglob("*")):
        status = path.lstat()
        content: bytes | str = (
            os.readlink(path) if path.is_symlink() else path.read_bytes() if path.is_file() else ""
        )
        found[path.relative_to(root).as_posix()] = (content, status.st_mode)
    return found


def _prepare(tmp_path: Path, **isolation: object) -> tuple[Path, IsolatedRun]:
    project = _project(tmp_path / "project")
    run = IsolatedRun.prepare(ProjectIsolation(project, **isolation), tmp_path / "runs" / "run-a" / "project")
    return project, run


def _run_python(run: IsolatedRun, code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=run.copy.root,
        env=run.environment(env, run.copy.root),
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_environment_points_at_the_copy_and_nowhere_in_the_project(tmp_path: Path):
    project, run = _prepare(tmp_path)
    base = {
        "PATH": "/usr/bin",
        "PWD": str(project),
        "OLDPWD": str(project),
        "REPRO_USER_PYTHONPATH": str(project / "src"),
        "PYTHONPATH": "/somewhere/the/worker/needs",
        "DATA_DIR": str(project / "data"),
        "GIT_DIR": str(project / ".git"),
    }
    env = run.environment(base, run.copy.root)
    assert env["PWD"] == str(run.copy.root)
    assert "OLDPWD" not in env and "GIT_DIR" not in env
    assert env["PYTHONPATH"].split(os.pathsep) == [str(SITE_FOLDER), str(run.copy.root / "src")]
    assert env["DATA_DIR"] == str(run.copy.root / "data")
    assert env["PATH"].split(os.pathsep) == [str(Path(sys.executable).parent), "/usr/bin"]
    assert env["TMPDIR"] == str(run.tmp) and run.tmp.is_dir()
    assert env["GIT_CEILING_DIRECTORIES"] == str(run.copy.root.parent)
    assert not any(str(project) in value for value in env.values())


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("sqlite:///mlflow.db", "sqlite:///mlflow.db"),  # relative: the copy's
        ("http://tracking.example:5000", "run"),  # a server: the run's own store
        ("file:///elsewhere/mlruns", "run"),
    ],
)
def test_an_mlflow_store_outside_the_copy_becomes_the_runs_own(tmp_path: Path, uri: str, expected: str):
    _, run = _prepare(tmp_path)
    env = run.environment({"MLFLOW_TRACKING_URI": uri}, run.copy.root)
    assert env["MLFLOW_TRACKING_URI"] == ((run.folder / "mlruns").as_uri() if expected == "run" else expected)
    assert env["WANDB_MODE"] == "offline"


def test_an_mlflow_store_in_the_project_moves_into_the_copy_and_user_tracking_opts_out(tmp_path: Path):
    project, run = _prepare(tmp_path)
    env = run.environment({"MLFLOW_TRACKING_URI": f"file://{project}/mlruns"}, run.copy.root)
    assert env["MLFLOW_TRACKING_URI"] == f"file://{run.copy.root}/mlruns"
    _, user = _prepare(tmp_path / "user", tracking="user")
    assert user.environment({"MLFLOW_TRACKING_URI": "http://server"}, user.copy.root)[
        "MLFLOW_TRACKING_URI"
    ] == ("http://server")


def test_a_write_into_the_project_is_refused_and_fails_the_run_even_when_caught(tmp_path: Path):
    project, run = _prepare(tmp_path)
    before = _snapshot(project)
    result = _run_python(
        run,
        f"""
        try:
            open({str(project / "src" / "train.py")!r}, "w").write("pwned")
        except PermissionError as error:
            print("caught", error)
        open("src/train.py", "w").write("the copy's own")
        """,
        {"PATH": os.environ["PATH"]},
    )
    assert "caught" in result.stdout, result.stderr
    assert _snapshot(project) == before
    assert (run.copy.root / "src" / "train.py").read_text() == "the copy's own"
    with pytest.raises(ContractError, match=r"a run may not write into your project: open .*src/train\.py"):
        run.finish()


def test_a_write_to_a_shared_file_is_refused_naming_it(tmp_path: Path):
    project = _project(tmp_path / "project")
    run = IsolatedRun.prepare(ProjectIsolation(project), tmp_path / "run-a" / "project", share_min_bytes=32)
    assert [shared.relative for shared in run.copy.shared] == ["data/large.bin"]
    result = _run_python(run, "open('data/large.bin', 'r+b').write(b'y')", {"PATH": os.environ["PATH"]})
    assert result.returncode != 0
    assert (project / "data" / "large.bin").read_bytes() == b"x" * 64
    with pytest.raises(ContractError, match=r"data/large\.bin is shared with your project, not copied"):
        run.finish()


def test_a_write_past_the_guard_to_a_shared_file_is_found_after_the_run(tmp_path: Path):
    project = _project(tmp_path / "project")
    run = IsolatedRun.prepare(ProjectIsolation(project), tmp_path / "run-a" / "project", share_min_bytes=32)
    # What a native library does: no Python open, so no audit event.
    subprocess.run(["sh", "-c", "printf y >> data/large.bin"], cwd=run.copy.root, check=True)
    with pytest.raises(ContractError, match=r"the run changed data/large\.bin in your project"):
        run.finish()


def test_the_users_sitecustomize_still_runs_after_the_guard(tmp_path: Path):
    _, run = _prepare(tmp_path)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "sitecustomize.py").write_text("import builtins\nbuiltins.USER_SITE_RAN = True\n")
    result = _run_python(
        run,
        "import builtins, sys; print(getattr(builtins, 'USER_SITE_RAN', False), sys._repro_guard is not None)",
        {"PATH": os.environ["PATH"], "REPRO_USER_PYTHONPATH": str(mine)},
    )
    assert result.stdout.split() == ["True", "True"], result.stderr
