"""The fresh copy of a project that each run trains in: what is copied, shared, linked and left out."""

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
        (root / ".gitignore").write_text("data/\nmodels/\n.venv/\n__pycache__/\n")
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        subprocess.run(["git", "add", "-A"], cwd=root, check=True)
        subprocess.run(
            ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first"],
            cwd=root,
            check=True,
        )
    return root


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True).stdout.strip()


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
    assert (copy / "models").is_dir()  # ...but its folder stays, as in a fresh clone
    assert not (copy / ".venv").exists()
    assert not (copy / "src" / "__pycache__").exists()


def test_the_copy_is_a_git_repository_at_the_users_head_with_the_users_uncommitted_edit(tmp_path: Path):
    source = _project(tmp_path / "project", git=True)
    (source / "src" / "train.py").write_text("print('edited')\n")
    before = sorted(
        (p.relative_to(source / ".git"), p.stat().st_mtime_ns) for p in (source / ".git").rglob("*")
    )

    copied = copy_tree(source, tmp_path / "copy", exclude=["models/*.pkl"])

    assert copied.git
    assert _git(tmp_path / "copy", "rev-parse", "HEAD") == _git(source, "rev-parse", "HEAD")
    assert _git(tmp_path / "copy", "symbolic-ref", "HEAD") == _git(source, "symbolic-ref", "HEAD")
    assert _git(tmp_path / "copy", "status", "--porcelain") == "M src/train.py"
    assert _git(tmp_path / "copy", "remote") == ""  # nothing to push to the user's repository
    after = sorted(
        (p.relative_to(source / ".git"), p.stat().st_mtime_ns) for p in (source / ".git").rglob("*")
    )
    assert after == before


def test_small_ignored_files_are_copied_and_large_ones_shared_and_watched(tmp_path: Path):
    source = _project(tmp_path / "project", git=True)
    (source / "data" / "large.bin").write_bytes(b"x" * 64)
    copy = tmp_path / "copy"

    copied = copy_tree(source, copy, exclude=["models/*.pkl"], share_min_bytes=32)

    assert not (copy / "data").is_symlink()
    assert (copy / "data" / "big.csv").stat().st_ino != (source / "data" / "big.csv").stat().st_ino
    assert [shared.relative for shared in copied.shared] == ["data/large.bin"]
    assert copied.changed() == []
    (source / "data" / "large.bin").write_bytes(b"y" * 64)  # what a native writer through the link does
    assert copied.changed() == ["data/large.bin"]


def test_repro_copy_globs_copy_large_ignored_files_too(tmp_path: Path):
    source = _project(tmp_path / "project", git=True)
    (source / "data" / "large.bin").write_bytes(b"x" * 64)
    copied = copy_tree(source, tmp_path / "copy", always_copy=["data/*.bin"], share_min_bytes=32)
    assert copied.shared == ()
    assert (tmp_path / "copy" / "data" / "large.bin").stat().st_ino != (
        source / "data" / "large.bin"
    ).stat().st_ino


def test_symbolic_links_stay_relative_inside_and_point_where_they_pointed_outside(tmp_path: Path):
    source = _project(tmp_path / "project", git=False)
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("far\n")
    (source / "latest.py").symlink_to("src/train.py")
    (source / "absolute.py").symlink_to(source / "src" / "train.py")
    (source / "far.csv").symlink_to("../elsewhere.csv")

    copy_tree(source, tmp_path / "copy")

    assert (tmp_path / "copy" / "latest.py").readlink() == Path("src/train.py")
    assert (tmp_path / "copy" / "absolute.py").readlink() == Path("src/train.py")
    assert (tmp_path / "copy" / "far.csv").readlink() == outside


def test_a_copy_of_a_copy_keeps_its_data(tmp_path: Path):
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

    count = copy_tree(project, runs / "run-b" / "project").files

    copied = sorted(
        p.relative_to(runs / "run-b" / "project").as_posix() for p in (runs / "run-b" / "project").rglob("*")
    )
    assert copied == ["src", "src/train.py"]
    assert count == 1
