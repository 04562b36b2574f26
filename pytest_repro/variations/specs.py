"""How one run of the hunt is started, and what one side of a variation changes in it.

A variation is a pair of `Side`s (its reference and its varied value); applying a side
to a `RunSpec` changes only what that variation is about, so that a reference run and
a varied run differ in exactly what was varied.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pytest_repro.core.run_records import RunRequest


@dataclass(frozen=True)
class MovedProject:
    """A copy of the project's training inputs in another folder, for the `path` variation."""

    root: Path
    config_path: Path
    copied: tuple[str, ...]
    code_moved: bool


@dataclass(frozen=True)
class RunSpec:
    """How one run is started: what it trains, its environment changes, working directory, umask and CPUs."""

    request: RunRequest
    env: Mapping[str, str | None] = field(default_factory=dict)  # None removes a variable
    cwd: Path = Path()
    umask: int | None = None  # None keeps this process's (the umask variation always sets one)
    import_first: Path | None = None  # put before everything else on PYTHONPATH
    cpus: frozenset[int] | None = None  # the CPUs the run may use (its affinity); None: this process's


@dataclass(frozen=True)
class Side:
    """One side of a variation: how the report names it, and what it changes in a run spec.

    A side changes any of: environment variables (`env`, None removing one; `env_caps`
    lowering a number the run already sets), the working directory, the file-creation
    mask, where the project is (a moved copy of it), or the CPUs the run may use.
    """

    description: str
    env: Mapping[str, str | None] = field(default_factory=dict)
    cwd: Path | None = None
    umask: int | None = None
    moved: MovedProject | None = None
    cpus: frozenset[int] | None = None
    env_caps: Mapping[str, int] = field(default_factory=dict)

    def apply(self, spec: RunSpec) -> RunSpec:
        """Return `spec` with this side's settings."""
        env = {**spec.env, **self.env}
        for name, cap in self.env_caps.items():
            value = env.get(name)
            if value is not None and value.isdigit() and int(value) > cap:
                env[name] = str(cap)
        changes: dict[str, Any] = {"env": env}
        if self.cpus is not None:
            changes["cpus"] = self.cpus
        if self.cwd is not None:
            changes["cwd"] = self.cwd
        if self.umask is not None:
            changes["umask"] = self.umask
        if self.moved is not None:
            request = dataclasses.replace(spec.request, config_path=self.moved.config_path)
            if request.command is not None:  # a command training copies its tree from the moved project
                request = dataclasses.replace(
                    request, command=dataclasses.replace(request.command, root=self.moved.root)
                )
            if request.project is not None:  # ...and so does a function's run; the user's stays guarded
                request = dataclasses.replace(request, project=request.project.moved_to(self.moved.root))
            changes["request"] = request
            changes["import_first"] = self.moved.root
        return dataclasses.replace(spec, **changes)
