"""The import direction, checked by import-linter: the contracts in pyproject.toml hold, and each has teeth.

The contracts live in `[tool.importlinter]` of pyproject.toml; by hand, run
`lint-imports --no-cache` from the checkout.  A broken contract is proven by copying
the two analysed packages and the pyproject to a temporary folder, planting one import
there and linting the copy: the checkout itself is never touched.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ANALYSED_PACKAGES = ("pytest_repro", "training")
# lint-imports is installed beside this interpreter by the dev extra.
LINT_IMPORTS = Path(sys.executable).parent / "lint-imports"
# The summary prints one line per contract: its name, then KEPT or BROKEN.
OUTCOME_LINE = re.compile(r"^(?P<name>\S.*?) (?P<outcome>KEPT|BROKEN)\b", re.MULTILINE)
# Some versions colour their output even when it is not a terminal.
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;]*m")


@dataclass(frozen=True)
class LintResult:
    """What one run of lint-imports said: its exit code, each contract's outcome by name, its output."""

    returncode: int
    outcomes: dict[str, str]
    output: str

    def broken(self) -> set[str]:
        return {name for name, outcome in self.outcomes.items() if outcome == "BROKEN"}


def _contract_names(pyproject: Path) -> dict[str, str]:
    """Return each contract's name by id, as import-linter itself reads the configuration."""
    from importlinter.api import read_configuration

    return {c["id"]: c["name"] for c in read_configuration(str(pyproject))["contracts_options"]}


def _lint_imports(project: Path) -> LintResult:
    """Run lint-imports on `project`, analysing the packages in that folder, not the installed ones."""
    env = {key: value for key, value in os.environ.items() if key != "PYTHONPATH"}
    env["PYTHONPATH"] = str(project)
    # Wide enough that rich never wraps a contract's name over two lines.
    env["COLUMNS"] = "250"
    env["NO_COLOR"] = "1"
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = ANSI_ESCAPE.sub("", result.stdout + result.stderr)
    outcomes = {m["name"]: m["outcome"] for m in OUTCOME_LINE.finditer(output)}
    return LintResult(result.returncode, outcomes, output)


@pytest.fixture(scope="module")
def contract_names() -> dict[str, str]:
    pytest.importorskip("importlinter", reason="import-linter is not installed (pip install -e '.[dev]')")
    if not LINT_IMPORTS.is_file():
        pytest.skip(f"{LINT_IMPORTS} is missing (pip install -e '.[dev]')")
    return _contract_names(REPO / "pyproject.toml")


def test_the_checkout_keeps_every_import_contract(contract_names: dict[str, str]):
    result = _lint_imports(REPO)

    assert result.returncode == 0, result.output
    assert result.outcomes == dict.fromkeys(contract_names.values(), "KEPT"), result.output


PLANTED = [
    pytest.param(
        "pytest_repro/lineage/__init__.py",
        "import training",
        {"plugin-never-imports-demo"},
        "pytest_repro.lineage -> training",
        id="plugin-imports-the-demo",
    ),
    pytest.param(
        "pytest_repro/lineage/__init__.py",
        "import pytest_repro.running",
        # pytest_repro.running imports the lineage: the planted import also closes a cycle.
        {"lineage-is-the-core", "plugin-layers", "no-cycles-between-subpackages"},
        "pytest_repro.lineage -> pytest_repro.running",
        id="lineage-imports-a-layer-above",
    ),
    pytest.param(
        "pytest_repro/core/entry_points.py",
        "import pytest_repro.settings.resolved",
        {"no-cycles-between-subpackages"},
        "No cycles are allowed in pytest_repro.",
        id="core-and-settings-import-each-other",
    ),
    pytest.param(
        "pytest_repro/core/paths.py",
        "import pytest_repro.lineage",
        # core is the bottom layer, below lineage; lineage imports core, so a cycle closes too.
        {"plugin-layers"},
        "pytest_repro.core.paths -> pytest_repro.lineage",
        id="core-imports-the-lineage",
    ),
]


