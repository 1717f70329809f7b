"""Pin EmoSign results in pytest: a plugin with fixtures and a marker, and assertions.

Installing ``emosign`` registers this module as a pytest plugin (entry point ``pytest11``,
name ``emosign``; switch it off with ``-p no:emosign``). It gives every test suite:

=========================  ====================================================================
fixture                    what it is
=========================  ====================================================================
``emosign_labels_path``    ``pathlib.Path`` of the label file ``emosign_dataset.csv``
``emosign_labels``         the file read and validated, an :class:`emosign.labels.Labels`
``emosign_dataset``        a loader: ``emosign_dataset("single_expression")`` gives the
                           ``datasets.Dataset`` of ``load_emosign(...)["test"]`` for those labels
``emosign_scorer``         ``emosign_scorer(task, predictions, **options)``: the result dict of
                           :func:`emosign.metrics.evaluate` on those labels
``emosign_video_dir``      ``pathlib.Path`` of the directory of ASLLRP videos
=========================  ====================================================================

Where the labels come from, first found wins:

1. the option ``--emosign-labels=PATH`` (write it with ``=``: see below);
2. the environment variable ``EMOSIGN_LABELS`` (read once, when pytest starts, so a
   fixture that later removes it from the environment does not hide it);
3. ``emosign_labels = PATH`` in the pytest ini file (relative to that file);
4. the pinned copy in the Hugging Face Hub cache, if a previous run downloaded it (never
   downloaded here: tests do not touch the network).

If none has them, every test that uses a labels fixture is **skipped** with one reason that
names these ways. A path that *is* given but does not exist makes those tests **error**
instead: a typo must not pass for a machine without data. So does a copy in the Hub cache
whose sha256 is not the pinned one (the error names the file and both hashes).

Write the options with ``=`` (``--emosign-labels=PATH --emosign-video-dir=DIR``). pytest
chooses its rootdir and ini file before it loads plugins, so with a space it takes ``PATH``
for a test path: a path outside the repository moves the rootdir (to ``/`` for two unrelated
paths) and the repository's ini file is ignored. When that happens the run stops with a usage
error saying so, rather than running without the ini file's settings.

Tests that need the videos carry the marker ``@pytest.mark.emosign_videos`` or use the
``emosign_video_dir`` fixture; the directory comes from ``--emosign-video-dir=DIR``,
``EMOSIGN_VIDEO_DIR`` or ``emosign_video_dir`` in the ini file, and without one they are
skipped.

The assertions, usable in any test (they need no fixture):

* :func:`assert_metrics_close`: a result of ``evaluate`` (or the JSON file that
  ``emosign evaluate --output`` writes) against expected values within a tolerance; one
  AssertionError lists every metric that differs;
* :func:`assert_same_split`: two sets of clips, clip by clip;
* :func:`assert_predictions_match`: two predictions files, read the way the scorer reads
  them, clip by clip.

pytest imports this module in every project where ``emosign`` is installed, so it imports
nothing heavy at module level (the standard library, :mod:`emosign.vocab` and
:mod:`emosign.hub`, a few ms): ``datasets``, ``pandas``, NumPy and the scorer are imported
inside the fixtures and assertions that use them.
"""

from __future__ import annotations

import difflib
import inspect
import itertools
import math
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from emosign import hub, vocab
from emosign._io import parse_json
from emosign.errors import InputError, UnknownNameError, inline_listing, listing
from emosign.hub import LabelSource

if TYPE_CHECKING:  # only for annotations: importing these costs time on every pytest run
    import datasets

    from emosign.labels import Labels
    from emosign.loader import OnMissing

__all__ = [
    "LABELS_SKIP_REASON",
    "VIDEOS_SKIP_REASON",
    "DatasetLoader",
    "MetricKeyError",
    "Scorer",
    "assert_metrics_close",
    "assert_predictions_match",
    "assert_same_split",
]

LABELS_ENV_VAR = "EMOSIGN_LABELS"
VIDEOS_ENV_VAR = "EMOSIGN_VIDEO_DIR"
VIDEOS_MARKER = "emosign_videos"

