"""Training code that fails loudly where a run's replacement of a builtin binds as a method.

`logging.Formatter` keeps `converter = time.localtime` and calls `self.converter(seconds)`;
a class may keep `time.time` or `os.listdir` the same way.  Prepended to a training (or run
alone), it raises unless the run site's replacements behave as the builtins they replace.
"""

CLASS_ATTRIBUTES = """\
import io
import logging
import os
import time

stream = io.StringIO()
handler = logging.StreamHandler(stream)
handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
logger = logging.getLogger("transparency")
logger.addHandler(handler)
logger.warning("trained")
assert stream.getvalue().rstrip().endswith(" trained"), stream.getvalue()


class Kept:
    clock = time.time
    listing = os.listdir


assert Kept().clock() > 0 and isinstance(Kept().listing("."), list)
"""
