"""The fresh copy of a project that a command training runs in."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pytest_repro.running.tree_copy import copy_tree


def _project(root: Path, *, git: bool) -> Path:
    for relative, text in {
        "src/train.py": "print('train')\n",
        "data/big.csv": "a\n1\n",
        "models/model.pkl": "stale model\n",
        "notes.txt": "kept\n",
        ".venv/pyvenv.cfg": "home = /usr\n",
        ".venv/lib/site.py": "x\n",
        "src/__pycache__/train.cpython-311.pyc": "x\n",
    }.items():
        (root / relative).parent.mkdir(parents=True, exist_ok=True)
        (root / relative).write_text(text)
    if git:
        (root / ".gitignore").write_text("data/\nmodels/\n.venv/\n")
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


@pytest.mark.parametrize("git", [True, False], ids=["git", "no-git"])
def test_code_is_copied_outputs_left_behind_and_caches_and_venvs_skipped(tmp_path: Path, git: bool):
    source = _project(tmp_path / "project", git=git)
    copy = tmp_path / "copy"
    copy_tree(source, copy, exclude=["models/*.pkl"])
    assert (copy / "src" / "train.py").read_text() == "print('train')\n"
    assert not (copy / "src" / "train.py").is_symlink()
    assert (copy / "notes.txt").is_file()
    assert (copy / "data" / "big.csv").read_text() == "a\n1\n"
    assert not (copy / "models" / "model.pkl").exists()  # an output: never carried over
    assert not (copy / ".venv").exists()
    assert not (copy / "src" / "__pycache__").exists()
    assert not (copy / ".git").exists()


def test_git_ignored_data_is_linked_not_copied(tmp_path: Path):
    source = _project(tmp_path / "project", git=True)
    copy = tmp_path / "copy"
    copy_tree(source, copy, exclude=["models/*.pkl"])
    assert (copy / "data").is_symlink()
    assert (copy / "data").resolve() == (source / "data").resolve()


def test_a_copy_of_a_copy_keeps_its_linked_data(tmp_path: Path):
    source = _project(tmp_path / "project", git=True)
    copy_tree(source, tmp_path / "first", exclude=["models/*.pkl"])
    copy_tree(tmp_path / "first", tmp_path / "second", exclude=["models/*.pkl"])
    assert (tmp_path / "second" / "data" / "big.csv").read_text() == "a\n1\n"


def test_a_copy_made_inside_the_project_leaves_out_the_folder_that_holds_it_and_links_into_it(tmp_path):
    # pytest's --basetemp may lie in the project (pytester does this): the run folders,
    # and a link to them (pytest's "-current" link), must not be copied into each copy.
    project = tmp_path / "project"
    (project / "src").mkdir(parents=True)
    (project / "src" / "train.py").write_text("print('hi')\n")
    runs = project / "runpytest-0" / "repro-shared"
    (runs / "run-a" / "project").mkdir(parents=True)
    (runs / "run-a" / "project" / "half-copied.py").write_text("x = 1\n")
    (project / "runpytest-current").symlink_to(project / "runpytest-0", target_is_directory=True)

    count = copy_tree(project, runs / "run-b" / "project")

    copied = sorted(
        p.relative_to(runs / "run-b" / "project").as_posix() for p in (runs / "run-b" / "project").rglob("*")
    )
    assert copied == ["src", "src/train.py"]
    assert count == 1
