"""``emosign repro``: which of the paper's statements the released labels reproduce.

The EmoSign paper (arXiv:2505.17090) prints facts about its data and tables of model scores.
The release holds the 200 clips' majority labels and nothing else: no per-annotator ratings,
no videos, no model answers. This module checks every printed statement those labels can
decide, and says for the rest why they cannot be checked. Each check is one :class:`ReproRow`:

* **Dataset**: clip and signer counts, the rating scales, the joy/excited overlap.
* **Expression sets**: the 140-clip single-expression set with each class's size, the
  37-clip multi-expression set.
* **Table 3, constant answers**: a model that gives one answer to every clip has a
  balanced accuracy (the paper's wAcc) of exactly 1/K, and a weighted F1 (wF1) fixed by the
  size of the class it names. A published row with wAcc = 1/K is checked against every
  constant answer, scored with :func:`emosign.metrics.evaluate`.
* **Table 4, internal consistency**: each per-class accuracy is printed as a whole percent;
  with the class sizes of the released labels it must be k/size for some whole number k of
  correct clips, the mean of those fractions must round to the printed wAcc, and the printed
  wF1 must lie in the range those correct counts allow.

Rows marked ``must_reproduce`` are statements the released labels decide; if one of them does
not hold, :attr:`ReproReport.ok` is False and ``emosign repro`` exits non-zero. The paper's
numbers come from the package data file ``emosign/data/reported_results.json`` (percent, as
printed; see :func:`emosign.paper.reported_results`).
"""

from __future__ import annotations

import itertools
import os
import textwrap
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from emosign import hub, vocab
from emosign.labels import Labels, load_labels
from emosign.metrics import evaluate
from emosign.paper import reported_results
from emosign.tasks import get_task

__all__ = [
    "PINNED_RELEASE_SIGNERS",
    "ReproReport",
    "ReproRow",
    "Status",
    "format_repro",
    "run_repro",
]

Status = Literal["yes", "no", "cannot check"]

#: Clips per signer in the label file at the pinned Hub revision (emosign.hub.HUB_REVISION).
#: These are facts of the released file, not numbers the paper prints.
PINNED_RELEASE_SIGNERS: Mapping[str, int] = {"Cory": 87, "Jonathan": 54, "Rachel": 52, "Ben": 7}

# A value printed with two decimals reproduces when it is the computed value rounded; the
# extra 1e-9 absorbs binary floating point (0.125 must count as rounding to 0.13 or 0.12).
_HALF_CENT = 0.005 + 1e-9
_TASK_WORDS = {"sentiment_3": "3-class", "sentiment_7": "7-class"}


@dataclass(frozen=True)
class ReproRow:
    """One statement of the paper, and whether the released labels reproduce it.

    ``paper`` and ``computed`` are display text (percentages as the paper prints them);
    ``status`` is ``"yes"``, ``"no"`` or ``"cannot check"``; ``reason`` says how the value was
    computed, or why it cannot be; ``must_reproduce`` marks statements the released labels
    decide, whose failure makes the report not ok. ``section`` groups rows for printing.
    """

    statement: str
    paper: str
    computed: str
    status: Status
    reason: str
    must_reproduce: bool
    section: str = ""


@dataclass(frozen=True)
class ReproReport:
    """Every checked statement, in print order, and the label file they were checked on."""

    rows: tuple[ReproRow, ...]
    labels: hub.LabelSource

    @property
    def failures(self) -> tuple[ReproRow, ...]:
        """Rows that must reproduce and do not (a "cannot check" among them counts too)."""
        return tuple(r for r in self.rows if r.must_reproduce and r.status != "yes")

    @property
    def ok(self) -> bool:
        """True when every statement that must reproduce does."""
        return not self.failures


def run_repro(
    labels_file: str | os.PathLike | None = None, *, reported: Mapping | None = None
) -> ReproReport:
    """Check the paper's statements against a label file.

    Parameters
    ----------
    labels_file : the label file; default ``$EMOSIGN_LABELS``, else the pinned Hub file
        (see :func:`emosign.labels.load_labels`).
    reported : the paper's numbers in the form of :func:`emosign.paper.reported_results` (the default);
        tests pass altered copies.
    """
    labels = load_labels(labels_file)
    paper = reported_results() if reported is None else reported
    constant_rows, n_constant = _constant_answer_rows(labels, paper)
    rows = [
        *_dataset_rows(labels, paper),
        *_expression_set_rows(labels, paper),
        *constant_rows,
        *_table4_rows(labels, paper),
        *_uncheckable_rows(paper, n_constant=n_constant),
    ]
    return ReproReport(rows=tuple(rows), labels=labels.source)


