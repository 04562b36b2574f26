"""Tensor archives are compared tensor by tensor: shape, how many elements differ, max |Δ| and relative |Δ|.

`.npz` needs numpy only; safetensors is read from its documented layout (the package is
used, when installed, only to write the files); a PyTorch state_dict needs torch, and
without it the diagnosis says so and falls back to bytes.
"""

from __future__ import annotations

import json
import struct
import sys
from pathlib import Path

import numpy as np
import pytest

from pytest_repro.core.run_records import RunRecord
from pytest_repro.diagnose import compare_artifact
from pytest_repro.diagnose.content_kind import ArtifactKind, file_kind
from pytest_repro.diagnose.digests import same_model_except
from pytest_repro.lineage.hashing import sha256_file

WEIGHT = np.arange(12, dtype=np.float32).reshape(3, 4) / 10
BIAS = np.zeros(3, dtype=np.float32)


def _pair(tmp_path: Path, name: str, write, nudge: float = 1e-6) -> tuple[Path, Path]:
    """Write one archive per run; run b's weight has one element moved by `nudge`."""
    paths = []
    for run, delta in (("a", 0.0), ("b", nudge)):
        weight = WEIGHT.copy()
        weight[1, 2] += delta
        (tmp_path / run).mkdir(exist_ok=True)
        path = tmp_path / run / name
        write(path, {"layer.weight": weight, "layer.bias": BIAS})
        paths.append(path)
    return paths[0], paths[1]


def _compare(path_a: Path, path_b: Path):
    def record(label: str, path: Path) -> RunRecord:
        return RunRecord(
            label=label,
            output_dir=path.parent,
            artifacts={"weights": path},
            hashes={"weights": sha256_file(path)},
            folds=None,
            metrics={},
            lineage=None,
            seconds=0.0,
            environment={},
        )

    return compare_artifact("weights", record("a", path_a), record("b", path_b))


def _write_safetensors(path: Path, tensors: dict[str, np.ndarray]) -> None:
    """The format by hand (an 8-byte header length, a JSON header, the raw data), as the spec writes it."""
    header, blobs, offset = {}, [], 0
    for name, array in tensors.items():
        data = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {
            "dtype": "F32",
            "shape": list(array.shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(encoded)) + encoded + b"".join(blobs))


def _write_npz(path: Path, tensors: dict[str, np.ndarray]) -> None:
    np.savez(path, **tensors)


EXPECTED_WEIGHT_LINE = (
    "weights['layer.weight']: shape (3, 4) float32: 1 of 12 elements differ, max |Δ| 1.01e-06 "
    "(max relative 1.7e-06); first at [1, 2]: 0.6000000238418579 != 0.6000010371208191"
)


@pytest.mark.parametrize(("name", "write"), [("w.npz", _write_npz), ("w.safetensors", _write_safetensors)])
def test_a_tensor_archive_names_the_tensor_its_shape_and_how_far_it_moved(tmp_path, name, write):
    path_a, path_b = _pair(tmp_path, name, write)

    difference = _compare(path_a, path_b)

    assert file_kind(path_a) is ArtifactKind.TENSORS
    assert difference.summary == f"{name} differs: 1 of 2 tensors differ"
    assert difference.details[0] == EXPECTED_WEIGHT_LINE
    assert difference.details[1].startswith("bytes: ")
    assert not same_model_except(path_a, path_b, ("n_jobs",))


def test_safetensors_written_by_the_library_are_read_without_it(tmp_path):
    safetensors = pytest.importorskip("safetensors.numpy", reason="safetensors is optional")

    path_a, path_b = _pair(
        tmp_path, "w.safetensors", lambda path, tensors: safetensors.save_file(tensors, path)
    )

    assert _compare(path_a, path_b).details[0] == EXPECTED_WEIGHT_LINE


def test_a_tensor_in_one_run_only_is_named(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    np.savez(tmp_path / "a" / "w.npz", weight=WEIGHT, bias=BIAS)
    np.savez(tmp_path / "b" / "w.npz", weight=WEIGHT)

    difference = _compare(tmp_path / "a" / "w.npz", tmp_path / "b" / "w.npz")

    assert difference.details[0] == "weights: 1 tensor(s) only in run a: 'bias'"


def test_pytorch_state_dicts_are_compared_tensor_by_tensor(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is optional")

    def save(path: Path, tensors: dict[str, np.ndarray]) -> None:
        torch.save({name: torch.from_numpy(array) for name, array in tensors.items()}, path)

    path_a, path_b = _pair(tmp_path, "w.pt", save)

    difference = _compare(path_a, path_b)

    assert file_kind(path_a) is ArtifactKind.TENSORS
    assert difference.details[0] == EXPECTED_WEIGHT_LINE


def test_a_pytorch_file_without_torch_installed_says_so_and_compares_bytes(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch", reason="PyTorch is optional (it writes the file)")

    def save(path: Path, tensors: dict[str, np.ndarray]) -> None:
        torch.save({name: torch.from_numpy(array) for name, array in tensors.items()}, path)

    path_a, path_b = _pair(tmp_path, "w.pt", save)
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails, as where it is not installed

    difference = _compare(path_a, path_b)

    assert difference.details[0] == (
        "not read as tensors in run a: a PyTorch file; torch is not installed to read it (pip install torch)"
    )
    assert difference.summary.startswith("w.pt differs: first difference at byte ")


def test_archives_whose_tensors_are_equal_say_so_and_name_the_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    np.savez(tmp_path / "a" / "w.npz", weight=WEIGHT)
    np.savez_compressed(tmp_path / "b" / "w.npz", weight=WEIGHT)

    difference = _compare(tmp_path / "a" / "w.npz", tmp_path / "b" / "w.npz")

    assert difference.summary == (
        "w.npz differs: all 1 tensors equal; the file's other bytes differ (its metadata or layout)"
    )
