"""`repro-run`: train the configured training once in the project, as a hand run would, and write its lineage.

    repro-run [--seed N] [--output-dir DIR]

The training is the one the project's ini configures for `pytest --repro`
(`repro_command` with `repro_outputs`, or `repro_train`), found as pytest finds it.
A command runs in the project itself, unchanged: this is the user asking to train.  A
function trains into `--output-dir` (default: the folder of `repro_lineage`).  What
every Python process of the run opened in the project is recorded, and the lineage
written at `repro_lineage` (default `artifacts/lineage.json`) names those inputs,
hashed, the outputs, the seed, and the git commit with its dirty flag, as the twins'
recorded lineages do: `pytest --repro` then replays it, and `repro-check`,
`repro-hook lineage`, `repro-export` and `pytest -m lineage` verify it.

Exit codes: 0 trained and recorded; 1 the training failed (its own output says why)
and nothing was recorded; 2 a bad setting (one line naming it); 3 an internal error.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from pytest_repro.cli.common import make_parser, run_cli
from pytest_repro.cli.project_settings import Project, configured_training, find_project, python_path
from pytest_repro.core.paths import shown_path
from pytest_repro.errors import EXIT_OK, ConfigError, Problem

PROG = "repro-run"


def main(argv: Sequence[str] | None = None) -> int:
    """Run `repro-run`; exit 0 when the training ran and its lineage is written (see the module's docstring)."""
    parser = make_parser(
        PROG,
        "Train the project's configured training once, in the project, and write its lineage at "
        "repro_lineage. Exit codes: 0 trained, 1 the training failed, 2 a bad setting.",
    )
    parser.add_argument(
        "--seed",
        default=None,
        metavar="INT",
        help="seed passed to a function training or a command's {seed} (default: the config's)",
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where a function training writes (default: the folder of repro_lineage)",
    )
    args = parser.parse_args(argv)
    return run_cli(lambda: _run(args))


def _run(args: argparse.Namespace) -> int:
    from pytest_repro.lineage.environment import code_version
    from pytest_repro.lineage.manifest import read_lineage
    from pytest_repro.lineage.signing import envelope_path
    from pytest_repro.running.hand_run import run_in_project
    from pytest_repro.running.launcher import write_run_lineage

    project = find_project()
    settings = configured_training(project, seed=(args.seed, "--seed"))
    request = settings.request()
    lineage = settings.lineage_path
    _check_lineage_target(lineage, project)
    output_dir = args.output_dir if args.output_dir is not None else lineage.parent
    what = settings.command.command if settings.command is not None else settings.entry
    where = "" if project.root == Path.cwd() else f" ({shown_path(project.root)})"
    _say(f"training {what} in the project itself{where}, as by hand")
    code = code_version(project.root)  # the code that trains, before the run rewrites a tracked output
    run = run_in_project(
        request,
        project.root,
        output_dir=output_dir.absolute(),
        leave_out={shown_path(path, project.root) for path in (lineage, envelope_path(lineage))},
        python_path=python_path(project),
    )
    for name in run.stale:
        _say(f"note: {name} matches repro_outputs but this run did not write it; left out of the lineage")
    if run.lineage is not None and run.lineage.resolve() == lineage.resolve():
        _say(f"the training wrote its own lineage, {shown_path(lineage)}")
        return EXIT_OK
    if run.lineage is not None:
        _say(f"note: the training's own lineage {shown_path(run.lineage)} is left as it is")
    _check_not_an_output(lineage, run.outputs.values(), project)
    lineage.parent.mkdir(parents=True, exist_ok=True)
    write_run_lineage(lineage, request, inputs=run.inputs, outputs=run.outputs, folds=run.folds, code=code)
    written = read_lineage(lineage)
    _say(f"wrote {shown_path(lineage)}: {_summary(written)}")
    return EXIT_OK


def _check_lineage_target(lineage: Path, project: Project) -> None:
    """Refuse, before anything trains, a `repro_lineage` outside the project, a folder, or a file that is not a lineage.

    The lineage is replaced atomically; whatever else is at its path (the dataset, a
    script, a config) would be lost, so only an earlier lineage may be overwritten.
    """
    from pytest_repro.errors import LineageError
    from pytest_repro.lineage.manifest import read_lineage

    shown = shown_path(lineage, project.root)
    if not lineage.absolute().parent.resolve().is_relative_to(project.root.resolve()):
        raise ConfigError(
            [
                Problem(
                    project.shown_inifile,
                    "repro_lineage",
                    f"{shown!r} is outside the project {shown_path(project.root)}; a lineage there would "
                    "name the project's files by paths that climb out of its folder, which --repro-against "
                    "refuses: set a path inside the project (an ignored folder is fine)",
                )
            ]
        )
    if not (lineage.exists() or lineage.is_symlink()):
        return
    if lineage.is_dir():
        raise ConfigError(
            [Problem(project.shown_inifile, "repro_lineage", f"{shown!r} is a folder, not a file")]
        )
    try:
        read_lineage(lineage)
    except LineageError:
        raise ConfigError(
            [
                Problem(
                    project.shown_inifile,
                    "repro_lineage",
                    f"{shown!r} exists and is not a lineage; refusing to overwrite it (remove it, or set "
                    "repro_lineage to another path); nothing trained",
                )
            ]
        ) from None


def _check_not_an_output(lineage: Path, outputs: Iterable[str | Path], project: Project) -> None:
    """Refuse to record over an output the run just wrote (the lineage would replace what it describes)."""
    if any(Path(output).resolve() == lineage.resolve() for output in outputs):
        shown = shown_path(lineage, project.root)
        raise ConfigError(
            [
                Problem(
                    project.shown_inifile,
                    "repro_lineage",
                    f"{shown!r} is an output of the run; set repro_lineage to another path; nothing was recorded",
                )
            ]
        )


def _summary(lineage: dict) -> str:
    """The lineage in one line: its inputs and outputs by name, the seed, the code version."""
    inputs, outputs = sorted(lineage.get("inputs") or {}), sorted(lineage.get("outputs") or {})
    code = lineage.get("code")
    parts = [_listed(len(inputs), "input", inputs), _listed(len(outputs), "output", outputs)]
    parts.append(f"seed {lineage.get('seed')}" if lineage.get("seed") is not None else "no seed")
    if code:
        parts.append(f"commit {code['git_commit'][:12]}{' (dirty)' if code.get('dirty') else ''}")
    else:
        parts.append("no git commit")
    return ", ".join(parts)


def _listed(count: int, noun: str, names: list[str]) -> str:
    shown = ", ".join(names) if len(names) <= 4 else ", ".join(names[:4]) + ", ..."
    return f"{count} {noun}{'' if count == 1 else 's'}" + (f" ({shown})" if names else "")


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