# --- dataset facts ---------------------------------------------------------------------------


def _dataset_rows(labels: Labels, paper: Mapping) -> list[ReproRow]:
    facts = paper["dataset"]
    section = "Dataset"
    signers = Counter(c.signer for c in labels)
    per_signer = ", ".join(f"{s} {n}" for s, n in signers.most_common())
    sentiment = Counter(c.sentiment for c in labels)
    levels = " ".join(
        f"{v:+d}:{sentiment[v]}" if v else f"0:{sentiment[v]}"
        for v in range(vocab.SENTIMENT_MIN, vocab.SENTIMENT_MAX + 1)
    )
    polarity = Counter(c.sentiment_3 for c in labels)
    low, high = facts["sentiment_scale"]
    ratings = [c.sentiment for c in labels]
    i_low, i_high = facts["emotion_intensity_scale"]
    intensities = [v for c in labels for v in c.intensities]

    joy = [c.intensity("joy") > vocab.INTENSITY_MIN for c in labels]
    excited = [c.intensity("excited") > vocab.INTENSITY_MIN for c in labels]
    both = sum(j and e for j, e in zip(joy, excited))
    either = sum(j or e for j, e in zip(joy, excited))
    jaccard = both / either if either else float("nan")

    return [
        _compare("clips", facts["clips"], len(labels), section=section,
                 reason="rows of the label file"),
        _compare("signers", facts["signers"], len(signers), section=section,
                 reason=f"{', '.join(sorted(signers))}: the signer named in each video_name (the "
                 "two Rachel sessions are one signer)"),
        ReproRow(
            "clips per signer", "not stated", per_signer,
            "yes" if dict(signers) == dict(PINNED_RELEASE_SIGNERS) else "no",
            "the paper gives the number of signers only; these counts are checked against the "
            f"released file at the pinned Hub revision {hub.HUB_REVISION[:7]}, not against the paper",
            must_reproduce=False, section=section,
        ),
        ReproRow(
            f"sentiment rated on {low:+d}...{high:+d}", f"{low:+d}...{high:+d}",
            f"{min(ratings):+d}...{max(ratings):+d}",
            "yes" if low <= min(ratings) and max(ratings) <= high else "no",
            "the majority rating of every clip", must_reproduce=True, section=section,
        ),
        ReproRow(
            "sentiment distribution", "not transcribed", levels, "cannot check",
            f"3-class: negative {polarity['negative']}, neutral {polarity['neutral']}, positive "
            f"{polarity['positive']}. No sentiment counts of the paper are transcribed; shown "
            f"for the record: only {sentiment[0]} clips are neutral, which decides the wF1 of a "
            "constant 'neutral' answer below",
            must_reproduce=False, section=section,
        ),
        ReproRow(
            f"emotion intensity rated on {i_low}...{i_high}", f"{i_low}...{i_high}",
            f"{min(intensities)}...{max(intensities)}",
            "yes" if i_low <= min(intensities) and max(intensities) <= i_high else "no",
            f"the file stores intensity + {vocab.FILE_INTENSITY_OFFSET} "
            f"({i_low + vocab.FILE_INTENSITY_OFFSET}...{i_high + vocab.FILE_INTENSITY_OFFSET}); "
            "shown on the paper's scale",
            must_reproduce=True, section=section,
        ),
        ReproRow(
            "joy and excited co-occur (Jaccard)", f"{facts['joy_excited_jaccard']:.2f}",
            f"{jaccard:.2f}",
            "yes" if abs(jaccard - facts["joy_excited_jaccard"]) <= _HALF_CENT else "no",
            f"{both} of the {either} clips with joy or excited present have both (present = "
            "majority intensity above 0); the paper does not say whether it used the majority "
            "labels or the individual ratings",
            must_reproduce=True, section=section,
        ),
    ]


