"""The label file's commands: ``info``, ``export-labels``, ``export-hub``, ``repro`` and ``cues``."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from emosign import vocab
from emosign.cli._options import add_labels_option, examples
from emosign.cli._width import fit_text

__all__ = ["add_commands"]


# export-labels leaves out the media (paths on this machine) everywhere, and the ids derived from
# the video name in the narrow configs (video_name,label); `clips`, every label, keeps them.
_MEDIA = ("video", "caption")
_IDS = ("utterance_id", "signer")


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add this group's commands to the ``emosign`` parser's subcommands."""
    info = sub.add_parser(
        "info", help="summarise the labels: signers, sentiment, emotion sets",
        description="Print the label file's source and sha256, and counts of clips per signer, "
        "sentiment, expression set, class and emotion.",
        **examples("emosign info", "emosign info --labels-file emosign_dataset.csv"),
    )
    add_labels_option(info)
    info.set_defaults(run=_info)

    export = sub.add_parser(
        "export-labels", help="print one config's labels, one row per clip, on stdout",
        description="Print one config of load_emosign as a table on stdout: the narrow configs "
        "as video_name and their labels, `clips` with every label and the clip's signer and "
        "utterance id (never the video paths).",
        **examples("emosign export-labels --config single_expression > single.csv",
                    "emosign export-labels --config clips --format jsonl > clips.jsonl"),
    )
    export.add_argument("--config", required=True, choices=vocab.CONFIG_NAMES,
                        help="which view of the labels (required): " + ", ".join(vocab.CONFIG_NAMES))
    export.add_argument("--format", choices=("csv", "jsonl"), default="csv",
                        help="csv (lists as JSON text in a cell) or jsonl, one object per clip "
                        "(default: csv)")
    export.add_argument("--cache-dir", help="the datasets cache root (default: HF_DATASETS_CACHE)")
    add_labels_option(export)
    export.set_defaults(run=_export_labels)

    hub_export = sub.add_parser(
        "export-hub", help="write a Hub-ready dataset repository (parquet per config + card)",
        description="Write a dataset repository that datasets.load_dataset reads without this "
        "package: one parquet file per config and a README with the configs and the dataset "
        "card. No video is ever written.",
        **examples("emosign export-hub hub-folder/",
                    "emosign export-hub hub-folder/ --push your-name/emosign"),
    )
    hub_export.add_argument("out_dir", help="the folder to write (new or empty, or an earlier "
                            "export-hub output with --overwrite)")
    hub_export.add_argument("--overwrite", action="store_true",
                            help="replace an earlier export-hub output in OUT_DIR, never anything "
                            "else (default: refuse a non-empty OUT_DIR)")
    hub_export.add_argument("--push", metavar="REPO_ID", help="then upload it to this Hub dataset "
                            "repository with huggingface_hub (default: no upload)")
    add_labels_option(hub_export)
    hub_export.set_defaults(run=_export_hub)

    repro = sub.add_parser(
        "repro", help="check the paper's statements the released data supports",
        description="Check every statement of the paper that the released labels can decide and "
        "print statement, paper value, computed value and verdict. Exit status 1 if a statement "
        "that should reproduce does not.",
        **examples("emosign repro", "emosign repro --labels-file emosign_dataset.csv"),
    )
    add_labels_option(repro)
    repro.set_defaults(run=_repro)

    cues = sub.add_parser(
        "cues", help="which cues annotators name, overall and by emotion/sentiment",
        description="Print the share of the annotators' cue descriptions that name each cue "
        "category (eyebrows, mouth, sign speed, ...), over all clips or per group.",
        **examples("emosign cues", "emosign cues --by single_label --ceiling"),
    )
    cues.add_argument("--by", choices=("all", "single_label", "sentiment_3"), default="all",
                      help="one column for all clips, or one per single-expression class (the "
                      "140 single-expression clips) or per 3-class sentiment (default: all)")
    cues.add_argument("--ceiling", action="store_true",
                      help="also print the human ceiling and chance level of cue grounding "
                      "(default: off)")
    add_labels_option(cues)
    cues.set_defaults(run=_cues)


