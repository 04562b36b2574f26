"""What a user sees of pytest-repro: generated checks, options, markers, fixtures, header and reports."""

from __future__ import annotations

import hashlib
import inspect
import re
import xml.etree.ElementTree as ET

import pytest

import pytest_repro.plugin

GENERATED_IDS = [
    "config.yaml::artifact[[]model]",
    "config.yaml::artifact[[]threshold]",
    "config.yaml::folds",
    "config.yaml::metrics",
    "config.yaml::lineage[[]run-a]",
    "config.yaml::lineage[[]run-b]",
    "config.yaml::replay",
    "artifacts/lineage.json::verify",
]
FIXTURES = ["repro_twins", "repro_run", "repro_lineage", "repro_compare", "repro_config", "repro_settings"]
MISSING_MANIFEST = "Missing artifacts/lineage.json. Run training first."


def _literal(text: str) -> str:
    """Escape fnmatch's character classes, so `[` in a line matches itself."""
    return text.replace("[", "[[]")


# ------------------------------------------------------------------ the generated checks


def test_deterministic_pipeline_passes_every_generated_check(example):
    example.write()

    result = example.run("--repro")

    result.assert_outcomes(passed=6, skipped=2)
    result.stdout.fnmatch_lines(
        [
            "*= reproducibility =*",
            "check * run-a * run-b * outcome",
            "artifact[[]model] * identical",
            "artifact[[]threshold] * identical",
            "folds * identical (3 folds)",
            "metrics * equal",
            "lineage[[]run-a] * verified (3 files, unsigned)",
            "lineage[[]run-b] * verified (3 files, unsigned)",
            "twin runs: wall time * s",
        ]
    )
    assert result.ret == pytest.ExitCode.OK


def test_entry_point_without_lineage_gets_one_recorded_by_the_plugin(example):
    example.write()

    result = example.run("--repro")

    result.stdout.fnmatch_lines(
        ["lineage[[]run-a] * verified (3 files, unsigned)", "lineage[[]run-b] * verified (3 files, unsigned)"]
    )


def test_lineage_written_by_the_training_is_verified_for_each_run(example):
    example.write(lineage=True)

    result = example.run("--repro")

    result.assert_outcomes(passed=6, skipped=2)
    result.stdout.fnmatch_lines(
        ["lineage[[]run-a] * verified (4 files*", "lineage[[]run-b] * verified (4 files*"]
    )


OWN_TRAINING = '''\
"""A user's own training: a small forest on scikit-learn's breast-cancer data."""

import json
from pathlib import Path

import joblib
import yaml
from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import RandomForestClassifier
from sklearn.model_selection import StratifiedKFold, cross_val_score


def fit_forest(config_path, output_dir, seed=None):
    settings = yaml.safe_load(Path(config_path).read_text())
    seed = settings["seed"] if seed is None else seed
    X, y = load_breast_cancer(return_X_y=True)
    X, y = X[::4], y[::4]
    splitter = StratifiedKFold(n_splits=settings["folds"], shuffle=True, random_state=seed)
    forest = RandomForestClassifier(n_estimators=settings["trees"], random_state=seed)
    scores = cross_val_score(forest, X, y, cv=splitter)
    forest.fit(X, y)
    out = Path(output_dir)
    joblib.dump(forest, out / "classifier.joblib")
    (out / "report.json").write_text(json.dumps({"cv_accuracy": scores.tolist()}))
    return {
        "artifacts": {"classifier": out / "classifier.joblib", "report": "report.json"},
        "folds": [test.tolist() for _, test in splitter.split(X, y)],
        "metrics": {"cv_accuracy": float(scores.mean())},
    }
'''


