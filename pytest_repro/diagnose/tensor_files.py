"""Compare two tensor archives tensor by tensor: numpy ``.npz``, safetensors, PyTorch ``state_dict`` files.

Each format is recognised by its first bytes (`tensor_format`), whatever the file's
name.  ``.npz`` needs numpy and nothing else (object arrays, which need unpickling,
are not loaded).  safetensors is read here from its documented layout (an 8-byte
header length, a JSON header, the raw tensors), so the safetensors package is not
needed.  A PyTorch file is loaded by torch itself (``weights_only=True``, CPU), when
torch is installed; otherwise the diagnosis says so and compares bytes.  Every tensor
is reported as ndarrays_regression reports an array: its shape, how many elements
differ, the largest absolute and relative difference, the first differing element.
"""

from __future__ import annotations

import json
import struct
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pytest_repro.diagnose.array_stats import array_message
from pytest_repro.diagnose.bytes_diff import PathLike, files_to_open
from pytest_repro.diagnose.difference import Difference
from pytest_repro.diagnose.rendering import capped, key_text

ZIP_MAGIC = b"PK\x03\x04"
# torch.save's format before 1.6: a pickle of protocol 2 whose first object is this magic number.
TORCH_LEGACY_MAGIC = b"\x80\x02\x8a\x0al\xfc\x9cF\xf9 j\xa8P\x19"
# A safetensors header larger than this is not one (the format caps it at 100 MB).
SAFETENSORS_HEADER_LIMIT = 100_000_000
# safetensors dtype names -> numpy's; bfloat16 and 8-bit floats have no numpy dtype (see _widened).
_SAFETENSORS_DTYPES = {
    "F64": "<f8",
    "F32": "<f4",
    "F16": "<f2",
    "I64": "<i8",
    "I32": "<i4",
    "I16": "<i2",
    "I8": "i1",
    "U64": "<u8",
    "U32": "<u4",
    "U16": "<u2",
    "U8": "u1",
    "BOOL": "?",
    "BF16": "<u2",
    "F8_E4M3": "u1",
    "F8_E5M2": "u1",
}


def tensor_format(path: Path, head: bytes) -> str | None:
    """Name the tensor format a file holds, judged by its first bytes (and a zip's member names), or None."""
    if head.startswith(TORCH_LEGACY_MAGIC):
        return "PyTorch"
    if len(head) >= 10 and head[8:10] == b'{"':
        (size,) = struct.unpack("<Q", head[:8])
        if size <= min(SAFETENSORS_HEADER_LIMIT, path.stat().st_size - 8):
            return "safetensors"
    if head.startswith(ZIP_MAGIC):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (OSError, zipfile.BadZipFile):
            return None
        if names and all(name.endswith(".npy") for name in names):
            return "npz"
        if any(name.endswith("/data.pkl") for name in names):
            return "PyTorch"
    return None


def diff_tensor_files(
    path_a: PathLike, path_b: PathLike, *, name: str, max_lines: int = 8
) -> Difference | None:
    """Compare two tensor archives: bytes first, then each tensor; honest about what could not be read."""
    opened = files_to_open(path_a, path_b, name)
    if opened is None or isinstance(opened, Difference):
        return opened
    summary, what, byte_details = opened
    shown = Path(path_a).name
    loaded = [read_tensors(Path(path)) for path in (path_a, path_b)]
    for run, tensors in zip("ab", loaded, strict=True):
        if isinstance(tensors, str):
            return Difference(name, summary, (f"not read as tensors in run {run}: {tensors}", *byte_details))
    tensors_a, tensors_b = loaded[0], loaded[1]
    assert not isinstance(tensors_a, str) and not isinstance(tensors_b, str)
    lines = list(_tensor_lines(name, tensors_a, tensors_b))
    bytes_line = f"bytes: {what}"
    if not lines:
        return Difference(
            name,
            f"{shown} differs: all {len(tensors_a)} tensors equal; the file's other bytes differ "
            "(its metadata or layout)",
            (bytes_line, *byte_details),
        )
    count = sum(1 for line in lines if not line.startswith(f"{name}: "))
    listed = capped(lines, max_lines, "more tensors differ")
    what_differs = f"{count} of {len(set(tensors_a) | set(tensors_b))} tensors differ" if count else lines[0]
    return Difference(name, f"{shown} differs: {what_differs}", (*listed, bytes_line, *byte_details))


