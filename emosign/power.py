"""What 200 clips can tell: power and minimum detectable differences on EmoSign.

Before running two systems, a researcher wants to know which differences this benchmark can
detect at all; after running them, what the comparison could have found. This module answers
both by **simulation on the task's real clips**: system pairs are drawn on the task's actual
reference labels (its class supports, e.g. 121 / 3 / 76 clips on ``sentiment_3``), each pair is
tested with the project's paired bootstrap (:func:`emosign.stats.paired_bootstrap`, the test
``emosign compare`` runs), and the share of pairs in which the test rejects "no difference" is
the power.

The simulated pair (two systems on the same ``n`` clips)
---------------------------------------------------------
* ``level``: the two systems' average chance of getting a clip right, the same in every class,
  so it is also their average expected per-class recall (wAcc) and accuracy. System A is right
  with probability ``level + gap / 2``, system B with ``level - gap / 2``.
* ``agreement``: the share of clips on which the two systems are both right or both wrong
  (the rest are the discordant clips a paired test learns from). Higher agreement means a
  sharper test. It must be at least ``1 - 2 * min(level, 1 - level)`` and ``gap`` at most
  ``1 - agreement``, or no pair of systems fits.
* A wrong answer is one of the other classes, drawn in proportion to their supports (errors
  lean to the common classes, as real systems' do); the two systems err independently.

``gap`` is a difference in the chance of being right; the **difference** reported is in the
metric's own units, the mean over simulated pairs of ``metric(A) - metric(B)`` on all clips
(equal to ``gap`` in expectation for accuracy and wAcc; not for wF1 or macro-F1).

MAE on ``sentiment_7`` (the rating -3...3 as a regression; lower is better)
-------------------------------------------------------------------------------
MAE is the mean of each clip's absolute error, so the simulation draws those errors directly
(a rating predicted as ``reference +/- error``, either side alike):

* ``level``: the two systems' average MAE, in scale steps (default 1.0); A's errors have mean
  ``level + gap / 2``, B's ``level - gap / 2`` (so ``gap`` is at most ``2 * level``).
* ``agreement``: the correlation, over clips, of the two systems' absolute errors (0: a clip
  hard for one says nothing about the other; near 1: they find the same clips hard). The
  analogue of the classification ``agreement``: the higher, the sharper the paired test.
* ``spread``: each system's per-clip absolute errors have standard deviation ``spread`` times
  their mean (default 0.8: integer answers off by 0, 1 and 2 steps equally often have mean
  1 and standard deviation 0.82).

The errors are Gamma distributed with that mean and spread, made correlated by a shared
component (Cherian's bivariate gamma: ``C + U_A`` and ``C + U_B`` with independent gammas of
shapes ``agreement * k`` and ``(1 - agreement) * k``, ``k = 1 / spread**2``, which have exactly
correlation ``agreement``). MAE does not depend on which rating a clip has, only on its error,
so the labels enter through the number of clips alone. The analytic check is the paired
t-test on the per-clip absolute errors (:func:`paired_t_power`).

micro-F1 and macro-F1 on ``emotion_presence`` (ten emotions per clip, multi-label)
--------------------------------------------------------------------------------------
Each (clip, emotion) cell of the real presence matrix is simulated:

* ``level``: the two systems' average chance of catching an emotion that is present (their
  recall); A catches with ``level + gap / 2``, B with ``level - gap / 2``.
* ``agreement``: the share of *present* cells both systems catch or both miss (the same
  bounds as above).
* On absent cells each system raises a false alarm for emotion k with the chance that makes
  it flag k as often as k is present in the labels (the real prevalence, 12% to 36% of clips
  per emotion): ``prevalence_k * (1 - recall) / (1 - prevalence_k)``. A system calibrated so
  has precision equal to recall, and micro-F1 and each emotion's F1 near ``level``. The two
  systems' false alarms are independent of each other.

Against a published number (a paper's row, which has no per-clip answers) the test is
one-sample: one simulated system against a constant, ``paired_bootstrap(stat, constant)``,
whose p-value is the shifted bootstrap test of "the system scores the reported number".

Speed: the simulated systems of a batch are the columns of one weighted statistic, so the
bootstrap resamples are shared (as the paired test shares them between a and b) and each
metric over all simulations is a few matrix products (``benchmarks/bench_power.py``).

References for the analytic checks: Connor, R. J. (1987). Sample size for testing differences
in proportions for the paired-sample design. *Biometrics* 43(1), 207-211 (McNemar's test).
Cherian, K. C. (1941). A bivariate correlated gamma-type distribution function. *Journal of
the Indian Mathematical Society* 5, 133-144 (the correlated errors of the MAE model).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from scipy.stats import nct, norm
from scipy.stats import t as student_t
from threadpoolctl import threadpool_limits

from emosign._progress import progress_bar
from emosign.errors import InputError
from emosign.labels import load_labels
from emosign.metrics import (
    NOT_PERCENT,
    SHORT_NAMES,
    classification_metrics,
    compare,
    multilabel_metrics,
    sentiment_metrics,
)
from emosign.paper import reported_rows
from emosign.predictions import align
from emosign.records import stamp
from emosign.stats import PairedTest, paired_bootstrap
from emosign.tasks import get_task

__all__ = [
    "METRICS",
    "Design",
    "MinimumDetectable",
    "PowerEstimate",
    "design_for_task",
    "mcnemar_power",
    "mcnemar_mde",
    "minimum_detectable_difference",
    "observed_power",
    "paired_t_mde",
    "paired_t_power",
    "simulate_power",
]

#: The metrics the simulation scores: single-label classification metrics of emosign.metrics,
#: MAE on the ordinal sentiment_7 and micro-F1 on emotion_presence (macro-F1 on both kinds).
METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "weighted_f1", "macro_f1", "mae",
                            "micro_f1")
_ALIASES = {SHORT_NAMES[m].lower(): m for m in METRICS if m in SHORT_NAMES}
# MAE's default level: an average error of one scale step (a fraction for every other metric).
_DEFAULT_LEVEL = {"mae": 1.0}

# Simulated systems scored per call of the paired bootstrap, and bootstrap rows per call of
# the statistic: a (rows, sims, classes) float array of 400 x 500 x 10 is 16 MB.
_SIMS_PER_BATCH = 500
_ROWS_PER_CHUNK = 400
# Steps of the bisection on the gap: the MDE's resolution is (1 - agreement) / 2**steps.
_BISECTION_STEPS = 9


# --------------------------------------------------------------------------------------------
# The design: the task's real reference labels


@dataclass(frozen=True)
class Design:
    """The clips a power analysis simulates: reference labels and the class names.

    ``y_true`` has shape (n,), class indices in ``[0, len(classes))``, for a single-label
    task (its counts are the class supports the simulated systems are scored on), or shape
    (n, K) bool, which of the K ``classes`` (emotions) are present in each clip, for a
    multi-label one. ``ordinal``: the classes are the steps of a rating scale in order
    (``sentiment_7``), so MAE can be simulated.
    """

    task: str
    classes: tuple[str, ...]
    y_true: np.ndarray
    ordinal: bool = False

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def multi_label(self) -> bool:
        return self.y_true.ndim == 2

    @property
    def supports(self) -> dict[str, int]:
        """Clips per class (multi-label: clips in which each class is present)."""
        if self.multi_label:
            counts = self.y_true.sum(axis=0)
        else:
            counts = np.bincount(self.y_true, minlength=len(self.classes))
        return dict(zip(self.classes, map(int, counts)))

    @classmethod
    def from_supports(cls, supports: Sequence[int], *, task: str = "custom",
                      ordinal: bool = False) -> Design:
        """A design with ``supports[k]`` clips of class k (e.g. to ask what 400 clips would
        detect): classes are named ``class_0`` ... ; ``ordinal`` as in the class."""
        counts = [int(c) for c in supports]
        if len(counts) < 2 or any(c < 0 for c in counts) or sum(counts) < 2:
            raise InputError(f"supports must be >= 2 non-negative counts summing to >= 2; got {supports!r}")
        y = np.repeat(np.arange(len(counts)), counts)
        return cls(task, tuple(f"class_{k}" for k in range(len(counts))), y, ordinal)

    @classmethod
    def from_presence(cls, present: np.ndarray, *, task: str = "custom") -> Design:
        """A multi-label design from an (n, K) presence matrix (n >= 2 clips, K >= 1)."""
        present = np.asarray(present)
        if present.ndim != 2 or present.shape[0] < 2 or present.shape[1] < 1 \
                or not np.isin(present, (0, 1)).all():
            raise InputError(f"present must be an (n >= 2, K >= 1) matrix of 0/1; got shape "
                             f"{present.shape}")
        return cls(task, tuple(f"class_{k}" for k in range(present.shape[1])), present.astype(bool))


def design_for_task(task: str, *, labels_file=None) -> Design:
    """The design of an EmoSign single-label task, or of ``emotion_presence``, from the label
    file (default: as :func:`emosign.labels.load_labels` finds it)."""

    spec = get_task(task)
    if spec.kind not in ("single_label", "multi_label"):
        raise InputError(f"power is simulated for single-label tasks and emotion_presence; "
                         f"{task} is {spec.kind.replace('_', '-')}")
    data = spec.bind(load_labels(labels_file))
    if spec.kind == "multi_label":
        return Design(spec.name, tuple(data.classes), np.asarray(data.y_true, dtype=bool))
    return Design(spec.name, tuple(data.classes), np.asarray(data.y_true, dtype=np.int64),
                  spec.ordinal)


def metric_name(metric: str) -> str:
    """``metric`` as emosign.metrics names it; the paper's short names (wAcc, wF1, MAE,
    microF1) accepted."""
    key = _ALIASES.get(str(metric).lower(), metric)
    if key not in METRICS:
        raise InputError(f"power is simulated for the metrics {list(METRICS)} (also wAcc, wF1); "
                         f"not {metric!r}")
    return key


def _family(design: Design, metric: str) -> str:
    """Which simulation model scores ``metric`` on ``design``: "class" (single-label
    answers), "mae" (absolute errors on a rating scale) or "presence" (multi-label cells)."""
    if design.multi_label:
        if metric not in ("micro_f1", "macro_f1"):
            raise InputError(f"{design.task} is multi-label: power is simulated for micro_f1 and "
                             f"macro_f1 there, not {metric}")
        return "presence"
    if metric == "micro_f1":
        raise InputError(f"micro_f1 pools (clip, emotion) decisions of a multi-label task "
                         f"(emotion_presence); {design.task} has one class per clip")
    if metric == "mae":
        if not design.ordinal:
            raise InputError(f"mae is simulated on a rating scale (sentiment_7); {design.task}'s "
                             f"classes are not ordered steps")
        return "mae"
    return "class"


def _default_level(metric: str, level: float | None) -> float:
    return _DEFAULT_LEVEL.get(metric, 0.5) if level is None else level


# --------------------------------------------------------------------------------------------
# Results


@dataclass(frozen=True)
class PowerEstimate:
    """Power of the paired (or one-sample) bootstrap test at one simulated difference.

    ``difference`` is the mean over simulated pairs of the metric difference on all clips (a
    fraction); ``gap`` the difference in the chance of being right that produced it;
    ``power`` the share of simulated pairs whose two-sided p-value was <= ``alpha``, with its
    Monte Carlo standard error ``power_se``.
    """

    difference: float
    gap: float
    power: float
    power_se: float
    assumptions: dict


@dataclass(frozen=True)
class MinimumDetectable:
    """The smallest difference detected with at least the asked power.

    ``mde`` is in the metric's units, a fraction (0.05 = 5 points); None when no difference
    the design allows reaches the power (``note`` says why). ``power`` is the simulated power
    at ``mde`` (at least the asked one, up to Monte Carlo error).
    """

    mde: float | None
    gap: float | None
    power: float | None
    power_se: float | None
    assumptions: dict
    note: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Analytic approximation (accuracy only)


def mcnemar_power(n: int, *, discordance: float, difference: float, alpha: float = 0.05) -> float:
    """Power of the two-sided McNemar test of two accuracies on ``n`` paired clips.

    Connor (1987)'s normal approximation: with ``d`` the share of discordant clips and
    ``delta`` the accuracy difference, ``power = Phi((|delta| sqrt(n) - z sqrt(d)) /
    sqrt(d - delta**2))``, ``z`` the ``1 - alpha / 2`` normal quantile.
    """
    if not 0 < discordance <= 1 or abs(difference) > discordance:
        raise InputError(f"need 0 < discordance <= 1 and |difference| <= discordance; got "
                         f"{discordance!r} and {difference!r}")
    spread = discordance - difference**2
    if spread <= 0:
        return 1.0
    z = norm.ppf(1 - alpha / 2)
    return float(norm.cdf((abs(difference) * math.sqrt(n) - z * math.sqrt(discordance)) / math.sqrt(spread)))


def mcnemar_mde(n: int, *, discordance: float, power: float = 0.8, alpha: float = 0.05) -> float:
    """The accuracy difference McNemar's test detects with ``power`` (inverse of
    :func:`mcnemar_power`, by bisection on ``[0, discordance]``)."""
    low, high = 0.0, float(discordance)
    for _ in range(60):
        mid = (low + high) / 2
        if mcnemar_power(n, discordance=discordance, difference=mid, alpha=alpha) >= power:
            high = mid
        else:
            low = mid
    return high


def paired_t_power(n: int, *, difference: float, sd: float, alpha: float = 0.05) -> float:
    """Power of the two-sided paired t-test of a mean per-clip difference on ``n`` clips.

    ``difference``: the true mean of the per-clip differences (for MAE, of the two systems'
    absolute errors); ``sd``: their standard deviation. Exact under normal differences:
    the t statistic is noncentral t with ``n - 1`` degrees of freedom and noncentrality
    ``difference * sqrt(n) / sd``.
    """
    if n < 2 or not sd > 0:
        raise InputError(f"need n >= 2 clips and sd > 0; got {n!r} and {sd!r}")
    critical = student_t.ppf(1 - alpha / 2, n - 1)
    shift = abs(difference) * math.sqrt(n) / sd
    found = float(nct.sf(critical, n - 1, shift) + nct.cdf(-critical, n - 1, shift))
    # scipy's noncentral t returns NaN far in the tail (noncentrality of tens): power is 1.
    return found if math.isfinite(found) else float(shift > critical)


def mae_difference_sd(*, level: float, gap: float, agreement: float, spread: float) -> float:
    """Standard deviation over clips of ``|error_A| - |error_B|`` in the MAE model: errors
    with means ``level +/- gap / 2``, standard deviations ``spread`` times those, and
    correlation ``agreement``."""
    a, b = level + gap / 2, level - gap / 2
    return spread * math.sqrt(max(a * a + b * b - 2 * agreement * a * b, 0.0))


def paired_t_mde(n: int, *, level: float, agreement: float, spread: float, power: float = 0.8,
                 alpha: float = 0.05) -> float:
    """The MAE difference the paired t-test detects with ``power`` between two systems of
    the MAE model (:func:`mae_difference_sd`; by bisection on ``[0, 2 * level]``)."""
    low, high = 0.0, 2.0 * level
    for _ in range(60):
        mid = (low + high) / 2
        sd = mae_difference_sd(level=level, gap=mid, agreement=agreement, spread=spread)
        if sd == 0 or paired_t_power(n, difference=mid, sd=sd, alpha=alpha) >= power:
            high = mid
        else:
            low = mid
    return high


# --------------------------------------------------------------------------------------------
# Simulation


def simulate_power(
    design: Design,
    *,
    metric: str = "balanced_accuracy",
    gap: float,
    level: float | None = None,
    agreement: float = 0.7,
    spread: float = 0.8,
    against: float | None = None,
    alpha: float = 0.05,
    n_sims: int = 2_000,
    n_boot: int = 1_000,
    seed: int = 0,
) -> PowerEstimate:
    """Simulated power at one gap in the chance of being right (MAE: in the mean error).

    Two systems (``against=None``): A right with probability ``level + gap / 2``, B with
    ``level - gap / 2``, agreeing (both right or both wrong) on a share ``agreement`` of
    clips. One system against a published number (``against`` = that number, a fraction):
    the system right with probability ``p0 + gap``, where at ``p0`` it scores ``against`` on
    average (``level`` is then ignored), tested against the constant.
    ``n_sims`` simulated pairs, each tested with ``n_boot`` paired bootstrap resamples;
    seeded by ``seed``. ``level`` defaults to 0.5 (MAE: 1.0 scale steps); for MAE and
    emotion_presence ``level``, ``agreement`` and ``spread`` mean what the module docstring
    says (``spread`` is used by MAE alone).
    """
    metric = metric_name(metric)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    level = _check_setup(design, metric, level, agreement, spread)
    if against is not None:
        level = _level_for(design, metric, _check_against(design, metric, against), seed)
    draws = _Draws.new(design, n_sims, seed, metric=metric, agreement=agreement, spread=spread)
    rejected, differences = _run(design, metric, draws, level, gap, agreement, against,
                                 alpha=alpha, n_boot=n_boot, seed=seed)
    p = float(rejected.mean())
    return PowerEstimate(float(differences.mean()), float(gap), p, _se(p, n_sims),
                         _assumptions(design, metric, level, agreement, against, alpha, None,
                                      n_sims, n_boot, seed, spread))


def minimum_detectable_difference(
    design: Design,
    *,
    metric: str = "balanced_accuracy",
    power: float = 0.8,
    level: float | None = None,
    agreement: float = 0.7,
    spread: float = 0.8,
    against: float | None = None,
    direction: int = 1,
    alpha: float = 0.05,
    n_sims: int = 2_000,
    n_boot: int = 1_000,
    seed: int = 0,
    progress: bool | None = False,
) -> MinimumDetectable:
    """The smallest difference the paired bootstrap test detects with probability ``power``.

    Two systems as in :func:`simulate_power`; the gap is found by bisection on the same
    seeded draws at every step (common random numbers, so the power is monotone in the gap
    and the search is exact up to ``(1 - agreement) / 512``; MAE: ``2 * level / 512``).
    Against a published number
    (``against``): a system at ``against + difference`` (``direction=1``, above it) or
    ``against - difference`` (``direction=-1``); ``level`` is then ignored.

    Returns
    -------
    MinimumDetectable with ``mde`` in the metric's units (a fraction; MAE: scale steps, how
    much lower one system's MAE must be), None when even the
    largest difference the design allows is detected less often than ``power``.
    ``progress``: a bar over the search's steps (None: only on a terminal).
    """
    metric = metric_name(metric)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    if not 0 < power < 1:
        raise InputError(f"power must be strictly between 0 and 1; got {power!r}")
    if direction not in (1, -1):
        raise InputError(f"direction must be 1 or -1; got {direction!r}")
    level = _check_setup(design, metric, level, agreement, spread)
    if against is not None:
        level = _level_for(design, metric, _check_against(design, metric, against), seed)
    assumptions = _assumptions(design, metric, level, agreement, against, alpha, power,
                               n_sims, n_boot, seed, spread)
    largest = _largest_gap(design, metric, level, agreement, against, direction)
    draws = _Draws.new(design, n_sims, seed, metric=metric, agreement=agreement, spread=spread)
    bar = progress_bar(_BISECTION_STEPS + 1, f"power: {n_sims:,} simulations a step",
                       enabled=progress, unit="step")

    def at(gap: float) -> tuple[float, float]:
        signed = gap * direction if against is not None else gap
        rejected, differences = _run(design, metric, draws, level, signed, agreement, against,
                                     alpha=alpha, n_boot=n_boot, seed=seed)
        bar.update(1)
        return float(rejected.mean()), float(np.abs(differences.mean()))

    with bar:
        return _bisect(at, largest, power, n_sims, assumptions)


def _bisect(at, largest: float, power: float, n_sims: int, assumptions: dict) -> MinimumDetectable:
    top_power, top_difference = at(largest)
    if top_power < power:
        return MinimumDetectable(None, None, top_power, _se(top_power, n_sims), assumptions,
                                 note=f"even the largest difference this design allows "
                                      f"({top_difference:.3f}) is detected in only "
                                      f"{100 * top_power:.0f}% of simulations")
    low, high, found = 0.0, largest, (top_power, top_difference)
    for _ in range(_BISECTION_STEPS):
        mid = (low + high) / 2
        p, d = at(mid)
        if p >= power:
            high, found = mid, (p, d)
        else:
            low = mid
    p, d = found
    return MinimumDetectable(d, high, p, _se(p, n_sims), assumptions)


def observed_power(
    design: Design,
    *,
    metric: str,
    correct_a: np.ndarray,
    correct_b: np.ndarray | None = None,
    against: float | None = None,
    power: float = 0.8,
    alpha: float = 0.05,
    n_sims: int = 2_000,
    n_boot: int = 1_000,
    seed: int = 0,
    observed_difference: float,
    spread: float = 0.8,
    progress: bool | None = False,
) -> dict:
    """What a comparison already run could detect: the power it had at its observed
    difference and its MDE, simulated at the systems' observed level and agreement.

    ``correct_a`` / ``correct_b``, aligned with ``design.y_true``: for the single-label
    metrics (n,) booleans, whether each system got each clip right; for MAE (n,) absolute
    errors in scale steps; on emotion_presence (n, K) booleans, the emotions each system
    flagged. Without ``correct_b``, a one-sample comparison against ``against``. The observed
    level is the systems' mean accuracy for accuracy, else their mean per-class recall (the
    simulation's ``level``); for MAE their mean MAE, with agreement the correlation of their
    errors and spread their errors' sd over mean; on emotion_presence their recall and
    agreement on present cells. An observed agreement outside what the model allows is moved
    to the bound (said in ``notes``). Returns ``level``, ``agreement`` (MAE: ``spread`` too),
    ``power_at_observed_difference`` (and its ``power_se``), ``minimum_detectable`` (a
    :class:`MinimumDetectable` at that level and agreement) and ``notes``.
    """
    metric = metric_name(metric)
    family = _family(design, metric)
    notes: list[str] = []
    if correct_b is None:
        if against is None:
            raise InputError("give correct_b (a second system) or against (a published number)")
        level = _level_for(design, metric, _check_against(design, metric, against), seed)
        agreement = 0.7  # unused by a one-sample test
    elif family == "mae":
        level, agreement, spread = _observed_mae_model(design, correct_a, correct_b, notes)
    else:
        if family == "presence":
            present = design.y_true
            right_a = np.asarray(correct_a, dtype=bool)[present]
            right_b = np.asarray(correct_b, dtype=bool)[present]
            level = float(np.mean([right_a.mean(), right_b.mean()]))
        else:
            right_a, right_b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
            # The model's level is both the expected accuracy and the expected wAcc: take the
            # one the comparison is about (per-class recall for the F1 scores, which weigh
            # classes).
            if metric == "accuracy":
                level = float(np.mean([right_a.mean(), right_b.mean()]))
            else:
                level = float(np.mean([_mean_recall(design, right_a), _mean_recall(design, right_b)]))
        level = min(max(level, 0.01), 0.99)
        agreement = float(np.mean(right_a == right_b))
        bound = 1 - 2 * min(level, 1 - level)
        if agreement < bound:
            notes.append(f"observed agreement {agreement:.3f} is below what two systems at level "
                         f"{level:.3f} can have under the model; {bound:.3f} used")
            agreement = bound
        agreement = min(agreement, 0.995)
    direction = 1 if observed_difference >= 0 else -1
    mde = minimum_detectable_difference(
        design, metric=metric, power=power, level=level, agreement=agreement, spread=spread,
        against=against, direction=direction, alpha=alpha, n_sims=n_sims, n_boot=n_boot,
        seed=seed, progress=progress)
    gap = _gap_for_difference(design, metric, abs(observed_difference), level, agreement, against,
                              direction, seed, spread)
    signed = gap * direction if against is not None else gap
    at_observed = simulate_power(design, metric=metric, gap=signed, level=level,
                                 agreement=agreement, spread=spread, against=against,
                                 alpha=alpha, n_sims=n_sims, n_boot=n_boot, seed=seed)
    return {
        "level": level,
        "agreement": agreement,
        **({"spread": spread} if family == "mae" else {}),
        "power_at_observed_difference": at_observed.power,
        "power_se": at_observed.power_se,
        "minimum_detectable": mde,
        "notes": notes,
    }


def _observed_mae_model(design: Design, errors_a, errors_b, notes: list) -> tuple[float, float, float]:
    """The MAE model's level, agreement (error correlation) and spread seen in two systems'
    absolute errors, moved into the ranges the model takes (said in ``notes``)."""
    errors = np.abs(np.vstack([np.asarray(errors_a, dtype=float), np.asarray(errors_b, dtype=float)]))
    top = _scale_top(design, "mae") / 2
    level = float(min(max(errors.mean(), 0.01), top))
    with np.errstate(divide="ignore", invalid="ignore"):
        agreement = float(np.corrcoef(errors)[0, 1])
        spreads = errors.std(axis=1) / errors.mean(axis=1)
    if not 0 <= agreement <= 0.995:
        used = 0.995 if agreement > 0.995 else 0.0
        notes.append(f"observed correlation of the per-clip errors {agreement:.3f} is outside "
                     f"what the model takes; {used} used")
        agreement = used
    spread = float(np.nanmean(spreads)) if np.isfinite(spreads).any() else 0.8
    if not 0.05 <= spread <= 10:
        notes.append(f"observed spread of the per-clip errors {spread:.3f} moved into [0.05, 10]")
        spread = min(max(spread, 0.05), 10.0)
    return level, agreement, spread


def power_for_difference(
    design: Design,
    *,
    metric: str = "balanced_accuracy",
    difference: float,
    level: float | None = None,
    agreement: float = 0.7,
    spread: float = 0.8,
    against: float | None = None,
    alpha: float = 0.05,
    n_sims: int = 2_000,
    n_boot: int = 1_000,
    seed: int = 0,
) -> PowerEstimate:
    """Simulated power to detect ``difference`` in the metric's units (a fraction, MAE in
    scale steps; negative means below ``against`` in the one-sample case). The gap in the
    chance of being right that gives this difference on average is found first; then as
    :func:`simulate_power`."""
    metric = metric_name(metric)
    bound = _scale_top(design, metric)
    if isinstance(difference, bool) or not isinstance(difference, numbers.Real) \
            or not math.isfinite(difference) or not -bound <= difference <= bound:
        raise InputError(f"difference must be a number in [-{bound:g}, {bound:g}] "
                         f"({'scale steps' if metric == 'mae' else 'a fraction'}); got {difference!r}")
    level = _check_setup(design, metric, level, agreement, spread)
    if against is not None:
        level = _level_for(design, metric, _check_against(design, metric, against), seed)
    direction = 1 if difference >= 0 else -1
    gap = _gap_for_difference(design, metric, abs(difference), level, agreement, against,
                              direction, seed, spread)
    signed = gap * direction if against is not None else gap
    return simulate_power(design, metric=metric, gap=signed, level=level, agreement=agreement,
                          spread=spread, against=against, alpha=alpha, n_sims=n_sims,
                          n_boot=n_boot, seed=seed)


def power_report(
    task: str,
    *,
    metric: str = "balanced_accuracy",
    power: float = 0.8,
    alpha: float = 0.05,
    level: float | None = None,
    agreement: float = 0.7,
    spread: float = 0.8,
    difference: float | None = None,
    predictions_a=None,
    predictions_b=None,
    against: float | str | None = None,
    n_sims: int = 2_000,
    n_boot: int = 1_000,
    seed: int = 0,
    labels_file=None,
    progress: bool | None = False,
) -> dict:
    """Everything ``emosign power`` prints, as a JSON-ready dict.

    * Always: ``mde``, the smallest difference in ``metric`` (a fraction; MAE in scale steps)
      detected with ``power`` at ``alpha``, with ``assumptions`` beside it; between two
      systems also ``analytic``, for accuracy McNemar's approximation (Connor 1987) of the
      same MDE, for MAE the paired t-test's (:func:`paired_t_mde`).
    * ``difference``: also ``power_at_difference``, the power to detect it.
    * ``against``: a number (fraction) or the name of one of the paper's rows for the task
      (e.g. ``"GPT-4o (video)"``): the test is one-sample, and ``mde`` is how far above the
      number a system must score (``mde_below``: below it).
    * ``predictions_a`` (and ``predictions_b``): ``observed``, the real comparison (difference,
      its paired interval and p-value as ``emosign compare`` gives them, 10,000 resamples),
      and the power it had at its observed level, agreement and difference.
    """

    metric = metric_name(metric)
    labels = load_labels(labels_file)
    design = design_for_task(task, labels_file=labels)
    level = _check_setup(design, metric, level, agreement, spread)
    reported = _resolve_against(task, metric, against, _scale_top(design, metric))
    value = None if reported is None else reported["value"]
    if predictions_b is not None and predictions_a is None:
        raise InputError("--b needs --a: give both systems' predictions")
    if predictions_a is not None and predictions_b is None and value is None:
        raise InputError("give --b (a second system) or --against (a published number) with --a")
    if predictions_b is not None and value is not None:
        raise InputError("give --b or --against, not both: a comparison is between two systems "
                         "or one system and a number")
    common: dict[str, Any] = dict(metric=metric, alpha=alpha, n_sims=n_sims, n_boot=n_boot, seed=seed)
    result: dict = {"task": design.task, "metric": metric, "short_name": SHORT_NAMES.get(metric, metric)}
    if reported is not None:
        result["against"] = reported

    if predictions_a is not None:
        observed = _observed(task, metric, labels, predictions_a, predictions_b, value, seed)
        result["observed"] = observed
        result["observed"].update(observed_power(
            design, correct_a=observed.pop("_correct_a"), correct_b=observed.pop("_correct_b"),
            against=value, power=power, observed_difference=observed["difference"],
            spread=spread, progress=progress, **common))
        level = result["observed"]["level"] if value is None else value
        agreement = result["observed"]["agreement"] if value is None else agreement
        spread = result["observed"].get("spread", spread)
        mde = result["observed"].pop("minimum_detectable")
        if value is not None and observed["difference"] < 0:
            # That search looked below the number; `mde` is the one above it, `mde_below` below.
            mde = minimum_detectable_difference(design, power=power, against=value,
                                                spread=spread, progress=progress, **common)
    else:
        mde = minimum_detectable_difference(design, power=power, level=level, agreement=agreement,
                                            spread=spread, against=value, progress=progress,
                                            **common)
    result.update(mde=mde.mde, power=mde.power, power_se=mde.power_se, gap=mde.gap,
                  assumptions=mde.assumptions)
    if mde.note:
        result["note"] = mde.note
    if value is not None:
        below = minimum_detectable_difference(design, power=power, against=value, direction=-1,
                                              spread=spread, progress=progress, **common)
        result["mde_below"] = below.mde
    elif metric == "accuracy":
        result["analytic"] = {
            "method": "McNemar's test, Connor (1987)'s normal approximation",
            "mde": mcnemar_mde(design.n, discordance=1 - agreement, power=power, alpha=alpha),
        }
    elif metric == "mae":
        result["analytic"] = {
            "method": "paired t-test of the per-clip absolute errors (noncentral t)",
            "mde": paired_t_mde(design.n, level=level, agreement=agreement, spread=spread,
                                power=power, alpha=alpha),
        }
    if difference is not None:
        at = power_for_difference(design, difference=difference, level=level,
                                  agreement=agreement, spread=spread, against=value, **common)
        result["power_at_difference"] = {"difference": difference, "power": at.power,
                                         "power_se": at.power_se}
    return stamp("power", result)


def _resolve_against(task: str, metric: str, against, top: float = 1.0) -> dict | None:
    """``against`` as ``{"value": number, "system": name or None}``: a fraction in
    [0, ``top``] (MAE: scale steps in [0, ``top``]) or the name of one of the paper's rows."""
    if against is None:
        return None
    what = f"an MAE in [0, {top:g}]" if metric == "mae" else "a fraction in [0, 1]"
    if isinstance(against, str):
        try:
            number = float(against)
        except ValueError:
            number = None
        if number is not None and math.isfinite(number) and 0 <= number <= top:
            return {"value": number, "system": None}

        rows = {row["system"]: row for row in reported_rows(task)}
        if against not in rows:
            raise InputError(f"--against {against!r} is neither {what} nor one of "
                             f"the paper's rows for {task}: {sorted(rows)}")
        value = rows[against]["metrics"].get(metric)
        if value is None:
            raise InputError(f"the paper reports {sorted(rows[against]['metrics'])} for "
                             f"{against!r} on {task}, not {metric}")
        return {"value": float(value), "system": against,
                "source": rows[against]["description"]}
    if isinstance(against, bool) or not isinstance(against, numbers.Real) \
            or not math.isfinite(against) or not 0 <= float(against) <= top:
        raise InputError(f"against must be {what}; got {against!r}")
    return {"value": float(against), "system": None}


