"""The one on-disk memo of a session: computed by the first pytest-xdist worker that asks, reused by the rest.

Each entry is a JSON file in a folder every worker sees, written under a file lock
(filelock: the same exclusive lock on every platform).  A computation that fails with
an expected error stores the message, so the other workers report the same failure
instead of retrying an expensive training.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pytest_repro.lineage.atomic import write_json_atomic

T = TypeVar("T")


class SharedCache:
    """Results by key, memoised in memory and shared across xdist workers on disk."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._memo: dict[str, Any] = {}

    def get(
        self,
        key: str,
        compute: Callable[[Path], T],
        *,
        to_json: Callable[[T], Any],
        from_json: Callable[[Any], T],
        failure: type[Exception],
        expected: tuple[type[Exception], ...],
    ) -> T:
        """Return the value under `key`; the first caller computes it in the work folder `folder/key`.

        An exception of the `expected` types is stored and raised as `failure(message)`
        in every worker, now and on every later call.
        """
        if key not in self._memo:
            self._memo[key] = self._load_or_compute(key, compute, to_json, from_json, failure, expected)
        found = self._memo[key]
        if isinstance(found, Exception):
            raise found
        return found

    def has(self, key: str) -> bool:
        """Whether `key` is known already, here or on disk (another xdist worker computed it)."""
        return key in self._memo or (self.folder / f"{key}.json").exists()

    def claim(self, name: str, claimant: str) -> str:
        """Claim `name` for `claimant` if nobody has yet, in any xdist worker; return who holds it.

        The first caller's claim is a file created exclusively (`O_EXCL`), so exactly one
        claimant wins however many workers ask at once.
        """
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{name}.claimed"
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            for _ in range(100):  # the winner writes its name right after creating the file
                held = path.read_text(encoding="utf-8")
                if held:
                    return held
                time.sleep(0.01)
            return "another check"
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(claimant)
        return claimant

    def _load_or_compute(self, key, compute, to_json, from_json, failure, expected):  # type: ignore[no-untyped-def]
        from filelock import FileLock

        self.folder.mkdir(parents=True, exist_ok=True)
        result_path = self.folder / f"{key}.json"
        with FileLock(self.folder / f"{key}.lock"):
            if result_path.exists():
                data = json.loads(result_path.read_text(encoding="utf-8"))
                return failure(data["failure"]) if "failure" in data else from_json(data["value"])
            try:
                value = compute(self.folder / key)
            except expected as exc:
                write_json_atomic(result_path, {"failure": str(exc)})
                return failure(str(exc))
            write_json_atomic(result_path, {"value": to_json(value)})
            return value
