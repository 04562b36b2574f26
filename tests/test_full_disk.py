"""A full disk or a read-only folder is one line and leaves the previous artifacts verifying.

A small tmpfs is mounted as the artifact folder of a trained project, the artifacts
are copied onto it and the rest of it is filled, so the next write fails with ENOSPC wherever it comes.
Mounting needs privileges (root in a container that allows it); elsewhere the tests
skip with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from small_project import write_small_project

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[1]
CHECK_SCRIPT = ROOT / "scripts" / "reproducibility_check.py"


def _run(project: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPRO_")}
    env.update(PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    return subprocess.run(command, cwd=project, env=env, capture_output=True, text=True, timeout=300)


def _fill(folder: Path) -> None:
    """Write a filler file until the file system holding `folder` has no byte left."""
    fd = os.open(folder / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)


@pytest.fixture
def full_artifacts(tmp_path: Path) -> Iterator[Path]:
    """A trained project whose artifacts/ lives on a tmpfs with no space left."""
    project = write_small_project(tmp_path / "project")
    assert _run(project, sys.executable, "-m", "training", "--quiet").returncode == 0
    saved = tmp_path / "saved"
    shutil.move(project / "artifacts", saved)
    mount = project / "artifacts"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip() or 'mount failed'}")
    try:
        for file in saved.iterdir():
            shutil.copy2(file, mount / file.name)
        yield project
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_training_on_a_full_disk_is_one_line_and_publishes_nothing(full_artifacts: Path):
    out = full_artifacts / "artifacts"
    before = _files(out)
    _fill(out)

    result = _run(full_artifacts, sys.executable, "-m", "training", "--quiet", "--seed", "7")

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "cannot write (No space left on device); nothing was published" in lines[0]
    assert {name: data for name, data in _files(out).items() if name != "filler"} == before
    (out / "filler").unlink()
    assert _run(full_artifacts, sys.executable, str(CHECK_SCRIPT)).returncode == 0


def test_the_check_on_a_full_disk_verifies_then_says_its_report_could_not_be_written(full_artifacts: Path):
    out = full_artifacts / "artifacts"
    _fill(out)

    result = _run(full_artifacts, sys.executable, str(CHECK_SCRIPT))

    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: artifacts/reproducibility_report.json: cannot write (No space left on device); nothing was written"
    ]
    assert not (out / "reproducibility_report.json").exists()


def test_the_check_in_a_read_only_folder_verifies_then_says_its_report_could_not_be_written(
    full_artifacts: Path,
):
    out = full_artifacts / "artifacts"
    remounted = subprocess.run(["mount", "-o", "remount,ro", str(out)], capture_output=True, text=True)
    if remounted.returncode != 0:
        pytest.skip(f"cannot remount the tmpfs read-only: {remounted.stderr.strip()}")
    before = _files(out)

    result = _run(full_artifacts, sys.executable, str(CHECK_SCRIPT))

    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [
        "error: artifacts/reproducibility_report.json: cannot write (Read-only file system); nothing was written"
    ]
    assert _files(out) == before
