"""Reading the small side files (captions, annotator ratings) as text cells, with errors that
name the file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd


def read_text_table(path: Path, *, what: str, error: type[ValueError]) -> pd.DataFrame:
    """Every cell as stripped-later text ("" for empty, never NaN), or ``error`` naming the file.

    ``what`` names the file's role in messages ("captions file", ...).
    """
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise error(f"{what} {path} is not a readable UTF-8 CSV: {err}") from None