def _tensor_lines(root: str, a: Mapping[str, Any], b: Mapping[str, Any]) -> Iterable[str]:
    import numpy

    only_a, only_b = [k for k in a if k not in b], [k for k in b if k not in a]
    for keys, run in ((only_a, "a"), (only_b, "b")):
        if keys:
            yield f"{root}: {len(keys)} tensor(s) only in run {run}: {', '.join(key_text(k) for k in keys[:5])}"
    for key in a:
        if key not in b:
            continue
        x, y = numpy.asarray(a[key]), numpy.asarray(b[key])
        message = array_message(numpy, x, y)
        if message:
            yield f"{root}[{key_text(key)}]: shape {x.shape} {x.dtype}: {message}"


def read_tensors(path: Path) -> dict[str, Any] | str:
    """Every tensor of an archive as a numpy array, by name; or one line saying why they could not be read."""
    with open(path, "rb") as handle:
        head = handle.read(16)
    kind = tensor_format(path, head)
    try:
        if kind == "npz":
            return _npz(path)
        if kind == "safetensors":
            return _safetensors(path)
        if kind == "PyTorch":
            return _torch(path)
    except Exception as error:  # a damaged archive is a byte difference with a reason, not a crash
        return f"{kind} could not be read: {type(error).__name__}: {error}"
    return "not a tensor archive"


def _npz(path: Path) -> dict[str, Any] | str:
    try:
        import numpy
    except ImportError:
        return 'numpy is not installed (pip install "pytest-repro[sklearn]")'
    with numpy.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _safetensors(path: Path) -> dict[str, Any] | str:
    try:
        import numpy
    except ImportError:
        return 'numpy is not installed (pip install "pytest-repro[sklearn]")'
    with open(path, "rb") as handle:
        (size,) = struct.unpack("<Q", handle.read(8))
        header = json.loads(handle.read(size))
    start = 8 + size
    tensors = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            return f"tensor {name!r} has a dtype this reader does not know: {entry['dtype']}"
        begin, end = entry["data_offsets"]
        raw = numpy.fromfile(path, dtype=numpy.uint8, count=end - begin, offset=start + begin)
        array = raw.view(dtype).reshape(entry["shape"])
        tensors[name] = _widened(numpy, array, entry["dtype"])
    return tensors


def _widened(np: Any, array: Any, dtype: str) -> Any:
    """bfloat16 as the float32 it is the top half of; 8-bit floats stay raw bytes (compared exactly)."""
    if dtype == "BF16":
        return (array.astype(np.uint32) << 16).view(np.float32)
    return array


def _torch(path: Path) -> dict[str, Any] | str:
    try:
        import torch
    except ImportError:
        return "a PyTorch file; torch is not installed to read it (pip install torch)"
    # weights_only: tensors and plain containers only, never arbitrary code from the file.
    loaded = torch.load(path, map_location="cpu", weights_only=True)
    tensors: dict[str, Any] = {}
    _flatten(loaded, "", tensors, torch)
    return tensors


def _flatten(value: Any, prefix: str, into: dict[str, Any], torch: Any) -> None:
    """A state_dict (or a checkpoint of nested dicts and lists) as name -> numpy array, names joined by dots."""
    if isinstance(value, torch.Tensor):
        tensor = value.detach().cpu()
        # numpy has no bfloat16: widened to float32, which holds every bfloat16 exactly.
        into[prefix or "tensor"] = (tensor.float() if tensor.dtype == torch.bfloat16 else tensor).numpy()
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _flatten(item, f"{prefix}.{key}" if prefix else str(key), into, torch)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _flatten(item, f"{prefix}.{index}" if prefix else str(index), into, torch)
    else:
        into[prefix or "value"] = value
