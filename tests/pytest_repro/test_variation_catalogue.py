"""The catalogue of variations, the moved project and the report, without training anything.

Each variation is a small class behind one interface; these tests pin what each one
changes in a run, that the reference run pins them all, and that the report's JSON
and verdict follow the outcomes.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from pytest_repro.core.environment_names import ROW_ORDER_VARIABLE
from pytest_repro.core.run_records import RunRequest
from pytest_repro.diagnose.difference import Difference
from pytest_repro.errors import EXIT_USAGE, ReproError
from pytest_repro.variations import (
    CATALOGUE,
    INFORMATIONAL,
    PORTABILITY,
    VARIATIONS,
    Variation,
    VariationError,
    VariationReport,
    VariationResult,
    Workspace,
    choose_locales,
    describe,
    lookup,
    parse_selection,
    reference_spec,
    table_lines,
    varied_spec,
)
from pytest_repro.variations.kernels import Kernels, mkl_instructions, older_openblas_family


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project shaped like a user's: a package, a config naming its data, and the data's pins."""
    root = tmp_path / "project"
    (root / "pipeline").mkdir(parents=True)
    (root / "pipeline" / "__init__.py").write_text("def train(*args, **kwargs): ...\n")
    (root / "data").mkdir()
    (root / "data" / "rows.csv").write_text("a,b\n1,2\n")
    (root / "data" / "dataset_pins.yaml").write_text("rows.csv: 0\n")
    (root / "conf").mkdir()
    (root / "conf" / "train.yaml").write_text(
        "seed: 3\ndata:\n  path: ../data/rows.csv\nmissing: nowhere.csv\n"
    )
    return root


