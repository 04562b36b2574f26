"""The command lines find and read a project's settings as pytest does: the same file, the same values, the same errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.cli.project_settings import find_project, read_project_settings
from pytest_repro.errors import ConfigError
from pytest_repro.settings.resolved import read_settings

SETUP_CFG = """\
[tool:pytest]
repro_command = python src/train.py --out {output_dir}
repro_outputs = models/*.pkl "reports/metrics file.json"
repro_lineage = lineage/train.json
repro_timeout = 90
repro_copy =
    data/*.parquet
    data/*.bin
"""


def test_the_first_folder_upwards_with_a_pytest_section_is_the_rootdir(tmp_path: Path):
    (tmp_path / "tox.ini").write_text("[pytest]\nrepro_lineage = up/lineage.json\n")
    child = tmp_path / "ml"
    (child / "src").mkdir(parents=True)
    (child / "pyproject.toml").write_text("[project]\nname = 'ml'\n")  # no pytest section: not pytest's
    project = find_project(child / "src")
    assert (project.root, project.inifile) == (tmp_path, tmp_path / "tox.ini")
    assert project.options == {"repro_lineage": "up/lineage.json"}


def test_within_one_folder_pytests_order_decides(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\nrepro_lineage = "a.json"\n')
    (tmp_path / "pytest.ini").write_text("[pytest]\nrepro_lineage = b.json\n")
    assert find_project(tmp_path).inifile == tmp_path / "pytest.ini"


def test_without_any_pytest_section_the_nearest_pyproject_is_the_rootdir(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (tmp_path / "sub").mkdir()
    project = find_project(tmp_path / "sub")
    assert (project.root, project.options) == (tmp_path, {})


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("setup.cfg", SETUP_CFG),
        (
            "pyproject.toml",
            "[tool.pytest.ini_options]\n"
            'repro_command = "python src/train.py --out {output_dir}"\n'
            'repro_outputs = ["models/*.pkl", "reports/metrics file.json"]\n'
            'repro_lineage = "lineage/train.json"\n'
            'repro_timeout = "90"\n'
            'repro_copy = ["data/*.parquet", "data/*.bin"]\n',
        ),
    ],
)
def test_a_command_line_resolves_the_same_settings_as_pytest(pytester: pytest.Pytester, name: str, text: str):
    pytester.makefile(Path(name).suffix, **{Path(name).stem: text})
    from_pytest = read_settings(pytester.parseconfigure())
    from_the_ini = read_project_settings(find_project(pytester.path))
    assert from_the_ini == from_pytest
    assert from_the_ini.command.outputs == ("models/*.pkl", "reports/metrics file.json")
    assert from_the_ini.lineage_path == pytester.path / "lineage" / "train.json"
    assert from_the_ini.timeout == 90
    assert from_the_ini.project.always_copy == ("data/*.parquet", "data/*.bin")


def test_a_bad_value_is_the_same_one_line_as_under_pytest(tmp_path: Path):
    (tmp_path / "pytest.ini").write_text("[pytest]\nrepro_tracking = cloud\n")
    with pytest.raises(ConfigError) as error:
        read_project_settings(find_project(tmp_path))
    assert str(error.value) == "pytest.ini: ini repro_tracking: got 'cloud'; expected one of run, user"
