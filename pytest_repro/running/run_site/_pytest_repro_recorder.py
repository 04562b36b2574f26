"""The run recorder: what each Python process of a run read, and where in the user's code.

Installed at start-up in every Python process of a run (`sitecustomize` in this folder)
and directly in a function training's worker, when `REPRO_RECORD` names the run's
record folder.  Standard library only.  It notes, each kind at most `LIMIT` times,
with the call site in the user's code (the first frame outside the standard library,
site-packages and this folder):

- `env`: environment variables read (through os.environ, os.getenv, os.environ.get);
- `open`: files opened for reading (audit events);
- `listdir`: folders listed (os.listdir, os.scandir, and so glob, Path.iterdir, os.walk),
  with the order of the first listing (a checksum of the names in order and of the names
  sorted), so that two runs' orders can be compared;
- `clock`: wall-clock reads through `time.time` and `time.time_ns`, and the user's own
  calls of `datetime.now()`, `datetime.utcnow()`, `datetime.today()` and `date.today()`,
  with the hour the first one read (what a shifted clock or time zone changes); and the
  user's own conversions in the local time zone (`time.localtime`, `time.mktime`,
  `time.ctime`, `time.strftime`), with the zone's UTC offset;
- `cores`: core counts read (`os.cpu_count`, `os.sched_getaffinity`);
- `unseeded`: draws from a random source no seed reached: `random`'s and numpy's
  global generators before any `seed()`, `numpy.random.default_rng()` without a seed,
  scikit-learn's `check_random_state(None)` (an estimator with `random_state=None`
  that consumes randomness), `uuid.uuid4`;
- `entropy`: `os.urandom` reads, which libraries also make for their own ends.

Each event keeps its `order` (when this process first saw it, so the earliest of several
causes can be named) and whether the user's code made the call itself (`direct`) or a
library did on its behalf.  At exit the process writes `<pid>.json` into the record
folder, atomically.  The recorder never changes a result: every wrapper calls the
original with the same arguments and returns what it returned, and an error inside the
recorder is swallowed.
"""

import atexit
import contextlib
import json
import os
import sys
import sysconfig
import threading

RECORD_VARIABLE = "REPRO_RECORD"
ESTIMATOR_DRAW = "an estimator with random_state=None draws from numpy's global generator"
LIMIT = 2000  # distinct events per kind and process: the log stays small whatever the training does
LOCAL_TIME_FUNCTIONS = ("localtime", "mktime", "ctime", "strftime")

_HERE = os.path.dirname(os.path.abspath(__file__))
# pytest-repro itself (wherever it is installed, an editable checkout included), the
# standard library, site-packages and the machine's own files are not the training's.
_PLUGIN = os.path.dirname(os.path.dirname(_HERE))
_LIBRARY_FOLDERS = tuple(
    {
        os.path.realpath(path) + os.sep
        for key in ("stdlib", "platstdlib", "purelib", "platlib")
        if (path := sysconfig.get_paths().get(key))
    }
    | {os.path.realpath(_PLUGIN) + os.sep, "/proc/", "/sys/", "/dev/"}
)


class _Recorder:
    def __init__(self, folder):
        self.folder = folder
        self.events = {}  # kind -> {detail: [site, count, order, value, direct]}
        self.seen = 0  # events first seen so far: the next one's order
        self.lock = threading.Lock()
        self.busy = threading.local()
        self.seeded = set()  # generators some code seeded: "random", "numpy"
        self.global_state = None  # numpy's global generator and its state when an estimator first took it

    def note(self, kind, detail, direct=False, value=None):
        """Note an event; `direct`: only when the user's code made the call itself (not a library).

        `value`, a function, says what the first such event saw (called once per event, so
        that a call the training repeats costs no more than a count).
        """
        if getattr(self.busy, "on", False):
            return
        if direct and not _called_from_user_code():
            return
        self.busy.on = True
        try:
            with self.lock:
                found = self.events.setdefault(kind, {})
                entry = found.get(detail)
                if entry is not None:
                    entry[1] += 1
                elif len(found) < LIMIT:
                    site = _user_site()
                    made = direct or _called_from_user_code()
                    found[detail] = [site, 1, self.seen, value() if value is not None else None, made]
                    self.seen += 1
        except Exception:
            pass
        finally:
            self.busy.on = False

    def write(self):
        try:
            data = {
                kind: [
                    {
                        "detail": d,
                        "site": site,
                        "count": count,
                        "order": order,
                        "value": value,
                        "direct": made,
                    }
                    for d, (site, count, order, value, made) in sorted(found.items())
                    if not (kind == "unseeded" and d == ESTIMATOR_DRAW and not self.drew())
                ]
                for kind, found in sorted(self.events.items())
            }
            target = os.path.join(self.folder, f"{os.getpid()}.json")
            partial = target + ".partial"
            with open(partial, "w", encoding="utf-8") as handle:
                json.dump({"pid": os.getpid(), "argv": sys.argv[:3], "events": data}, handle, sort_keys=True)
            os.replace(partial, target)
        except Exception:
            pass

    def drew(self):
        """Whether numpy's global generator moved after an estimator first took it unseeded.

        Many estimators take `random_state` and never draw (an lbfgs LogisticRegression):
        such an estimator is no cause, so it is named only when the generator moved.
        """
        if self.global_state is None:
            return True
        generator, before = self.global_state
        try:
            return _generator_state(generator) != before
        except Exception:
            return True