@pytest.fixture(scope="module")
def machine_kernels(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """What this machine's interpreter loads, probed once for the module (a fresh interpreter per probe)."""
    folder = tmp_path_factory.mktemp("kernels")
    ws = Workspace(RunRequest("pipeline:train", folder / "config.yaml", 3), folder, folder, folder)
    for name in ("blas_kernel", "simd"):
        lookup(name).unavailable(ws)
    return dict(ws._kernels)


@pytest.fixture
def workspace(project: Path, tmp_path: Path, machine_kernels: dict) -> Workspace:
    ws = Workspace(
        RunRequest("pipeline:train", project / "conf" / "train.yaml", 3), tmp_path / "ws", project, project
    )
    ws._locales = ("C.UTF-8", "de_DE.utf8")  # whatever this machine has installed
    ws._kernels = dict(machine_kernels)
    return ws


# ----------------------------------------------------------------------------- the catalogue


def test_every_variation_is_one_class_behind_the_interface_with_a_one_line_description():
    assert [variation.name for variation in CATALOGUE] == list(VARIATIONS)
    for variation in CATALOGUE:
        assert isinstance(variation, Variation)
        assert VARIATIONS[variation.name] == variation.description
        assert variation.description and "\n" not in variation.description
    assert {"row_order"} == INFORMATIONAL
    assert {"blas_kernel", "simd", "cpus"} == PORTABILITY


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_reference_run_pins_every_variation_to_its_reference_value(workspace, project):
    spec = reference_spec(workspace)

    assert spec.env["PYTHONHASHSEED"] == "1"
    assert spec.env["OMP_NUM_THREADS"] == "1"
    assert spec.env["REPRO_N_JOBS"] == "1"
    assert spec.env["TZ"] == "UTC"
    assert (spec.env["LC_ALL"], spec.env["LANG"], spec.env["LANGUAGE"]) == ("C.UTF-8", "C.UTF-8", None)
    assert spec.env[ROW_ORDER_VARIABLE] is None
    assert spec.env["HOME"] == workspace.home
    assert (spec.cwd, spec.umask, spec.import_first) == (project, 0o022, None)
    assert spec.request == workspace.request


@pytest.mark.parametrize("name", list(VARIATIONS))
def test_each_variation_changes_the_reference_run_in_what_it_names_only(workspace, name):
    reason = lookup(name).unavailable(workspace)
    if reason is not None:
        pytest.skip(f"{name} cannot vary anything on this machine: {reason}")
    reference = reference_spec(workspace)
    varied = varied_spec(reference, [name], workspace)

    changed = {key for key in {*reference.env, *varied.env} if reference.env.get(key) != varied.env.get(key)}
    fields = {
        f.name
        for f in dataclasses.fields(varied)
        if f.name != "env" and getattr(varied, f.name) != getattr(reference, f.name)
    }
    assert changed or fields
    side = lookup(name).varied(workspace)
    assert changed <= set(side.env)
    expected_fields = set()
    if side.cwd is not None:
        expected_fields.add("cwd")
    if side.umask is not None:
        expected_fields.add("umask")
    if side.moved is not None:
        expected_fields |= {"request", "import_first"}
    if side.cpus is not None:
        expected_fields.add("cpus")
    assert fields == expected_fields


def test_descriptions_read_reference_then_varied(workspace):
    assert describe("hashseed", workspace) == ("PYTHONHASHSEED=1", "2")
    assert describe("tz", workspace) == ("TZ=UTC", "GMT-14")
    assert describe("umask", workspace) == ("umask 022", "002")
    assert describe("locale", workspace) == ("LC_ALL=C.UTF-8", "de_DE.utf8")
    assert describe("cwd", workspace) == ("the project folder", "an empty folder elsewhere")
    assert describe("row_order", workspace) == ("rows in file order", f"shuffled ({ROW_ORDER_VARIABLE}=1)")


def test_every_run_gets_its_own_fresh_home_and_working_directory(workspace):
    # A HOME shared by the all-at-once run and the home-alone run would carry the first's
    # cache into the second, and blame an interaction instead of `home`.
    reference = reference_spec(workspace)
    alone = varied_spec(reference, ["home", "cwd"], workspace)
    together = varied_spec(reference, ["home", "cwd", "tz"], workspace)
    assert alone.env["HOME"] != together.env["HOME"]
    assert alone.cwd != together.cwd
    for folder in (alone.env["HOME"], together.env["HOME"], alone.cwd, together.cwd):
        assert not any(Path(folder).iterdir())


def test_cpus_gives_a_run_half_the_cpus_and_every_core_count_it_reads(workspace):
    workspace.cores, workspace.cpus = 4, frozenset({0, 1, 2, 3})
    reference = reference_spec(workspace)

    varied = varied_spec(reference, ["cpus"], workspace)

    assert (reference.cpus, varied.cpus) == (None, frozenset({0, 1}))
    assert {
        name: varied.env[name] for name in ("LOKY_MAX_CPU_COUNT", "PYTHON_CPU_COUNT", "OMP_THREAD_LIMIT")
    } == {
        "LOKY_MAX_CPU_COUNT": "2",
        "PYTHON_CPU_COUNT": "2",
        "OMP_THREAD_LIMIT": "2",
    }
    # BLAS/OpenMP threads are lowered to the cores, never raised: the reference's one thread stays.
    assert varied.env["OMP_NUM_THREADS"] == reference.env["OMP_NUM_THREADS"] == "1"
    assert describe("cpus", workspace) == ("4 cores", "2 cores (CPU 0, 1)")
    assert lookup("cpus").expected_parameters == ("n_jobs",)


def test_cpus_lowers_a_larger_thread_count_to_the_cores_it_leaves(workspace):
    workspace.cores, workspace.cpus = 2, frozenset({4, 7})
    many = dataclasses.replace(
        reference_spec(workspace), env={"OMP_NUM_THREADS": "8", "MKL_NUM_THREADS": "x"}
    )

    varied = varied_spec(many, ["cpus"], workspace)

    assert (varied.cpus, varied.env["OMP_NUM_THREADS"], varied.env["MKL_NUM_THREADS"]) == (
        frozenset({4}),
        "1",
        "x",
    )


@pytest.mark.parametrize(("cpus", "reason"), [(frozenset({3}), "one CPU only"), (None, "no CPU affinity")])
def test_cpus_cannot_vary_anything_on_one_cpu_or_without_affinity(workspace, cpus, reason):
    workspace.cores, workspace.cpus = 1, cpus

    assert reason in lookup("cpus").unavailable(workspace)


def test_path_variation_moves_config_named_data_its_pins_and_the_entry_package(workspace, project):
    varied = varied_spec(reference_spec(workspace), ["path"], workspace)

    moved = workspace.moved()
    assert sorted(moved.copied) == ["conf/train.yaml", "data/dataset_pins.yaml", "data/rows.csv", "pipeline/"]
    assert moved.code_moved
    assert varied.request.config_path == moved.root / "conf" / "train.yaml"
    assert varied.import_first == moved.root
    assert (moved.root / "data" / "rows.csv").read_text() == (project / "data" / "rows.csv").read_text()
    assert describe("path", workspace) == ("the project folder", "a copy in another folder")


def test_path_variation_copies_a_config_outside_the_project_with_the_data_beside_it(project, tmp_path):
    outside = tmp_path / "shared" / "experiment"
    (outside / "data").mkdir(parents=True)
    (outside / "data" / "rows.csv").write_text("a,b\n3,4\n")
    (outside / "train.yaml").write_text("seed: 3\ndata:\n  path: data/rows.csv\n")
    ws = Workspace(RunRequest("pipeline:train", outside / "train.yaml", 3), tmp_path / "ws", project, project)

    moved = ws.moved()

    # Everything keeps its place relative to the others, below the folder that holds them all.
    assert sorted(moved.copied) == [
        "project/pipeline/",
        "shared/experiment/data/rows.csv",
        "shared/experiment/train.yaml",
    ]
    assert (moved.config_path.parent / "data" / "rows.csv").read_text() == "a,b\n3,4\n"
    assert (moved.root / "pipeline" / "__init__.py").is_file()
    assert moved.root != project and moved.config_path != outside / "train.yaml"


def test_locale_variation_applies_only_when_another_locale_is_chosen(workspace):
    assert lookup("locale").unavailable(workspace) is None
    workspace._locales = ("C.UTF-8", None)
    assert "sort strings by code point" in lookup("locale").unavailable(workspace)
    # The other variations of this machine's environment always apply; time and the portability
    # pair depend on the machine (a compiler; an OpenBLAS that already runs its oldest kernels).
    machine_dependent = {"locale", "time", *PORTABILITY}
    assert all(
        variation.unavailable(workspace) is None
        for variation in CATALOGUE
        if variation.name not in machine_dependent
    )


def test_unknown_variation_is_a_usage_error_of_the_package():
    with pytest.raises(VariationError, match="unknown variation 'nope'") as raised:
        lookup("nope")
    assert isinstance(raised.value, ReproError)
    assert raised.value.exit_code == EXIT_USAGE


# ----------------------------------------------------------------------------- parsing


def test_selection_all_includes_row_order_and_keeps_catalogue_order():
    assert parse_selection("all") == tuple(VARIATIONS)
    assert parse_selection("tz, hashseed") == ("hashseed", "tz")


def test_varied_locale_is_an_installed_one_that_collates_otherwise():
    assert choose_locales(["C", "C.utf8", "POSIX", "de_DE.utf8"]) == ("C.UTF-8", "de_DE.utf8")
    assert choose_locales(["C", "C.utf8", "POSIX", "nl_NL", "nl_NL.utf8"]) == ("C.UTF-8", "nl_NL.utf8")


def test_only_code_point_locales_leave_the_locale_variation_unexercised():
    # C -> C.UTF-8 (or POSIX) sorts every string the same: that varies nothing a user's locale would.
    assert choose_locales(["C", "C.utf8", "POSIX"]) == ("C.UTF-8", None)
    assert choose_locales([]) == ("C", None)


# ----------------------------------------------------------------------------- the report


def _report(*outcomes: VariationResult, combined: VariationResult | None = None) -> VariationReport:
    return VariationReport(
        entry="pipeline:train",
        config="conf/train.yaml",
        seed=3,
        tolerance=0.0,
        selected=tuple(outcome.name for outcome in outcomes),
        outcomes={outcome.name: outcome for outcome in outcomes},
        combined=combined,
        control=VariationResult("control", "reference", "reference again", "identical", "alone")
        if combined
        else None,
        trainings=5,
    )


def test_report_survives_its_json_round_trip():
    differs = VariationResult(
        "tz",
        "TZ=UTC",
        "GMT-14",
        "differs",
        "alone",
        (Difference("weights", "1 of 8 values differ", ("/launch",)),),
    )
    rows = VariationResult(
        "row_order", "rows in file order", "shuffled", "changed", "alone", metric_deltas={"/loss": 0.5}
    )
    report = _report(
        differs,
        rows,
        combined=VariationResult("all", "reference", "2 variations at once", "differs", "together"),
    )

    assert VariationReport.from_json(report.to_json()) == report
    assert report.to_json()["broken_by"] == ["tz"]


def test_unexercised_variation_neither_breaks_nor_hides_an_interaction():
    identical = VariationResult("tz", "TZ=UTC", "GMT-14", "identical", "alone")
    skipped = VariationResult(
        "locale", "LC_ALL=C", "(not varied)", "not exercised", "alone", note="no other locale"
    )
    combined = VariationResult("all", "reference", "1 variations at once", "differs", "together")

    assert _report(identical, skipped).reproducible
    report = _report(identical, skipped, combined=combined)
    assert report.interaction and not report.reproducible
    lines = table_lines(report)
    assert any(
        line.startswith("locale") and "not exercised" in line and "no other locale" in line for line in lines
    )
    assert any(line.startswith("(all at once)  reference -> tz ") for line in lines)


# ----------------------------------------------------------------------------- other machines


@pytest.mark.parametrize(
    ("current", "older"),
    [
        ("SkylakeX", "Haswell"),
        ("Cooperlake", "Haswell"),
        ("SapphireRapids", "Haswell"),
        ("Haswell", "Sandybridge"),
        ("Zen", "Sandybridge"),
        ("Sandybridge", "Nehalem"),
        ("Nehalem", "Prescott"),
        ("Prescott", None),
        ("NeoverseN1", "ARMV8"),
        ("ARMV8", None),
    ],
)
def test_blas_kernel_goes_one_openblas_family_older(current, older):
    assert older_openblas_family(current) == older


def test_blas_kernel_steps_below_the_oldest_family_any_loaded_openblas_runs():
    # numpy 1.23's OpenBLAS 0.3.20 says Zen (Haswell's kernels) where scipy's 0.3.27 says
    # Cooperlake on the same CPU: Haswell would leave numpy's kernels as they were.
    assert older_openblas_family("Cooperlake", "Zen") == "Sandybridge"
    assert older_openblas_family("Zen", "Cooperlake") == "Sandybridge"
    assert older_openblas_family("SkylakeX", "Prescott") is None


def test_blas_kernel_limits_mkl_below_the_cpus_best_instructions():
    assert mkl_instructions(frozenset({"avx2", "avx512f"})) == "AVX2"
    assert mkl_instructions(frozenset({"avx2"})) == "SSE4_2"


def _kernels(architecture: str | None, dispatched: list[str], error: str | None = None) -> Kernels:
    pools = (
        ()
        if architecture is None
        else (
            {
                "user_api": "blas",
                "internal_api": "openblas",
                "prefix": "libopenblas",
                "architecture": architecture,
            },
        )
    )
    return Kernels(pools, {"baseline": ["SSE3"], "dispatched": dispatched}, frozenset({"avx2"}), error)


def test_a_kernel_switch_the_library_ignores_makes_the_variation_not_applicable(workspace):
    # An OpenBLAS built for one CPU only reports the same family whatever OPENBLAS_CORETYPE says.
    workspace._kernels = {
        (): _kernels("Haswell", ["AVX2"]),
        (("OPENBLAS_CORETYPE", "Sandybridge"),): _kernels("Haswell", ["AVX2"]),
    }

    assert lookup("blas_kernel").unavailable(workspace) == (
        "OpenBLAS ignores OPENBLAS_CORETYPE=Sandybridge here (a build without DYNAMIC_ARCH)"
    )


def test_blas_kernel_and_simd_name_what_they_switch_to(workspace):
    workspace._kernels = {
        (): _kernels("Haswell", ["SSE41", "AVX2"]),
        (("OPENBLAS_CORETYPE", "Sandybridge"),): _kernels("Sandybridge", ["SSE41", "AVX2"]),
        (("NPY_DISABLE_CPU_FEATURES", "SSE41 AVX2"),): _kernels("Haswell", []),
    }

    assert describe("blas_kernel", workspace) == (
        "OpenBLAS kernel Haswell",
        "Sandybridge (OPENBLAS_CORETYPE=Sandybridge)",
    )
    assert describe("simd", workspace) == (
        "numpy dispatching SSE41 AVX2",
        "baseline SSE3 only (NPY_DISABLE_CPU_FEATURES=SSE41 AVX2)",
    )


def test_simd_does_not_apply_when_numpy_dispatches_nothing_above_its_baseline(workspace):
    workspace._kernels = {(): _kernels("Haswell", [])}

    assert (
        lookup("simd").unavailable(workspace)
        == "numpy dispatches no extension above its baseline on this CPU"
    )


def test_a_failing_probe_is_a_reason_not_a_crash(workspace):
    workspace._kernels = {(): _kernels(None, [], error="ModuleNotFoundError: No module named 'numpy'")}

    assert lookup("blas_kernel").unavailable(workspace).startswith("could not see which BLAS")
    assert lookup("simd").unavailable(workspace).startswith("could not see numpy's SIMD dispatch")