def _info(args: argparse.Namespace) -> int:
    from emosign.labels import load_labels

    labels = load_labels(args.labels_file)
    source = labels.source
    print(f"EmoSign labels: {len(labels)} clips from {source.origin} file {source.path}")
    print(f"sha256 {source.sha256}\n")

    signers = Counter(c.signer for c in labels)
    _table("clips per signer", [(s, signers[s]) for s in vocab.SIGNERS])
    sentiment = Counter(c.sentiment for c in labels)
    _table(
        "sentiment",
        [(f"{lv.value:+d} {lv.phrase}", sentiment[lv.value]) for lv in vocab.SENTIMENT_LEVELS],
    )
    polarity = Counter(c.sentiment_3 for c in labels)
    _table("3-class sentiment", [(n, polarity[n]) for n in vocab.SENTIMENT_3_NAMES])
    sets = Counter(c.expression_set for c in labels)
    _table("expression sets", [(s, sets[s]) for s in vocab.EXPRESSION_SETS])
    single = Counter(c.single_label for c in labels)
    _table(
        "single expression classes",
        [(f"{c.code:6} {c.name}", single[c.name]) for c in vocab.EXPRESSION_CLASSES],
    )
    multi = Counter(c.multi_label for c in labels if c.multi_label)
    _table("multi expression classes", [(n, multi[n]) for n in labels.multi_expression_classes])
    present = [sum(c.present[i] for c in labels) for i in range(len(vocab.EMOTIONS))]
    _table("emotion present (intensity >= 1)", [(e.paper_name, n) for e, n in zip(vocab.EMOTIONS, present)])
    return 0


def _table(title: str, rows: list[tuple[str, int]]) -> None:
    width = max(len(label) for label, _ in rows)
    print(title)
    for label, count in rows:
        print(f"  {label:<{width}}  {count:>4}")
    print()


def _export_labels(args: argparse.Namespace) -> int:
    from emosign.loader import load_emosign, to_frame

    dataset = load_emosign(args.config, labels_file=args.labels_file, cache_dir=args.cache_dir)
    dropped = _MEDIA if args.config == "clips" else _MEDIA + _IDS
    frame = to_frame(dataset["test"]).drop(columns=list(dropped), errors="ignore")
    if args.format == "jsonl":
        for record in frame.to_dict("records"):
            sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
    else:
        # Lists (cues, dominant emotions) become JSON text in a CSV cell.
        lists = [c for c in frame.columns if frame[c].map(lambda v: isinstance(v, list)).any()]
        for column in lists:
            frame[column] = frame[column].map(lambda v: json.dumps(v, ensure_ascii=False))
        frame.to_csv(sys.stdout, index=False, lineterminator="\n")
    return 0


def _export_hub(args: argparse.Namespace) -> int:
    from emosign.export import export_hub, push_to_hub
    from emosign.hub import HubUnreachableError, check_hub_reachable

    if args.push:
        # Offline, say so before writing anything rather than after the export.
        try:
            check_hub_reachable()
        except HubUnreachableError as err:
            raise HubUnreachableError(
                f"cannot push to {args.push}: {err}; nothing was written (export without "
                f"--push now, and upload the folder later with --push or `hf upload`)"
            ) from err
    out = export_hub(args.out_dir, labels_file=args.labels_file, overwrite=args.overwrite)
    print(f"wrote {out}: README.md and data/<config>/test.parquet for each config")
    if args.push:
        print(push_to_hub(out, args.push))
    return 0


def _repro(args: argparse.Namespace) -> int:
    from emosign.repro import format_repro, run_repro

    report = run_repro(labels_file=args.labels_file)
    print(fit_text(format_repro(report), rest=None))
    return 0 if report.ok else 1


def _cues(args: argparse.Namespace) -> int:
    from emosign.cues import cue_report, human_ceiling
    from emosign.labels import load_labels

    labels = load_labels(args.labels_file)
    report = cue_report(labels.clips)
    rows = report[report["grouping"] == args.by]
    table = rows.pivot(index="category", columns="group", values="description_rate")
    # Counted over the clips the grouping covers (single_label: the 140 single-expression clips).
    per_group = rows.drop_duplicates("group")
    clips, descriptions = int(per_group["n_clips"].sum()), int(per_group["n_descriptions"].sum())
    lines = [f"% of the {descriptions} cue descriptions ({clips} clips) naming each category, "
             f"by {args.by}" + ("" if args.by == "all" else "; each column is one group's descriptions")]
    # One header line: the categories' name above them, the groups' names beside it (pandas
    # would add a second line for the index's name).
    lines.append((100 * table).round(1).rename_axis(index=None, columns="category").to_string())
    if args.ceiling:
        ceiling = human_ceiling(labels.clips)
        lines.append("\nhuman ceiling (each annotator against the other two; chance = other clips)")
        for key in ("cue_precision", "cue_recall", "cue_f1", "cue_f1_strict", "rouge_l"):
            chance = ceiling["chance"].get(key)
            tail = "" if chance is None else f"   chance {chance:.3f}"
            lines.append(f"  {key:<16}{ceiling['mean'][key]:.3f}{tail}")
    # cues has no JSON output: a table too wide goes on under itself rather than lose columns.
    print(fit_text("\n".join(lines), rest=None))
    return 0