def _expression_set_rows(labels: Labels, paper: Mapping) -> list[ReproRow]:
    section = "Expression sets"
    facts = paper["dataset"]
    sizes = Counter(c.expression_set for c in labels)
    single = Counter(c.single_label for c in labels if c.single_label)
    rows = [
        _compare("single expression set: clips", facts["single_expression_clips"], sizes["single"],
                 section=section,
                 reason="joy and excited merged; exactly one dominant emotion, or none (neutral)"),
    ]
    supports = paper["single_expression_supports"]["supports"]
    for c in vocab.EXPRESSION_CLASSES:
        rows.append(_compare(
            f"  {c.name} ({c.code})", supports[c.name], single[c.name], section=section,
            reason="class size implied by Table 4's per-class percentages (the paper prints none)",
        ))
    combinations = Counter(c.multi_label for c in labels if c.multi_label)
    rows.append(_compare(
        "multi expression set: clips", facts["multi_expression_clips"], sizes["multi"],
        section=section,
        reason=f"tied dominant emotions whose combination occurs in more than "
        f"{vocab.MULTI_EXPRESSION_MIN_SUPPORT - 1} clips ({len(combinations)} combinations)",
    ))
    return rows


def _compare(statement: str, paper: int, computed: int, *, section: str, reason: str) -> ReproRow:
    """A count the paper states, against the count in the labels; always must reproduce."""
    return ReproRow(
        statement, str(paper), str(computed), "yes" if paper == computed else "no",
        reason, must_reproduce=True, section=section,
    )


# --- Table 3: models that gave one answer to every clip --------------------------------------


def _constant_answer_rows(labels: Labels, paper: Mapping) -> tuple[list[ReproRow], int]:
    """Rows for every Table 3 row whose wAcc is that of a constant answer, 1/K, and how many
    published rows that was.

    Each constant answer is scored with evaluate(); the closed forms it must agree with: a
    constant answer c is right on exactly the n_c clips of class c, so its recall is 1 on c
    and 0 elsewhere (balanced accuracy 1/K), and its wF1 is (n_c / n) * 2 n_c / (n_c + n).
    """
    section = "Table 3: a model that gave one answer to every clip"
    rows = []
    n_constant = 0
    by_task: dict[str, dict[str, dict[str, float]]] = {}
    for published in paper["rows"]:
        if published["table"] != "Table 3":
            continue
        task = published["task"]
        wacc = published["metrics"]["balanced_accuracy"]
        wf1 = published["metrics"]["weighted_f1"]
        if task not in by_task:
            by_task[task] = _constant_scores(labels, task)
        scores = by_task[task]
        k = len(scores)
        if abs(100 / k - wacc) > _HALF_CENT:
            continue  # not a constant answer: see the "cannot check" row for the others
        n_constant += 1
        who = f"{published['model']} ({published['modality']}), {_TASK_WORDS[task]}"
        chance = {round(100 * s["balanced_accuracy"], 6) for s in scores.values()}
        rows.append(ReproRow(
            f"{who}: wAcc = 1/{k}", f"{wacc:.2f}",
            ", ".join(f"{c:.2f}" for c in sorted(chance)),
            "yes" if all(abs(c - wacc) <= _HALF_CENT for c in chance) else "no",
            f"the balanced accuracy of any constant answer: each of the {k} scored with evaluate()",
            must_reproduce=True, section=section,
        ))
        matches = [c for c, s in scores.items() if abs(100 * s["weighted_f1"] - wf1) <= _HALF_CENT]
        n = len(labels)
        others = ", ".join(
            f"{c} {100 * s['weighted_f1']:.2f}" for c, s in scores.items() if c not in matches
        )
        if matches:
            c = matches[0]
            n_c = scores[c]["support"]
            computed = f"{100 * scores[c]['weighted_f1']:.2f} ('{c}')"
            reason = (
                f"a constant '{c}' answer scores wF1 = ({n_c}/{n}) * 2*{n_c}/({n_c}+{n}) = "
                f"{100 * n_c / n * 2 * n_c / (n_c + n):.3f}%; the other constant answers score "
                f"{others}"
            )
        else:
            computed = "no constant answer"
            reason = f"the wAcc is a constant answer's, but no constant answer gives this wF1: {others}"
        rows.append(ReproRow(
            f"{who}: wF1 of one constant answer", f"{wf1:.2f}", computed,
            "yes" if matches else "no", reason, must_reproduce=True, section=section,
        ))
    return rows, n_constant


def _constant_scores(labels: Labels, task: str) -> dict[str, dict[str, float]]:
    """evaluate() of each constant answer among the task's reference classes.

    Returns {class: {"balanced_accuracy", "weighted_f1" (fractions), "support"}} for the
    classes with clips in ``labels`` (a class nobody has is not a class of balanced accuracy).
    """

    data = get_task(task).bind(labels)
    present = [c for i, c in enumerate(data.classes) if (data.y_true == i).any()]
    scores = {}
    for answer in present:
        # n_boot=1: only the point values are used, not the intervals.
        result = evaluate(
            task, {name: answer for name in data.video_names},
            labels_file=labels.source.path, n_boot=1,
        )
        scores[answer] = {
            "balanced_accuracy": result["metrics"]["balanced_accuracy"],
            "weighted_f1": result["metrics"]["weighted_f1"],
            "support": result["per_class"][answer]["support"],
        }
    return scores


