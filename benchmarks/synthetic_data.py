"""Generate the bundled dataset, because the real "ml_datasource" purchase data cannot be shipped.

The synthetic file has the public dataset's schema and marginals (172 countries led by
IN, US and EG; a heavy-tailed minutes_watched with median about 7; about 9.2 % buyers;
575 exact duplicate rows) and a purchase that depends on engagement with noise, so the
models have something real but imperfect to learn.  The same seed gives the same bytes:
every draw comes from one `numpy.random.default_rng(seed)` in a fixed order, numbers
are written from integers (tenths, hundredths), never through float formatting.
numpy does not promise identical streams across its major versions, which is what the
pin registry (`pytest_repro.lineage.pins`) is for: a changed file fails loudly instead of silently.

Command line::

    python benchmarks/synthetic_data.py generate [--output ml_datasource.csv] [--seed N] [--rows N]
    python benchmarks/synthetic_data.py pin PATH
    python benchmarks/synthetic_data.py verify PATH
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from pytest_repro.cli import make_parser, run_cli
from pytest_repro.errors import EXIT_OK, DatasetError
from pytest_repro.lineage import (
    check_dataset_pin,
    pin_dataset,
    registry_path,
    sha256_file,
    write_bytes_atomic,
)


class col:
    """The dataset's column names."""

    COUNTRY = "student_country"
    DAYS_ON_PLATFORM = "days_on_platform"
    MINUTES_WATCHED = "minutes_watched"
    COURSES_STARTED = "courses_started"
    EXAMS_STARTED = "practice_exams_started"
    EXAMS_PASSED = "practice_exams_passed"
    MINUTES_ON_EXAMS = "minutes_spent_on_exams"
    PURCHASED = "purchased"
    NUMERIC_INPUTS = (
        DAYS_ON_PLATFORM,
        MINUTES_WATCHED,
        COURSES_STARTED,
        EXAMS_STARTED,
        EXAMS_PASSED,
        MINUTES_ON_EXAMS,
    )
    INPUT_COLUMNS = (COUNTRY, *NUMERIC_INPUTS)


__all__ = [
    "COUNTRIES",
    "DATASET_COLUMNS",
    "DATASET_FILE",
    "DATASET_ROWS",
    "DATASET_SEED",
    "MIN_ROWS",
    "check_dataset_pin",
    "generate_csv",
    "main",
    "pin_dataset",
    "write_dataset",
]

DATASET_SEED = 365
DATASET_ROWS = 17_761
DATASET_FILE = "ml_datasource.csv"
DATASET_COLUMNS: tuple[str, ...] = (*col.INPUT_COLUMNS, col.PURCHASED)
MIN_ROWS = 50  # room for the rows that carry the extremes, and both classes
# The generator holds every row in memory (about 1 KiB each, all steps together): ten million
# rows is a few GiB and minutes of work; a typo of a few more zeros fails at once instead.
MAX_ROWS = 10_000_000
DUPLICATES = 575  # exact duplicate rows in a full-size file; scaled for smaller ones
POSITIVE_RATE = 0.092

# Bounds of the public dataset.  Minutes are kept as integer tenths and hundredths so
# that the written text never depends on float formatting.
DAYS_MAX = 292
MINUTES_TENTHS_MIN = 1
MINUTES_TENTHS_MAX = 53_123
COURSES_MAX = 16
EXAMS_STARTED_MAX = 76
EXAMS_PASSED_MAX = 63
EXAM_HUNDREDTHS_MAX = 45_741