def _observed(task, metric, labels, predictions_a, predictions_b, value, seed) -> dict:
    """The real comparison (difference, paired interval, p-value) and per-clip outcomes:
    right or wrong (single-label), absolute errors (MAE) or flags (emotion_presence)."""

    data = get_task(task).bind(labels)

    def outcome(predictions):
        aligned = align(predictions, data)
        if metric == "mae":
            if aligned.values is None or np.isnan(aligned.values).any():
                raise InputError(f"mae needs a rating for every clip of {task}; "
                                 f"{getattr(predictions, 'name', predictions)} lacks some")
            return aligned, np.abs(aligned.values - (data.y_true - 3))
        if data.y_true.ndim == 2:
            return aligned, aligned.y_pred
        return aligned, aligned.y_pred == data.y_true

    aligned_a, correct_a = outcome(predictions_a)
    if predictions_b is not None:
        _, correct_b = outcome(predictions_b)
        compared = compare(task, predictions_a, predictions_b, labels_file=labels, seed=seed)
        row = compared["comparison"][metric]
        return {"difference": row["difference"], "low": row["low"], "high": row["high"],
                "p_value": row["p_value"], "n_boot": compared["ci"]["n_boot"],
                "_correct_a": correct_a, "_correct_b": correct_b}

    def stat_a(w):
        if metric == "mae":
            return sentiment_metrics(data.y_true - 3, aligned_a.values, sample_weight=w)["mae"]
        if data.y_true.ndim == 2:
            return multilabel_metrics(data.y_true, aligned_a.y_pred, sample_weight=w)[metric]
        return classification_metrics(data.y_true, aligned_a.y_pred, n_classes=len(data.classes),
                                      sample_weight=w)[metric]

    test = paired_bootstrap(stat_a, lambda w: np.full(w.shape[0], float(value)), data.n,
                            n_boot=10_000, seed=seed)
    assert isinstance(test, PairedTest)  # one statistic in, one test out
    return {"a": float(stat_a(np.ones((1, data.n)))[0]), "difference": test.difference,
            "low": test.low, "high": test.high, "p_value": test.p_value, "n_boot": test.n_boot,
            "_correct_a": correct_a, "_correct_b": None}


