"""A misconfigured plugin is one usage error before collection (exit 4), never a green run.

And the generated checks are addressable like any test: by the config file's path, by
node id, and by `--lf`, which reruns exactly the checks that failed.
"""

from __future__ import annotations

import os

import pytest


def _single_error_line(result: pytest.RunResult) -> str:
    errors = [line for line in result.stderr.lines if line.startswith("ERROR:")]
    assert len(errors) == 1, result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert "passed" not in result.stdout.str()
    return errors[0]


def test_repro_without_a_training_is_a_usage_error(pytester: pytest.Pytester):
    pytester.makefile(".toml", pyproject="[tool.pytest.ini_options]\n")
    pytester.makepyfile(test_one="def test_one(): pass\n")
    result = pytester.runpytest("--repro")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "no training configured; set repro_train" in _single_error_line(result)


def test_plain_pytest_without_a_training_still_runs_the_project_tests(pytester: pytest.Pytester):
    pytester.makefile(".toml", pyproject="[tool.pytest.ini_options]\n")
    pytester.makepyfile(test_one="def test_one(): pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1)


def test_an_entry_point_that_does_not_import_is_one_usage_error(example):
    example.write(ini={"repro_train": "no_such_module:train"})
    result = example.run("--repro")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = _single_error_line(result)
    assert "repro_train 'no_such_module:train': cannot import 'no_such_module'" in line


def test_an_entry_point_without_the_function_is_one_usage_error(example):
    example.write(ini={"repro_train": "tinytrain:no_such_function"})
    result = example.run("--repro")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "has no attribute 'no_such_function'" in _single_error_line(result)


def test_a_missing_config_is_one_usage_error(example):
    example.write()
    result = example.run("--repro", "--repro-config", "nowhere.yaml")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "nowhere.yaml is not a file" in _single_error_line(result)


@pytest.mark.parametrize("named", [False, True], ids=["default-config", "named-config"])
def test_a_config_that_is_a_fifo_is_one_usage_error_before_anything_reads_it(example, named):
    # tinytrain reads its config with Path.read_text: a FIFO with no writer would block it forever.
    example.write(ini={"repro_config": "fifo.yaml"} if named else {})
    config = example.path / ("fifo.yaml" if named else "config.yaml")
    config.unlink()
    os.mkfifo(config)
    result = example.run("--repro")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{config} is not a regular file: a FIFO (set repro_config" in _single_error_line(result)


def test_a_misspelt_ini_key_names_the_nearest_setting(example):
    example.write(ini={"repro_trian": "tinytrain:train"})
    result = example.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    line = _single_error_line(result)
    assert "unknown pytest-repro setting 'repro_trian'; did you mean repro_train?" in line


def test_the_rerun_command_in_the_header_works_when_pasted(example):
    example.write(ini={"repro_config": "my configs/config.yaml"})
    result = example.run("--repro", "--co")
    result.stdout.fnmatch_lines(
        ["repro: rerun with: pytest --repro --repro-config 'my configs/config.yaml' --repro-seed 3"]
    )


# ------------------------------------------------------------------ addressing the generated checks


def test_the_config_path_selects_its_checks(example):
    example.write()
    result = example.run("--repro", "config.yaml")
    result.assert_outcomes(passed=6, skipped=1)


def test_a_node_id_selects_one_check(example):
    example.write()
    result = example.run("--repro", "config.yaml::artifact[model]", "-v")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*config.yaml::artifact?model? PASSED*"])


def test_last_failed_reruns_exactly_the_checks_that_failed(example, pytester: pytest.Pytester):
    example.write(model="RandomForestClassifier(n_estimators=5, max_depth=4)")
    first = pytester.runpytest("--repro")
    failed = sorted(r.nodeid for r in first.reprec.getreports("pytest_runtest_logreport") if r.failed)
    assert failed, first.stdout.str()
    again = pytester.runpytest("--repro", "--lf")
    rerun = sorted(r.nodeid for r in again.reprec.getreports("pytest_runtest_logreport") if r.when == "call")
    assert rerun == failed


def test_a_function_training_needs_no_config_file(pytester: pytest.Pytester):
    pytester.makefile(".toml", pyproject='[tool.pytest.ini_options]\nrepro_train = "noconfig:train"\n')
    pytester.makepyfile(
        noconfig="""
from pathlib import Path

def train(config_path, output_dir, seed=None):
    assert not Path(config_path).exists()  # the default path is passed; this training reads none
    (Path(output_dir) / "weights.bin").write_bytes(bytes(range(16)))
    return {"artifacts": {"weights": "weights.bin"}}
"""
    )
    result = pytester.runpytest("--repro", "-p", "no:cacheprovider", "-p", "no:randomly")
    result.stdout.fnmatch_lines(
        ["repro: on; entry noconfig:train, no config, seed *", "artifacts * identical*"]
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