# ISO 3166-1 alpha-2, most common first.  "NA" is Namibia: the loader must not read it
# as missing, so it is guaranteed a row.
_COUNTRY_CODES = """
    IN US EG PK NG GB BD ZA CA KE PH AU DE ID MY AE SA GH FR NL IT ES BR MX TR ET NP LK VN SG
    IE PL RO GR PT SE BE CH AT DK NO FI CZ HU UA RU IL JO LB MA TN DZ IR IQ QA KW OM BH CN JP
    KR TW HK TH MM KH AR CL CO PE VE EC BO UY PY CR PA GT HN SV NI DO JM TT BB BS CU HT PR UG
    TZ RW ZM ZW MW MZ BW NA CM CI SN ML BF NE TD SD SO SS ER DJ BJ TG SL LR GN GM AO CD CG GA
    MG MU SC NZ FJ PG KZ UZ KG TJ AF AZ GE AM BY MD LT LV EE SK SI HR RS BA ME MK AL BG CY MT
    IS LU MN BT MV BN LA YE SY PS LY MR GY SR BZ LS SZ CV KM TL BI LC
"""
COUNTRIES: tuple[str, ...] = tuple(_COUNTRY_CODES.split())
_HEAD_SHARES = (0.25, 0.12, 0.06)  # IN, US, EG; the rest share what is left, Zipf-like
_ALL_COUNTRIES_FROM = 4 * len(COUNTRIES)  # below this size only Namibia is guaranteed a row


def generate_csv(seed: int = DATASET_SEED, n_rows: int = DATASET_ROWS) -> bytes:
    """Return the synthetic dataset as CSV bytes, identical for the same seed and row count."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(n_rows, bool) or not isinstance(n_rows, int) or not MIN_ROWS <= n_rows <= MAX_ROWS:
        raise ValueError(f"n_rows must be an integer in [{MIN_ROWS}, {MAX_ROWS}], got {n_rows!r}")
    rng = np.random.default_rng(seed)
    guaranteed = COUNTRIES if n_rows >= _ALL_COUNTRIES_FROM else ("NA",)
    protected = rng.choice(n_rows, size=len(guaranteed) + 4, replace=False)
    country_rows, extreme_rows = protected[: len(guaranteed)], protected[len(guaranteed) :]

    data = _draw_engagement(rng, n_rows)
    _set_extremes(data, extreme_rows)
    countries = _draw_countries(rng, n_rows)
    countries[country_rows] = [COUNTRIES.index(c) for c in guaranteed]
    data[col.PURCHASED] = _draw_purchases(rng, data, countries)
    # A record-watching buyer and a brand-new non-buyer: both classes exist at any size.
    data[col.PURCHASED][extreme_rows[0]] = 1
    data[col.PURCHASED][extreme_rows[2]] = 0

    lines = _format_rows(data, countries)
    target = round(DUPLICATES * n_rows / DATASET_ROWS)
    _plant_duplicates(rng, lines, protected, target)
    return ("\n".join([",".join(DATASET_COLUMNS), *lines]) + "\n").encode("ascii")


def write_dataset(path: str | Path, seed: int = DATASET_SEED, n_rows: int = DATASET_ROWS) -> str:
    """Write the synthetic dataset to `path` atomically and return its SHA-256."""
    path = Path(path)
    if path.is_dir():
        raise DatasetError(f"{path}: is a folder, expected a file name for the dataset")
    try:
        write_bytes_atomic(path, generate_csv(seed, n_rows))
    except FileNotFoundError:
        raise DatasetError(f"{path}: folder {path.parent} does not exist") from None
    except OSError as exc:
        raise DatasetError(f"{path}: cannot write the dataset ({exc.strerror})") from None
    return sha256_file(path)


def _draw_engagement(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Draw the numeric columns from one latent engagement level per student.

    Minutes watched grow with engagement and with time on the platform (log-normal,
    median about 7); courses, practice exams and exam minutes follow engagement, so
    the columns are correlated the way real usage data is.
    """
    tenure = rng.beta(1.1, 1.6, n)
    days = np.rint(tenure * DAYS_MAX).astype(np.int64)
    engagement = rng.standard_normal(n)
    log_minutes = np.log(7.0) + 1.55 * engagement + 0.9 * (tenure - 0.39) + rng.normal(0.0, 0.6, n)
    tenths = np.clip(np.rint(np.exp(log_minutes) * 10.0), MINUTES_TENTHS_MIN, MINUTES_TENTHS_MAX)
    courses = np.minimum(1 + rng.poisson(np.exp(-1.4 + 0.55 * engagement)), COURSES_MAX)

    takes_exams = rng.random(n) < _sigmoid(-1.3 + 1.1 * engagement)
    mean_exams = np.exp(0.4 + 0.6 * engagement)
    started = 1 + rng.negative_binomial(1, 1.0 / (1.0 + mean_exams))
    started = np.where(takes_exams, np.minimum(started, EXAMS_STARTED_MAX), 0)
    pass_rate = _sigmoid(0.1 + 0.5 * engagement + rng.normal(0.0, 0.9, n))
    passed = np.minimum(rng.binomial(started, pass_rate), EXAMS_PASSED_MAX)
    exam_minutes = rng.gamma(1.5 * np.maximum(started, 1), 2.4)
    hundredths = np.where(started > 0, np.rint(exam_minutes * 100.0), 0)
    hundredths = np.clip(hundredths, 0, EXAM_HUNDREDTHS_MAX)
    return {
        col.DAYS_ON_PLATFORM: days,
        col.MINUTES_WATCHED: tenths.astype(np.int64),
        col.COURSES_STARTED: courses.astype(np.int64),
        col.EXAMS_STARTED: started.astype(np.int64),
        col.EXAMS_PASSED: passed.astype(np.int64),
        col.MINUTES_ON_EXAMS: hundredths.astype(np.int64),
    }


