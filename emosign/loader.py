"""The EmoSign ``datasets`` builder and :func:`load_emosign`, the notebook entry point.

``datasets`` no longer runs loading scripts, so the builder is used as a class::

    from emosign import load_emosign
    ds = load_emosign("single_expression")["test"]     # 140 clips, 10-class ClassLabel

The builder checks its own inputs before ``datasets`` sees it: it reads and validates the
label file (:mod:`emosign.labels`), finds the videos and captions the caller points it at,
and derives the Arrow cache key from exactly what goes into the rows (label file hash, video
paths, captions, package version and source). A changed label file or package therefore
never serves a stale cache, and an unchanged one is memory-mapped from the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from emosign._progress import import_tqdm_auto

# datasets imports tqdm.auto, which warns "IProgress not found" in a Jupyter kernel without
# ipywidgets, and then gives a text bar anyway: imported first without the warning.
import_tqdm_auto()

import datasets  # noqa: E402
import pandas as pd  # noqa: E402

from emosign import __version__, captions, hub, labels, video, vocab  # noqa: E402
from emosign.errors import InputError, UnknownNameError  # noqa: E402
from emosign.labels import Clip, Labels  # noqa: E402

__all__ = [
    "CITATION",
    "EmoSign",
    "MANUAL_DOWNLOAD_INSTRUCTIONS",
    "OnMissing",
    "load_emosign",
    "to_frame",
]

_DESCRIPTION = """\
EmoSign: sentiment and emotion in American Sign Language (Chua et al., NeurIPS 2025 Datasets
and Benchmarks, arXiv:2505.17090). 200 ASLLRP utterances, each rated by three Deaf signers
for sentiment (-3...+3), ten emotion intensities (0...3) and free-text descriptions of the
cues that carry the emotion. Only majority labels are released.
"""

CITATION = """\
@inproceedings{chua2025emosign,
  title     = {EmoSign: A Multimodal Dataset for Understanding Emotions in American Sign Language},
  author    = {Chua, Phoebe and Fang, Cathy Mengying and Ohkawa, Takehiko and
               Kushalnagar, Raja and Nanayakkara, Suranga and Maes, Pattie},
  booktitle = {Advances in Neural Information Processing Systems (Datasets and Benchmarks Track)},
  year      = {2025},
  eprint    = {2505.17090},
  archivePrefix = {arXiv}
}
"""

_HOMEPAGE = "https://huggingface.co/datasets/catfang/emosign"

MANUAL_DOWNLOAD_INSTRUCTIONS = """\
The EmoSign videos are not redistributed: they belong to the ASLLRP continuous-signing corpus
(Boston University) and are available under its terms through its data access interface,
https://dai.cs.rutgers.edu/dai/s/dai (register, accept the terms of use, and download the
utterance videos of the EmoSign clips; each clip's ASLLRP utterance id is the trailing number
of its video_name). Put them in one directory, in any of these layouts:

    <video_dir>/<utterance_id>/crop_original_video.mp4
    <video_dir>/<utterance_id>.mp4
    <video_dir>/<video_name>.mp4

