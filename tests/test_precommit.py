"""The pre-commit hooks for real: this repository as a hook repository, run in a small trained project.

The slow tests build pre-commit's Python environment for this project, which installs
it and its dependencies from the package index (a minute or two each time).

`pre-commit try-repo` always builds that environment in a throwaway store of its own
(it ignores PRE_COMMIT_HOME), so it is run once, on the clean tree. The failure cases
run `pre-commit run` with a config naming this repository at the same commit, exactly
what try-repo writes for itself, but with a PRE_COMMIT_HOME under pytest's basetemp
shared by these tests, so that environment is built only once more.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hand_trained import script_project
from small_project import write_small_project

REPO = Path(__file__).resolve().parents[1]
HOOK_IDS = ("repro-config", "repro-lineage")
PRE_COMMIT_TIMEOUT = 1200


def _clean_env(pre_commit_home: Path) -> dict[str, str]:
    # Variables a git hook or an outer pre-commit sets would point git at the wrong repository.
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("GIT_", "PRE_COMMIT")) and key not in ("PYTHONPATH", "SKIP")
    }
    env["PRE_COMMIT_HOME"] = str(pre_commit_home)
    return env


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    result = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def _init_repo(path: Path, env: dict[str, str]) -> None:
    _git(path, "init", "--quiet", env=env)
    _git(path, "config", "user.name", "pytest-repro tests", env=env)
    _git(path, "config", "user.email", "tests@pytest-repro.invalid", env=env)
    _git(path, "config", "commit.gpgsign", "false", env=env)


def _commit_all(path: Path, message: str, env: dict[str, str]) -> str:
    _git(path, "add", "--all", env=env)
    _git(path, "commit", "--quiet", "--no-verify", "-m", message, env=env)
    return _git(path, "rev-parse", "HEAD", env=env).strip()


def _pre_commit(cwd: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=PRE_COMMIT_TIMEOUT,
        check=False,
    )


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    pytest.importorskip("pre_commit", reason="pre-commit is not installed (pip install -e '.[dev]')")
    return _clean_env(tmp_path_factory.getbasetemp() / "pre-commit-home")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> tuple[Path, str]:
    """This project as pre-commit sees a hook repository: a git repository and a commit.

    A clean checkout is used as it is. Otherwise (work not committed yet, or new files
    not yet tracked, which try-repo would leave out) the working tree, tracked and
    untracked but not ignored, is committed into a snapshot repository.
    """
    probe = subprocess.run(
        ["git", "status", "--porcelain"], cwd=REPO, env=env, capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"{REPO} is not a git checkout")
    if probe.stdout == "" and _git(REPO, "ls-files", ".pre-commit-hooks.yaml", env=env).strip():
        return REPO, _git(REPO, "rev-parse", "HEAD", env=env).strip()
    snapshot = tmp_path_factory.mktemp("hook-repo")
    listed = _git(REPO, "ls-files", "-z", "--cached", "--others", "--exclude-standard", env=env)
    for relative in filter(None, listed.split("\0")):
        source = REPO / relative
        if source.is_file() and not source.is_symlink():
            target = snapshot / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    _init_repo(snapshot, env)
    return snapshot, _commit_all(snapshot, "snapshot of the working tree", env)


@pytest.fixture(scope="module")
def trained_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """A git repository holding a small config and dataset, trained and committed with its artifacts."""
    root = write_small_project(tmp_path_factory.mktemp("trained"), rows=300)
    # A user's repository holds its own training package; repro-hook config validates the
    # configs through the loader the project's ini settings name, imported from the repository.
    shutil.copytree(REPO / "training", root / "training", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "pyproject.toml").write_text(
        '[tool.pytest.ini_options]\nrepro_config_loader = "training.config:load_config"\n', encoding="utf-8"
    )
    _init_repo(root, env)
    trained = subprocess.run(
        [sys.executable, "-m", "training", "--quiet"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert trained.returncode == 0, trained.stderr
    assert (root / "artifacts" / "lineage.json").is_file()
    # Committed, artifacts included: the case of users who keep their artifacts in git.
    _commit_all(root, "trained", env)
    return root


@pytest.fixture
def project(trained_repo: Path, tmp_path: Path) -> Path:
    """A fresh copy of the trained repository (its .git included) for one test to change."""
    copy = tmp_path / "project"
    shutil.copytree(trained_repo, copy)
    return copy


@pytest.fixture(scope="module")
def hooks_config(hook_repo: tuple[Path, str], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The config try-repo would write: this repository at its commit, with both hooks."""
    path, rev = hook_repo
    config = {"repos": [{"repo": str(path), "rev": rev, "hooks": [{"id": hook} for hook in HOOK_IDS]}]}
    target = tmp_path_factory.mktemp("config") / ".pre-commit-config.yaml"
    target.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return target