def _set_extremes(data: dict[str, np.ndarray], rows: np.ndarray) -> None:
    """Put the public dataset's exact minima and maxima on four dedicated rows."""
    watcher, examinee, newcomer, veteran = (int(r) for r in rows)
    data[col.MINUTES_WATCHED][watcher] = MINUTES_TENTHS_MAX
    data[col.COURSES_STARTED][watcher] = COURSES_MAX
    data[col.DAYS_ON_PLATFORM][watcher] = max(int(data[col.DAYS_ON_PLATFORM][watcher]), 150)
    data[col.EXAMS_STARTED][examinee] = EXAMS_STARTED_MAX
    data[col.EXAMS_PASSED][examinee] = EXAMS_PASSED_MAX
    data[col.MINUTES_ON_EXAMS][examinee] = EXAM_HUNDREDTHS_MAX
    data[col.MINUTES_WATCHED][examinee] = max(int(data[col.MINUTES_WATCHED][examinee]), 9_000)
    data[col.DAYS_ON_PLATFORM][newcomer] = 0
    data[col.MINUTES_WATCHED][newcomer] = MINUTES_TENTHS_MIN
    data[col.COURSES_STARTED][newcomer] = 1
    data[col.EXAMS_STARTED][newcomer] = 0
    data[col.EXAMS_PASSED][newcomer] = 0
    data[col.MINUTES_ON_EXAMS][newcomer] = 0
    data[col.DAYS_ON_PLATFORM][veteran] = DAYS_MAX


def _draw_countries(rng: np.random.Generator, n: int) -> np.ndarray:
    head = np.array(_HEAD_SHARES)
    tail = (np.arange(1, len(COUNTRIES) - len(head) + 1) + 12.0) ** -2.0
    tail *= (1.0 - head.sum()) / tail.sum()
    return rng.choice(len(COUNTRIES), size=n, p=np.concatenate([head, tail]))


# Scales the purchase score: at 1.8 a buyer segment exists that a model can pick out at
# precision 0.9 (about 40 % recall), as in the public data; at 1.0 it barely does.
SIGNAL_SHARPNESS = 1.8