_USERS = {}  # a code file's name -> whether it is the user's (not a library's, not this folder's)


def _is_users(name):
    """Whether code from file `name` is the user's; known after the first ask (a wrapped call may be hot)."""
    known = _USERS.get(name)
    if known is None:
        known = not name.startswith("<") and not os.path.realpath(name).startswith(_LIBRARY_FOLDERS)
        _USERS[name] = known
    return known


def _called_from_user_code():
    """Whether the first frame outside this folder is the user's (a library's own draws are its business)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename in _OWN_FILES:
        frame = frame.f_back
    return frame is not None and _is_users(frame.f_code.co_filename)


def _user_site():
    """`file:line` of the first frame outside the standard library, site-packages and this folder."""
    frame = sys._getframe(1)  # the one private API the recorder needs: where a call came from
    while frame is not None:
        name = frame.f_code.co_filename
        if _is_users(name):
            return f"{name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


_recorder = None
# This folder's modules as their code names them: the frames of the recorder's and dir_order's wrappers.
_OWN_FILES = frozenset(
    {
        __file__,
        *(os.path.join(_HERE, name) for name in ("_pytest_repro_recorder.py", "_pytest_repro_dir_order.py")),
    }
)


def _wrap(owner, attribute, before):
    """Replace `owner.attribute` by a function that calls `before(args, kwargs)` and then the original."""
    original = getattr(owner, attribute, None)
    if original is None or getattr(original, "_repro_wrapped", False):
        return

    def wrapper(*args, **kwargs):
        try:  # noqa: SIM105 (a plain try is cheaper than a context manager on a hot path)
            before(args, kwargs)
        except Exception:
            pass
        return original(*args, **kwargs)

    wrapper.__name__ = getattr(original, "__name__", attribute)
    wrapper.__doc__ = getattr(original, "__doc__", None)
    wrapper.__wrapped__ = original
    replacement = like_original(original, wrapper)
    replacement._repro_wrapped = True
    with contextlib.suppress(AttributeError, TypeError):
        setattr(owner, attribute, replacement)


def like_original(original, replacement):
    """`replacement`, made to bind as `original` does when a class keeps it as an attribute.

    A builtin never becomes a method: `logging.Formatter` keeps `converter = time.localtime`
    and calls `self.converter(seconds)`.  A Python function in its place would receive the
    formatter too (and every log line with a time in it would fail), so a builtin's
    replacement is a staticmethod, which Python 3.10 and later can call directly.
    """
    return replacement if hasattr(original, "__get__") else staticmethod(replacement)


class _Environ(os._Environ):  # os.environ's own class, so that it stays what code expects
    def __getitem__(self, key):
        if _recorder is not None:
            _recorder.note("env", str(key))
        return super().__getitem__(key)

    def __contains__(self, key):
        if _recorder is not None:
            _recorder.note("env", str(key))
        return super().__contains__(key)


def _audit(event, args):
    if _recorder is None:
        return
    if event == "open":
        path, mode, flags = (*tuple(args), None, None, None)[:3]
        if isinstance(path, int) or path is None:
            return
        writing = (
            isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_APPEND | os.O_CREAT)
        ) or (isinstance(mode, str) and any(letter in mode for letter in "wax+"))
        if not writing:
            try:
                real = os.path.realpath(os.fsdecode(path))
            except (TypeError, ValueError):
                return
            if not real.startswith(_LIBRARY_FOLDERS):  # imports and library data: not the training's inputs
                _recorder.note("open", real)
    elif event in ("os.listdir", "os.scandir") and args:
        path = args[0]
        if isinstance(path, (str, bytes, os.PathLike)):
            try:
                real = os.path.realpath(os.fsdecode(path))
            except (TypeError, ValueError):
                return
            # The import system lists sys.path's folders for its own cache: not the training's listing.
            if not real.startswith(_LIBRARY_FOLDERS) and not _caller_is_import_system():
                _recorder.note("listdir", real, value=lambda: _listing_order(real))


def _caller_is_import_system():
    try:
        return sys._getframe(2).f_code.co_filename.startswith("<frozen importlib")
    except ValueError:  # no such frame: a listing made from C
        return False


def _listing_order(folder):
    """`ORDER/NAMES`: checksums of a folder's names as the file system lists them, and sorted.

    Two runs that list the same names (equal NAMES) in another order (other ORDER) read
    the folder in directory order.  Listed again here, as the training's os.listdir lists
    (the `dir_order` variation reverses it): the same folder, at the same moment, lists in
    the same order, and the training's own listing (an iterator) stays untouched.
    """
    import zlib

    names = os.listdir(folder)
    ordered = zlib.crc32("\0".join(names).encode("utf-8", "surrogateescape"))
    named = zlib.crc32("\0".join(sorted(names)).encode("utf-8", "surrogateescape"))
    return f"{ordered:08x}/{named:08x}"


def _hour_of(moment):
    """The hour a clock read saw, as its result tells it: what a shifted clock or time zone changes."""
    if isinstance(moment, (int, float)):
        return int(moment // (3600 if isinstance(moment, float) else 3600 * 10**9))
    return moment.isoformat()[:13]


def _patch_datetime(module):
    """Note the user's calls of datetime.now(), utcnow(), today() and date.today(), with the hour read.

    datetime's classes are built into the interpreter and refuse new attributes, and a
    subclass put in their place would change what pickles and isinstance see.  So the
    class's own method table is changed in place (its dict, found through gc), and
    CPython's method cache told (PyType_Modified): the one private access of the recorder
    beyond sys._getframe; where it fails, these calls are simply not recorded.
    """
    import ctypes
    import gc

    for owner, names in ((module.datetime, ("now", "utcnow")), (module.date, ("today",))):
        table = gc.get_referents(owner.__dict__)[0]
        for name in names:
            original = table.get(name)
            if original is None or getattr(original, "_repro_wrapped", False):
                continue
            table[name] = _clock_method(original, name)
        ctypes.pythonapi.PyType_Modified(ctypes.py_object(owner))


def _clock_method(original, name):
    def method(cls, *args, **kwargs):
        moment = original.__get__(None, cls)(*args, **kwargs)
        try:  # noqa: SIM105 (a plain try is cheaper than a context manager on a hot path)
            _recorder.note("clock", f"{cls.__name__}.{name}()", direct=True, value=lambda: _hour_of(moment))
        except Exception:
            pass
        return moment

    method.__name__ = name
    method.__doc__ = getattr(original, "__doc__", None)
    wrapped = classmethod(method)
    wrapped._repro_wrapped = True
    return wrapped


def _unseeded(name, generator=None):
    def before(args, kwargs):
        if generator is None or generator not in _recorder.seeded:
            _recorder.note("unseeded", name, direct=True)

    return before


def _seeding(generator):
    def before(args, kwargs):
        if (args and args[0] is not None) or kwargs.get("seed") is not None:
            _recorder.seeded.add(generator)

    return before


RANDOM_DRAWS = (
    "random",
    "uniform",
    "randint",
    "randrange",
    "choice",
    "choices",
    "shuffle",
    "sample",
    "gauss",
)
NUMPY_DRAWS = (
    "rand",
    "randn",
    "randint",
    "random",
    "random_sample",
    "choice",
    "shuffle",
    "permutation",
    "normal",
    "uniform",
    "binomial",
    "poisson",
)


def _patch_random(module):
    _wrap(module, "seed", _seeding("random"))
    for name in RANDOM_DRAWS:
        _wrap(module, name, _unseeded(f"random.{name} draws from random's global generator", "random"))


def _patch_numpy_random(module):
    _wrap(module, "seed", _seeding("numpy"))
    for name in NUMPY_DRAWS:
        _wrap(module, name, _unseeded(f"np.random.{name} draws from numpy's global generator", "numpy"))

    def fresh_generator(args, kwargs):
        if (not args and kwargs.get("seed") is None) or (args and args[0] is None):
            _recorder.note("unseeded", "np.random.default_rng() was given no seed", direct=True)

    _wrap(module, "default_rng", fresh_generator)


def _patch_sklearn_validation(module):
    def unseeded_estimator(args, kwargs):
        seed = args[0] if args else kwargs.get("seed")
        if seed is None and "numpy" not in _recorder.seeded:
            if _recorder.global_state is None:
                generator = sys.modules["numpy.random"].mtrand._rand
                _recorder.global_state = (generator, _generator_state(generator))
            _recorder.note("unseeded", ESTIMATOR_DRAW)

    _wrap(module, "check_random_state", unseeded_estimator)


def _generator_state(generator):
    """A RandomState's position and keys, to tell whether anything drew from it since."""
    state = generator.get_state()
    return state[2], state[1].tobytes()