@pytest.mark.parametrize(("module", "statement", "broken_ids", "named_import"), PLANTED)
def test_a_planted_import_breaks_its_contract_naming_the_import(
    tmp_path: Path,
    contract_names: dict[str, str],
    module: str,
    statement: str,
    broken_ids: set[str],
    named_import: str,
):
    for package in ANALYSED_PACKAGES:
        shutil.copytree(REPO / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy2(REPO / "pyproject.toml", tmp_path / "pyproject.toml")
    planted = tmp_path / module
    assert planted.is_file(), f"{module} moved: plant the import in another module of its package"
    with planted.open("a", encoding="utf-8") as handle:
        handle.write(f"\n{statement}  # planted by tests/test_architecture.py\n")

    result = _lint_imports(tmp_path)

    assert result.returncode != 0, result.output
    # A planted import may break more than its own contract (importing training reaches
    # everything the demo imports), so only the contracts it must break are listed.
    assert {contract_names[i] for i in broken_ids} <= result.broken(), result.output
    # The checkout keeps every contract: this failure proves the copy was analysed.
    assert named_import in result.output, result.output


# --- the public API: what the demo and the examples may import from the plugin -----------------

PUBLIC_API_USERS = ("training", "examples")


def _public_names() -> dict[str, set[str]]:
    """Each public module of the plugin by dotted name, with the names its `__all__` offers.

    Public are `pytest_repro` itself and its direct submodules and subpackages that declare
    an `__all__`; everything else (a module without `__all__`, any deeper module) is internal.
    """
    import importlib
    import pkgutil

    import pytest_repro

    public = {"pytest_repro": set(pytest_repro.__all__)}
    for info in pkgutil.iter_modules(pytest_repro.__path__):
        module = importlib.import_module(f"pytest_repro.{info.name}")
        if hasattr(module, "__all__"):
            public[module.__name__] = set(module.__all__)
            public["pytest_repro"].add(info.name)  # `from pytest_repro import strategies`
    return public


def private_imports(source: str, public: dict[str, set[str]]) -> list[str]:
    """Return each import of `source` that reaches past the plugin's public API, as `module:name`."""
    import ast

    found = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and (node.module or "").split(".")[0] == "pytest_repro"
        ):
            allowed = public.get(node.module or "", set())
            found += [f"{node.module}:{alias.name}" for alias in node.names if alias.name not in allowed]
        elif isinstance(node, ast.Import):
            found += [
                alias.name
                for alias in node.names
                if alias.name.split(".")[0] == "pytest_repro" and alias.name not in public
            ]
    return found


def test_the_demo_and_the_examples_import_only_the_plugins_public_api():
    public = _public_names()
    offending = {
        str(path.relative_to(REPO)): names
        for folder in PUBLIC_API_USERS
        for path in sorted((REPO / folder).rglob("*.py"))
        if (names := private_imports(path.read_text(encoding="utf-8"), public))
    }
    assert offending == {}


@pytest.mark.parametrize(
    "source",
    [
        "from pytest_repro.lineage.pins import registry_path",  # a module below a subpackage
        "from pytest_repro.core.seed_bounds import SEED_MAX",  # a module below a subpackage
        "from pytest_repro.core import SEED_MAX",  # a name not in the subpackage's __all__
        "from pytest_repro.lineage import build_lineage",  # a name not in the subpackage's __all__
        "from pytest_repro import settings",  # a subpackage without __all__, through the package
        "import pytest_repro.running.twins",
    ],
)
def test_the_public_api_contract_has_teeth(source: str):
    assert private_imports(source, _public_names())


def test_the_public_api_contract_accepts_public_names():
    source = (
        "import pytest_repro\nfrom pytest_repro import Publication, strategies\n"
        "from pytest_repro.lineage import registry_path\nfrom pytest_repro.errors import ConfigError\n"
        "from pytest_repro.core import validate, read_config_bytes\n"
    )
    assert private_imports(source, _public_names()) == []


def test_core_offers_exactly_the_public_names_of_its_public_modules():
    import importlib

    import pytest_repro.core

    offered = {
        name
        for module in ("config_files", "schema")
        for name in importlib.import_module(f"pytest_repro.core.{module}").__all__
    }
    assert set(pytest_repro.core.__all__) == offered
    assert all(getattr(pytest_repro.core, name) is not None for name in pytest_repro.core.__all__)


# --- the tree: unique module names, a small top level, every subpackage documented and layered ----

PACKAGE = REPO / "pytest_repro"
# The top level holds the public API, the errors and subpackages: nothing else.
TOP_LEVEL_MODULES = {"__init__.py", "errors.py"}


def _subpackages() -> list[str]:
    return sorted(path.parent.name for path in PACKAGE.glob("*/__init__.py"))


def test_module_names_are_unique_across_the_package():
    names: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name != "__init__.py":
            names.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}


def test_the_top_level_holds_only_the_public_api_the_errors_and_subpackages():
    files = {path.name for path in PACKAGE.glob("*.py")}
    folders = {path.name for path in PACKAGE.iterdir() if path.is_dir() and path.name != "__pycache__"}

    assert files == TOP_LEVEL_MODULES
    assert folders == set(_subpackages()), "a folder without __init__.py is not a subpackage"


def test_every_subpackage_says_what_it_holds():
    import ast

    undocumented = {}
    for name in _subpackages():
        docstring = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text(encoding="utf-8")))
        if not docstring or "placeholder" in docstring.lower() or len(docstring.split()) < 10:
            undocumented[name] = docstring
    assert undocumented == {}


def test_every_subpackage_is_in_a_layer_of_the_import_contract(contract_names: dict[str, str]):
    from importlinter.api import read_configuration

    contracts = read_configuration(str(REPO / "pyproject.toml"))["contracts_options"]
    (layers,) = [c["layers"] for c in contracts if c["id"] == "plugin-layers"]
    layered = {name.strip() for layer in layers for name in layer.split("|")}

    assert layered == set(_subpackages())
