"""Example inputs for every documented command: ``emosign examples DIR``.

The manual's commands name files; this module writes them, from the label file and the
project's own baselines, so that every command of the documentation runs as written::

    from emosign.examples import write_examples

    write_examples("examples/")        # the files below, in a new folder

What ``DIR`` holds (``DIR/README.md`` says the same):

- ``predictions/``: predictions files, one per task, made by this project's baselines and
  floors (never a model of the video): ``sentiment_3.cue_text.csv`` and
  ``sentiment_3.prior_random.csv`` (two systems to compare), ``sentiment_7.cue_text.jsonl``,
  ``emotion_single.cue_text.csv``, ``emotion_single.majority.csv``,
  ``emotion_multi.majority.csv``, ``emotion_presence.prior.csv``,
  ``emotion_intensity.mean.csv``. ``cue_text`` is the cue-text reference (a TF-IDF model of
  the annotators' own cue descriptions, out of fold by signer), ``majority`` answers the most
  frequent class, ``prior_random`` draws from the label prior (seeded), ``prior`` flags each
  emotion on as many clips as the labels do (seeded), ``mean`` answers each emotion's mean
  intensity, rounded.
- ``explanations.csv``: a cue explanation per clip for ``cue_grounding``: one of a few fixed
  sentences naming common cues, the kind of floor a model's explanations must beat.
- ``captions.csv``: a stand-in caption per clip (``utterance_id,caption``). **Not** the
  ASLLRP translations, which are not redistributed: neutral sentences, so that the caption
  baselines and the video+caption settings run.
- ``videos/``: a synthetic one-second mp4 per clip (``<utterance_id>.mp4``, a flat grey
  ramp), so that the video commands run without the ASLLRP corpus; no number from them means
  anything.
- ``runs/``: an ``emosign mllm run`` folder of a stand-in model (``stand-in``, a function
  answering the joint prompt with a seeded random JSON answer) on those videos, scored: what
  ``emosign mllm score`` and ``emosign report`` read. Needs Pillow (the ``mllm`` extra);
  without it the folder is left out, with a note in ``DIR/README.md``.

Every file is seeded: the same labels give the same files.
"""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["write_examples"]

#: The writer's name in its folder's marker (``.emosign-examples``).
WRITER = "examples"

#: Fixed explanations: the common cues, in the harness's words.
EXPLANATIONS = (
    "Raised eyebrows and wide eyes; the signs are large and fast.",
    "A frown with furrowed brows, and the head shakes while the signs are repeated.",
    "A smile and a relaxed body; the signing is calm and of ordinary size.",
    "Squinted eyes and pursed lips; the signer leans back and the signs are emphasized.",
)

CAPTIONS = (
    "I went to the store and then came home.",
    "We talked about the meeting next week.",
    "She told me what happened at school.",
    "They moved to a new city last year.",
)


def write_examples(
    out: str | os.PathLike,
    *,
    labels_file: str | os.PathLike | None = None,
    videos: bool = True,
    run: bool = True,
    overwrite: bool = False,
) -> Path:
    """Write example inputs for every task and command into the folder ``out``.

    Parameters
    ----------
    out : path
        The folder to write: absent or empty, or, with ``overwrite``, an earlier output of
        this function (its ``.emosign-examples`` marker lists every file). Anything else is
        refused, as every emosign writer refuses it.
    labels_file : path, optional
        The label file (default ``$EMOSIGN_LABELS``, else the pinned Hub file).
    videos : bool
        Write ``videos/`` (200 small mp4s, about 1 MB) and, with ``run``, ``runs/``.
    run : bool
        Write ``runs/``, a stand-in model's scored run (needs Pillow and ``videos``).
    overwrite : bool
        Replace an earlier examples folder.

    Returns
    -------
    pathlib.Path
        ``out``.
    """
    from emosign._io import staged_directory
    from emosign.labels import load_labels

    labels = load_labels(labels_file)
    with staged_directory(out, writer=WRITER, overwrite=overwrite,
                          inputs=[labels.source.path]) as folder:
        notes = _write_predictions(folder / "predictions", labels, labels_file)
        _write_table(folder / "explanations.csv", ["video_name", "prediction"],
                     [(c.video_name, EXPLANATIONS[k % len(EXPLANATIONS)]) for k, c in enumerate(labels)])
        _write_table(folder / "captions.csv", ["utterance_id", "caption"],
                     [(c.utterance_id, CAPTIONS[k % len(CAPTIONS)]) for k, c in enumerate(labels)])
        if videos:
            _write_videos(folder / "videos", labels)
            if run:
                notes.append(_write_run(folder, labels_file))
        else:
            notes.append("videos/ and runs/ were not written (videos=False, --no-videos).")
        (folder / "README.md").write_text(_readme(notes), encoding="utf-8")
    return Path(out)