and pass video_dir=... to load_emosign (or --video-dir on the command line). Without it the
`video` column is None. The English translations (the "caption" of the video+caption
setting) are an ASLLRP resource too; pass them as captions_file=..., a CSV with a key column
`utterance_id` or `video_name` and a text column `caption` or `translation`.
"""

_CONFIG_DESCRIPTIONS = {
    "clips": "All 200 clips with every label: sentiment, ten intensities, expression set, cues.",
    "sentiment": "The sentiment tasks: -3...3, 7-class and 3-class labels, 200 clips.",
    "single_expression": "The paper's single expression set: 140 clips, one of 10 classes.",
    "multi_expression": "The paper's multi expression set: 37 clips with tied dominant emotions.",
}

OnMissing = Literal["none", "error"]

# The version of the rows' schema; the cache key also covers the package version and source.
_VERSION = datasets.Version("1.0.0")


class EmoSign(datasets.GeneratorBasedBuilder):
    """EmoSign as a ``datasets`` builder; one split, ``test`` (EmoSign is an evaluation set).

    Parameters
    ----------
    config_name : one of ``vocab.CONFIG_NAMES``; default ``"clips"``.
    labels_file : a local label file, taken as it is (its hash is recorded in the info).
        Default: ``$EMOSIGN_LABELS``, else the Hub file at ``revision``, checked against
        ``labels_sha256``.
    video_dir : a directory of ASLLRP utterance videos (see the manual download text).
    captions_file : a CSV of English translations keyed by utterance id or video name.
    on_missing : ``"none"`` leaves ``video``/``caption`` None for clips without one and warns
        with their count and names; ``"error"`` raises instead.
    cache_dir : the ``datasets`` cache root.
    """

    VERSION = _VERSION
    BUILDER_CONFIGS = [
        datasets.BuilderConfig(name=name, version=_VERSION, description=_CONFIG_DESCRIPTIONS[name])
        for name in vocab.CONFIG_NAMES
    ]
    DEFAULT_CONFIG_NAME = vocab.DEFAULT_CONFIG

    def __init__(
        self,
        config_name: str = vocab.DEFAULT_CONFIG,
        *,
        labels_file: str | os.PathLike | None = None,
        revision: str = hub.HUB_REVISION,
        labels_sha256: str | None | hub.PinnedHash = hub.PINNED,
        video_dir: str | os.PathLike | None = None,
        captions_file: str | os.PathLike | None = None,
        on_missing: OnMissing = "none",
        cache_dir: str | os.PathLike | None = None,
        **kwargs: Any,
    ):
        if config_name not in vocab.CONFIG_NAMES:
            raise InputError(
                f"unknown EmoSign config {config_name!r}; choose one of {list(vocab.CONFIG_NAMES)}"
            )
        if on_missing not in ("none", "error"):
            raise InputError(f"on_missing must be 'none' or 'error', not {on_missing!r}")
        # Everything the rows depend on is resolved here, before datasets picks a cache folder.
        # The label file is only located and hashed: its hash is the cache key, and a warm
        # cache is served without reading and validating the rows again (see ``labels``).
        self._labels: Labels | None = None
        self.source: hub.LabelSource
        self._config_clips_of = config_name  # the videos and captions looked for are its clips'
        if isinstance(labels_file, Labels):
            self._labels, self.source = labels_file, labels_file.source
        else:
            self.source = hub.resolve_label_source(labels_file, revision=revision, sha256=labels_sha256)
        self.video_paths = _find_videos(video_dir, self._keys, on_missing)
        self.captions = _find_captions(captions_file, self._keys, on_missing)
        super().__init__(
            cache_dir=None if cache_dir is None else str(cache_dir),
            dataset_name="emosign",
            config_name=config_name,
            hash=self._input_hash(),
            **kwargs,
        )

    @property
    def labels(self) -> Labels:
        """The label file's clips, read and validated on first use: when the Arrow cache is
        built, or when videos or captions must be matched to clips."""
        if self._labels is None:
            self._labels = labels.read_labels(self.source)
        return self._labels

    def _keys(self) -> list[tuple[str, str]]:
        # Only this config's clips: "2 of 140 clips have no video", not a count over all 200.
        return [(c.video_name, c.utterance_id) for c in _config_clips(self.labels, self._config_clips_of)]

    @property
    def manual_download_instructions(self) -> str:
        return MANUAL_DOWNLOAD_INSTRUCTIONS

    def download_and_prepare(self, *args, **kwargs):
        # A cold build reads and validates the labels before datasets makes any folder, so
        # that a bad file stops with its own error (naming the rows) and leaves nothing behind.
        if not os.path.exists(os.path.join(self._output_dir, datasets.config.DATASET_INFO_FILENAME)):
            self.labels  # noqa: B018
        return super().download_and_prepare(*args, **kwargs)

    def _info(self) -> datasets.DatasetInfo:
        intensity = datasets.Value("int8")
        clip_id = {
            "video_name": datasets.Value("string"),
            "utterance_id": datasets.Value("string"),
            "signer": datasets.ClassLabel(names=list(vocab.SIGNERS)),
        }
        sentiment = {
            "sentiment": datasets.Value("int8"),
            "sentiment_7": datasets.ClassLabel(names=list(vocab.SENTIMENT_7_NAMES)),
            "sentiment_3": datasets.ClassLabel(names=list(vocab.SENTIMENT_3_NAMES)),
        }
        media = {"video": datasets.Value("string"), "caption": datasets.Value("string")}
        single_class = datasets.ClassLabel(names=list(vocab.SINGLE_EXPRESSION_NAMES))
        # Only this config's classes come from the rows; the others never read the labels here.
        multi_classes = (
            list(self.labels.multi_expression_classes) if self.config.name == "multi_expression" else []
        )
        features = {
            "clips": {
                **clip_id,
                **sentiment,
                **{name: intensity for name in vocab.EMOTION_NAMES},
                **{f"{name}_present": datasets.Value("bool") for name in vocab.EMOTION_NAMES},
                "dominant_emotions": datasets.List(single_class),
                "expression_set": datasets.ClassLabel(names=list(vocab.EXPRESSION_SETS)),
                "single_label": single_class,
                "multi_label": datasets.Value("string"),
                "cues": datasets.List(datasets.Value("string")),
                **media,
            },
            "sentiment": {**clip_id, **sentiment, **media},
            "single_expression": {**clip_id, "label": single_class, **media},
            "multi_expression": {
                **clip_id,
                # Its classes are the combinations frequent enough in this label file.
                "label": datasets.ClassLabel(names=multi_classes),
                "emotions": datasets.List(
                    datasets.ClassLabel(names=list(vocab.MERGED_EMOTION_NAMES))
                ),
                **media,
            },
        }[self.config.name]
        source = self.source
        return datasets.DatasetInfo(
            description=f"{_DESCRIPTION}\nLabels: {source.origin} file {source.path} "
            f"(sha256 {source.sha256}, revision {source.revision}).",
            citation=CITATION,
            homepage=_HOMEPAGE,
            license="Labels: see the Hub dataset card. Videos: ASLLRP terms of use.",
            features=datasets.Features(features),
            download_checksums={
                source.path: {"num_bytes": source.num_bytes, "checksum": source.sha256}
            },
        )

    def _split_generators(self, dl_manager):
        return [datasets.SplitGenerator(name=datasets.Split.TEST, gen_kwargs={})]

    def _generate_examples(self):
        for clip in _config_clips(self.labels, self.config.name):
            yield clip.video_name, self._example(clip)

    def _example(self, clip: Clip) -> dict[str, Any]:
        full = {
            "video_name": clip.video_name,
            "utterance_id": clip.utterance_id,
            "signer": clip.signer,
            "sentiment": clip.sentiment,
            "sentiment_7": clip.sentiment_7,
            "sentiment_3": clip.sentiment_3,
            **dict(zip(vocab.EMOTION_NAMES, clip.intensities)),
            **{f"{n}_present": p for n, p in zip(vocab.EMOTION_NAMES, clip.present)},
            "dominant_emotions": list(clip.dominant),
            "expression_set": clip.expression_set,
            "single_label": clip.single_label,
            "multi_label": clip.multi_label,
            "label": clip.single_label or clip.multi_label,
            "emotions": list(clip.dominant),
            "cues": list(clip.cues),
            "video": self.video_paths.get(clip.video_name),
            "caption": self.captions.get(clip.video_name),
        }
        return {name: full[name] for name in self.info.features}

    def _input_hash(self) -> str:
        """A digest of everything the rows depend on: the cache folder's name."""
        code = b"".join(
            Path(str(module.__file__)).read_bytes() for module in (vocab, labels, captions)
        ) + Path(__file__).read_bytes()
        inputs = {
            "emosign": __version__,
            "code": hashlib.sha256(code).hexdigest(),
            "labels": self.source.sha256,
            "videos": self.video_paths,
            "captions": self.captions,
        }
        blob = json.dumps(inputs, sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _config_clips(label_set: Labels, config_name: str) -> list[Clip]:
    """The clips a config holds: all of them, or one expression set's."""
    wanted = {"single_expression": "single", "multi_expression": "multi"}.get(config_name)
    return [clip for clip in label_set if wanted is None or clip.expression_set == wanted]


def _find_videos(
    video_dir: str | os.PathLike | None, keys: Callable[[], list[tuple[str, str]]], on_missing: OnMissing
) -> dict[str, str | None]:
    if video_dir is None:
        return {}
    index = video.resolve_videos(video_dir, keys())
    if index.missing:
        message = index.describe_missing()
        if on_missing == "error":
            raise FileNotFoundError(message)
        warnings.warn(message, stacklevel=3)
    return dict(index.paths)


def _find_captions(
    captions_file: str | os.PathLike | None, keys: Callable[[], list[tuple[str, str]]], on_missing: OnMissing
) -> dict[str, str | None]:
    if captions_file is None:
        return {}
    found = captions.read_captions(captions_file, keys())
    if found.missing:
        if on_missing == "error":
            raise UnknownNameError(found.describe_missing())
        warnings.warn(found.describe_missing(), stacklevel=3)
    return dict(found.texts)


def load_emosign(
    name: str = vocab.DEFAULT_CONFIG,
    *,
    labels_file: str | os.PathLike | None = None,
    revision: str = hub.HUB_REVISION,
    labels_sha256: str | None | hub.PinnedHash = hub.PINNED,
    video_dir: str | os.PathLike | None = None,
    captions_file: str | os.PathLike | None = None,
    on_missing: OnMissing = "none",
    cache_dir: str | os.PathLike | None = None,
) -> datasets.DatasetDict:
    """Load an EmoSign config as a ``datasets.DatasetDict`` with one split, ``test``.

    Configs: ``clips`` (200 rows, every label), ``sentiment`` (200), ``single_expression``
    (140, the paper's single expression set), ``multi_expression`` (37). The arguments are
    those of :class:`EmoSign`. The first call builds an Arrow cache; later calls with the
    same inputs read it.
    """
    builder = EmoSign(
        name,
        labels_file=labels_file,
        revision=revision,
        labels_sha256=labels_sha256,
        video_dir=video_dir,
        captions_file=captions_file,
        on_missing=on_missing,
        cache_dir=cache_dir,
    )
    builder.download_and_prepare()
    return builder.as_dataset()


def to_frame(dataset: datasets.Dataset) -> pd.DataFrame:
    """A pandas DataFrame of an EmoSign split with every ClassLabel decoded to its name.

    ``Dataset.to_pandas()`` gives class indices; this gives ``"happiness"``, ``"Cory"``, ...
    Lists of class labels are decoded too. A column with missing values (no video, a clip
    outside the single-expression set) keeps them as None, in an object column.
    """
    columns = {}
    for name, feature in dataset.features.items():
        values = list(dataset[name])
        if isinstance(feature, datasets.ClassLabel):
            values = [None if v is None else feature.int2str(v) for v in values]
        elif isinstance(feature, datasets.List) and isinstance(feature.feature, datasets.ClassLabel):
            values = [[feature.feature.int2str(v) for v in row] for row in values]
        columns[name] = pd.Series(values, dtype=object if None in values else None)
    return pd.DataFrame(columns)