# --- the files pre-commit reads, checked offline -------------------------------------------------


def test_hook_manifest_is_valid_and_offers_both_hooks():
    pytest.importorskip("pre_commit")
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-manifest", str(REPO / ".pre-commit-hooks.yaml")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, _output(result)
    manifest = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for hook in manifest}
    assert set(hooks) == set(HOOK_IDS)
    # Each hook is given every changed file and keeps those the project's settings and lineage name.
    assert hooks["repro-config"]["entry"] == "repro-hook config --changed"
    assert hooks["repro-lineage"]["entry"] == "repro-hook lineage --changed"
    assert all("files" not in hook and hook.get("pass_filenames", True) for hook in manifest)
    assert all(hook["require_serial"] is True for hook in manifest)
    assert all(hook["language"] == "python" for hook in manifest)


def test_project_config_is_valid_and_uses_the_local_hooks():
    pytest.importorskip("pre_commit")
    path = REPO / ".pre-commit-config.yaml"
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, _output(result)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    (local,) = [repo for repo in config["repos"] if repo["repo"] == "local"]
    assert {hook["id"]: hook["entry"] for hook in local["hooks"]} == {
        "repro-config": "repro-hook config",
        "repro-lineage": "repro-hook lineage",
    }


# --- pre-commit for real --------------------------------------------------------------------------


@pytest.mark.slow
def test_try_repo_passes_on_a_clean_trained_repository(
    trained_repo: Path, hook_repo: tuple[Path, str], env: dict[str, str]
):
    # No hook id: try-repo runs every hook of the manifest, so the environment is built once.
    result = _pre_commit(
        trained_repo, "try-repo", str(hook_repo[0]), "--all-files", "--color", "never", env=env
    )
    output = _output(result)
    assert result.returncode == 0, output
    assert "validate training configs" in output and "verify artifacts against lineage" in output
    assert output.count("Passed") == 2, output


@pytest.mark.slow
def test_changed_artifact_byte_fails_repro_lineage_naming_the_file(
    project: Path, hooks_config: Path, env: dict[str, str]
):
    _flip_one_byte(project / "artifacts" / "best_model.joblib")
    result = _pre_commit(
        project,
        "run",
        "--config",
        str(hooks_config),
        "repro-lineage",
        "--all-files",
        "--color",
        "never",
        env=env,
    )
    output = _output(result)
    assert result.returncode == 1, output
    assert "- exit code: 1" in output
    assert "FAILED model: artifacts/best_model.joblib: SHA-256 is" in output
    assert output.count("FAILED ") == 1, output


@pytest.mark.slow
def test_invalid_config_value_fails_repro_config_naming_the_dotted_key(
    project: Path, hooks_config: Path, env: dict[str, str]
):
    _edit(project / "config.yaml", "n_splits: 2", "n_splits: 1")
    result = _pre_commit(
        project,
        "run",
        "--config",
        str(hooks_config),
        "repro-config",
        "--all-files",
        "--color",
        "never",
        env=env,
    )
    output = _output(result)
    assert result.returncode == 1, output
    assert "- exit code: 2" in output
    assert "config.yaml: cv.n_splits: got 1 (integer); expected an integer in [2, 100]" in output