def _write_table(path: Path, header: list[str], rows: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.writer(file)
        writer.writerow(header)
        writer.writerows(rows)


def _write_predictions(folder: Path, labels: Any, labels_file: Any) -> list[str]:
    """The baselines' out-of-fold predictions, and floors for the other tasks."""
    from emosign import vocab
    from emosign.baselines.benchmark import run_benchmark

    folder.mkdir(parents=True)
    with tempfile.TemporaryDirectory(prefix="emosign-examples-") as tmp:
        bench = Path(tmp) / "bench"
        run_benchmark(tasks=("sentiment_3", "sentiment_7", "emotion_single"),
                      baselines=("majority", "prior_random", "cue_text_tfidf"),
                      labels_file=labels_file, out_dir=bench, n_boot=200, kfold_repeats=0,
                      progress=False, workers=1)
        made = bench / "predictions"
        for task, baseline, name in (
            ("sentiment_3", "cue_text_tfidf", "sentiment_3.cue_text.csv"),
            ("sentiment_3", "prior_random", "sentiment_3.prior_random.csv"),
            ("emotion_single", "cue_text_tfidf", "emotion_single.cue_text.csv"),
            ("emotion_single", "majority", "emotion_single.majority.csv"),
        ):
            shutil.copyfile(made / task / f"{baseline}.csv", folder / name)
        with open(made / "sentiment_7" / "cue_text_tfidf.csv", newline="", encoding="utf-8") as file:
            rows = [{"video_name": r["video_name"], "prediction": r["prediction"]}
                    for r in csv.DictReader(file)]
        (folder / "sentiment_7.cue_text.jsonl").write_text(
            "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")

    clips = list(labels)
    multi = [c for c in clips if c.expression_set == "multi"]
    combos = sorted({c.multi_label for c in multi})
    commonest = max(combos, key=lambda m: (sum(c.multi_label == m for c in multi), m))
    _write_table(folder / "emotion_multi.majority.csv", ["video_name", "prediction"],
                 [(c.video_name, commonest) for c in multi])

    names = list(vocab.EMOTION_NAMES)
    rng = random.Random(0)
    present = {e: sum(c.intensities[i] > 0 for c in clips) for i, e in enumerate(names)}
    flags = {e: set(rng.sample([c.video_name for c in clips], present[e])) for e in names}
    _write_table(folder / "emotion_presence.prior.csv", ["video_name", *names],
                 [(c.video_name, *(int(c.video_name in flags[e]) for e in names)) for c in clips])
    means = [round(sum(c.intensities[i] for c in clips) / len(clips)) for i in range(len(names))]
    _write_table(folder / "emotion_intensity.mean.csv", ["video_name", *names],
                 [(c.video_name, *means) for c in clips])
    return []


def _write_videos(folder: Path, labels: Any) -> None:
    """One synthetic clip, copied once per utterance (copies: emosign refuses hard links)."""
    import av
    import numpy as np

    folder.mkdir(parents=True)
    clips = list(labels)
    first = folder / f"{clips[0].utterance_id}.mp4"
    with av.open(str(first), "w") as container:
        try:
            stream = container.add_stream("libx264", rate=30)
        except Exception:  # an FFmpeg build without x264
            stream = container.add_stream("mpeg4", rate=30)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuv420p"
        for i in range(30):
            image = np.full((48, 64, 3), (8 * i) % 256, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    for clip in clips[1:]:
        shutil.copyfile(first, folder / f"{clip.utterance_id}.mp4")


class _StandIn:
    """A stand-in model: a seeded random answer to the joint prompt (asked one clip at a time,
    in order, so that the answers are the same on every run)."""

    def __init__(self) -> None:
        self.rng = random.Random(0)

    def __call__(self, messages: Any) -> str:
        return _answer(self.rng)


def _answer(rng: random.Random) -> str:
    from emosign import vocab

    answer: dict[str, Any] = {"sentiment": rng.randint(-3, 3)}
    top = rng.choice(vocab.EMOTION_NAMES)
    answer.update({e: (2 if e == top else rng.choice((0, 0, 1))) for e in vocab.EMOTION_NAMES})
    answer["explanation"] = rng.choice(EXPLANATIONS)
    return json.dumps(answer)


def _write_run(folder: Path, labels_file: Any) -> str:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return "runs/ was not written: it needs Pillow (pip install \".[mllm]\")."
    from emosign.harness.config import ClientConfig
    from emosign.harness.runner import run_mllm, score_run

    run_mllm(model="stand-in", client=_StandIn(), client_config=ClientConfig(concurrency=1),
             task="joint", video_dir=folder / "videos", out=folder / "runs",
             labels_file=labels_file, progress=False)
    score_run(folder / "runs", labels_file=labels_file, n_boot=200)
    return "runs/ holds the stand-in model's joint run, scored (runs/results.json)."


def _readme(notes: list[str]) -> str:
    doc = __doc__ or ""
    body = doc[doc.index("What ``DIR`` holds"):doc.index("Every file is seeded")]
    return ("# emosign example inputs\n\nWritten by `emosign examples`; see the emosign "
            "documentation's getting-started page.\n\n" + body.replace("``", "`")
            + "\n".join(notes) + "\n")