def _patch_uuid(module):
    _wrap(module, "uuid4", _unseeded("uuid.uuid4 is random"))


# module name -> what to patch in it right after it is imported (before others bind its names)
_ON_IMPORT = {
    "datetime": _patch_datetime,
    "numpy.random": _patch_numpy_random,
    "sklearn.utils.validation": _patch_sklearn_validation,
    "uuid": _patch_uuid,
}


class _AfterImport:
    """A meta path finder that patches a module of `_ON_IMPORT` as soon as it has executed."""

    def find_spec(self, name, path=None, target=None):
        if name not in _ON_IMPORT:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            try:
                spec = finder.find_spec(name, path, target)
            except Exception:
                continue
            if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
                spec.loader = _PatchingLoader(spec.loader, _ON_IMPORT[name])
                return spec
        return None


class _PatchingLoader:
    def __init__(self, loader, patch):
        self.loader = loader
        self.patch = patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        with contextlib.suppress(Exception):
            self.patch(module)

    def __getattr__(self, name):
        return getattr(self.loader, name)


def install(folder):
    """Start recording this process into `folder` (once)."""
    global _recorder
    if _recorder is not None:
        return
    _recorder = _Recorder(folder)
    sys.addaudithook(_audit)
    with contextlib.suppress(TypeError):
        os.environ.__class__ = _Environ
    import time

    now, now_ns = time.time, time.time_ns

    def hour():
        return _hour_of(now())

    def hour_ns():
        return _hour_of(now_ns())

    _wrap(time, "time", lambda args, kwargs: _recorder.note("clock", "time.time", value=hour))
    _wrap(time, "time_ns", lambda args, kwargs: _recorder.note("clock", "time.time_ns", value=hour_ns))
    local, strftime = time.localtime, time.strftime

    def offset():
        return strftime("%z", local())

    # Conversions in the local time zone, by the user's own calls: the value is the zone's
    # UTC offset, which the `tz` variation changes (libraries such as logging call these too).
    for name in LOCAL_TIME_FUNCTIONS:
        _wrap(time, name, _local_time_note(f"time.{name}() (local time, which TZ sets)", offset))
    _wrap(os, "cpu_count", lambda args, kwargs: _recorder.note("cores", "os.cpu_count"))
    _wrap(os, "sched_getaffinity", lambda args, kwargs: _recorder.note("cores", "os.sched_getaffinity"))
    # Libraries draw OS entropy for their own ends (multiprocessing's keys, temporary names):
    # noted apart from the training's unseeded draws.
    _wrap(os, "urandom", lambda args, kwargs: _recorder.note("entropy", "os.urandom"))
    import random

    _patch_random(random)
    for name, patch in _ON_IMPORT.items():
        if name in sys.modules:
            with contextlib.suppress(Exception):  # as after an import: what cannot be patched is not recorded
                patch(sys.modules[name])
    sys.meta_path.insert(0, _AfterImport())
    atexit.register(_recorder.write)
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_forget_parent_events)


def _local_time_note(detail, offset):
    def before(args, kwargs):
        _recorder.note("clock", detail, direct=True, value=offset)

    return before


def _forget_parent_events():
    if _recorder is not None:
        _recorder.events = {}
        _recorder.seen = 0
        _recorder.global_state = None
        _recorder.lock = threading.Lock()


def install_from_environment():
    """Record this process when it belongs to a run (`REPRO_RECORD` names an existing folder)."""
    folder = os.environ.get(RECORD_VARIABLE)
    if folder and os.path.isdir(folder):
        install(folder)