LABELS_SKIP_REASON = (
    "EmoSign labels not available: pass --emosign-labels=PATH, set EMOSIGN_LABELS=PATH "
    "(or emosign_labels = PATH in the pytest ini file), or put the pinned Hub copy in the "
    "Hugging Face cache by running `emosign info` once online"
)
VIDEOS_SKIP_REASON = (
    "EmoSign videos not configured: pass --emosign-video-dir=DIR or set EMOSIGN_VIDEO_DIR=DIR "
    "(or emosign_video_dir = DIR in the pytest ini file); the ASLLRP videos are not "
    "redistributed with EmoSign"
)


# --- the plugin: where the data is ------------------------------------------------------------


@dataclass(frozen=True)
class _GivenPath:
    """A path the user named, and how (for messages): "--emosign-labels", "EMOSIGN_LABELS"..."""

    path: Path
    named_by: str


@dataclass(frozen=True)
class _Settings:
    """What the user configured, fixed when pytest starts."""

    labels: _GivenPath | None
    video_dir: _GivenPath | None


_SETTINGS = pytest.StashKey[_Settings]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("emosign", "EmoSign data for tests (emosign.testing)")
    group.addoption(
        "--emosign-labels", metavar="PATH", default=None,
        help=f"the EmoSign label file; write --emosign-labels=PATH (default: ${LABELS_ENV_VAR}, "
        "then the ini value emosign_labels, then the Hugging Face Hub cache)",
    )
    group.addoption(
        "--emosign-video-dir", metavar="DIR", default=None,
        help=f"directory of ASLLRP videos for @pytest.mark.{VIDEOS_MARKER} tests; write "
        f"--emosign-video-dir=DIR (default: ${VIDEOS_ENV_VAR}, then the ini value emosign_video_dir)",
    )
    parser.addini("emosign_labels", "the EmoSign label file, relative to the ini file", default="")
    parser.addini("emosign_video_dir", "directory of ASLLRP videos, relative to the ini file", default="")


def pytest_configure(config: pytest.Config) -> None:
    _refuse_a_rootdir_chosen_from_option_values(config)
    config.addinivalue_line(
        "markers",
        f"{VIDEOS_MARKER}: the test needs the ASLLRP videos of EmoSign; skipped unless "
        f"--emosign-video-dir or {VIDEOS_ENV_VAR} names their directory",
    )
    # The environment is read now, once: test fixtures (monkeypatch.delenv) may hide it later.
    config.stash[_SETTINGS] = _Settings(
        labels=_given_path(config, "emosign_labels", LABELS_ENV_VAR),
        video_dir=_given_path(config, "emosign_video_dir", VIDEOS_ENV_VAR),
    )


_PATH_OPTIONS = ("--emosign-labels", "--emosign-video-dir")


def _refuse_a_rootdir_chosen_from_option_values(config: pytest.Config) -> None:
    """Stop if ``--emosign-labels PATH`` (with a space) changed pytest's rootdir or ini file.

    pytest picks the rootdir and the ini file from the command line's test paths before any
    plugin is loaded, so the value of a plugin option written with a space counts as a test
    path then. The setup pytest would have chosen without those values is recomputed with
    pytest's own function; if it differs, the run would silently ignore the ini file
    (``pythonpath``, ``testpaths``, ``emosign_labels``), so it is refused.
    """
    args = list(config.invocation_params.args)
    spaced = [(option, args[i + 1]) for i, option in enumerate(args[:-1]) if option in _PATH_OPTIONS]
    if not spaced:
        return
    try:
        # pytest's private module: inside the try, so that a pytest without it skips this
        # check rather than failing to load the plugin.
        from _pytest.config.findpaths import determine_setup

        namespace = config.known_args_namespace
        wanted = {
            "inifile": namespace.inifilename,
            "override_ini": namespace.override_ini,
            "args": [str(a) for a in namespace.file_or_dir],
            "rootdir_cmd_arg": namespace.rootdir or None,
            "invocation_dir": config.invocation_params.dir,
        }
        accepted = inspect.signature(determine_setup).parameters
        rootpath, inipath, *_ = determine_setup(**{k: v for k, v in wanted.items() if k in accepted})
    except Exception:  # another pytest's internals: without them there is nothing to compare
        return
    if (Path(rootpath), inipath and Path(inipath)) == (config.rootpath, config.inipath):
        return
    written = " ".join(f"{option}={value}" for option, value in spaced)
    raise pytest.UsageError(
        f"pytest took the value of {', '.join(o for o, _ in spaced)} for a test path and chose "
        f"rootdir {config.rootpath} (ini file: {config.inipath or 'none'}) instead of "
        f"{rootpath} (ini file: {inipath or 'none'}), because it reads test paths before "
        f"plugins are loaded. Write the option with '=': {written}"
    )


