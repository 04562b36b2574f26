"""A text holding one number: both values, Δ and the relative error, under the artifact's own name."""

from __future__ import annotations

from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.number_diff import diff_number, diff_number_files


def test_number_difference_gives_both_values_and_delta():
    difference = diff_number("threshold", "0.4132\n", "0.4127\n")

    assert difference == Difference(
        "threshold",
        "threshold differs: 0.4132 != 0.4127 (Δ -0.0005, relative 1.2e-03)",
        ("run a: '0.4132'", "run b: '0.4127'"),
    )


def test_number_whitespace_is_not_a_difference_but_spelling_is():
    assert diff_number("threshold", "0.5\n", "0.5") is None

    spelled = diff_number("threshold", "0.5", "0.50")
    assert spelled is not None
    assert spelled.summary == "threshold text differs but the value is equal: '0.5' vs '0.50'"

    unparsed = diff_number("threshold", "0.5", "high")
    assert unparsed is not None
    assert unparsed.details[-1] == "not a number in run b"


def test_number_files_lead_the_byte_report_with_the_values(tmp_path):
    path_a, path_b = tmp_path / "a.txt", tmp_path / "b.txt"
    path_a.write_text("0.001\n")
    path_b.write_text("0.002\n")

    difference = diff_number_files("learning_rates", path_a, path_b)

    assert difference is not None
    assert difference.summary == "learning_rates differ: first difference at byte 4 (both 6 bytes)"
    assert difference.details[0] == "learning_rates differ: 0.001 != 0.002 (Δ +0.001, relative 5.0e-01)"
    assert difference.details[3] == "first differing line 1: '0.001\\n' != '0.002\\n'"
