"""The whole-tree snapshot that the isolation tests rely on sees every kind of change a run could make."""

from __future__ import annotations

import os
from pathlib import Path

from tree_snapshot import describe_difference, snapshot


def _project(root: Path) -> Path:
    (root / ".git" / "objects").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "data" / "raw").mkdir(parents=True)
    (root / "data" / "raw" / "iris.csv").write_text("a,b\n1,2\n")
    (root / "train.py").write_text("print('hi')\n")
    os.symlink("raw/iris.csv", root / "data" / "current.csv")
    return root


def test_an_untouched_tree_has_no_difference(tmp_path: Path):
    root = _project(tmp_path)

    assert describe_difference(snapshot(root), snapshot(root)) == ""


def test_content_mode_links_and_git_internals_are_all_seen(tmp_path: Path):
    root = _project(tmp_path)
    before = snapshot(root)
    (root / "data" / "raw" / "iris.csv").write_text("a,b\n1,3\n")  # same size, other bytes
    (root / "train.py").chmod(0o755)
    (root / "data" / "current.csv").unlink()
    os.symlink("/elsewhere/iris.csv", root / "data" / "current.csv")
    (root / ".git" / "objects" / "ab").mkdir()
    (root / ".git" / "HEAD").unlink()

    after = snapshot(root)

    assert describe_difference(before, after).splitlines() == [
        "the project changed: 1 added, 1 removed, 3 changed",
        f"  added   .git/objects/ab: {after['.git/objects/ab'].describe()}",
        f"  removed .git/HEAD: {before['.git/HEAD'].describe()}",
        "  changed data/current.csv: symlink -> raw/iris.csv -> symlink -> /elsewhere/iris.csv",
        f"  changed data/raw/iris.csv: {before['data/raw/iris.csv'].describe()} -> "
        f"{after['data/raw/iris.csv'].describe()}",
        f"  changed train.py: {before['train.py'].describe()} -> {after['train.py'].describe()}",
    ]


def test_a_long_difference_is_cut_per_kind(tmp_path: Path):
    root = _project(tmp_path)
    before = snapshot(root)
    for index in range(30):
        (root / "data" / f"part-{index:02}.csv").write_text("x\n")

    lines = describe_difference(before, snapshot(root)).splitlines()

    assert lines[0] == "the project changed: 30 added, 0 removed, 0 changed"
    assert lines[-1] == "  ... and 10 more added"
    assert len(lines) == 22