# --- Table 4: per-class accuracies, their mean and the wF1 they allow ------------------------


def _table4_rows(labels: Labels, paper: Mapping) -> list[ReproRow]:
    section = "Table 4: per-class accuracies against the class sizes"
    sizes = Counter(c.single_label for c in labels if c.single_label)
    supports = [sizes[c.name] for c in vocab.EXPRESSION_CLASSES]
    rows = []
    for published in paper["rows"]:
        if published["table"] != "Table 4":
            continue
        metrics = published["metrics"]
        who = f"{published['model']} ({published['modality']})"
        printed = [metrics[f"per_class.{c.name}.recall"] for c in vocab.EXPRESSION_CLASSES]
        wacc, wf1 = metrics["balanced_accuracy"], metrics["weighted_f1"]
        # Every count of correct clips that prints as the published whole percent, per class.
        options = [_counts_printing_as(p, s) for p, s in zip(printed, supports)]
        impossible = [
            f"{c.code} {p}% of {s}"
            for c, p, s, o in zip(vocab.EXPRESSION_CLASSES, printed, supports, options)
            if not o
        ]
        if impossible:
            reason = "no whole number of correct clips prints as " + ", ".join(impossible)
            rows.append(ReproRow(f"{who}: per-class counts average to wAcc", f"{wacc:.2f}",
                                 "impossible", "no", reason, True, section))
            rows.append(ReproRow(f"{who}: wF1 within the range they allow", f"{wf1:.2f}",
                                 "-", "cannot check", reason, True, section))
            continue
        candidates = list(itertools.product(*options))
        means = [100 * sum(k / s for k, s in zip(tp, supports)) / len(supports) for tp in candidates]
        best = min(range(len(candidates)), key=lambda i: abs(means[i] - wacc))
        fractions = ", ".join(
            f"{c.code} {k}/{s}" for c, k, s in zip(vocab.EXPRESSION_CLASSES, candidates[best], supports)
        )
        rows.append(ReproRow(
            f"{who}: per-class counts average to wAcc", f"{wacc:.2f}", f"{means[best]:.2f}",
            "yes" if abs(means[best] - wacc) <= _HALF_CENT else "no",
            f"correct clips per class: {fractions}", must_reproduce=True, section=section,
        ))
        ranges = [_weighted_f1_range(tp, supports) for tp in candidates]
        low, high = 100 * min(r[0] for r in ranges), 100 * max(r[1] for r in ranges)
        rows.append(ReproRow(
            f"{who}: wF1 within the range they allow", f"{wf1:.2f}", f"{low:.2f}...{high:.2f}",
            "yes" if low - _HALF_CENT <= wf1 <= high + _HALF_CENT else "no",
            "the exact wF1 needs the confusion matrix; with these correct counts it is highest "
            "when no clip is wrongly given a class and lowest when the wrong answers cost the "
            "most F1",
            must_reproduce=True, section=section,
        ))
    return rows


def _counts_printing_as(percent: float, support: int) -> list[int]:
    """The numbers k of correct clips out of ``support`` whose 100 k / support prints as
    ``percent`` rounded to a whole number (either rounding of halves)."""
    if support == 0:
        return []
    return [k for k in range(support + 1) if abs(100 * k / support - percent) <= 0.5 + 1e-9]


def _weighted_f1_range(correct: Sequence[int], supports: Sequence[int]) -> tuple[float, float]:
    """Lowest and highest support-weighted F1 with ``correct[k]`` right answers in class k.

    F1_k = 2 TP_k / (support_k + predicted_k), and predicted_k = TP_k + FP_k. The highest
    wF1 has no false positives (the wrong clips got an answer outside the classes). The
    lowest spends the n - sum(TP) wrong answers as false positives where each costs the most
    F1; class k can receive at most the wrong clips of the other classes. F1 falls with FP_k
    at a shrinking rate, so spending one answer at a time on the largest loss is optimal.
    """
    n = sum(supports)
    wrong = [s - tp for s, tp in zip(supports, correct)]

    def weighted_f1(fp: Sequence[int]) -> float:
        return sum(
            s * 2 * tp / (s + tp + f) for s, tp, f in zip(supports, correct, fp) if tp
        ) / n

    high = weighted_f1([0] * len(supports))
    fp = [0] * len(supports)
    caps = [sum(wrong) - w for w in wrong]
    for _ in range(sum(wrong)):
        losses = [
            (s * 2 * tp / (s + tp + f) - s * 2 * tp / (s + tp + f + 1)) if tp and f < cap else 0.0
            for s, tp, f, cap in zip(supports, correct, fp, caps)
        ]
        k = max(range(len(losses)), key=losses.__getitem__)
        if losses[k] <= 0:
            break
        fp[k] += 1
    return weighted_f1(fp), high


