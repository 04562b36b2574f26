"""Publication refuses output names that could overwrite an input, each other, or its own machinery."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_repro.lineage import OutputNameError, Publication, check_output_names
from pytest_repro.lineage.output_names import LOCK_NAME


@pytest.mark.parametrize(
    ("outputs", "lineage_file", "says"),
    [
        ({"model": ".."}, "lineage.json", "is not a plain file name"),
        ({"model": "sub/model.pkl"}, "lineage.json", "is not a plain file name"),
        ({"model": ".commit.json"}, "lineage.json", "is reserved"),
        ({"model": ".training.lock"}, "lineage.json", "is reserved"),
        ({"model": ".model.abc.staged"}, "lineage.json", "staging files"),
        ({"model": "a.bin", "report": "A.BIN"}, "lineage.json", "names must be distinct"),
        ({"model": "lineage.json"}, "lineage.json", "names must be distinct"),
        ({"model": "lineage.json.dsse.json"}, "lineage.json", "signature envelope"),
    ],
)
def test_names_refused_as_a_set(tmp_path: Path, outputs: dict[str, str], lineage_file: str, says: str):
    with pytest.raises(OutputNameError, match=says):
        check_output_names(tmp_path, outputs, lineage_file=lineage_file)


def test_an_output_may_not_resolve_to_an_input(tmp_path: Path):
    data = tmp_path / "data.csv"
    data.write_text("x\n1\n", encoding="utf-8")
    (tmp_path / "out").symlink_to(tmp_path)  # an output folder that is the data's folder in disguise
    for folder in (tmp_path, tmp_path / "out"):
        with pytest.raises(OutputNameError, match="would overwrite the run's input 'data'") as info:
            check_output_names(folder, {"model": "data.csv"}, lineage_file="l.json", inputs={"data": data})
        assert info.value.entry == "model"


def test_publication_refuses_a_colliding_name_and_leaves_the_input(tmp_path: Path):
    data = tmp_path / "data.csv"
    data.write_bytes(b"x\n1\n")
    with pytest.raises(OutputNameError, match="would overwrite"), Publication(tmp_path) as publication:
        publication.add("model", "data.csv", b"weights")
        publication.finish("lineage.json", inputs={"data": data}, code=None)
    assert data.read_bytes() == b"x\n1\n"
    # The output lock is filelock's: some releases remove its file on release, others keep it.
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != LOCK_NAME) == ["data.csv"]


def test_publication_refuses_a_reserved_name_when_staged(tmp_path: Path):
    with pytest.raises(OutputNameError, match="reserved"), Publication(tmp_path) as publication:
        publication.add("model", ".commit.json", b"weights")
    assert not (tmp_path / ".commit.json").exists()