@pytest.mark.slow
def test_changed_valid_config_fails_repro_lineage_naming_config(
    project: Path, hooks_config: Path, env: dict[str, str]
):
    _edit(project / "config.yaml", "max_depth: 4", "max_depth: 6")
    result = _pre_commit(
        project, "run", "--config", str(hooks_config), "--all-files", "--color", "never", env=env
    )
    output = _output(result)
    assert result.returncode == 1, output
    assert "validate training configs" in output and "Passed" in output
    assert "FAILED config: config.yaml: SHA-256 is" in output
    assert output.count("FAILED ") == 1, output


@pytest.mark.slow
def test_commit_of_an_untrained_config_change_is_refused_and_unrelated_commits_pass(
    project: Path, hooks_config: Path, env: dict[str, str]
):
    installed = _pre_commit(project, "install", "--config", str(hooks_config), env=env)
    assert installed.returncode == 0, _output(installed)

    (project / "NOTES.md").write_text("no input or output of training\n", encoding="utf-8")
    _git(project, "add", "NOTES.md", env=env)
    unrelated = subprocess.run(
        ["git", "commit", "-m", "notes"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert unrelated.returncode == 0, _output(unrelated)
    # The hooks ran on NOTES.md and found nothing of the training's in it.
    assert re.search(r"verify artifacts against lineage\.+Passed", _output(unrelated)), _output(unrelated)

    _edit(project / "config.yaml", "max_depth: 4", "max_depth: 6")
    _git(project, "add", "config.yaml", env=env)
    head = _git(project, "rev-parse", "HEAD", env=env)
    refused = subprocess.run(
        ["git", "commit", "-m", "deeper trees"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert refused.returncode != 0
    assert "FAILED config: config.yaml: SHA-256 is" in _output(refused)
    assert _git(project, "rev-parse", "HEAD", env=env) == head


@pytest.fixture(scope="module")
def script_repo(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Path:
    """An ini-only script project trained by hand with `repro-run`: its lineage names its script and data."""
    root = script_project(tmp_path_factory.mktemp("script") / "churn")
    repro_run = Path(sys.executable).parent / "repro-run"
    trained = subprocess.run(
        [str(repro_run)], cwd=root, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert trained.returncode == 0, trained.stderr
    return root


@pytest.mark.slow
def test_try_repo_fires_on_a_script_projects_own_inputs_and_passes(
    script_repo: Path, hook_repo: tuple[Path, str], env: dict[str, str]
):
    # Only .gitignore, pyproject.toml and src/train.py are tracked: the script is an input the lineage records.
    result = _pre_commit(
        script_repo,
        "try-repo",
        str(hook_repo[0]),
        "repro-lineage",
        "--all-files",
        "--color",
        "never",
        env=env,
    )
    output = _output(result)
    assert result.returncode == 0, output
    assert re.search(r"verify artifacts against lineage\.+Passed", output), output


@pytest.mark.slow
def test_an_edited_training_script_fails_repro_lineage_naming_it(
    script_repo: Path, hooks_config: Path, env: dict[str, str], tmp_path: Path
):
    project = tmp_path / "churn"
    shutil.copytree(script_repo, project)
    _edit(project / "src" / "train.py", "random.seed(7)", "random.seed(8)")
    result = _pre_commit(
        project,
        "run",
        "--config",
        str(hooks_config),
        "repro-lineage",
        "--all-files",
        "--color",
        "never",
        env=env,
    )
    output = _output(result)
    assert result.returncode == 1, output
    assert "FAILED src/train.py: SHA-256 is" in output
    assert output.count("FAILED ") == 1, output