def test_own_training_function_plugs_in_through_ini_settings_alone(example):
    example.write(
        OWN_TRAINING,
        module="cancer_model",
        function="fit_forest",
        ini={"repro_config": "conf/train.yaml", "repro_artifacts": ["classifier", "report"]},
        config={"seed": 11, "folds": 3, "trees": 5},
        isolation="inprocess",
    )
    assert not list(example.path.rglob("conftest.py"))

    result = example.run("--repro", "-v")

    result.stdout.fnmatch_lines(
        [
            "repro: on; entry cancer_model:fit_forest, config conf/train.yaml (sha256 *), seed 11",
            "conf/train.yaml::artifact[[]classifier] PASSED*",
            "conf/train.yaml::artifact[[]report] PASSED*",
            "conf/train.yaml::folds PASSED*",
            "conf/train.yaml::metrics PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(["artifact[[]classifier] * identical", "folds * identical (3 folds)"])
    result.assert_outcomes(passed=6, skipped=2)


CHATTY_TRAINING = """\
import json, os, sys

def train(config_path, output_dir, seed=None):
    for tick in range(2000):
        print(f"tick {tick:04d} of a training that talks a lot", file=sys.stderr, flush=True)
    path = os.path.join(output_dir, "model.json")
    with open(path, "w") as handle:
        json.dump({"seed": seed}, handle)
    return {"artifacts": {"model": "model.json"}, "metrics": {}, "seed": seed}
"""


@pytest.mark.slow  # seconds: kept out of the default run, which must stay under a minute
def test_the_lines_of_two_concurrent_runs_reach_the_terminal_whole(example):
    # Each run's output is read by its own thread; unserialised, their writes interleave mid-line.
    example.write(CHATTY_TRAINING, isolation=None, ini={"repro_artifacts": ["model"]})

    result = example.run_subprocess("--repro")  # a real pipe, where writes let the other thread in

    relayed = [line for line in result.outlines if "tick " in line]
    assert len(relayed) == 4000
    broken = [
        line
        for line in relayed
        if not re.fullmatch(r"\[repro run-[ab]\] tick \d{4} of a training that talks a lot", line)
    ]
    assert broken == []


CRASHING_TRAINING = """\
def train(config_path, output_dir, seed=None):
    print("loading the data", flush=True)
    raise ValueError("boom from training")
"""


def test_crashing_training_fails_one_check_with_its_own_output_and_the_others_are_not_run(example):
    example.write(CRASHING_TRAINING, isolation=None)

    result = example.run("--repro", "-rs")

    # One cause, one failure: the first check shows the run's output; the rest say why they did not run.
    result.assert_outcomes(failed=1, skipped=7)
    result.stdout.fnmatch_lines(
        [
            "*_ repro artifact[[]model] _*",
            "the twin runs failed:",
            "run-a: training exited with status 1; the end of its output:",
            "loading the data",
            "Traceback (most recent call last):",
            "*ValueError: boom from training",
            "[[]run-b failed the same way]",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "artifact[[]model] * failed (run-a: training exited with status 1: ValueError: boom from training)",
            "artifact[[]threshold] * not run: run-a failed",
            "metrics * not run: run-a failed",
            "replay * not run: run-a failed",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "SKIPPED [[]6] config.yaml:1: not run: run-a failed; its failure and last output are reported by config.yaml::artifact[[]model]"
        ]
    )
    assert result.outlines.count("ValueError: boom from training") == 1, "the failure is told once"
    # Trained once: the other checks reuse the recorded failure instead of training again.
    assert result.outlines.count("[repro run-a] loading the data") == 1


def test_artifact_the_training_does_not_return_fails_listing_what_it_did_return(example):
    example.write(ini={"repro_artifacts": ["model", "scaler"]})

    result = example.run("--repro")

    result.stdout.fnmatch_lines(
        [
            "*_ repro artifact[[]scaler] _*",
            "run-a returned no artifact named 'scaler' (it returned: model, threshold)",
        ]
    )
    result.assert_outcomes(passed=5, failed=1, skipped=2)


def test_entry_point_breaking_the_contract_fails_naming_what_is_wrong(example):
    example.write("def train(config_path, output_dir, seed=None):\n    return None\n")

    result = example.run("--repro")

    result.stdout.fnmatch_lines(["the entry point must return a mapping, got NoneType"])
    result.assert_outcomes(failed=1, skipped=7)


def test_command_line_config_replaces_the_ini_config(example):
    example.write()
    (example.path / "small.yaml").write_text("seed: 5\nn_samples: 60\n")

    result = example.run("--repro", "--repro-config", "small.yaml", "-v")

    result.stdout.fnmatch_lines(
        [
            "repro: on; entry tinytrain:train, config small.yaml (sha256 *), seed 5",
            "small.yaml::artifact[[]model] PASSED*",
        ]
    )
    result.stdout.fnmatch_lines(["folds * identical (3 folds)"])
    result.assert_outcomes(passed=6, skipped=2)


# ------------------------------------------------------------------ options, markers, fixtures


def test_disabling_the_plugin_removes_the_repro_option(example):
    example.write()

    result = example.run("-p", "no:repro", "--repro")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unrecognized arguments: --repro*"])


def test_disabling_the_plugin_generates_no_checks(example):
    example.write()
    example.pytester.makepyfile(test_user="def test_plain():\n    pass\n")

    result = example.run("-p", "no:repro", "--collect-only")

    result.stdout.fnmatch_lines(["collected 1 item", "*<Module test_user.py>", "*<Function test_plain>"])
    result.stdout.no_fnmatch_line("*config.yaml*")
    result.stdout.no_fnmatch_line("*lineage.json*")
    result.stdout.no_fnmatch_line("repro: *")
    assert result.ret == pytest.ExitCode.OK


def test_markers_list_repro_and_lineage_with_their_help(example):
    example.write()

    result = example.run("--markers")

    result.stdout.fnmatch_lines(
        [
            "@pytest.mark.repro(config=None, seed=None, tolerance=None, isolation=None): a test that needs twin*",
            "@pytest.mark.lineage: a lineage check; *",
        ]
    )


@pytest.mark.parametrize("name", FIXTURES)
def test_fixtures_list_each_repro_fixture_with_its_docstring(example, name):
    example.write()
    first_line = inspect.getdoc(getattr(pytest_repro.plugin, name)).splitlines()[0]

    result = example.run("--fixtures")

    result.stdout.fnmatch_lines(
        [
            "*- fixtures defined from pytest_repro.plugin -*",
            f"{name} *-- *pytest_repro/plugin/__init__.py:*",
            f"    {_literal(first_line)}",
        ]
    )


def test_header_names_entry_config_hash_seed_isolation_and_rerun_command(example):
    example.write(isolation=None)
    config_hash = hashlib.sha256((example.path / "config.yaml").read_bytes()).hexdigest()[:12]

    result = example.run("--repro", "--repro-seed", "11", "--collect-only")

    result.stdout.fnmatch_lines(
        [
            f"repro: on; entry tinytrain:train, config config.yaml (sha256 {config_hash}), seed 11",
            "repro: isolation: 2 concurrent subprocesses (PYTHONHASHSEED 1 and 2, * BLAS/OpenMP thread each)",
            "repro: rerun with: pytest --repro --repro-config config.yaml --repro-seed 11",
        ]
    )


def test_rerun_command_repeats_the_probe_options(example):
    example.write()

    result = example.run(
        "--repro", "--repro-seeds", "3-4", "--repro-seed-sensitivity", "fail", "--collect-only"
    )

    result.stdout.fnmatch_lines(
        [
            "repro: rerun with: pytest --repro --repro-config config.yaml --repro-seed 3"
            " --repro-seeds 3-4 --repro-seed-sensitivity fail",
        ]
    )


def test_generated_checks_skip_without_the_repro_flag(example):
    example.write()
    example.pytester.makepyfile(
        test_user="import pytest\n\n@pytest.mark.repro\ndef test_marked(repro_twins):\n    pass\n"
    )

    result = example.run("-rs")

    result.assert_outcomes(skipped=9)
    result.stdout.fnmatch_lines(
        [
            "repro: off (pytest --repro to train twice and compare); *",
            "SKIPPED [[]7] config.yaml: reproducibility check: run with pytest --repro",
        ]
    )
    result.stdout.fnmatch_lines(
        ["SKIPPED [[]1] test_user.py:*: reproducibility check: run with pytest --repro"]
    )
    result.stdout.no_fnmatch_line("*= reproducibility =*")


def test_junitxml_records_both_runs_sha256_for_each_artifact_check(example):
    example.write()

    result = example.run("--repro", "--junitxml=report.xml")

    result.assert_outcomes(passed=6, skipped=2)
    cases = {case.get("name"): case for case in ET.parse(example.path / "report.xml").iter("testcase")}
    for name in ("artifact[model]", "artifact[threshold]"):
        properties = {p.get("name"): p.get("value") for p in cases[name].iter("property")}
        assert len(properties["sha256_run_a"]) == 64
        assert properties["sha256_run_a"] == properties["sha256_run_b"]
    model_hash = {p.get("name"): p.get("value") for p in cases["artifact[model]"].iter("property")}
    assert model_hash["sha256_run_a"][:12] in result.stdout.str()


def test_unknown_repro_marker_argument_is_a_usage_error_naming_the_allowed_ones(example):
    example.write()
    example.pytester.makepyfile(
        test_user="import pytest\n\n@pytest.mark.repro(bogus=1)\ndef test_marked():\n    pass\n"
    )

    result = example.run("--repro")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [
            "ERROR: test_user.py::test_marked: @pytest.mark.repro got unknown argument(s) bogus; "
            "allowed: config, seed, tolerance, isolation"
        ]
    )
    assert "INTERNALERROR" not in result.stdout.str() + result.stderr.str()


def test_bad_ini_isolation_is_a_usage_error_naming_the_setting(example):
    example.write(isolation="threads")

    result = example.run("--repro")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["ERROR: ini repro_isolation: got 'threads'; expected one of subprocess, inprocess"]
    )