# --------------------------------------------------------------------------------------------
# The engine


@dataclass(frozen=True)
class _Draws:
    """Seeded draws shared by every gap of a search, made a batch at a time so that memory
    stays bounded whatever ``n_sims``. Batch b is seeded by (seed, b), so every step of a
    search sees the same draws. Each batch is three arrays of shape (batch, n), or
    (batch, n, K) for a multi-label design (one per clip and emotion):

    * single-label and multi-label: uniforms ``cell`` (which of the four right/wrong
      combinations a clip or cell falls in) and ``u_a`` / ``u_b`` (which wrong class a system
      answers; on an absent emotion, whether it raises a false alarm);
    * MAE: unit-mean gamma parts of the errors, ``shared`` and ``own_a`` / ``own_b``
      (shapes ``gamma_shapes``; an error is its mean times ``shared + own``).
    """

    n: int
    n_sims: int
    seed: int
    cells: int = 0
    gamma_shapes: tuple[float, float] | None = None

    @classmethod
    def new(cls, design: Design, n_sims: int, seed: int, *, metric: str = "accuracy",
            agreement: float = 0.0, spread: float = 0.8) -> _Draws:
        family = _family(design, metric)
        if family == "presence":
            return cls(design.n, n_sims, seed, cells=len(design.classes))
        if family == "mae":
            k = 1.0 / spread**2  # Gamma(k, 1/k): mean 1, standard deviation `spread`
            return cls(design.n, n_sims, seed, gamma_shapes=(agreement * k, (1.0 - agreement) * k))
        return cls(design.n, n_sims, seed)

    def batches(self):
        for b, start in enumerate(range(0, self.n_sims, _SIMS_PER_BATCH)):
            cells = (self.cells,) if self.cells else ()
            shape = (min(_SIMS_PER_BATCH, self.n_sims - start), self.n, *cells)
            rng = np.random.default_rng([self.seed, 0x706F776572, b])  # "power": apart from bootstrap seeds
            if self.gamma_shapes is None:
                yield rng.random(shape), rng.random(shape), rng.random(shape)
            else:
                shared, own = self.gamma_shapes
                k = shared + own
                yield (rng.standard_gamma(shared, shape) / k, rng.standard_gamma(own, shape) / k,
                       rng.standard_gamma(own, shape) / k)

    def first(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return next(self.batches())


def _run(design, metric, draws, level, gap, agreement, against, *, alpha, n_boot, seed):
    """Reject flags (n_sims,) and full-data metric differences (n_sims,) at one gap."""
    # The products here are small (hundreds of rows): one BLAS thread does them fastest, and
    # several threads spinning on a shared machine cost many times the CPU.
    with threadpool_limits(limits=1, user_api="blas"):
        return _run_batches(design, metric, draws, level, gap, agreement, against,
                            alpha=alpha, n_boot=n_boot, seed=seed)


def _run_batches(design, metric, draws, level, gap, agreement, against, *, alpha, n_boot, seed):
    rejected, differences = [], []
    for batch in draws.batches():
        if against is None:
            stat_a, stat_b = _systems(design, metric, batch, level, gap, agreement)
        else:
            stat_a = _one_system(design, metric, batch, level + gap)
            constant = np.full(batch[0].shape[0], float(against))
            stat_b = lambda w, c=constant: np.broadcast_to(c, (w.shape[0], c.size))  # noqa: E731
        tests = paired_bootstrap(stat_a, stat_b, design.n, n_boot=n_boot, seed=seed,
                                 chunk_size=_ROWS_PER_CHUNK)
        rejected.append([t.p_value <= alpha for t in tests])
        differences.append([t.difference for t in tests])
    return np.concatenate(rejected), np.concatenate(differences)


def _systems(design: Design, metric: str, batch, level: float, gap: float, agreement: float):
    """The weighted statistics (B, n) -> (B, sims) of the simulated systems A and B."""
    family = _family(design, metric)
    if family == "mae":
        _check_mae(design, level, agreement, gap)
        shared, own_a, own_b = batch
        return (_mae_statistic((level + gap / 2) * (shared + own_a)),
                _mae_statistic((level - gap / 2) * (shared + own_b)))
    cell, u_a, u_b = batch
    correct_a, correct_b = _pair(level, gap, agreement, cell)
    if family == "presence":
        answers_a = _presence_answers(design, correct_a, u_a, level + gap / 2)
        answers_b = _presence_answers(design, correct_b, u_b, level - gap / 2)
        return (_presence_statistic(design, metric, answers_a),
                _presence_statistic(design, metric, answers_b))
    return (_statistic(design, metric, _answers(design, correct_a, u_a)),
            _statistic(design, metric, _answers(design, correct_b, u_b)))


def _one_system(design: Design, metric: str, batch, p: float):
    """The weighted statistic of one simulated system: right with chance ``p`` (for MAE:
    of mean absolute error ``p``)."""
    family = _family(design, metric)
    if family == "mae":
        if not 0 <= p <= len(design.classes) - 1:
            raise InputError(f"an MAE of {p:.3f} is not one on a scale of {len(design.classes)} steps")
        return _mae_statistic(p * (batch[0] + batch[1]))
    if not 0 <= p <= 1:
        raise InputError(f"a chance of being right of {p:.3f} is not one")
    if family == "presence":
        return _presence_statistic(design, metric, _presence_answers(design, batch[0] < p, batch[1], p))
    return _statistic(design, metric, _answers(design, batch[0] < p, batch[1]))


def _mae_statistic(errors: np.ndarray):
    """A weighted statistic (B, n) -> (B, sims): the MAE of systems whose absolute errors are
    the rows of ``errors`` (sims, n); ``sentiment_metrics``' ``mae`` as one product."""
    columns = np.ascontiguousarray(errors.T)

    def statistic(weights: np.ndarray) -> np.ndarray:
        return (weights @ columns) / weights.sum(axis=1, keepdims=True)

    return statistic


def _presence_answers(design: Design, caught: np.ndarray, u: np.ndarray, recall: float) -> np.ndarray:
    """Flags (sims, n, K): on a present cell ``caught``; on an absent one a false alarm with
    the chance that makes the system flag each emotion as often as it is present."""
    prevalence = design.y_true.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alarm = np.where(prevalence < 1, prevalence * (1 - recall) / (1 - prevalence), 0.0)
    return np.where(design.y_true[None], caught, u < np.minimum(alarm, 1.0))


def _presence_statistic(design: Design, metric: str, flags: np.ndarray):
    """A weighted statistic (B, n) -> (B, sims): micro- or macro-F1 of each simulated system's
    presence flags (sims, n, K), as :func:`emosign.metrics.multilabel_metrics` computes them
    (pooled or per-emotion counts; F1 = 0 where nothing is present or flagged)."""
    y = design.y_true
    hits = flags & y[None]
    if metric == "micro_f1":
        tp = [np.ascontiguousarray(hits.sum(-1).T, dtype=np.float32)]
        flagged = [np.ascontiguousarray(flags.sum(-1).T, dtype=np.float32)]
        present = y.sum(axis=1, dtype=float)[:, None]
    else:
        tp = [np.ascontiguousarray(hits[..., k].T, dtype=np.float32) for k in range(y.shape[1])]
        flagged = [np.ascontiguousarray(flags[..., k].T, dtype=np.float32) for k in range(y.shape[1])]
        present = y.astype(float)

    def statistic(weights: np.ndarray) -> np.ndarray:
        if weights.sum(axis=1).max() * y.shape[1] >= 2**24:
            raise InputError("weights too large for exact float32 counts")
        w = np.ascontiguousarray(weights, dtype=np.float32)
        truth = weights @ present  # (B, 1) pooled or (B, K) per emotion
        f1 = np.zeros((weights.shape[0], flags.shape[0]))
        for k, (t, f) in enumerate(zip(tp, flagged)):
            denominator = truth[:, k, None] + (w @ f).astype(float)
            # Whole-number counts: a zero denominator has tp = 0 too (zero_division=0).
            f1 += 2 * (w @ t).astype(float) / np.maximum(denominator, 1.0)
        return f1 / len(tp)

    return statistic


def _pair(level: float, gap: float, agreement: float, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correctness of A and B from uniforms ``u``: the cells (both right, A only, B only,
    both wrong) in that order along [0, 1)."""
    _check_pair(level, agreement, gap)
    d = 1.0 - agreement
    both = level - d / 2
    a_only = (d + gap) / 2
    b_only = (d - gap) / 2
    correct_a = u < both + a_only
    correct_b = (u < both) | ((u >= both + a_only) & (u < both + a_only + b_only))
    return correct_a, correct_b


def _answers(design: Design, correct: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Predicted class indices (sims, n): the reference where ``correct``, else another class
    drawn in proportion to the supports with uniforms ``u``."""
    cdf = _wrong_class_cdf(design)[design.y_true]  # (n, K)
    wrong = (u[..., None] > cdf[None, :, :]).sum(axis=-1)
    wrong = np.minimum(wrong, len(design.classes) - 1)  # u within rounding of 1
    return np.where(correct, design.y_true[None, :], wrong)


def _wrong_class_cdf(design: Design) -> np.ndarray:
    """Row k: cumulative probabilities of the classes a wrong answer to a class-k clip takes."""
    k = len(design.classes)
    supports = np.bincount(design.y_true, minlength=k).astype(float)
    weights = np.tile(supports, (k, 1))
    np.fill_diagonal(weights, 0.0)
    empty = weights.sum(axis=1) == 0  # every other class unsupported: any other class alike
    weights[empty] = 1.0 - np.eye(k)[empty]
    return np.cumsum(weights / weights.sum(axis=1, keepdims=True), axis=1)


def _statistic(design: Design, metric: str, pred: np.ndarray):
    """A weighted statistic (B, n) -> (B, sims): ``metric`` of each simulated system.

    The same formulas as :func:`emosign.metrics.classification_metrics` (scikit-learn's, with
    ``zero_division=0``), written over a batch of systems: per-class true positives and
    predicted counts are matrix products of the weights with the systems' indicator rows.
    """
    k = len(design.classes)
    # Clips sorted by class, so that each class is a contiguous block of columns: a class's
    # true positives are then one product of two slices, with no copies.
    order = np.argsort(design.y_true, kind="stable")
    y = design.y_true[order]
    bounds = np.searchsorted(y, np.arange(k + 1))
    blocks = [slice(bounds[c], bounds[c + 1]) for c in range(k)]
    # Counts are products of whole-number weights with 0/1 indicators: sums below 2**24 are
    # exact in float32, which halves the products' cost; ratios are then taken in float64.
    correct = np.ascontiguousarray((pred[:, order] == y[None, :]).T, dtype=np.float32)  # (n, S)
    one_hot = np.eye(k)[y]  # (n, K)
    predicted_as = None
    if metric in ("weighted_f1", "macro_f1"):
        predicted_as = [np.ascontiguousarray((pred[:, order] == c).T, dtype=np.float32)
                        for c in range(k)]

    def statistic(weights: np.ndarray) -> np.ndarray:
        if weights.sum(axis=1).max() >= 2**24:
            raise InputError("weights too large for exact float32 counts")
        w = np.ascontiguousarray(weights[:, order], dtype=np.float32)
        if metric == "accuracy":
            return (w @ correct).astype(float) / weights.sum(axis=1, keepdims=True)
        support = weights[:, order].astype(float) @ one_hot  # (B, K)
        if metric == "balanced_accuracy":
            # The mean of recall_k = tp_k / support_k over supported classes is linear in the
            # indicators: scale each clip's weight by 1 / (its class's support x classes
            # supported), and one product gives every system's wAcc.
            has = support > 0
            scale = has / np.maximum(support, 1) / has.sum(axis=1, keepdims=True)
            return (weights[:, order] * scale[:, y]) @ correct.astype(float)
        tp = np.stack([w[:, b] @ correct[b] for b in blocks], axis=-1).astype(float)  # (B, S, K)
        assert predicted_as is not None  # built above for the F1 metrics
        predicted = np.stack([w @ column for column in predicted_as], axis=-1).astype(float)
        # Whole-number counts: a zero denominator has tp = 0 too, so F1 = 0 (zero_division=0).
        f1 = 2 * tp / np.maximum(support[:, None, :] + predicted, 1.0)
        if metric == "macro_f1":
            return f1.mean(-1)
        return np.einsum("bsk,bk->bs", f1, support) / np.maximum(support.sum(-1, keepdims=True), 1.0)

    return statistic


def _gap_for_difference(design, metric, difference, level, agreement, against, direction, seed,
                        spread=0.8) -> float:
    """The gap whose simulated systems differ by ``difference`` in the metric, on average."""
    largest = _largest_gap(design, metric, level, agreement, against, direction)
    if _family(design, metric) == "mae":
        return min(float(difference), largest)  # the expected MAE moves with the gap exactly
    batch = _Draws.new(design, 200, seed, metric=metric, agreement=agreement, spread=spread).first()
    ones = np.ones((1, design.n))

    def mean_difference(gap):
        if against is None:
            a, b = _systems(design, metric, batch, level, gap, agreement)
            return float((a(ones) - b(ones)).mean())
        return float(abs(_one_system(design, metric, batch, level + direction * gap)(ones).mean() - against))

    low, high = 0.0, largest
    for _ in range(30):
        mid = (low + high) / 2
        if mean_difference(mid) >= difference:
            high = mid
        else:
            low = mid
    return high


def _level_for(design: Design, metric: str, value: float, seed: int) -> float:
    """The chance of being right (for MAE: the mean error) whose simulated systems score
    ``value`` in ``metric`` on average: the null hypothesis of a one-sample test against a
    published ``value``. (For accuracy, wAcc and MAE it is ``value`` itself; the F1 scores
    also depend on where the errors fall.)"""
    if metric == "mae" or (metric in ("accuracy", "balanced_accuracy") and not design.multi_label):
        return float(value)
    batch = _Draws.new(design, 200, seed, metric=metric).first()
    ones = np.ones((1, design.n))

    def mean(p: float) -> float:
        return float(_one_system(design, metric, batch, p)(ones).mean())

    low, high = 0.0, 1.0
    for _ in range(30):
        mid = (low + high) / 2
        if mean(mid) >= value:
            high = mid
        else:
            low = mid
    return high


def _largest_gap(design, metric, level, agreement, against, direction) -> float:
    """The largest gap the model allows: two systems' chances of being right differ by at
    most the share of clips they disagree on; MAEs are at least 0 and at most the scale."""
    mae = _family(design, metric) == "mae"
    if against is None:
        return 2.0 * level if mae else 1.0 - agreement
    top = float(len(design.classes) - 1) if mae else 1.0
    return (top - level) if direction == 1 else level


def _mean_recall(design: Design, correct: np.ndarray) -> float:
    recalls = [correct[design.y_true == c].mean() for c in range(len(design.classes))
               if (design.y_true == c).any()]
    return float(np.mean(recalls))


def _check_pair(level: float, agreement: float, gap: float) -> None:
    level = _check_fraction(level, "level")
    agreement = _check_fraction(agreement, "agreement")
    bound = 1 - 2 * min(level, 1 - level)
    if agreement < bound - 1e-12:
        raise InputError(f"two systems right on {100 * level:.0f}% of clips agree (both right or "
                         f"both wrong) on at least {100 * bound:.0f}% of them; agreement "
                         f"{agreement!r} is impossible")
    if abs(gap) > 1 - agreement + 1e-12:
        raise InputError(f"systems agreeing on {100 * agreement:.0f}% of clips differ by at "
                         f"most {1 - agreement:.3f} in accuracy; gap {gap!r} is impossible")


def _scale_top(design: Design, metric: str) -> float:
    """The largest value of ``metric``: 1 for a fraction, the scale's span for MAE."""
    return float(len(design.classes) - 1) if metric == "mae" else 1.0


def _check_setup(design: Design, metric: str, level, agreement, spread) -> float:
    """Validate the model's parameters for ``metric`` on ``design``; the level to use."""
    family = _family(design, metric)
    level = _default_level(metric, level)
    if family == "mae":
        top = _scale_top(design, metric)
        if isinstance(level, bool) or not isinstance(level, numbers.Real) \
                or not math.isfinite(level) or not 0 < float(level) <= top / 2:
            raise InputError(f"level (the systems' average MAE) must be a number of scale steps "
                             f"in (0, {top / 2:g}]; got {level!r}")
        _check_fraction(agreement, "agreement (the correlation of the systems' per-clip errors)")
        if isinstance(spread, bool) or not isinstance(spread, numbers.Real) \
                or not math.isfinite(spread) or not 0.05 <= float(spread) <= 10:
            raise InputError(f"spread (standard deviation over mean of the per-clip errors) must "
                             f"be in [0.05, 10]; got {spread!r}")
        return float(level)
    try:
        _check_pair(level, agreement, 0.0)
    except ValueError as error:
        if family == "presence":  # the same bounds, on the cells with the emotion present
            raise InputError(f"{error} (on emotion_presence: level is the share of present "
                             f"emotions caught, agreement the share of present cells)") from None
        raise
    return float(level)


def _check_mae(design: Design, level: float, agreement: float, gap: float) -> None:
    if abs(gap) > 2 * level + 1e-12:
        raise InputError(f"two systems of average MAE {level:g} differ by at most {2 * level:g}; "
                         f"gap {gap!r} is impossible")


def _check_against(design: Design, metric: str, against) -> float:
    top = _scale_top(design, metric)
    if isinstance(against, bool) or not isinstance(against, numbers.Real) \
            or not math.isfinite(against) or not 0 <= float(against) <= top:
        what = f"an MAE in [0, {top:g}]" if metric == "mae" else "a fraction in [0, 1]"
        raise InputError(f"against must be {what}; got {against!r}")
    return float(against)


def _check_fraction(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= float(value) <= 1 \
            or math.isnan(value):
        raise InputError(f"{name} must be a fraction in [0, 1]; got {value!r}")
    return float(value)


def _check(*, alpha, n_sims, n_boot) -> None:
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < float(alpha) < 1:
        raise InputError(f"alpha must be strictly between 0 and 1; got {alpha!r}")
    for name, value in (("n_sims", n_sims), ("n_boot", n_boot)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InputError(f"{name} must be a whole number >= 1; got {value!r}")


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def _assumptions(design, metric, level, agreement, against, alpha, power, n_sims, n_boot, seed,
                 spread=0.8) -> dict:
    family = _family(design, metric)
    found = {
        "task": design.task,
        "metric": metric,
        "n_clips": design.n,
        ("emotion_supports" if family == "presence" else "class_supports"): design.supports,
        "test": ("two-sided one-sample bootstrap test against a published number"
                 if against is not None else
                 "two-sided paired bootstrap test over clips (emosign compare's)"),
        "alpha": alpha,
        **({"power": power} if power is not None else {}),
        "n_simulations": n_sims,
        "n_boot_per_test": n_boot,
        "seed": seed,
    }
    if family == "class":
        found["errors"] = ("a wrong answer is another class drawn in proportion to the supports; "
                           "systems err independently of each other")
    elif family == "presence":
        found["errors"] = ("on a clip without an emotion a system flags it with the chance that "
                           "makes it flag each emotion as often as the labels have it present "
                           "(precision = recall); the two systems' false alarms are independent")
    else:
        found["errors"] = ("per-clip absolute errors are Gamma distributed (correlated by a shared "
                           "component); MAE depends on the clips' errors only, not their ratings")
        found["spread"] = spread
        found["spread_means"] = "standard deviation of a system's per-clip absolute errors over their mean"
    if against is None:
        found["level"] = level
        found["level_means"] = {
            "class": "the two systems' average chance of being right, the same in every class",
            "presence": "the two systems' average chance of flagging an emotion that is present "
                        "(recall), the same for every emotion",
            "mae": "the two systems' average MAE, in scale steps",
        }[family]
        found["agreement"] = agreement
        found["agreement_means"] = {
            "class": "share of clips both systems get right or both get wrong",
            "presence": "share of (clip, emotion) cells with the emotion present that both "
                        "systems flag or both miss",
            "mae": "correlation over clips of the two systems' absolute errors",
        }[family]
    else:
        found["against"] = against
        found["null_level"] = level
        found["null_level_means"] = ("the MAE of the simulated system under the null hypothesis"
                                     if family == "mae" else
                                     "the chance of being right at which a simulated system "
                                     "scores the published number on average")
    return found


def format_power(result: dict) -> str:
    """A :func:`power_report` result as text, differences in points (percent of the metric;
    MAE in scale steps)."""
    name = result["short_name"]
    a = result["assumptions"]
    mae = result["metric"] in NOT_PERCENT

    def amount(x: float) -> str:
        return f"{x:.3f} scale steps" if mae else f"{100 * x:.1f} points"

    supports = a.get("class_supports") or a.get("emotion_supports")
    lines = [f"EmoSign {result['task']}, {name}: {a['n_clips']} clips "
             f"({', '.join(f'{k} {v}' for k, v in supports.items())})"]
    against = result.get("against")
    if against:
        who = f"{against['system']} ({against.get('source', '')})" if against["system"] else "the number"
        shown = f"{against['value']:.3f}" if mae else f"{100 * against['value']:.2f}"
        lines.append(f"one-sample test against {shown} ({who})")
    elif mae:
        lines.append(f"two systems of average MAE {a['level']:.2f}, per-clip errors correlated "
                     f"{a['agreement']:.2f} and spread (sd / mean) {a['spread']:.2f}")
    elif "emotion_supports" in a:
        lines.append(f"two systems catching a present emotion {100 * a['level']:.1f}% of the time, "
                     f"agreeing on {100 * a['agreement']:.1f}% of present (clip, emotion) cells, "
                     f"flagging each emotion as often as it is present")
    else:
        lines.append(f"two systems at level {100 * a['level']:.1f}% right, agreeing (both right "
                     f"or both wrong) on {100 * a['agreement']:.1f}% of clips")
    lines.append(f"{a['test']}, alpha {a['alpha']}, power {a['power']}, "
                 f"{a['n_simulations']:,} simulations x {a['n_boot_per_test']:,} resamples, seed {a['seed']}")
    lines.append("")
    if result["mde"] is None:
        lines.append(f"minimum detectable difference: none ({result.get('note', '')})")
    else:
        where = " above it" if against else ""
        lines.append(f"minimum detectable difference: {amount(result['mde'])} of {name}"
                     f"{where} (simulated power there {100 * result['power']:.1f}% "
                     f"+/- {100 * result['power_se']:.1f})")
    if result.get("mde_below") is not None:
        lines.append(f"  below it: {amount(result['mde_below'])}")
    if "analytic" in result:
        lines.append(f"  {result['analytic']['method']}: {amount(result['analytic']['mde'])}")
    if "power_at_difference" in result:
        p = result["power_at_difference"]
        lines.append(f"power to detect {amount(p['difference'])}: {100 * p['power']:.1f}% "
                     f"+/- {100 * p['power_se']:.1f}")
    observed = result.get("observed")
    if observed:
        if against:
            model = (f"(simulated from {observed['level']:.3f} MAE, the published number)" if mae else
                     f"(simulated from {100 * observed['level']:.1f}% right, the published number)")
        elif mae:
            model = (f"(at MAE {observed['level']:.3f}, error correlation {observed['agreement']:.2f}, "
                     f"spread {observed['spread']:.2f})")
        else:
            model = (f"(at level {100 * observed['level']:.1f}%, agreement "
                     f"{100 * observed['agreement']:.1f}%)")
        difference = (f"{observed['difference']:+.3f} scale steps [{observed['low']:.3f}, "
                      f"{observed['high']:.3f}]" if mae else
                      f"{100 * observed['difference']:+.2f} points [{100 * observed['low']:.1f}, "
                      f"{100 * observed['high']:.1f}]")
        lines += ["", f"observed difference: {difference}, "
                      f"p = {observed['p_value']:.4f} (two-sided, "
                      f"{'one-sample' if against else 'paired'} bootstrap, "
                      f"{observed['n_boot']:,} resamples)",
                  f"power the comparison had at that difference: "
                  f"{100 * observed['power_at_observed_difference']:.1f}% {model}"]
        lines += [f"note: {n}" for n in observed.get("notes", [])]
    return "\n".join(lines)
