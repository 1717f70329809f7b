"""The result records emosign writes: their kinds and schema versions, and the one reader.

Every command that writes a result stamps it, through :func:`stamp`, with two keys that
come first in the JSON:

- ``kind``: what wrote it, one of :data:`KINDS` (``evaluate``, ``compare``, ``benchmark``,
  ``mllm-score``, ``lmms-eval-score``, ``power``);
- ``schema_version``: the version of that kind's layout, an integer raised whenever a
  reader of the older layout would misread the newer one.

:func:`read_record` is the one reader of such a file: it reads it as every input is read
(:func:`emosign._io.read_regular_file`: a regular file only, never blocking, size-capped),
parses it with :func:`emosign._io.parse_json`, and returns a :class:`Record` (kind, version,
payload) only for a stamped record of a known kind whose version this emosign reads and whose
top-level fields have the kind's types. Anything else is refused with an
:class:`~emosign.errors.InputError` naming the file and saying what is wrong, in one line;
a JSON file that is not an emosign record at all raises :class:`NotARecordError`, which
carries the parsed document so a caller can tell what else it is.

This module imports only :mod:`emosign._io` and :mod:`emosign.errors`: every writer may
import it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from emosign._io import parse_json, read_regular_file
from emosign.errors import InputError, UnknownNameError

__all__ = [
    "KINDS",
    "MAX_RECORD_BYTES",
    "NotARecordError",
    "Record",
    "RecordKind",
    "read_record",
    "stamp",
]

#: The largest record read: a full ``mllm score`` of many runs is a few MB.
MAX_RECORD_BYTES = 100 * 2**20


@dataclass(frozen=True)
class RecordKind:
    """One kind of result record.

    Parameters
    ----------
    name : str
        The kind, as stamped in the record's ``kind``.
    schema_version : int
        The version of the layout this emosign writes; it reads versions 1 to this one.
    command : str
        The command that writes it: ``emosign mllm score``.
    function : str
        The Python function that builds it: ``emosign.harness.runner.score_run``.
    fields : tuple of (str, type)
        The top-level fields every record of the kind has, with their JSON types
        (``dict`` for an object, ``list`` for an array, ``str`` for a string).
    """

    name: str
    schema_version: int
    command: str
    function: str
    fields: tuple[tuple[str, type], ...]

    @property
    def writer(self) -> str:
        """What writes a record of this kind, for messages."""
        return f"`{self.command}` ({self.function})"


#: Every kind of record, by name.
KINDS: Mapping[str, RecordKind] = MappingProxyType({
    kind.name: kind
    for kind in (
        RecordKind("evaluate", 2, "emosign evaluate", "emosign.evaluate",
                   (("task", str), ("metrics", dict))),
        # compare 2 still: "test.p_value_type" ("mid" or "conservative") was added beside
        # it; a record without it was written before the mid-p and is "conservative".
        RecordKind("compare", 2, "emosign compare", "emosign.metrics.compare",
                   (("task", str), ("comparison", dict))),
        RecordKind("benchmark", 1, "emosign benchmark", "emosign.baselines.benchmark.run_benchmark",
                   (("rows", list),)),
        RecordKind("mllm-score", 1, "emosign mllm score", "emosign.harness.runner.score_run",
                   (("runs", list), ("rows", list))),
        RecordKind("lmms-eval-score", 1, "emosign lmms-eval-score",
                   "emosign.harness.lmms_eval_scores.score_samples",
                   (("runs", list), ("rows", list))),
        RecordKind("inspect-score", 1, "emosign report LOG_DIR (or python -m emosign.harness.inspect_logs)",
                   "emosign.harness.inspect_logs.score_inspect_logs",
                   (("runs", list), ("rows", list))),
        # power 2: "reachable" and a "note" instead of a bound as "mde"; "design_analysis"
        # (Type S and M) instead of observed power; "recall_profiles"; "conservative"
        # against a published number; the permutation test simulated. Added within 2 (a
        # reader of 2 may ignore them): "assumptions" says the cluster, n_clusters, icc and
        # design_effect; "observed" may hold the icc read off the two systems.
        RecordKind("power", 2, "emosign power", "emosign.power.power_report",
                   (("task", str), ("metric", str), ("design_analysis", list))),
    )
})

_STAMP = ("kind", "schema_version")
_JSON_TYPE: dict[type, str] = {dict: "an object", list: "a list", str: "a string"}


@dataclass(frozen=True)
class Record:
    """A result record read by :func:`read_record`.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    schema_version : int
        The layout version it was written in, at most ``KINDS[kind].schema_version``.
    payload : Mapping
        The whole JSON object, its stamp included; its top-level fields are those of the
        kind, of the kind's types. Everything below them is as the file holds it: a reader
        still checks what it uses.
    source : str
        The file it was read from.
    """

    kind: str
    schema_version: int
    payload: Mapping[str, Any]
    source: str

    @property
    def writer(self) -> str:
        """What writes a record of this kind, for messages."""
        return KINDS[self.kind].writer


class NotARecordError(InputError):
    """A file that is JSON but not an emosign record (no ``kind`` and ``schema_version``).

    ``document`` is the parsed JSON, so that a caller can tell what else the file is (the
    summary lmms-eval writes beside its samples, say).
    """

    def __init__(self, message: str, document: Any = None) -> None:
        super().__init__(message)
        self.document = document


def stamp(kind: str, result: Mapping[str, Any]) -> dict[str, Any]:
    """``result`` as a record of ``kind``: a new dict whose first keys are ``kind`` and
    ``schema_version`` (this emosign's version of the kind), then ``result``'s.

    Parameters
    ----------
    kind : str
        One of :data:`KINDS`.
    result : Mapping
        The result, JSON-ready. Stamping a record again as the same kind is allowed.

    Returns
    -------
    dict
        The stamped record.

    Raises
    ------
    UnknownNameError
        If ``kind`` is not one of :data:`KINDS`.
    InputError
        If ``result`` is already stamped as another kind or version.
    """
    if kind not in KINDS:
        raise UnknownNameError(f"unknown record kind {kind!r}; the kinds are {sorted(KINDS)}")
    stamped = {"kind": kind, "schema_version": KINDS[kind].schema_version}
    for key in _STAMP:
        if key in result and result[key] != stamped[key]:
            raise InputError(f"cannot stamp a result as a {kind!r} record: its {key} is already "
                             f"{result[key]!r}")
    return {**stamped, **{k: v for k, v in result.items() if k not in _STAMP}}


def read_record(path: str | os.PathLike, *, max_bytes: int = MAX_RECORD_BYTES) -> Record:
    """Read the result record in ``path``.

    Parameters
    ----------
    path : str or os.PathLike
        A JSON file written by one of the writers of :data:`KINDS`.
    max_bytes : int
        The largest file read (default :data:`MAX_RECORD_BYTES`).

    Returns
    -------
    Record
        Its kind, schema version and payload.

    Raises
    ------
    FileNotFoundError, PermissionError
        If ``path`` does not exist or cannot be read.
    NotARecordError
        If it is JSON but not an emosign record: not an object, or without ``kind`` and
        ``schema_version``.
    InputError
        If it is not a regular file, larger than ``max_bytes``, not UTF-8 JSON, a record of
        an unknown kind, of a schema version this emosign does not read (newer, or not a
        positive integer), or without one of its kind's fields. Every message names the file.
    """
    source = os.fspath(path)
    data = read_regular_file(path, what="results file", error=InputError, max_bytes=max_bytes)
    try:
        document = parse_json(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise InputError(f"{source}: not readable as JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as err:
        raise InputError(f"{source}: not readable as JSON ({err})") from None
    if not isinstance(document, dict) or not all(key in document for key in _STAMP):
        what = (f"a JSON {type(document).__name__}" if not isinstance(document, dict)
                else 'an object without "kind" and "schema_version"')
        raise NotARecordError(
            f"{source}: not a results file of emosign ({what}); emosign's results are written by "
            + ", ".join(kind.command for kind in KINDS.values()),
            document,
        )
    kind, version = document["kind"], document["schema_version"]
    if not isinstance(kind, str) or kind not in KINDS:
        raise InputError(f"{source}: an emosign record of unknown kind {_shown(kind)} (this emosign "
                         f"reads {', '.join(KINDS)}): written by a newer emosign?")
    spec = KINDS[kind]
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise InputError(f"{source}: a {kind!r} record of unknown schema_version {_shown(version)} "
                         f"(this emosign reads 1 to {spec.schema_version})")
    if version > spec.schema_version:
        raise InputError(f"{source}: a {kind!r} record of schema_version {version}, newer than "
                         f"this emosign reads ({spec.schema_version}): upgrade emosign to read it")
    for name, expected in spec.fields:
        if not isinstance(document.get(name), expected):
            raise InputError(f"{source}: a {kind!r} record whose {name!r} is not "
                             f"{_JSON_TYPE[expected]}: damaged, or not written by {spec.writer}")
    return Record(kind=kind, schema_version=version, payload=document, source=source)


def _shown(value: Any) -> str:
    """A value read from a file, for a one-line message: its repr, at most 60 characters."""
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"