SEEDED_USER_TEST = """\
import pytest


@pytest.mark.repro(seed=7)
def test_twins_trained_with_seed_7_are_identical(repro_twins, repro_compare):
    assert repro_twins.a.metrics["seed"] == repro_twins.b.metrics["seed"] == 7
    repro_compare(repro_twins.a, repro_twins.b)
"""


def test_marker_seed_wins_over_the_command_line_for_a_user_test(example):
    example.write()
    example.pytester.makepyfile(test_seeded=SEEDED_USER_TEST)

    result = example.run("--repro", "--repro-seed", "5", "test_seeded.py")

    result.assert_outcomes(passed=1)


RUN_FACTORY_USER_TEST = """\
import pytest


def test_seeds_change_the_folds(repro_run, repro_compare):
    one = repro_run(seed=1, label="seed-1")
    two = repro_run(seed=2, label="seed-2")
    assert one.folds != two.folds
    with pytest.raises(AssertionError, match="runs seed-1 and seed-2 differ"):
        repro_compare(one, two)
"""


def test_repro_run_with_two_seeds_gives_different_folds(example):
    example.write()
    example.pytester.makepyfile(test_seeds=RUN_FACTORY_USER_TEST)

    result = example.run("test_seeds.py")

    result.assert_outcomes(passed=1)