def _draw_purchases(
    rng: np.random.Generator, data: dict[str, np.ndarray], countries: np.ndarray
) -> np.ndarray:
    """Draw who buys: mostly heavy watchers with exam practice, plus noise nobody observes.

    The intercept is solved (bisection) so the expected buying rate is POSITIVE_RATE.
    """
    minutes = data[col.MINUTES_WATCHED] / 10.0
    started = data[col.EXAMS_STARTED]
    passed = data[col.EXAMS_PASSED]
    country_effect = rng.normal(0.0, 0.3, len(COUNTRIES))[countries]
    score = SIGNAL_SHARPNESS * (
        1.45 * np.log1p(minutes)
        + 0.9 * data[col.DAYS_ON_PLATFORM] / DAYS_MAX
        + 0.35 * (data[col.COURSES_STARTED] - 1)
        + 0.45 * np.log1p(started)
        + 0.8 * passed / np.maximum(started, 1)
        + country_effect
        + rng.normal(0.0, 0.6, len(countries))
    )
    low, high = -200.0, 200.0
    for _ in range(80):
        middle = (low + high) / 2.0
        if _sigmoid(score + middle).mean() < POSITIVE_RATE:
            low = middle
        else:
            high = middle
    chance = _sigmoid(score + (low + high) / 2.0)
    return (rng.random(len(countries)) < chance).astype(np.int64)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _format_rows(data: dict[str, np.ndarray], countries: np.ndarray) -> list[str]:
    columns = [data[name].tolist() for name in DATASET_COLUMNS[1:]]
    return [
        f"{COUNTRIES[c]},{days},{tenths // 10}.{tenths % 10},{courses},{started},{passed},"
        f"{hundredths // 100}.{hundredths % 100:02d},{bought}"
        for c, days, tenths, courses, started, passed, hundredths, bought in zip(
            countries.tolist(), *columns, strict=True
        )
    ]


def _plant_duplicates(rng: np.random.Generator, lines: list[str], protected: np.ndarray, target: int) -> None:
    """Copy whole rows over others until exactly `target` rows repeat an earlier one.

    Rows that collide by chance count towards the target.  Only rows that are unique
    and unprotected are overwritten or copied, so each copy adds exactly one duplicate
    and the rows holding extremes and guaranteed countries survive.
    """
    counts: dict[str, int] = {}
    for line in lines:
        counts[line] = counts.get(line, 0) + 1
    kept = set(protected.tolist())
    free = np.array([i for i, line in enumerate(lines) if counts[line] == 1 and i not in kept])
    needed = min(target - (len(lines) - len(counts)), len(free) // 2)
    if needed <= 0:
        return
    chosen = rng.permutation(free)[: 2 * needed]
    for destination, source in zip(chosen[:needed], chosen[needed:], strict=True):
        lines[destination] = lines[source]


def main(argv: Sequence[str] | None = None) -> int:
    """`python benchmarks/synthetic_data.py`: generate, pin or verify the bundled dataset."""
    parser = make_parser(
        "python benchmarks/synthetic_data.py",
        "Generate the synthetic ml_datasource dataset, pin its SHA-256, or verify the pin.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    generate = commands.add_parser("generate", help="write the synthetic dataset as CSV")
    generate.add_argument("--output", default=DATASET_FILE, help="CSV to write (default: %(default)s)")
    generate.add_argument(
        "--seed", type=_non_negative, default=DATASET_SEED, help="generator seed (default: %(default)s)"
    )
    generate.add_argument(
        "--rows", type=_row_count, default=DATASET_ROWS, help="rows to write (default: %(default)s)"
    )
    pin = commands.add_parser("pin", help="record PATH's SHA-256 in the registry beside it")
    pin.add_argument("path", metavar="PATH", help="dataset file")
    verify = commands.add_parser("verify", help="check PATH against its pinned SHA-256 (exit 1 if not)")
    verify.add_argument("path", metavar="PATH", help="dataset file")
    args = parser.parse_args(argv)

    def command() -> int:
        if args.command == "generate":
            digest = write_dataset(args.output, seed=args.seed, n_rows=args.rows)
            print(f"wrote {args.output} ({args.rows} rows, seed {args.seed}), SHA-256 {digest}")
        elif args.command == "pin":
            digest = pin_dataset(args.path)
            print(f"{digest}  {args.path}  (pinned in {registry_path(args.path)})")
        else:
            digest = check_dataset_pin(args.path)
            print(f"{args.path}: OK, SHA-256 {digest} matches {registry_path(args.path)}")
        return EXIT_OK

    return run_cli(command)


def _non_negative(text: str) -> int:
    try:
        value = int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def _row_count(text: str) -> int:
    value = _non_negative(text)
    if not MIN_ROWS <= value <= MAX_ROWS:
        raise argparse.ArgumentTypeError(f"expected {MIN_ROWS} to {MAX_ROWS} rows, got {value}")
    return value


if __name__ == "__main__":
    raise SystemExit(main())