def _given_path(config: pytest.Config, name: str, env_var: str) -> _GivenPath | None:
    """The path named by the option, else the environment variable, else the ini file."""
    here = config.invocation_params.dir
    option = config.getoption(name)
    if option:
        return _GivenPath(here / Path(option).expanduser(), "--" + name.replace("_", "-"))
    # An empty value counts as unset, as in emosign.hub, so `EMOSIGN_LABELS= pytest` switches it off.
    from_env = os.environ.get(env_var, "").strip()
    if from_env:
        return _GivenPath(here / Path(from_env).expanduser(), env_var)
    from_ini = str(config.getini(name)).strip()
    if from_ini:
        base = config.inipath.parent if config.inipath else config.rootpath
        return _GivenPath(base / Path(from_ini).expanduser(), f"{name} in {config.inipath or 'the ini file'}")
    return None


def pytest_report_header(config: pytest.Config) -> list[str]:
    settings = config.stash[_SETTINGS]
    lines = []
    for what, given in (("labels", settings.labels), ("videos", settings.video_dir)):
        if given is not None:
            lines.append(f"emosign {what}: {given.path} (from {given.named_by})")
    return lines


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Skipped by a marker at collection, so the report names the test, not this plugin.
    if config.stash[_SETTINGS].video_dir is None:
        skip = pytest.mark.skip(reason=VIDEOS_SKIP_REASON)
        for item in items:
            if item.get_closest_marker(VIDEOS_MARKER) is not None:
                item.add_marker(skip)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # tryfirst: a configured directory that does not exist fails before any fixture is set up.
    configured = item.config.stash[_SETTINGS].video_dir is not None
    if configured and item.get_closest_marker(VIDEOS_MARKER) is not None:
        _video_dir(item.config)


def _video_dir(config: pytest.Config) -> Path:
    given = config.stash[_SETTINGS].video_dir
    if given is None:
        pytest.skip(VIDEOS_SKIP_REASON)
    if not given.path.is_dir():
        pytest.fail(f"EmoSign video directory {given.path} (from {given.named_by}) is not a "
                    "directory", pytrace=False)
    return given.path