# ------------------------------------------------------------------ selection and lineage


def test_collect_only_lists_readable_ids(example):
    example.write()

    result = example.run("--collect-only", "-q")

    result.stdout.fnmatch_lines([*GENERATED_IDS, "8 tests collected*"])


def test_lineage_selection_fails_when_the_manifest_is_missing(example):
    example.write()

    result = example.run("-m", "lineage")

    result.assert_outcomes(failed=1, skipped=2, deselected=5)
    result.stdout.fnmatch_lines(
        [
            "*_ lineage verify _*",
            MISSING_MANIFEST,
            "FAILED artifacts/lineage.json::verify - Missing artifacts/lineage.json*",
        ]
    )


def test_plain_run_skips_a_missing_manifest(example):
    example.write()

    result = example.run("-rs")

    result.assert_outcomes(skipped=8)
    result.stdout.fnmatch_lines([f"SKIPPED [[]1] *: {MISSING_MANIFEST} (pytest -m lineage fails instead*"])
    assert result.ret == pytest.ExitCode.OK


def test_on_disk_manifest_is_verified_and_a_changed_file_is_named(example):
    from pytest_repro.lineage import write_lineage

    example.write()
    folder = example.path / "artifacts"
    folder.mkdir()
    files = {
        "dataset": example.path / "data.csv",
        "config": example.path / "config.yaml",
        "model": folder / "model.joblib",
        "threshold": folder / "threshold.txt",
    }
    files["dataset"].write_text("x,y\n1,0\n")
    files["model"].write_bytes(b"not really a model")
    files["threshold"].write_text("0.5\n")
    write_lineage(
        folder / "lineage.json",
        inputs={"dataset": files["dataset"], "config": files["config"]},
        outputs={"model": files["model"], "threshold": files["threshold"]},
        seed=3,
        root=example.path,
        environment={},
        code=None,
        signing_key=None,
    )

    verified = example.run("-m", "lineage")
    files["threshold"].write_text("0.55\n")
    tampered = example.run("-m", "lineage")

    verified.assert_outcomes(passed=1, skipped=2, deselected=5)
    tampered.assert_outcomes(failed=1, skipped=2, deselected=5)
    tampered.stdout.fnmatch_lines(
        ["threshold: artifacts/threshold.txt: SHA-256 is * but the lineage records *"]
    )


def test_marker_expression_repro_runs_only_generated_and_marked_tests(example):
    example.write()
    example.pytester.makepyfile(
        test_user="""\
import pytest


def test_plain():
    pass


@pytest.mark.repro
def test_marked(repro_twins):
    assert repro_twins.a.hashes == repro_twins.b.hashes
"""
    )

    result = example.run("--repro", "-m", "repro", "-v")

    result.assert_outcomes(passed=7, skipped=1, deselected=2)
    result.stdout.fnmatch_lines(["test_user.py::test_marked PASSED*"])
    result.stdout.no_fnmatch_line("*test_plain*")
    result.stdout.no_fnmatch_line("*lineage.json::verify*")


def test_a_crafted_commit_journal_fails_the_lineage_item_which_renames_nothing(example):
    import json

    from pytest_repro.lineage import write_lineage

    example.write()
    folder = example.path / "artifacts"
    folder.mkdir()
    model, threshold = folder / "model.joblib", folder / "threshold.txt"
    model.write_bytes(b"not really a model")
    threshold.write_text("0.5\n")
    lineage = write_lineage(
        folder / "lineage.json",
        inputs={"config": example.path / "config.yaml"},
        outputs={"model": model, "threshold": threshold},
        root=example.path,
        environment={},
        code=None,
        signing_key=None,
    )
    # A journal asking to move the model over the lineage, as an attacker could write it.
    (folder / ".commit.json").write_text(json.dumps({"renames": [["model.joblib", "lineage.json"]]}))
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    result = example.run("-m", "lineage")

    result.assert_outcomes(failed=1, skipped=2, deselected=5)
    result.stdout.fnmatch_lines(['*commit journal: renames[[]0[]]: "model.joblib" is not a staging file of*'])
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    assert lineage.read_bytes() == before["lineage.json"]
