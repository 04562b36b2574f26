"""Settings of the probes beyond the twin runs: environment variations, seed sweep, seed sensitivity.

Each is an ini setting and a command-line option; the command line wins.  Kept free of
heavy imports, like `settings`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_repro.contract import SEED_MAX, SEED_MIN
from pytest_repro.settings import recorded_addini

SENSITIVITY_MODES = ("warn", "fail", "off")
# What a portability variation (blas_kernel, simd, cpus) that changes the output does.
PORTABILITY_MODES = ("info", "fail")
MAX_SEEDS = 1000


@dataclass(frozen=True)
class ProbeSettings:
    """Which variations to check, which seeds to sweep, and what an unused seed does."""

    vary: tuple[str, ...]
    seeds: tuple[int, ...]
    sensitivity: str
    portability: str = "info"

    @property
    def fail_portability(self) -> bool:
        return self.portability == "fail"


def add_probe_options(parser: pytest.Parser) -> None:
    """Register --repro-vary, --repro-seeds and --repro-seed-sensitivity and their ini settings."""
    group = parser.getgroup("repro")
    group.addoption(
        "--repro-vary",
        default=None,
        metavar="all|NAME,NAME",
        help="also retrain under varied environments, one test per variation "
        "(hashseed, threads, n_jobs, workers, cwd, path, tz, locale, umask, home, time, row_order, blas_kernel, simd, cpus)",
    )
    group.addoption(
        "--repro-portability",
        default=None,
        choices=PORTABILITY_MODES,
        help="what a portability variation (blas_kernel, simd, cpus) that changes the output does: "
        "info (default, reported) or fail",
    )
    group.addoption(
        "--repro-seeds",
        default=None,
        metavar="RANGE|LIST",
        help="seed sweep: check that each seed reproduces (0-9 or 1,5,7) and summarise the metrics' spread",
    )
    group.addoption(
        "--repro-seed-sensitivity",
        default=None,
        choices=SENSITIVITY_MODES,
        help="train once more with seed+1: warn (default) or fail when no output changes; off skips it",
    )
    addini = recorded_addini(parser)
    addini("repro_vary", "variations checked under --repro (all or a comma list)", default="")
    addini("repro_seeds", "seeds swept under --repro (0-9 or 1,5,7)", default="")
    addini("repro_seed_sensitivity", "warn, fail or off", default="warn")
    addini(
        "repro_portability", "info or fail: a portability variation that changes the output", default="info"
    )


def read_probe_settings(config: pytest.Config) -> ProbeSettings:
    """Resolve command line over ini; a bad value is a usage error naming where it came from."""
    vary_option = config.getoption("repro_vary")
    vary_text, vary_source = (
        (vary_option, "--repro-vary")
        if vary_option is not None
        else (config.getini("repro_vary"), "ini repro_vary")
    )
    vary: tuple[str, ...] = ()
    if vary_text.strip():
        from pytest_repro.variations import VariationError, parse_selection

        try:
            vary = parse_selection(vary_text, vary_source)
        except VariationError as exc:
            raise pytest.UsageError(str(exc)) from None
    seeds_option = config.getoption("repro_seeds")
    seeds_text, seeds_source = (
        (seeds_option, "--repro-seeds")
        if seeds_option is not None
        else (config.getini("repro_seeds"), "ini repro_seeds")
    )
    seeds = parse_seeds(seeds_text, seeds_source) if seeds_text.strip() else ()
    sensitivity = config.getoption("repro_seed_sensitivity") or config.getini("repro_seed_sensitivity")
    if sensitivity not in SENSITIVITY_MODES:
        raise pytest.UsageError(
            f"ini repro_seed_sensitivity: got {sensitivity!r}; expected one of {', '.join(SENSITIVITY_MODES)}"
        )
    portability = config.getoption("repro_portability") or config.getini("repro_portability")
    if portability not in PORTABILITY_MODES:
        raise pytest.UsageError(
            f"ini repro_portability: got {portability!r}; expected one of {', '.join(PORTABILITY_MODES)}"
        )
    return ProbeSettings(vary=vary, seeds=seeds, sensitivity=sensitivity, portability=portability)


def parse_seeds(text: str, source: str) -> tuple[int, ...]:
    """Parse `0-9`, `1,5,7` or a mix (`0-4,10`) into distinct seeds in the order given."""
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        low, dash, high = part.partition("-")
        try:
            first = int(low, 10)
            last = int(high, 10) if dash else first
        except ValueError:
            raise pytest.UsageError(
                f"{source}: got {part!r} in {text!r}; expected a seed (7), a range (0-9) or a comma list"
            ) from None
        if not (SEED_MIN <= first <= last <= SEED_MAX):
            raise pytest.UsageError(
                f"{source}: got {part!r}; seeds lie in [0, 2**32 - 1] and a range runs low-high"
            )
        if last - first + 1 + len(seeds) > MAX_SEEDS:
            raise pytest.UsageError(f"{source}: {text!r} names more than {MAX_SEEDS} seeds")
        seeds.extend(seed for seed in range(first, last + 1) if seed not in seeds)
    return tuple(seeds)


def rerun_options(config: pytest.Config) -> list[str]:
    """The probe options and recorded run-a given on this command line, as words for the "rerun with" command.

    Ini settings are left out: a rerun reads the same ini file.
    """
    words: list[str] = []
    for name, flag in (
        ("repro_against", "--repro-against"),
        ("repro_vary", "--repro-vary"),
        ("repro_seeds", "--repro-seeds"),
        ("repro_seed_sensitivity", "--repro-seed-sensitivity"),
        ("repro_portability", "--repro-portability"),
    ):
        value = config.getoption(name)
        if value is not None:
            words += [flag, str(value)]
    return words
