"""Tell what an artifact file holds from its content, so that its diagnosis does not depend on its name.

Every project names its artifacts differently (``model``, ``weights``, ``report``),
so the plugin looks at the bytes: a pickle (what joblib.dump and pickle.dump write,
possibly compressed) is a model to walk; a LightGBM, XGBoost or CatBoost model file
is compared tree by tree; a tensor archive (``.npz``, safetensors, a PyTorch
``state_dict``) tensor by tensor; JSON leaf by leaf; a small text holding one number
as a number; anything else as bytes.  The checks read a few bytes (and a zip's member
names), and parse only small files.
"""

from __future__ import annotations

import enum
import json
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import IO

from pytest_repro.diagnose.boosters import tree_model_format
from pytest_repro.diagnose.number_diff import parse_number
from pytest_repro.diagnose.tensor_files import TORCH_LEGACY_MAGIC, tensor_format

# Suffixes that announce a pickle even when its first bytes do not (protocols 0 and 1).
MODEL_SUFFIXES = (".joblib", ".pkl", ".pickle")
# A text holding one number is at most this long ("-1.2345678901234567e-308\n" and then some).
NUMBER_TEXT_LIMIT = 64
# Files up to this size are parsed to see whether they hold JSON.
JSON_SNIFF_LIMIT = 16 * 1024 * 1024
# joblib's lz4 frames; lz4 is not in the standard library, so the magic alone counts.
LZ4_MAGIC = b"\x04\x22\x4d\x18"
# Enough of a file to read every magic number above, and those of the tree and tensor formats.
HEAD_SIZE = 64


class ArtifactKind(enum.IntEnum):
    """What a file holds; when two runs disagree, the higher kind is diagnosed."""

    BYTES = 0
    NUMBER = 1
    JSON = 2
    MODEL = 3
    TREES = 4  # a LightGBM, XGBoost or CatBoost model file
    TENSORS = 5  # .npz, safetensors, a PyTorch state_dict


# The kinds that hold a fitted model, whatever its library.
MODEL_KINDS = frozenset({ArtifactKind.MODEL, ArtifactKind.TREES, ArtifactKind.TENSORS})


def artifact_kind(path_a: Path, path_b: Path) -> ArtifactKind:
    """Return the kind of the pair: the higher of the two files' kinds (a missing file counts as bytes)."""
    return max(file_kind(Path(path_a)), file_kind(Path(path_b)))


def file_kind(path: Path) -> ArtifactKind:
    """Return what one file holds, judged by its first bytes, its suffix, and for small files its text."""
    if not path.is_file():
        return ArtifactKind.BYTES
    with open(path, "rb") as handle:
        head = handle.read(HEAD_SIZE)
    if head.startswith(TORCH_LEGACY_MAGIC):  # a pickle, but of tensors that only torch can read
        return ArtifactKind.TENSORS
    if path.suffix.lower() in MODEL_SUFFIXES or is_pickle(head) or _is_compressed_pickle(path, head):
        return ArtifactKind.MODEL
    if tensor_format(path, head) is not None:
        return ArtifactKind.TENSORS
    if tree_model_format(head) is not None:
        return ArtifactKind.TREES
    if path.suffix.lower() == ".json":
        return ArtifactKind.JSON
    size = path.stat().st_size
    text = _text(path) if size <= JSON_SNIFF_LIMIT else None
    if text is None:
        return ArtifactKind.BYTES
    # A number is valid JSON too; as a number it gets the more telling report (both values, Δ).
    if size <= NUMBER_TEXT_LIMIT and parse_number(text) is not None:
        return ArtifactKind.NUMBER
    return ArtifactKind.JSON if _parses_as_json(text) else ArtifactKind.BYTES


def is_pickle(head: bytes) -> bool:
    """Return whether `head` starts a pickle of protocol 2 or later: PROTO (0x80), then the protocol."""
    return len(head) >= 2 and head[0] == 0x80 and 2 <= head[1] <= pickle.HIGHEST_PROTOCOL


def _is_compressed_pickle(path: Path, head: bytes) -> bool:
    """Return whether `path` is a pickle compressed the ways joblib.dump compresses."""
    if head.startswith(LZ4_MAGIC):
        return True
    try:
        return is_pickle(_decompressed_head(path, head))
    except Exception:  # not really compressed, or truncated: then it is not a model either
        return False


def _decompressed_head(path: Path, head: bytes) -> bytes:
    """Return the first decompressed bytes of `path`, or b"" when `head` announces no compression."""
    # zlib, bz2 and lzma are optional parts of a Python build; import them only when a file needs them.
    opener: Callable[[Path], IO[bytes]] | None = None
    if head.startswith(b"\x1f\x8b"):
        import gzip

        opener = gzip.open
    elif head.startswith(b"BZh"):
        import bz2

        opener = bz2.open
    elif head.startswith((b"\xfd7zXZ\x00", b"\x5d\x00\x00")):  # xz, and legacy .lzma
        import lzma

        opener = lzma.open
    elif len(head) >= 2 and head[0] == 0x78 and (head[0] * 256 + head[1]) % 31 == 0:
        # A zlib stream: deflate with a 32K window (0x78), a header checksum divisible by 31.
        import zlib

        with open(path, "rb") as handle:
            return zlib.decompressobj().decompress(handle.read(4096), 2)
    if opener is None:
        return b""
    with opener(path) as handle:
        return handle.read(2)


def _text(path: Path) -> str | None:
    """Return the file decoded as UTF-8, or None when it is not text."""
    try:
        return path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parses_as_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True
