"""A Hub-ready dataset repository: the rich EmoSign views with no loading code.

``datasets`` no longer runs loading scripts; its modern form is a repository of parquet files
whose README declares the configs. :func:`export_hub` writes one parquet file per config (the
features, ClassLabel names included, travel in the parquet metadata) and a dataset card, so
that ``datasets.load_dataset(<folder or repo>, "single_expression")`` returns exactly the rows
and features of ``emosign.load_emosign("single_expression")``.

Video bytes are never written: the ASLLRP terms do not allow redistributing the videos, so
the ``video`` column stays empty, as it is in ``load_emosign`` without a video directory.
"""

from __future__ import annotations

import os
from pathlib import Path

from emosign import vocab
from emosign._io import marker_name, staged_directory, write_atomically
from emosign.hub import check_hub_reachable
from emosign.labels import load_labels
from emosign.loader import CITATION, MANUAL_DOWNLOAD_INSTRUCTIONS, load_emosign

__all__ = [
    "WRITER",
    "export_hub",
    "push_to_hub",
]

#: The writer's name; its marker file ``.emosign-export-hub`` is not uploaded.
WRITER = "export-hub"


def export_hub(
    out_dir: str | os.PathLike,
    *,
    labels_file: str | os.PathLike | None = None,
    overwrite: bool = False,
    cache_dir: str | os.PathLike | None = None,
) -> Path:
    """Write the dataset repository into ``out_dir`` and return its path.

    Layout: ``README.md`` (YAML ``configs``, default ``clips``, and the dataset card) and
    ``data/<config>/test.parquet`` for each of ``vocab.CONFIG_NAMES``. The folder is built
    next to ``out_dir`` and moved into place at the end, so an interrupted export leaves
    nothing half-written.

    ``out_dir`` may be absent, empty, or, with ``overwrite``, an earlier export (its
    ``.emosign-export-hub`` marker lists every file in it). Anything else is refused, even
    with ``overwrite``, as is a folder that is, is inside, or holds the label file.

    Raises
    ------
    FileExistsError
        If ``out_dir`` is not empty and is not an earlier export, or is one and not
        ``overwrite``.
    ValueError
        If ``out_dir`` is, is inside, or holds the label file, or holds the working directory.
    """

    labels = load_labels(labels_file)  # once: every config then reads this very file
    with staged_directory(out_dir, writer=WRITER, overwrite=overwrite,
                          inputs=[labels.source.path]) as staging:
        for name in vocab.CONFIG_NAMES:
            dataset = load_emosign(name, labels_file=labels.source.path, cache_dir=cache_dir)["test"]
            target = staging / "data" / name / "test.parquet"
            target.parent.mkdir(parents=True)
            dataset.to_parquet(str(target))
        write_atomically(staging / "README.md", _card(f"sha256 {labels.source.sha256}"))
    return Path(out_dir)


def push_to_hub(folder: str | os.PathLike, repo_id: str, *, token: str | None = None) -> str:
    """Upload an exported folder, all but its marker file, as a dataset repository
    (``huggingface_hub.upload_folder``).

    Raises
    ------
    emosign.hub.HubUnreachableError
        offline, or the Hub does not answer (checked
        first, with one short request, so that no upload is retried for minutes).
    """
    from huggingface_hub import HfApi

    check_hub_reachable()
    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", exist_ok=True)
    info = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="dataset",
                             ignore_patterns=[marker_name(WRITER)])
    return str(info)


def _card(source: str) -> str:
    configs = "\n".join(
        f"- config_name: {name}\n"
        + ("  default: true\n" if name == vocab.DEFAULT_CONFIG else "")
        + f"  data_files:\n  - split: test\n    path: data/{name}/test.parquet"
        for name in vocab.CONFIG_NAMES
    )
    emotions = ", ".join(f"`{e.name}` ({e.paper_name})" for e in vocab.EMOTIONS)
    classes = ", ".join(f"`{c.name}` ({c.code})" for c in vocab.EXPRESSION_CLASSES)

    return f"""---
license: other
task_categories:
- video-classification
language:
- ase
- en
pretty_name: EmoSign
configs:
{configs}
---

# EmoSign: sentiment and emotion in American Sign Language

200 ASL utterances from the ASLLRP corpus, each rated by three Deaf signers for sentiment
(-3...+3), ten emotion intensities (0...3) and free-text descriptions of the cues that carry
the emotion (Chua et al., NeurIPS 2025 Datasets and Benchmarks, arXiv:2505.17090). Only
majority labels are released. This repository was written by `emosign export-hub` from the
label file ({source}); load a view with
`datasets.load_dataset("<this repository>", "single_expression")`. One split, `test`.

## Configs

| config | rows | what it holds |
| --- | --- | --- |
| `clips` (default) | 200 | every label of every clip |
| `sentiment` | 200 | the sentiment tasks' view |
| `single_expression` | 140 | the paper's single expression set, a 10-class `label` |
| `multi_expression` | 37 | the multi expression set: `label` is the combination of tied emotions |

## Fields

- `video_name`, `utterance_id` (the ASLLRP utterance id), `signer` (Ben, Cory, Jonathan,
  Rachel; Rachel's 2011 and 2012 sessions are one signer).
- `sentiment`: the majority rating, -3 (extremely negative) ... +3 (extremely positive);
  `sentiment_7` the same as a class, `sentiment_3` by sign (negative < 0, neutral = 0,
  positive > 0).
- The ten emotions, on the paper's scale 0 (not present) ... 3 (extremely present); the raw
  file stores them as 1...4: {emotions}. `<emotion>_present` is intensity above 0.
- `dominant_emotions`: the emotions at the clip's highest intensity after merging joy and
  excited into happiness (the larger of the two); `neutral` when none is present.
- `expression_set`: `single` (exactly one dominant emotion, or neutral), `multi` (several tied,
  in a combination that occurs in more than two clips), `excluded` (a rarer tie).
  `single_label` is one of {classes}.
- `cues`: the three annotators' descriptions of the cues, whitespace collapsed.
- `video`, `caption`: empty here. The videos are not redistributed (see below); the English
  translations are an ASLLRP resource.

## Videos

{MANUAL_DOWNLOAD_INSTRUCTIONS}
With the videos, `emosign.load_emosign(config, video_dir=...)` fills the `video` column.

## Citation

```bibtex
{CITATION}```
"""
