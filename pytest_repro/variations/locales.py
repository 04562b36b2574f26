"""Which locales this machine has, and which two the `locale` variation compares.

The varied locale must sort strings differently from the reference: `C`, `POSIX` and
glibc's `C.UTF-8` all collate by code point, so varying between them shows nothing a
`sorted(key=locale.strxfrm)` or a locale-aware format would do on a user's machine.
When no other locale is installed the variation is not exercised, and says so.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence

# Tried in order for the varied locale; the first installed one wins (Turkish first,
# for its dotted and dotless i; German for its collation of umlauts).
LOCALE_CANDIDATES = ("tr_TR.UTF-8", "de_DE.UTF-8", "fr_FR.UTF-8", "en_US.UTF-8")
# Locales whose collation is plain code-point order, as normalised by `_normal_locale`.
_PLAIN = frozenset({"c", "posix", "c.utf8"})


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


def choose_locales(installed: Sequence[str]) -> tuple[str, str | None]:
    """Pick the reference locale (C.UTF-8 if installed, else C) and an installed one that collates otherwise.

    The varied locale is None when every installed locale collates by code point.
    """
    normal = {_normal_locale(name): name for name in installed}
    reference = "C.UTF-8" if _normal_locale("C.UTF-8") in normal else "C"
    for candidate in LOCALE_CANDIDATES:
        if _normal_locale(candidate) in normal:
            return reference, normal[_normal_locale(candidate)]
    others = [name for name in installed if not is_plain_locale(name)]
    # A UTF-8 one first: a training's UTF-8 text still decodes under it.
    others.sort(key=lambda name: "utf8" not in _normal_locale(name))
    return reference, others[0] if others else None


def is_plain_locale(name: str) -> bool:
    """Whether `name` collates by code point (C, POSIX, C.UTF-8 in any spelling)."""
    return _normal_locale(name) in _PLAIN


def _normal_locale(name: str) -> str:
    return name.lower().replace("-", "")
