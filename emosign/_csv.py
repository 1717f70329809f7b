"""Reading the project's CSV inputs (predictions, label file, captions, annotator ratings) as
text cells, with errors that name the file."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pandas as pd

from emosign._io import decode_utf8, read_regular_file

__all__ = [
    "read_csv_text",
    "read_text_table",
]


def read_text_table(path: Path, *, what: str, error: type[ValueError]) -> pd.DataFrame:
    """Every cell as stripped-later text ("" for empty, never NaN), or ``error`` naming the file.

    ``what`` names the file's role in messages ("captions file", ...). The file must be a
    regular file of at most ``emosign._io.MAX_INPUT_BYTES``, in UTF-8, with unique column
    names.
    """
    data = read_regular_file(path, what=what, error=error)
    text = decode_utf8(data, path=path, what=what, error=error)
    return read_csv_text(text, path=path, what=what, error=error)


def read_csv_text(
    text: str, *, path: Path | str, what: str, error: type[ValueError], sep: str = ","
) -> pd.DataFrame:
    """A CSV's cells as text ("" for empty, never NaN), its column names unique.

    pandas renames a repeated column ("prediction", "prediction.1") and every reader would
    then use the first and ignore the other in silence, so a repeated name is refused.
    """
    try:
        header = next((row for row in csv.reader(io.StringIO(text), delimiter=sep) if row), None)
    except csv.Error as err:
        raise error(f"{what} {path} is not a readable CSV: its header: {err}") from None
    repeated = [name for name, count in Counter(header or ()).items() if count > 1]
    if repeated:
        raise error(
            f"{what} {path} names the column(s) {repeated} more than once in its header; "
            "each column must appear once (which one would count?)"
        )
    try:
        return pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise error(f"{what} {path} is not a readable CSV: {err}") from None