# --- what the release cannot decide ----------------------------------------------------------


def _uncheckable_rows(paper: Mapping, *, n_constant: int) -> list[ReproRow]:
    section = "Cannot be checked from the released data"
    alphas = paper["krippendorff_alpha"]["values"]
    facts = paper["dataset"]
    table3 = [r for r in paper["rows"] if r["table"] == "Table 3"]
    return [
        ReproRow(
            "Krippendorff's alpha per label (Table 2)",
            f"{len(alphas)} values, average {alphas['average']:.3f}", "-", "cannot check",
            "needs each annotator's ratings; the release holds the majority labels only "
            "(given them, emosign.stats.krippendorff_alpha computes it)",
            must_reproduce=False, section=section,
        ),
        ReproRow(
            f"{facts['annotators']} annotators per clip", str(facts["annotators"]), "-",
            "cannot check",
            "no per-annotator ratings are released; the file's three free-text cue columns "
            "(Reasoning_1..3) are consistent with three annotators",
            must_reproduce=False, section=section,
        ),
        ReproRow(
            "clip duration", f"{facts['mean_duration_s']} s mean, ~{facts['total_minutes_about']} min",
            "-", "cannot check",
            "the videos are not in the release (ASLLRP corpus, under its own terms)",
            must_reproduce=False, section=section,
        ),
        ReproRow(
            "the other scores of Tables 3 and 4",
            f"{len(table3) - n_constant} of {len(table3)} Table 3 rows", "-", "cannot check",
            "need the models' (and the hearing person's) answers, which are not released; only a "
            "constant answer's scores, and the bounds of Table 4 above, follow from the labels",
            must_reproduce=False, section=section,
        ),
    ]


# --- printing --------------------------------------------------------------------------------


def format_repro(report: ReproReport) -> str:
    """The report as a text table, one section at a time.

    One line per statement (a leading ``*`` marks those that must reproduce), its reason
    indented below; a reason shared by several rows of a section is printed once.
    """
    source = report.labels
    lines = [
        "EmoSign repro: the paper's statements (arXiv:2505.17090) checked against the labels",
        f"  {source.path} ({source.origin}, sha256 {source.sha256[:12]}...)",
        "  * = must reproduce: `emosign repro` fails if it does not",
    ]
    sections = dict.fromkeys(r.section for r in report.rows)
    for section in sections:
        rows = [r for r in report.rows if r.section == section]
        titles = ("statement", "paper", "computed")
        widths = [max(len(t), *(len(getattr(r, t)) for r in rows)) for t in titles]
        lines += ["", section, "  " + "  ".join(f"{t:<{w}}" for t, w in zip(titles, widths))
                  + "  reproduced"]
        printed: set[str] = set()
        for row in rows:
            cells = "  ".join(
                f"{text:<{w}}" for text, w in zip((row.statement, row.paper, row.computed), widths)
            )
            status = "NO" if row.status == "no" else row.status
            lines.append(f"{'*' if row.must_reproduce else ' '} {cells}  {status}")
            if row.reason not in printed:
                lines += textwrap.wrap(row.reason, width=100, initial_indent=" " * 6,
                                       subsequent_indent=" " * 6)
                printed.add(row.reason)

    counts = Counter(r.status for r in report.rows)
    required = sum(r.must_reproduce for r in report.rows)
    lines += [
        "",
        (
            f"{len(report.rows)} statements: {counts['yes']} reproduced, {counts['no']} not "
            f"reproduced, {counts['cannot check']} cannot be checked from the released data."
        ),
    ]
    if report.ok:
        lines.append(f"OK: all {required} statements that must reproduce do.")
    else:
        lines.append(
            f"FAILED: {len(report.failures)} of the {required} statements that must reproduce "
            "do not: " + "; ".join(r.statement.strip() for r in report.failures)
        )
    return "\n".join(lines)