# --- the plugin: fixtures ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def _emosign_label_source(pytestconfig: pytest.Config) -> LabelSource:
    """Where the labels are, resolved once per session; skips the test if nowhere."""
    given = pytestconfig.stash[_SETTINGS].labels
    if given is not None:
        try:
            return hub.local_labels(given.path)
        except (OSError, ValueError) as err:
            pytest.fail(f"EmoSign labels from {given.named_by}: {err}", pytrace=False)
    try:
        # local_files_only: a test run never downloads.
        return hub.fetch_labels(local_files_only=True)
    except hub.LabelFetchError:
        pytest.skip(LABELS_SKIP_REASON)
    except hub.LabelHashError as err:
        # Labels that are there but wrong must not pass for a machine without labels.
        pytest.fail(
            f"EmoSign labels in the Hugging Face cache do not have the pinned sha256: "
            f"{err.path} has {err.actual}, expected {err.expected or 'a pinned hash'}. Delete "
            f"it and run `emosign info` online to download it again, or pass "
            f"--emosign-labels=PATH",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def emosign_labels_path(_emosign_label_source: LabelSource) -> Path:
    """The EmoSign label file (``emosign_dataset.csv``); the test is skipped without one."""
    return Path(_emosign_label_source.path)


@pytest.fixture(scope="session")
def emosign_labels(_emosign_label_source: LabelSource) -> Labels:
    """The label file read and validated: 200 :class:`emosign.labels.Clip` for the release."""
    from emosign.labels import read_labels  # pandas: see the module's note on imports

    return read_labels(_emosign_label_source)


@dataclass(frozen=True)
class DatasetLoader:
    """``load_emosign`` bound to one label file and one Arrow cache directory.

    ``loader(config="clips", *, video_dir=None, captions_file=None, on_missing="none")``
    returns the ``test`` split, a ``datasets.Dataset``. Each call returns a fresh object
    (a cached one could be changed in place by ``set_format``); the Arrow cache makes
    repeated calls cheap.
    """

    labels_file: Path
    cache_dir: Path

    def __call__(
        self,
        config: str = "clips",
        *,
        video_dir: str | os.PathLike | None = None,
        captions_file: str | os.PathLike | None = None,
        on_missing: OnMissing = "none",
    ) -> datasets.Dataset:
        from emosign.loader import load_emosign  # datasets: see the module's note on imports

        return load_emosign(
            config, labels_file=self.labels_file, cache_dir=self.cache_dir,
            video_dir=video_dir, captions_file=captions_file, on_missing=on_missing,
        )["test"]


@pytest.fixture(scope="session")
def emosign_dataset(emosign_labels_path: Path, tmp_path_factory: pytest.TempPathFactory) -> DatasetLoader:
    """Load an EmoSign config: ``emosign_dataset("single_expression")`` -> ``datasets.Dataset``.

    Configs: ``clips`` (200 rows), ``sentiment`` (200), ``single_expression`` (140),
    ``multi_expression`` (37). To run a test on several, parametrize the config name and call
    the loader with it. The Arrow cache lives in the session's temporary directory.
    """
    return DatasetLoader(emosign_labels_path, tmp_path_factory.mktemp("emosign-datasets"))


@dataclass(frozen=True)
class Scorer:
    """:func:`emosign.metrics.evaluate` bound to one label file.

    ``scorer(task, predictions, **options)`` returns evaluate's result dict; ``options`` are
    evaluate's keywords (``n_boot``, ``seed``, ``on_invalid``, ...).
    """

    labels_file: Path

    def __call__(self, task: str, predictions: Any, **options: Any) -> dict:
        from emosign.metrics import evaluate  # the scorer: see the module's note on imports

        return evaluate(task, predictions, labels_file=self.labels_file, **options)


@pytest.fixture(scope="session")
def emosign_scorer(emosign_labels_path: Path) -> Scorer:
    """Score predictions on the labels: ``emosign_scorer("sentiment_3", "preds.csv")``."""
    return Scorer(emosign_labels_path)


@pytest.fixture(scope="session")
def emosign_video_dir(pytestconfig: pytest.Config) -> Path:
    """The directory of ASLLRP videos; the test is skipped when none is configured."""
    return _video_dir(pytestconfig)


# --- assertions: metrics ----------------------------------------------------------------------


class MetricKeyError(UnknownNameError):
    """An expected metric that the result does not hold. The message lists the keys it has."""

    def __str__(self) -> str:  # KeyError would print the message in quotes
        return str(self.args[0])


def assert_metrics_close(
    result: Mapping[str, Any] | str | os.PathLike,
    expected: Mapping[str, float],
    *,
    abs: float = 1e-12,
    rel: float = 1e-6,
) -> None:
    """Check metrics against expected values, reporting every one that differs at once.

    Parameters
    ----------
    result : the dict :func:`emosign.metrics.evaluate` returns, or the path of the JSON file
        ``emosign evaluate --output`` writes (any JSON object works).
    expected : metric key -> value. A key is a path of dict keys joined by dots, looked up
        from the top of the result and, failing that, inside ``result["metrics"]``:
        ``"balanced_accuracy"``, ``"per_class.happiness.recall"``,
        ``"per_signer.Cory.weighted_f1"``, ``"agreement.krippendorff_alpha"``. Values are in
        the result's units: fractions in 0...1 (``evaluate`` does not print percentages).
    abs, rel : a value passes when ``|got - expected| <= max(abs, rel * |expected|)``, as in
        ``pytest.approx`` (same defaults). Pin "0.64 +- 0.01" with ``abs=0.01``. An expected
        NaN matches an undefined metric (None in the result, NaN in Python).

    Raises
    ------
    MetricKeyError
        A key names nothing numeric in the result; lists the keys that do.
    AssertionError
        Listing every differing metric with its expected and actual value and the tolerance.
    """
    __tracebackhide__ = True  # pytest shows the failing line of the test, not of this function
    data, where = _read_result(result)
    available = _numeric_keys(data)
    unknown = [key for key in expected if key not in available]
    if unknown:
        lines = [f"{len(unknown)} expected metric(s) not in the result {where}:"]
        for key in unknown:
            close = difflib.get_close_matches(key, available, n=3)
            lines.append(f"  {key!r}" + (f" (did you mean {', '.join(map(repr, close))}?)" if close else ""))
        lines.append("available keys: " + ", ".join(available))
        raise MetricKeyError("\n".join(lines))

    differing = []
    for key, want in expected.items():
        got = available[key]
        tolerance = max(abs, rel * math.fabs(want))
        if _is_undefined(want) or _is_undefined(got):
            if not (_is_undefined(want) and _is_undefined(got)):
                differing.append((key, want, got, tolerance))
        elif got is not None and math.fabs(got - want) > tolerance:
            differing.append((key, want, got, tolerance))
    if not differing:
        return

    width = max(len(key) for key, *_ in differing)
    lines = [f"{len(differing)} of {len(expected)} metric(s) differ from the expected values ({where}):"]
    for key, want, got, tolerance in differing:
        shown = "undefined (None)" if got is None else f"{got:.6g}"
        undefined = got is None or _is_undefined(got) or _is_undefined(want)
        gap = "" if got is None or undefined else f", off by {math.fabs(got - want):.3g}"
        lines.append(f"  {key:<{width}}  expected {want:.6g}, got {shown}{gap} (tolerance {tolerance:.3g})")
    if any(want > 1 and got is not None and 0 <= got <= 1 for _, want, got, _ in differing):
        lines.append("note: evaluate() reports fractions in 0...1; the expected values look like percentages")
    raise AssertionError("\n".join(lines))


def _read_result(result: Mapping[str, Any] | str | os.PathLike) -> tuple[Mapping[str, Any], str]:
    if isinstance(result, Mapping):
        return result, "<dict>"
    path = Path(result)
    data = parse_json(path.read_text(encoding="utf-8"))
    if not isinstance(data, Mapping):
        raise InputError(f"{path} holds a JSON {type(data).__name__}, not a result object")
    return data, str(path)


def _numeric_keys(data: Mapping[str, Any]) -> dict[str, float | None]:
    """Every number in the result by its dotted key; ``metrics.<name>`` also as ``<name>``.

    None counts as a number: it is how a result records an undefined metric.
    """
    found: dict[str, float | None] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        elif node is None or (isinstance(node, (int, float)) and not isinstance(node, bool)):
            found[prefix[:-1]] = node

    walk(data, "")
    metrics = data.get("metrics")
    if isinstance(metrics, Mapping):
        for key in list(found):
            if key.startswith("metrics."):
                found.setdefault(key[len("metrics."):], found[key])
    return found


def _is_undefined(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


# --- assertions: splits -----------------------------------------------------------------------


def assert_same_split(
    clips: Any,
    reference: Any,
    *,
    ordered: bool = False,
) -> None:
    """Check that two sets of clips are the same, listing every clip that differs.

    Each side is any of: a ``datasets.Dataset`` or pandas DataFrame with a ``video_name``
    column; a file (``.txt`` with one name per line, or a CSV, TSV, JSONL or JSON table
    with a ``video_name`` column); a dict keyed by video name; an
    :class:`emosign.labels.Labels` or a sequence of clips; or an iterable of video names.
    ``ordered=True`` also requires the same order.

    Raises
    ------
    AssertionError
        Naming every clip only in ``clips``, every clip only in ``reference``, every
        duplicated clip and, with ``ordered``, the first position where the orders part.
    """
    __tracebackhide__ = True  # pytest shows the failing line of the test, not of this function
    names, where = _clip_names(clips)
    reference_names, reference_where = _clip_names(reference)
    mine, theirs = set(names), set(reference_names)
    problems = []
    for label, listed in ((where, names), (reference_where, reference_names)):
        repeated = sorted({n for n in listed if listed.count(n) > 1})
        if repeated:
            problems.append(f"{len(repeated)} clip(s) more than once in {label}: "
                            + inline_listing(repeated))
    only_mine = sorted(mine - theirs)
    only_theirs = sorted(theirs - mine)
    if ordered and not (problems or only_mine or only_theirs) and names != reference_names:
        first = next(i for i, (a, b) in enumerate(zip(names, reference_names)) if a != b)
        problems.append(f"same clips in another order: position {first} holds {names[first]!r}, "
                        f"the reference {reference_names[first]!r}")
    if problems or only_mine or only_theirs:
        # A long list is cut to its first clips, the whole of it in a file the message names.
        raise AssertionError(listing(
            f"split {where} ({len(names)} clips) differs from the reference {reference_where} "
            f"({len(reference_names)} clips):",
            [(None, problems),
             (f"{len(only_theirs)} clip(s) missing, only in the reference", only_theirs),
             (f"{len(only_mine)} clip(s) not in the reference", only_mine)]))


def _clip_names(source: Any) -> tuple[list[str], str]:
    """The video names of one side of assert_same_split, and a description of it."""
    if isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if path.suffix.lower() == ".txt":
            lines = path.read_text(encoding="utf-8").splitlines()
            return [line.strip() for line in lines if line.strip()], str(path)
        # pandas: see the module's note on imports
        from emosign.predictions import VIDEO_NAME, read_predictions

        return list(read_predictions(path).table[VIDEO_NAME]), str(path)
    columns = getattr(source, "column_names", None) or getattr(source, "columns", None)
    if columns is not None and "video_name" in columns:  # a Dataset or a DataFrame
        return [str(n) for n in source["video_name"]], f"<{type(source).__name__}>"
    if isinstance(getattr(source, "video_names", None), tuple):  # a task bound to labels
        return list(source.video_names), f"<{type(source).__name__}>"
    if isinstance(source, Mapping):
        return [str(n) for n in source], "<dict>"
    items = list(source)
    if items and all(hasattr(item, "video_name") for item in items):  # Labels, clips
        return [item.video_name for item in items], f"<{type(source).__name__}>"
    if not all(isinstance(item, str) for item in items):
        raise TypeError("a split is a Dataset, a DataFrame, a file, a dict, clips or video names; "
                        f"got {type(source).__name__} holding {type(items[0]).__name__}")
    return [item.strip() for item in items], f"<{type(source).__name__}>"


# --- assertions: predictions ------------------------------------------------------------------


def assert_predictions_match(a: Any, b: Any, *, task: str) -> None:
    """Check that two predictions tables give the same answer on every clip of ``task``.

    Answers are compared as the scorer reads them, so "Moderately Positive", "moderately
    positive" and "2" are one answer on ``sentiment_7`` (a rating is compared by its class:
    1.6 and 2 agree), and "joy" and "happiness" are one on ``emotion_single``. On
    ``emotion_presence`` and ``emotion_intensity`` every emotion column is compared. Two
    answers neither of which can be read agree only if their text does.

    Parameters
    ----------
    a, b : anything :func:`emosign.predictions.read_predictions` reads: a CSV, TSV, JSONL or
        JSON file, a dict ``{video_name: prediction}``, a DataFrame or a list of records.
    task : one of ``emosign.vocab.TASK_NAMES``.

    Raises
    ------
    AssertionError
        Listing every clip that differs: a different answer, or a row in one table only.
    ValueError
        A table gives a clip twice, or lacks the columns the task reads.
    """
    __tracebackhide__ = True  # pytest shows the failing line of the test, not of this function
    answers_a, where_a = _answers(a, task)
    answers_b, where_b = _answers(b, task)
    names = sorted(answers_a.keys() | answers_b.keys())
    lines = []
    for name in names:
        if name not in answers_b:
            lines.append(f"{name}: only in a ({answers_a[name].shown})")
        elif name not in answers_a:
            lines.append(f"{name}: only in b ({answers_b[name].shown})")
        elif answers_a[name].reading != answers_b[name].reading:
            lines.append(f"{name}: a {answers_a[name].shown}, b {answers_b[name].shown}")
    if lines:
        raise AssertionError(listing(
            f"predictions differ on {len(lines)} of {len(names)} clips (task {task}; "
            f"a = {where_a}, b = {where_b}):", [(None, lines)]))


@dataclass(frozen=True)
class _Answer:
    """One clip's answer: ``reading`` is compared, ``shown`` is printed."""

    reading: Any
    shown: str


def _answers(source: Any, task: str) -> tuple[dict[str, _Answer], str]:
    """{video_name: answer} of one predictions table, read with the scorer's own readers."""
    # The scorer's readers (NumPy, pandas): see the module's note on imports.
    from emosign import _answer_text as answer_text
    from emosign import predictions as p
    from emosign.tasks import get_task

    spec = get_task(task)
    table = p.read_predictions(source)
    records = table.table.to_dict("records")
    counts = Counter(r[p.VIDEO_NAME] for r in records)
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        raise InputError(f"predictions {table.source} give these clips more than once: {repeated}")
    column = p._find_prediction_column(table.table)
    answers = {}

    if spec.kind == "single_label":
        if column is None:
            raise InputError(f"predictions {table.source} have no 'prediction' column")
        classes = _every_combination() if task == "emotion_multi" else None
        for record in records:
            raw = record[column]
            label = None if answer_text.is_blank(raw) else p.parse_label(raw, task=task, classes=classes)
            if label is None:
                answers[record[p.VIDEO_NAME]] = _Answer(("unreadable", str(raw).strip()),
                                                        f"{raw!r} (unreadable)")
            else:
                answers[record[p.VIDEO_NAME]] = _Answer(label, f"{raw!r} = {label}")
        return answers, table.source

    emotions = vocab.EMOTION_NAMES
    if all(e in table.table.columns for e in emotions):
        read = answer_text.read_presence if spec.kind == "multi_label" else answer_text.read_intensity
        for record in records:
            reading = tuple(read(record[e]) for e in emotions)
            shown = ", ".join(f"{e}={record[e]!r}" for e in emotions)
            answers[record[p.VIDEO_NAME]] = _Answer(reading, shown)
    elif spec.kind == "multi_label" and column is not None:  # a list of the emotions present
        for record in records:
            present = answer_text.read_emotion_list(record[column])
            flags = None if present is None else tuple(e in present for e in emotions)
            answers[record[p.VIDEO_NAME]] = _Answer(flags, repr(record[column]))
    else:
        raise InputError(f"predictions {table.source} need one column per emotion {list(emotions)}")
    return answers, table.source


def _every_combination() -> tuple[str, ...]:
    """Every multi-expression class name there could be: two or more merged emotions.

    The real classes come from the label file; comparing two tables needs no labels.
    """
    names = vocab.MERGED_EMOTION_NAMES
    return tuple(
        vocab.combination_name(chosen)
        for size in range(2, len(names) + 1)
        for chosen in itertools.combinations(names, size)
    )
