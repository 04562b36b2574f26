"""The bad-input catalogue's new surfaces: hostile trainings against the run's isolation and its recorder.

Each case is a git repository adopted with ini lines only (`repro_command`,
`repro_outputs`), whose script does one hostile or unusual thing on top of training:
writes into the user's project by an absolute path or a `../` climb, through a link, a
hard link or a shared large file, from a shell, deletes its copy's files, runs git in
its copy, floods the recorder, forks, replaces `open`...  Every case runs the twin
checks (`pytest --repro -m repro`) and asserts the documented exit status, a
distinctive line naming the problem (for a failure), no internal error, and a snapshot
of the whole project (ignored files and `.git` included) equal before and after, or,
for the one write the guard cannot prevent (a shell's), exactly that file changed and
the run failed naming it.  docs/bad-inputs.md lists them with what each expects.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tree_snapshot import describe_difference, snapshot

pytestmark = pytest.mark.slow

TRAIN = """\
import json, os, pickle, sys
from pathlib import Path

rows = Path("data/train.csv").read_text().splitlines()[1:]
weights = sorted(float(row.split(",")[0]) for row in rows)
Path("models").mkdir(exist_ok=True)
Path("models/model.json").write_text(json.dumps({"weights": weights[:5]}))
"""
DATA = "a,y\n" + "".join(f"{i / 10},{i % 2}\n" for i in range(40))
PASS, FAIL = pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED
Setup = Callable[[Path, Path], str]  # (project, outside folder) -> the hostile lines of the script


@dataclass(frozen=True)
class Case:
    """One hostile training: what it does, and what `pytest --repro -m repro` must answer."""

    id: str
    setup: Setup
    exit_code: pytest.ExitCode
    says: str = ""  # a line of the output that names the problem (failures)
    changed: tuple[str, ...] = ()  # the project paths the run may change: only what it is caught doing
    extra_ini: str = ""
    ignored: tuple[str, ...] = field(default=("data/", "models/", "logs/", "big/"))


def _plain(lines: str) -> Setup:
    return lambda project, outside: lines


def _absolute_write(project: Path, outside: Path) -> str:
    return f"open({str(project / 'src' / 'train.py')!r}, 'a').write('# pwned')\n"


def _climb_write(project: Path, outside: Path) -> str:
    return f"open(os.path.relpath({str(project / 'notes.txt')!r}), 'w').write('pwned')\n"


def _absolute_write_caught(project: Path, outside: Path) -> str:
    return f"try:\n    open({str(project / 'notes.txt')!r}, 'w')\nexcept PermissionError:\n    pass\n"


def _link_out(project: Path, outside: Path) -> str:
    (outside / "shared").mkdir()
    (outside / "shared" / "log.txt").write_text("start\n")
    (project / "external").symlink_to(outside / "shared", target_is_directory=True)
    return "open('external/log.txt', 'a').write('a run was here\\n')\n"


def _hard_link_out(project: Path, outside: Path) -> str:
    (outside / "vocab.txt").write_text("a\nb\n")
    (project / "data").mkdir(exist_ok=True)
    os.link(outside / "vocab.txt", project / "data" / "vocab.txt")
    return "open('data/vocab.txt', 'a').write('c\\n')\n"


def _shared_large_write(project: Path, outside: Path) -> str:
    (project / "big").mkdir()
    (project / "big" / "blob.bin").write_bytes(b"\0" * (9 * 1024 * 1024))
    return "open('big/blob.bin', 'r+b').write(b'x')\n"


def _shell_write(project: Path, outside: Path) -> str:
    return f"import subprocess; subprocess.run(['sh', '-c', 'echo pwned >> {project / 'notes.txt'}'])\n"


def _env_named_write(project: Path, outside: Path) -> str:
    return "open(os.path.join(os.environ['DATA_HOME'], 'new.csv'), 'w').write('x')\n"


def _submodule(project: Path, outside: Path) -> str:
    library = outside / "library"
    library.mkdir()
    (library / "helpers.py").write_text("SCALE = 2\n")
    _git(library, "init", "-q")
    _git(library, "add", "-A")
    _git(library, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "lib")
    _git(
        project, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(library), "vendor/library"
    )
    return "sys.path.insert(0, 'vendor/library'); import helpers; assert helpers.SCALE == 2\n"


def _many_small_files(project: Path, outside: Path) -> str:
    folder = project / "data" / "shards"
    folder.mkdir(parents=True)
    for index in range(100_000):
        (folder / f"{index:06d}.txt").write_bytes(b"1")
    return "assert len(os.listdir('data/shards')) == 100_000\n"


def _ignore_everything(project: Path, outside: Path) -> str:
    (project / ".gitignore").write_text("*\n")
    return ""


CASES = [
    # --- isolation: writes that must never reach the project
    Case("write-by-absolute-path", _absolute_write, FAIL, "a run may not write into your project: open"),
    Case("write-by-parent-climb", _climb_write, FAIL, "a run may not write into your project: open"),
    Case(
        "refused-write-swallowed-by-the-script",
        _absolute_write_caught,
        FAIL,
        "a run may not write into your project: open",
    ),
    Case(
        "write-to-a-shared-large-file",
        _shared_large_write,
        FAIL,
        "big/blob.bin is shared with your project, not copied",
    ),
    Case(
        "write-from-a-shell",
        _shell_write,
        FAIL,
        "the project changed during the run: notes.txt changed",
        changed=("notes.txt",),
    ),
    Case("write-through-a-variable-naming-the-project", _env_named_write, PASS),
    Case("write-through-a-link-out-of-the-project", _link_out, PASS),
    Case("append-to-a-hard-link-to-a-file-outside", _hard_link_out, PASS),
    # --- isolation: what a run may do to its own copy
    Case(
        "delete-the-copys-files",
        _plain("import shutil; shutil.rmtree('src'); os.remove('pyproject.toml')\n"),
        PASS,
    ),
    Case(
        "chmod-the-copys-files", _plain("os.chmod('pyproject.toml', 0o600); os.chmod('data', 0o700)\n"), PASS
    ),
    Case(
        "git-stash-and-commit-in-the-copy",
        _plain(
            "import subprocess\n"
            "subprocess.run(['git', 'stash'], check=True, capture_output=True)\n"
            "subprocess.run(['git', '-c', 'user.name=r', '-c', 'user.email=r@r', 'commit', '--allow-empty',"
            " '-qm', 'run'], check=True)\n"
        ),
        PASS,
    ),
    Case(
        "write-to-pwd", _plain("open(os.path.join(os.environ['PWD'], 'scratch.txt'), 'w').write('x')\n"), PASS
    ),
    Case("gitignore-ignores-everything", _ignore_everything, PASS),
    Case("a-git-submodule", _submodule, PASS),
    Case("an-ignored-folder-of-100000-small-files", _many_small_files, PASS),
    # --- the recorder: it never changes a result, never crashes a training, bounds its log
    Case(
        "training-replaces-open",
        _plain("import builtins; real = builtins.open; builtins.open = lambda *a, **k: real(*a, **k)\n"),
        PASS,
    ),
    Case(
        "training-replaces-time-and-cpu-count",
        _plain("import time; time.time = lambda: 0.0; os.cpu_count = lambda: 1\n"),
        PASS,
    ),
    Case(
        "training-adds-its-own-audit-hook",
        _plain("sys.addaudithook(lambda event, args: None)\n"),
        PASS,
    ),
    Case(
        "training-floods-the-recorder",
        _plain(
            "for index in range(20_000):\n"
            "    path = f'{os.environ[\"TMPDIR\"]}/f{index}'\n"
            "    open(path, 'w').close(); open(path).close(); os.environ.get(f'V{index}')\n"
        ),
        PASS,
    ),
    Case(
        "training-forks",
        _plain("pid = os.fork()\nif pid == 0:\n    os._exit(0)\nos.waitpid(pid, 0)\n"),
        PASS,
    ),
    Case(
        "training-removes-the-record-folder",
        _plain("import shutil; shutil.rmtree(os.environ['REPRO_RECORD'])\n"),
        PASS,
    ),
    Case("training-ends-with-os-exit", _plain("sys.stdout.flush(); os._exit(0)\n"), PASS),
]


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


def _project(root: Path, outside: Path, case: Case) -> None:
    (root / "src").mkdir(parents=True)
    (root / "data").mkdir(exist_ok=True)
    (root / "data" / "train.csv").write_text(DATA)
    (root / "notes.txt").write_text("the user's notes\n")
    (root / ".gitignore").write_text("".join(f"{entry}\n" for entry in case.ignored))
    _git(root, "init", "-q")
    hostile = case.setup(root, outside)
    (root / "src" / "train.py").write_text(TRAIN + hostile)
    (root / "pyproject.toml").write_text(
        "[tool.pytest.ini_options]\n"
        'repro_command = "python src/train.py"\n'
        'repro_outputs = ["models/model.json"]\n' + case.extra_ini
    )
    _git(root, "add", "-A", "--force", "src", "pyproject.toml", ".gitignore", "notes.txt")
    _git(root, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "project")


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_a_hostile_training_never_changes_the_project_and_gets_its_answer(tmp_path: Path, case: Case):
    project, outside = tmp_path / "project", tmp_path / "outside"
    outside.mkdir()
    _project(project, outside, case)
    before = snapshot(project)
    outside_before = snapshot(outside)

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--repro",
            "-m",
            "repro",
            "-p",
            "no:cacheprovider",
            f"--basetemp={tmp_path / 'basetemp'}",
        ],
        cwd=project,
        env={**os.environ, "DATA_HOME": str(project / "data"), "PYTHONDONTWRITEBYTECODE": "1"},
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr

    assert result.returncode == case.exit_code, output
    assert "INTERNALERROR" not in output and "internal error" not in output, output
    if case.says:
        assert case.says in output, output
    after = snapshot(project)
    changed = sorted(path for path in set(before) | set(after) if before.get(path) != after.get(path))
    assert changed == sorted(case.changed), describe_difference(before, after)
    if case.id == "append-to-a-hard-link-to-a-file-outside":
        assert snapshot(outside) == outside_before  # the run appended to its own copy
    if case.id == "training-floods-the-recorder":
        logs = list((tmp_path / "basetemp").glob("**/record/*.json"))
        assert logs and all(log.stat().st_size < 2_000_000 for log in logs)


def test_every_case_is_documented():
    documented = (Path(__file__).resolve().parents[1] / "docs" / "bad-inputs.md").read_text(encoding="utf-8")
    missing = [case.id for case in CASES if f"`{case.id}`" not in documented]
    assert not missing, missing


def test_the_new_surfaces_have_their_own_ids():
    assert len({case.id for case in CASES}) == len(CASES) >= 20
