"""A real headless Chromium opens a report of a real session: it renders, draws, and logs no console message.

Chromium is a Debian package (`apt-get install chromium`, done by `.ci/run`); where it
is not installed these tests skip, naming what they looked for.  Chromium is run as
a stranger's browser would be, with nothing but the file: no network, no extension,
a fresh profile.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest
from html_report import read_page, summary_rows

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
WIDTH, HEIGHT = 1280, 1800
# The set iteration order of strings follows PYTHONHASHSEED: the `hashseed` variation changes the model.
HASH_ORDERED_FEATURES = "list(dict.fromkeys(set(COLUMNS)))"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def chromium() -> str:
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    pytest.skip(
        f"no headless Chromium on PATH (looked for {', '.join(CANDIDATES)}; apt-get install chromium)"
    )


def browse(chromium: str, page: Path, profile: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium on a local file with console logging on stderr."""
    return subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",  # root in a container has no user namespace for the sandbox
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *arguments,
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def console_messages(stderr: str) -> list[str]:
    """The page's console messages (errors, warnings, CSP violations) among Chromium's own log lines."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


def png_facts(path: Path) -> tuple[int, int, int]:
    """Width, height, and how many distinct byte values its pixel data holds (1 or 2 for a blank page)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    chunks, offset = [], 8
    while offset < len(data):
        length, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if kind == b"IDAT":
            chunks.append(data[offset + 8 : offset + 8 + length])
        offset += 12 + length
    return width, height, len(set(zlib.decompress(b"".join(chunks))))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A report of a real session: twins that agree, a seed sweep, and a variation that breaks the model."""
    return tmp_path_factory.getbasetemp() / "chromium-report" / "report.html"


@pytest.fixture
def written_report(example, report: Path) -> Path:
    if not report.exists():
        example.write(feature_order=HASH_ORDERED_FEATURES, extra_metrics="{'auc': 0.8 + seed / 1000}")
        result = example.run(
            "--repro",
            "--repro-seeds=3-5",
            "--repro-vary=hashseed",
            "--repro-report=report.html",
            "-p",
            "no:randomly",
        )
        assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
        report.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(example.path / "report.html", report)
    return report


def test_chromium_renders_every_section_of_the_report_and_logs_no_console_message(
    chromium, written_report, tmp_path
):
    result = browse(chromium, written_report, tmp_path / "profile", "--dump-dom")

    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    # What Chromium built from the file, read back: every section, the table, the matrix, the plot.
    dom = read_page(result.stdout)
    assert list(dom.sections) == ["summary", "differences", "variations", "seeds", "environment"]
    assert [row[0] for row in summary_rows(dom)][-4:] == ["seed[3]", "seed[4]", "seed[5]", "vary[hashseed]"]
    header, *rows = dom.tables["variations"]
    assert header[:3] == ["variation", "reference → varied", "tested"]
    assert dict(zip(header[3:], rows[0][3:], strict=True))["model"] == "differs"
    assert len([tag for tag, _ in dom.tags if tag == "circle"]) == 3 * 2  # 3 seeds × (accuracy, auc)
    assert "vary[hashseed] · differs" in dom.sections["differences"]
    assert "process" in dom.sections["environment"]


def test_a_screenshot_of_the_report_shows_a_drawn_page(chromium, written_report, tmp_path):
    shot = tmp_path / "report.png"

    result = browse(
        chromium,
        written_report,
        tmp_path / "profile",
        f"--screenshot={shot}",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
    )

    assert result.returncode == 0, result.stderr[-2000:]
    assert console_messages(result.stderr) == []
    width, height, shades = png_facts(shot)
    assert (width, height) == (WIDTH, HEIGHT)
    assert shades > 50  # text, coloured cells and the plot, not a blank or an error page


def test_the_console_check_sees_a_page_that_logs_an_error(chromium, tmp_path):
    planted = tmp_path / "planted.html"
    planted.write_text("<!DOCTYPE html><title>t</title><script>console.error('planted failure')</script>")

    result = browse(chromium, planted, tmp_path / "profile", "--dump-dom")

    assert any("planted failure" in line for line in console_messages(result.stderr)), result.stderr[-2000:]
