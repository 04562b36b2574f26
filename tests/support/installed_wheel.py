"""The plugin as a stranger gets it: a wheel built from a clean copy of the checkout, installed in a fresh venv.

Nothing here uses the editable install of the checkout: the wheel is built from a copy
(so no stale `build/` folder or egg-info of the checkout leaks into it), the virtual
environment does not see this interpreter's site-packages, and its commands run with
an environment that has no PYTHONPATH and no trace of the virtual environment that
runs the tests.
"""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# What a clean clone does not have: version control, local environments, build output, caches.
NOT_IN_A_CLONE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "build",
    "dist",
    "*.egg-info",
    "__pycache__",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
    ".import_linter_cache",
)
# Variables that would let the tests' own environment leak into the stranger's.
LEAKING_VARIABLES = ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV", "PYTEST_ADDOPTS")
LEAKING_PREFIXES = ("PYTEST_", "REPRO_")
INSTALL_TIMEOUT = 900
RUN_TIMEOUT = 600


def build_wheel(folder: Path) -> Path:
    """Copy the checkout into `folder`, build its wheel there with `python -m build`, return the wheel."""
    source = folder / "source"
    shutil.copytree(ROOT, source, ignore=NOT_IN_A_CLONE)
    dist = folder / "dist"
    result = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(source)],
        capture_output=True,
        text=True,
        timeout=INSTALL_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"python -m build failed:\n{result.stdout}\n{result.stderr}")
    (wheel,) = dist.glob("*.whl")
    return wheel


def wheel_top_level_names(wheel: Path) -> set[str]:
    """Return every importable top-level name a wheel installs: folders, modules, and top_level.txt."""
    names = set()
    with zipfile.ZipFile(wheel) as archive:
        for entry in archive.namelist():
            first, _, rest = entry.partition("/")
            if first.endswith(".dist-info"):
                if rest == "top_level.txt":
                    names.update(archive.read(entry).decode("utf-8").split())
                continue
            if first.endswith(".data"):
                # name.data/purelib/... and platlib/... install beside the top-level names.
                scheme, _, inner = rest.partition("/")
                if scheme in ("purelib", "platlib") and inner:
                    first, _, rest = inner.partition("/")
                else:
                    continue
            names.add(first.removesuffix(".py") if not rest else first)
    return names


def wheel_console_scripts(wheel: Path) -> list[str]:
    """Return the names of the console scripts the wheel's entry_points.txt declares, sorted."""
    with zipfile.ZipFile(wheel) as archive:
        (entry,) = [n for n in archive.namelist() if n.endswith(".dist-info/entry_points.txt")]
        parser = configparser.ConfigParser(delimiters=("=",), interpolation=None)
        parser.optionxform = str  # type: ignore[assignment,method-assign]
        parser.read_string(archive.read(entry).decode("utf-8"))
    return sorted(parser["console_scripts"]) if parser.has_section("console_scripts") else []


@dataclass(frozen=True)
class StrangerVenv:
    """A fresh virtual environment and the shell a stranger would run its commands from."""

    root: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    @property
    def python(self) -> Path:
        return self.bin / "python"

    @property
    def tmp(self) -> Path:
        return self.root.parent / f"{self.root.name}-tmp"

    def environment(self) -> dict[str, str]:
        """Return this process's environment as a stranger's shell has it: this venv first on PATH."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in LEAKING_VARIABLES and not key.startswith(LEAKING_PREFIXES)
        }
        ours = {str(Path(sys.prefix) / "bin"), str(Path(sys.executable).parent)}
        rest = [p for p in env.get("PATH", os.defpath).split(os.pathsep) if p and p not in ours]
        env["PATH"] = os.pathsep.join([str(self.bin), *rest])
        env["VIRTUAL_ENV"] = str(self.root)
        # Its own temporary folder, as on a stranger's machine: pytest's numbered basetemp
        # folders (and the plugin's shared cache in them) are not shared with other runs.
        env["TMPDIR"] = str(self.tmp)
        return env

    def run(self, *args: str, cwd: Path, timeout: float = RUN_TIMEOUT) -> subprocess.CompletedProcess[str]:
        """Run `python ARGS...` of this venv in `cwd`, with the stranger's environment."""
        return self.run_command(str(self.python), *args, cwd=cwd, timeout=timeout)

    def run_command(
        self, *command: str, cwd: Path, timeout: float = RUN_TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run a command (found on this venv's PATH first) in `cwd`, with the stranger's environment."""
        return subprocess.run(
            list(command),
            cwd=cwd,
            env=self.environment(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def install(self, *requirements: str) -> None:
        """Install requirements with this venv's pip (from PyPI where they are not local files)."""
        result = self.run("-m", "pip", "install", *requirements, cwd=self.root, timeout=INSTALL_TIMEOUT)
        if result.returncode != 0:
            raise AssertionError(
                f"pip install {' '.join(requirements)} failed:\n{result.stdout}\n{result.stderr}"
            )

    def site_packages(self) -> Path:
        """Return the venv's purelib folder, as its own interpreter reports it."""
        result = self.run("-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=self.root)
        assert result.returncode == 0, result.stderr
        return Path(result.stdout.strip())

    def module_files(self, *modules: str, cwd: Path) -> dict[str, Path]:
        """Return where this venv's interpreter, started in `cwd`, imports each module from."""
        code = (
            "import importlib, json, sys\n"
            "print(json.dumps({m: importlib.import_module(m).__file__ for m in sys.argv[1:]}))\n"
        )
        result = self.run("-c", code, *modules, cwd=cwd)
        assert result.returncode == 0, result.stdout + result.stderr
        return {name: Path(path) for name, path in json.loads(result.stdout).items()}


def create_venv(root: Path) -> StrangerVenv:
    """Create a fresh virtual environment (pip included, no system site-packages) at `root`."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True, timeout=INSTALL_TIMEOUT)
    venv = StrangerVenv(root)
    venv.tmp.mkdir()
    return venv
