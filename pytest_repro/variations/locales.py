"""Which locales this machine has, and which two the `locale` variation compares."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

# Tried in order for the varied locale; the first installed one wins (Turkish first,
# for its dotted and dotless i).
LOCALE_CANDIDATES = ("tr_TR.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "en_US.UTF-8", "C.UTF-8", "C")


def installed_locales() -> tuple[str, ...]:
    """Return the names `locale -a` lists (empty when the command is missing).

    This asks the machine a question rather than training, so it does not go through
    the training launcher.
    """
    try:
        listed = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in listed.stdout.splitlines() if line.strip())


def choose_locales(installed: Sequence[str]) -> tuple[str, str]:
    """Pick the reference locale (C.UTF-8 if installed, else C) and a different installed one."""
    normal = {_normal_locale(name): name for name in installed}
    reference = "C.UTF-8" if _normal_locale("C.UTF-8") in normal else "C"
    for candidate in LOCALE_CANDIDATES:
        if _normal_locale(candidate) in normal and _normal_locale(candidate) != _normal_locale(reference):
            return reference, normal[_normal_locale(candidate)]
    return reference, "C" if reference != "C" else "POSIX"


def same_locale(a: str, b: str) -> bool:
    """Whether two locale names spell the same locale (`C.UTF-8` and `C.utf8`)."""
    return _normal_locale(a) == _normal_locale(b)


def _normal_locale(name: str) -> str:
    return name.lower().replace("-", "")
