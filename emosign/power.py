"""What 200 clips can tell: power and minimum detectable differences on EmoSign.

Before running two systems, a researcher wants to know which differences this benchmark can
detect at all; after running them, what the comparison could have found. This module answers
both by **simulation on the task's real clips**: system pairs are drawn on the task's actual
reference labels (its class supports, e.g. 121 / 3 / 76 clips on ``sentiment_3``), each pair is
tested with the paired permutation (swap) test ``emosign compare`` runs by default
(:func:`emosign.stats.permutation_test`), and the share of pairs in which the test rejects "no
difference" is the power.

Honest answers
--------------
* A minimum detectable difference (MDE) is never a search bound: when even the largest
  difference the model allows is detected with less than the asked power, the answer is "not
  reachable", with the best power found (:class:`MinimumDetectable`; McNemar's and the paired
  t-test's analytic MDEs alike).
* ``alpha`` below the smallest p-value the test can give is refused: no simulated study could
  reject. That is ``1 / (2 (1 + n_boot))`` for the paired permutation test's mid-p with
  ``n_boot`` swap patterns, and ``1 / (1 + n_boot)`` for the one-sample bootstrap against a
  number.
* No "observed power": given real systems, the answer is a design analysis
  (:func:`design_analysis`, Gelman & Carlin 2014): at true differences the user finds
  plausible, or at the MDE, the power, the chance that a significant result has the wrong
  sign (Type S) and how much it exaggerates (Type M).
* The MDE of a class-averaged score depends on the per-class recall profile
  (:data:`PROFILES`): a flat profile, and one that misses the rarest class as most real
  systems do (sentiment_3's 3 neutral clips), are both simulated.
* Against a published number, besides the one-sample test that takes it as exact, the
  conservative answer takes it as what it is, an estimate from the same clips.

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

Clusters (``cluster="source"`` or ``"signer"``, as ``emosign compare --cluster``)
--------------------------------------------------------------------------------------
The simulated studies are then tested as ``compare --cluster`` tests them, whole clusters
swapped (the one-sample bootstrap resamples them), and the clips of a cluster are dependent:
each clip takes its cluster's draws instead of its own with chance ``sqrt(icc)``, so every
clip keeps the model's chances above and two clips of one cluster correlate ``icc`` in
whatever is scored on them (each system's correctness, their difference, the MAE errors).
``icc`` is estimated from two real systems (:func:`estimate_icc`), or
:data:`emosign._defaults.POWER_ICC`. Clusters too few for the test to reach ``alpha`` (4
signers: smallest mid-p 1/16, :func:`smallest_p_value`) are refused, with the reason.

Against a published number (a paper's row, which has no per-clip answers) the test is
one-sample: one simulated system against a constant, ``paired_bootstrap(stat, constant)``,
whose p-value is the shifted bootstrap test of "the system scores the reported number".

Speed: the simulated pairs of a batch are tested on the same swap patterns, and each metric's
swapped difference over all of them is one matrix product per class (accuracy and wAcc: a
sign flip of per-clip terms, exact in float32 counts; the F1 scores: each class's true
positives and predictions moved by the swapped clips); the search for the MDE starts at the
normal approximation and interpolates on the probit scale, so it needs a handful of
evaluations (``benchmarks/bench_power.py``).

References: Gelman, A. and Carlin, J. (2014). Beyond power calculations: assessing Type S
(sign) and Type M (magnitude) errors. *Perspectives on Psychological Science* 9(6), 641-651.
Hoenig, J. M. and Heisey, D. M. (2001). The abuse of power: the pervasive fallacy of power
calculations for data analysis. *The American Statistician* 55(1), 19-24.
Connor, R. J. (1987). Sample size for testing differences in proportions for the paired-sample
design. *Biometrics* 43(1), 207-211 (McNemar's test).
Cherian, K. C. (1941). A bivariate correlated gamma-type distribution function. *Journal of
the Indian Mathematical Society* 5, 133-144 (the correlated errors of the MAE model).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from emosign import _defaults
from emosign._evaluation import CLUSTERS, cluster_labels
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
from emosign.stats import PairedTest, paired_bootstrap, permutation_test, sign_flip_test
from emosign.tasks import get_task

__all__ = [
    "METRICS",
    "PROFILES",
    "Design",
    "DesignAnalysis",
    "MinimumDetectable",
    "PowerEstimate",
    "design_analysis",
    "design_for_task",
    "estimate_icc",
    "format_power",
    "mcnemar_mde",
    "mcnemar_power",
    "minimum_detectable_difference",
    "observed_model",
    "paired_t_mde",
    "paired_t_power",
    "power_for_difference",
    "power_report",
    "retrodesign",
    "simulate_power",
    "smallest_p_value",
]

#: The metrics the simulation scores: single-label classification metrics of emosign.metrics,
#: MAE on the ordinal sentiment_7 and micro-F1 on emotion_presence (macro-F1 on both kinds).
METRICS: tuple[str, ...] = ("accuracy", "balanced_accuracy", "weighted_f1", "macro_f1", "mae",
                            "micro_f1")
_ALIASES = {SHORT_NAMES[m].lower(): m for m in METRICS if m in SHORT_NAMES}
# MAE's default level: an average error of one scale step (a fraction for every other metric).
_DEFAULT_LEVEL = {"mae": 1.0}

# Simulated pairs tested per call of the test, and swap patterns (resamples) per call of the
# statistic: the (patterns, sims) arrays of a call are 1 MB each, which the F1 scores' nine
# passes over them find in the cache (8 MB arrays cost them a fifth more time).
_SIMS_PER_BATCH = 1_000
_ROWS_PER_CHUNK = 128
# A search keeps its draws (and the wrong answers they pick) for its next step up to this
# many bytes, freed when it ends: the default 2,000 pairs of 200 clips are 16 MB (those of
# 200 x 10 presence cells, 96 MB, are drawn afresh: keeping them saved no time).
_KEPT_BYTES = 64 * 2**20
# The search for the MDE stops when its bracket is this narrow, as a share of the metric's
# top (1 for a fraction: 0.1 points; MAE: 0.006 steps of the 7-point scale), or after this
# many evaluations of the power.
_SEARCH_TOLERANCE = 0.001
_SEARCH_STEPS = 14
# The draws that calibrate the model where it has no closed form (the chance of being right at
# which a system scores a published F1 on average; the gap that gives an F1 difference): fixed,
# so that the model does not change with the seed of the simulation.
_CALIBRATION_SIMS = 1_000
_CALIBRATION_SEED = 20_250_517
# The standard normal distribution (the analytic checks and the search's probit scale), from
# the standard library: scipy.stats alone costs half a second to import.
_NORMAL = NormalDist()


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
    cluster: str = "clip"
    clusters: np.ndarray | None = None

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def cluster_codes(self) -> np.ndarray | None:
        """Each clip's cluster as a code 0 ... G-1 (None: clips are their own clusters)."""
        if self.clusters is None:
            return None
        return np.unique(self.clusters, return_inverse=True)[1].reshape(-1)

    @property
    def n_clusters(self) -> int:
        """G, the units the paired test swaps whole: clusters, or clips without them."""
        return self.n if self.clusters is None else int(np.unique(self.clusters).size)

    @property
    def mean_cluster_size(self) -> float:
        """The clips' size-weighted mean cluster size, ``m0 = sum_g m_g**2 / n``: the size in
        the design effect ``1 + (m0 - 1) icc`` of a sum over clips (Kish 1965)."""
        if self.clusters is None:
            return 1.0
        sizes = np.unique(self.clusters, return_counts=True)[1]
        return float((sizes.astype(float) ** 2).sum() / self.n)

    def with_clusters(self, clusters, *, cluster: str = "custom") -> Design:
        """The same clips grouped into clusters (``clusters``: a label per clip, shape (n,)),
        which the simulated test swaps whole and within which errors may be dependent;
        ``cluster`` names the grouping."""
        labels = np.asarray(clusters)
        if labels.shape != (self.n,):
            raise InputError(f"clusters must have one label per clip, shape ({self.n},); got "
                             f"shape {labels.shape}")
        return Design(self.task, self.classes, self.y_true, self.ordinal, str(cluster), labels)

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


def design_for_task(task: str, *, labels_file=None, cluster: str = _defaults.CLUSTER) -> Design:
    """The design of an EmoSign single-label task, or of ``emotion_presence``, from the label
    file (default: as :func:`emosign.labels.load_labels` finds it).

    ``cluster`` as in :func:`emosign.metrics.compare`: "clip" (clips independent), "source"
    (the clips of a source video swap together, 22 of them) or "signer" (4).
    """

    if cluster not in CLUSTERS:
        raise InputError(f"`cluster` must be one of {list(CLUSTERS)}; got {cluster!r}")
    spec = get_task(task)
    if spec.kind not in ("single_label", "multi_label"):
        raise InputError(f"power is simulated for single-label tasks and emotion_presence; "
                         f"{task} is {spec.kind.replace('_', '-')}")
    data = spec.bind(load_labels(labels_file))
    if spec.kind == "multi_label":
        design = Design(spec.name, tuple(data.classes), np.asarray(data.y_true, dtype=bool))
    else:
        design = Design(spec.name, tuple(data.classes), np.asarray(data.y_true, dtype=np.int64),
                        spec.ordinal)
    groups = cluster_labels(data, cluster)  # compare's own rule, so the two cannot differ
    return design if groups is None else design.with_clusters(groups, cluster=cluster)


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
    """Power of the paired (or one-sample) test at one simulated difference.

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
    """The smallest difference detected with at least the asked power, or why there is none.

    ``mde`` is in the metric's units (a fraction, 0.05 = 5 points; MAE in scale steps), or
    None when no difference the model allows reaches the power: then ``reachable`` is False,
    ``power`` is the best power found (at the largest difference the model allows,
    ``best_difference``) and ``note`` says so. A search bound is never returned as an MDE.
    ``power`` is otherwise the power at ``mde`` (simulated: at least the asked one, up to
    Monte Carlo error ``power_se``; analytic: ``power_se`` is 0). ``mde_se`` is the Monte
    Carlo standard error of the simulated MDE (the power's standard error over the power
    curve's slope there), None for an analytic one.
    """

    mde: float | None
    gap: float | None
    power: float | None
    power_se: float | None
    assumptions: dict
    note: str = ""
    best_difference: float | None = None
    mde_se: float | None = None

    @property
    def reachable(self) -> bool:
        """Whether some difference the model allows is detected with the asked power."""
        return self.mde is not None

    def to_dict(self) -> dict:
        return {**asdict(self), "reachable": self.reachable}


@dataclass(frozen=True)
class DesignAnalysis:
    """What a comparison would report if the true difference were ``difference``: a design
    analysis (Gelman & Carlin 2014), replacing "observed" (post-hoc) power.

    With ``D`` the true difference and ``d_s`` the estimate in simulated study ``s``,
    among the studies whose test rejects at ``alpha`` (``n_significant`` of ``n_sims``):

    * ``type_s`` = P(sign(d_s) != sign(D) | significant): the chance that a significant
      result has the wrong sign;
    * ``type_m`` = E(|d_s| | significant) / |D|: the exaggeration ratio, how much a
      significant estimate overstates the true difference on average.

    ``power`` is P(significant). ``type_s`` and ``type_m`` are None when no simulated study
    was significant; ``*_se`` are their Monte Carlo standard errors.

    References
    ----------
    Gelman, A. and Carlin, J. (2014). Beyond power calculations: assessing Type S (sign) and
    Type M (magnitude) errors. *Perspectives on Psychological Science* 9(6), 641-651.
    Hoenig, J. M. and Heisey, D. M. (2001). The abuse of power: the pervasive fallacy of power
    calculations for data analysis. *The American Statistician* 55(1), 19-24.
    """

    difference: float
    gap: float
    power: float
    power_se: float
    type_s: float | None
    type_s_se: float | None
    type_m: float | None
    type_m_se: float | None
    n_significant: int
    n_sims: int
    why: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------------------
# Analytic approximations: McNemar's test (accuracy), the paired t-test (MAE), retrodesign


def mcnemar_power(n: int, *, discordance: float, difference: float, alpha: float = _defaults.ALPHA) -> float:
    """Power of the two-sided McNemar test of two accuracies on ``n`` paired clips.

    Connor (1987)'s normal approximation: with ``d`` the share of discordant clips and
    ``delta`` the accuracy difference,

        power = Phi((|delta| sqrt(n) - z sqrt(d)) / sqrt(d - delta**2)),

    ``z`` the ``1 - alpha / 2`` normal quantile.
    """
    if not 0 < discordance <= 1 or abs(difference) > discordance:
        raise InputError(f"need 0 < discordance <= 1 and |difference| <= discordance; got "
                         f"{discordance!r} and {difference!r}")
    spread = discordance - difference**2
    if spread <= 0:
        return 1.0
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    return float(_NORMAL.cdf((abs(difference) * math.sqrt(n) - z * math.sqrt(discordance))
                             / math.sqrt(spread)))


def mcnemar_mde(n: int, *, discordance: float, power: float = _defaults.POWER,
                alpha: float = _defaults.ALPHA) -> MinimumDetectable:
    """The accuracy difference McNemar's test detects with ``power``: the inverse of
    :func:`mcnemar_power`, by bisection on ``[0, discordance]`` (two systems disagreeing on
    a share ``discordance`` of clips differ by at most that much).

    Returns
    -------
    MinimumDetectable
        ``mde`` None (``reachable`` False) when even ``|delta| = discordance`` is detected
        with less than ``power``: ``power`` is then the power there, ``best_difference``
        that bound. The bound is never returned as an MDE.
    """
    method = {"method": "McNemar's test, Connor (1987)'s normal approximation", "n_clips": n,
              "discordance": discordance, "alpha": alpha, "power": power}
    return _analytic_mde(lambda d: mcnemar_power(n, discordance=discordance, difference=d,
                                                 alpha=alpha),
                         float(discordance), power, method)


def paired_t_power(n: int, *, difference: float, sd: float, alpha: float = _defaults.ALPHA) -> float:
    """Power of the two-sided paired t-test of a mean per-clip difference on ``n`` clips.

    ``difference``: the true mean of the per-clip differences (for MAE, of the two systems'
    absolute errors); ``sd``: their standard deviation. Exact under normal differences:
    the t statistic is noncentral t with ``n - 1`` degrees of freedom and noncentrality
    ``difference * sqrt(n) / sd``.
    """
    if n < 2 or not sd > 0:
        raise InputError(f"need n >= 2 clips and sd > 0; got {n!r} and {sd!r}")
    from scipy import special  # only here: the noncentral t

    critical = float(special.stdtrit(n - 1, 1 - alpha / 2))
    shift = abs(difference) * math.sqrt(n) / sd
    found = float(1 - special.nctdtr(n - 1, shift, critical) + special.nctdtr(n - 1, shift, -critical))
    # The noncentral t returns NaN far in the tail (noncentrality of tens): power is 1.
    return found if math.isfinite(found) else float(shift > critical)


def mae_difference_sd(*, level: float, gap: float, agreement: float, spread: float) -> float:
    """Standard deviation over clips of ``|error_A| - |error_B|`` in the MAE model: errors
    with means ``level +/- gap / 2``, standard deviations ``spread`` times those, and
    correlation ``agreement``."""
    a, b = level + gap / 2, level - gap / 2
    return spread * math.sqrt(max(a * a + b * b - 2 * agreement * a * b, 0.0))


def paired_t_mde(n: int, *, level: float, agreement: float, spread: float, power: float = _defaults.POWER,
                 alpha: float = _defaults.ALPHA) -> MinimumDetectable:
    """The MAE difference the paired t-test detects with ``power`` between two systems of
    the MAE model (:func:`mae_difference_sd`; by bisection on ``[0, 2 * level]``, the largest
    difference two systems of average MAE ``level`` can have).

    Returns
    -------
    MinimumDetectable
        ``mde`` None (``reachable`` False) with the power at the bound when the bound itself
        is detected with less than ``power``.
    """

    def at(gap: float) -> float:
        sd = mae_difference_sd(level=level, gap=gap, agreement=agreement, spread=spread)
        return 1.0 if sd == 0 else paired_t_power(n, difference=gap, sd=sd, alpha=alpha)

    method = {"method": "paired t-test of the per-clip absolute errors (noncentral t)",
              "n_clips": n, "level": level, "agreement": agreement, "spread": spread,
              "alpha": alpha, "power": power}
    return _analytic_mde(at, 2.0 * level, power, method)


def _bisect(reaches: Callable[[float], bool], high: float, *, steps: int) -> float:
    """The smallest ``x`` in ``[0, high]`` with ``reaches(x)``, for ``reaches`` false below
    some point and true above it: the upper end of the bracket after ``steps`` halvings."""
    low = 0.0
    for _ in range(steps):
        mid = (low + high) / 2
        if reaches(mid):
            high = mid
        else:
            low = mid
    return high


def _analytic_mde(at, largest: float, power: float, assumptions: dict) -> MinimumDetectable:
    """Bisection of a monotone analytic power curve ``at`` on ``[0, largest]``."""
    top = at(largest)
    if top < power:
        return MinimumDetectable(None, None, top, 0.0, assumptions, note=_unreachable(
            largest, top, power), best_difference=largest)
    high = _bisect(lambda d: at(d) >= power, largest, steps=60)
    return MinimumDetectable(high, high, at(high), 0.0, assumptions)


def _unreachable(largest: float, best: float, power: float) -> str:
    return (f"not reachable: even the largest difference the model allows ({largest:.4g}) is "
            f"detected with power {best:.3f} only, below the {power:g} asked")


def retrodesign(effect: float, se: float, *, alpha: float = _defaults.ALPHA) -> dict:
    """Gelman & Carlin (2014)'s design analysis under a normal sampling distribution.

    With the estimate ``d ~ N(D, s**2)`` (``D = effect``, ``s = se``), ``z`` the
    ``1 - alpha / 2`` normal quantile and ``lambda = D / s``:

        power  = (1 - Phi(z - lambda)) + Phi(-z - lambda)
        type_s = Phi(-z - lambda) / power                     (for D > 0)
        type_m = E(|d| ; |d| > z s) / (power |D|)
               = [D (1 - Phi(z - lambda)) + s phi(z - lambda)
                  - D Phi(-z - lambda) + s phi(-z - lambda)] / (power |D|)

    Returns ``{"power", "type_s", "type_m"}``. It is the analytic check of
    :func:`design_analysis`, which simulates the test ``compare`` runs instead.
    """
    if not se > 0 or not math.isfinite(effect) or effect == 0:
        raise InputError(f"need se > 0 and a nonzero finite effect; got {se!r} and {effect!r}")
    z = _NORMAL.inv_cdf(1 - alpha / 2)
    lam = abs(effect) / se
    right, wrong = 1 - _NORMAL.cdf(z - lam), _NORMAL.cdf(-z - lam)
    power = right + wrong
    d = abs(effect)
    magnitude = (d * right + se * _NORMAL.pdf(z - lam) - d * wrong + se * _NORMAL.pdf(-z - lam))
    return {"power": power, "type_s": wrong / power, "type_m": magnitude / (power * d)}


# --------------------------------------------------------------------------------------------
# Simulation

#: The per-class recall profiles the simulation knows (single-label tasks).
PROFILES: dict[str, str] = {
    "flat": "both systems' chance of being right is the same in every class",
    "misses_rarest": "both systems miss every clip of the rarest class (recall 0, as most real "
                     "systems do on sentiment_3's 3 neutral clips); the other classes are at the "
                     "level that keeps the mean per-class recall at `level`",
}


def simulate_power(
    design: Design,
    *,
    metric: str = _defaults.POWER_METRIC,
    gap: float,
    level: float | None = None,
    agreement: float = _defaults.AGREEMENT,
    spread: float = _defaults.SPREAD,
    icc: float | None = None,
    against: float | None = None,
    profile: str = "flat",
    alpha: float = _defaults.ALPHA,
    n_sims: int = _defaults.POWER_N_SIMS,
    n_boot: int = _defaults.POWER_N_BOOT,
    seed: int = _defaults.SEED,
) -> PowerEstimate:
    """Simulated power at one gap in the chance of being right (MAE: in the mean error).

    Two systems (``against=None``): A right with probability ``level + gap / 2``, B with
    ``level - gap / 2``, agreeing (both right or both wrong) on a share ``agreement`` of
    clips; per class as ``profile`` says (:data:`PROFILES`). One system against a published
    number (``against`` = that number, a fraction): the system right with probability
    ``p0 + gap``, where at ``p0`` it scores ``against`` on average (``level`` and
    ``agreement`` are then not used), tested against the constant.
    ``n_sims`` simulated pairs, each tested with ``n_boot`` resamples; seeded by ``seed``.
    ``level`` defaults to 0.5 (MAE: 1.0 scale steps); for MAE and emotion_presence
    ``level``, ``agreement`` and ``spread`` mean what the module docstring says (``spread``
    is used by MAE alone).
    """
    metric = metric_name(metric)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    model = _Model.make(design, metric, level=level, agreement=agreement, spread=spread,
                        against=against, profile=profile, seed=seed, icc=icc)
    draws = model.draws(n_sims, seed)
    run = model.run(draws, gap, alpha=alpha, n_boot=n_boot, seed=seed)
    return PowerEstimate(run.difference, float(gap), run.power, run.power_se,
                         model.assumptions(alpha, None, n_sims, n_boot, seed))


def minimum_detectable_difference(
    design: Design,
    *,
    metric: str = _defaults.POWER_METRIC,
    power: float = _defaults.POWER,
    level: float | None = None,
    agreement: float = _defaults.AGREEMENT,
    spread: float = _defaults.SPREAD,
    icc: float | None = None,
    against: float | None = None,
    direction: int = 1,
    profile: str = "flat",
    conservative: bool = False,
    alpha: float = _defaults.ALPHA,
    n_sims: int = _defaults.POWER_N_SIMS,
    n_boot: int = _defaults.POWER_N_BOOT,
    seed: int = _defaults.SEED,
    progress: bool | None = False,
) -> MinimumDetectable:
    """The smallest difference the test detects with probability ``power``.

    Two systems as in :func:`simulate_power`. Against a published number (``against``): a
    system at ``against + difference`` (``direction=1``, above it) or ``against -
    difference`` (``direction=-1``). ``conservative=True`` (with ``against``) treats the
    published number as an estimate from the same clips, not as exact: the published system
    is simulated as a second system on the same clips at that level, erring independently of
    yours (its per-clip answers are not published), and the test is the paired one.

    The search (common random numbers: every evaluation sees the same seeded draws and swap
    patterns, so the simulated power is a step function of the gap) starts at the normal
    approximation's MDE, ``(z_{1 - alpha / 2} + z_power)`` times the simulated difference's
    standard deviation, then interpolates on the probit scale, ``Phi^-1(power)`` nearly
    linear in the gap, inside the bracket of gaps below and above the power asked, until
    the bracket is narrower than 0.001 of the metric's range (0.1 points; MAE 0.006 steps)
    or than half the MDE's own Monte Carlo error, whichever is wider.
    The largest gap the model allows is evaluated only when the search reaches it.

    Returns
    -------
    MinimumDetectable
        ``mde`` in the metric's units (a fraction; MAE: scale steps, how much lower one
        system's MAE must be). When even the largest difference the model allows is
        detected less often than ``power``: ``mde`` None, ``reachable`` False, the best
        power found and where, and ``note`` "not reachable: ...". A bound is never an MDE.
    progress : bool or None
        A bar over the search's evaluations (None: only on a terminal).
    """
    metric = metric_name(metric)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    _check_power(power)
    if direction not in (1, -1):
        raise InputError(f"`direction` must be 1 or -1; got {direction!r}")
    if conservative and against is None:
        raise InputError("`conservative` needs `against` (a published number)")
    model = _Model.make(design, metric, level=level, agreement=agreement, spread=spread,
                        against=against, profile=profile, seed=seed, conservative=conservative,
                        icc=icc)
    return _find_mde(model, power=power, direction=direction, alpha=alpha, n_sims=n_sims,
                     n_boot=n_boot, seed=seed, progress=progress)[0]


def _find_mde(model: _Model, *, power: float, direction: int, alpha: float, n_sims: int,
              n_boot: int, seed: int, progress: bool | None) -> tuple[MinimumDetectable, _Run]:
    """:func:`minimum_detectable_difference` on a checked model, and the simulated studies
    at the MDE, or when it is not reachable at the largest difference the model allows
    (their design analysis comes free)."""
    draws = model.draws(n_sims, seed)
    bar = progress_bar(_SEARCH_STEPS, f"power: {n_sims:,} simulations a step",
                       enabled=progress, unit="step")
    runs: dict[float, _Run] = {}

    def at(gap: float) -> _Run:
        found = runs[gap] = model.run(draws, gap * direction, alpha=alpha, n_boot=n_boot, seed=seed)
        bar.update(1)
        return found

    with bar:
        found = _search(at, model.largest_gap(direction), power, alpha,
                        _SEARCH_TOLERANCE * _scale_top(model.design, model.metric),
                        model.assumptions(alpha, power, n_sims, n_boot, seed),
                        model.first_guess(draws, alpha, power, direction))
    # The studies at the MDE, or at the largest gap when not reachable (the best found).
    return found, runs[found.gap if found.gap is not None else model.largest_gap(direction)]


def _search(at, largest: float, power: float, alpha: float, tolerance: float,
            assumptions: dict, guess: float) -> MinimumDetectable:
    """The smallest gap in ``[0, largest]`` whose simulated power is at least ``power``, to
    within ``tolerance`` (see :func:`minimum_detectable_difference`); ``at(gap)`` runs the
    simulation there, ``guess`` is where to start. None (not reachable) when even
    ``largest`` falls short."""
    floor = 0.25 / 10_000  # keeps the probit of 0 and 1 finite

    def probit(p: float) -> float:
        return _NORMAL.inv_cdf(min(max(p, floor), 1 - floor))

    target = probit(power)
    # (gap, probit of its power): no difference is rejected at the test's size.
    points: list[tuple[float, float]] = [(0.0, probit(alpha))]
    low, high, found = 0.0, None, None
    gap = min(max(guess, tolerance), largest)
    for _ in range(_SEARCH_STEPS):
        run = at(gap)
        points.append((gap, probit(run.power)))
        if run.power >= power:
            high, found = gap, run
        else:
            low = gap
            if gap >= largest:  # even the largest difference the model allows falls short
                return MinimumDetectable(None, None, run.power, run.power_se, assumptions,
                                         note=_unreachable(abs(run.difference), run.power, power),
                                         best_difference=abs(run.difference))
        top = largest if high is None else high
        # Resolving the MDE finer than half its own Monte Carlo error is resolving noise.
        if found is not None:
            tolerance = max(tolerance, _mde_se(found, alpha, probit) / 2)
        if high is not None and high - low <= tolerance:
            break
        # The next gap: the secant on the probit scale through the two evaluations nearest
        # the target, kept inside the bracket; one that lands within a tolerance of an end
        # is moved a half tolerance from it, so that the bracket closes in one more step.
        (g1, f1), (g2, f2) = sorted(points, key=lambda p: abs(p[1] - target))[:2]
        step = g1 + (target - f1) * (g2 - g1) / (f2 - f1) if f1 != f2 else (low + top) / 2
        if not low < step < top:
            if high is None:
                step = min(top, 2 * gap)
            else:
                # The secant left the bracket (both nearest evaluations on one side, or one
                # exactly at the power asked): interpolate between the bracket's ends
                # instead. Halving it would cost a step per halving when the MDE sits at an
                # end, as it does when the first guess lands on it.
                seen = dict(points)
                f_low, f_high = seen[low], seen[high]
                step = low + (target - f_low) * (high - low) / (f_high - f_low)
        if high is not None:
            step = min(max(step, low + tolerance / 2), high - tolerance / 2)
        gap = min(max(step, low + tolerance / 2), largest)
    assert found is not None and high is not None
    return MinimumDetectable(abs(found.difference), high, found.power, found.power_se,
                             assumptions, mde_se=_mde_se(found, alpha, probit) or None)


def _mde_se(found: _Run, alpha: float, probit) -> float:
    """The Monte Carlo error of an MDE found at ``found``: the power's standard error over
    the power curve's slope there, d power / d difference = phi(Phi^-1(power))
    (z_alpha + Phi^-1(power)) / mde under a normal test statistic (the simulated curve's own
    slope between two nearby evaluations is too noisy to divide by); 0 when undefined."""
    z = probit(found.power)
    difference = abs(found.difference)
    slope = _NORMAL.pdf(z) * (_NORMAL.inv_cdf(1 - alpha / 2) + z) / difference if difference else 0.0
    return found.power_se / slope if slope > 0 else 0.0


def design_analysis(
    design: Design,
    *,
    metric: str = _defaults.POWER_METRIC,
    differences: Sequence[float],
    level: float | None = None,
    agreement: float = _defaults.AGREEMENT,
    spread: float = _defaults.SPREAD,
    icc: float | None = None,
    against: float | None = None,
    profile: str = "flat",
    alpha: float = _defaults.ALPHA,
    n_sims: int = _defaults.POWER_N_SIMS,
    n_boot: int = _defaults.POWER_N_BOOT,
    seed: int = _defaults.SEED,
) -> list[DesignAnalysis]:
    """Type S and Type M errors (Gelman & Carlin 2014) of the test at true differences.

    For each true difference in ``differences`` (the metric's units; negative: below
    ``against`` in the one-sample case), the systems of :func:`simulate_power` are simulated
    at the gap that produces it on average, each study tested, and :class:`DesignAnalysis`
    reads power, the chance that a significant estimate has the wrong sign (``type_s``) and
    how much it exaggerates (``type_m``) off the significant studies. This replaces
    "observed power" (the power at the observed difference, a function of the p-value alone:
    Hoenig & Heisey 2001): give the differences you find plausible from outside the data, or
    the MDE. Analytic check under a normal estimate: :func:`retrodesign`.
    """
    metric = metric_name(metric)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    model = _Model.make(design, metric, level=level, agreement=agreement, spread=spread,
                        against=against, profile=profile, seed=seed, icc=icc)
    draws = model.draws(n_sims, seed)
    found = []
    for difference in differences:
        value = _check_difference(design, metric, difference)
        direction = 1 if value >= 0 else -1
        gap = model.gap_for(abs(value), direction, seed) if value else 0.0
        run = model.run(draws, gap * direction, alpha=alpha, n_boot=n_boot, seed=seed)
        found.append(run.design_analysis(gap * direction))
    return found


@dataclass(frozen=True)
class _Run:
    """The simulated studies at one gap: each one's full-data difference and whether its test
    rejected."""

    differences: np.ndarray
    rejected: np.ndarray

    @property
    def n_sims(self) -> int:
        return int(self.rejected.size)

    @property
    def power(self) -> float:
        return float(self.rejected.mean())

    @property
    def power_se(self) -> float:
        return _se(self.power, self.n_sims)

    @property
    def difference(self) -> float:
        return float(self.differences.mean())

    def design_analysis(self, gap: float) -> DesignAnalysis:
        true = self.difference
        significant = self.differences[self.rejected]
        k = int(significant.size)
        if k == 0 or gap == 0:
            why = ("no true difference: the rejection rate is the test's size; Type S and M "
                   "are undefined" if gap == 0 else "no simulated study was significant")
            return DesignAnalysis(true, gap, self.power, self.power_se, None, None, None, None,
                                  k, self.n_sims, why=why)
        wrong = float(np.mean(np.sign(significant) != np.sign(true)))
        ratio = np.abs(significant) / abs(true)
        type_m_se = float(ratio.std(ddof=1) / math.sqrt(k)) if k > 1 else None
        return DesignAnalysis(true, gap, self.power, self.power_se, wrong, _se(wrong, k),
                              float(ratio.mean()), type_m_se, k, self.n_sims)


def power_for_difference(
    design: Design,
    *,
    metric: str = _defaults.POWER_METRIC,
    difference: float,
    level: float | None = None,
    agreement: float = _defaults.AGREEMENT,
    spread: float = _defaults.SPREAD,
    icc: float | None = None,
    against: float | None = None,
    profile: str = "flat",
    alpha: float = _defaults.ALPHA,
    n_sims: int = _defaults.POWER_N_SIMS,
    n_boot: int = _defaults.POWER_N_BOOT,
    seed: int = _defaults.SEED,
) -> PowerEstimate:
    """Simulated power to detect ``difference`` in the metric's units (a fraction, MAE in
    scale steps; negative means below ``against`` in the one-sample case). The gap in the
    chance of being right that gives this difference on average is found first; then as
    :func:`simulate_power`."""
    metric = metric_name(metric)
    value = _check_difference(design, metric, difference)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    model = _Model.make(design, metric, level=level, agreement=agreement, spread=spread,
                        against=against, profile=profile, seed=seed, icc=icc)
    direction = 1 if value >= 0 else -1
    gap = model.gap_for(abs(value), direction, seed) * direction
    run = model.run(model.draws(n_sims, seed), gap, alpha=alpha, n_boot=n_boot, seed=seed)
    return PowerEstimate(run.difference, gap, run.power, run.power_se,
                         model.assumptions(alpha, None, n_sims, n_boot, seed))


# --------------------------------------------------------------------------------------------
# The simulated pair, validated once


@dataclass(frozen=True)
class _Model:
    """One simulation model, its parameters checked: what :func:`simulate_power`,
    :func:`minimum_detectable_difference` and :func:`design_analysis` share.

    ``mode`` is "pair" (two systems), "one_sample" (one system against ``against``, taken as
    exact) or "conservative" (against ``against`` taken as a second system on the same
    clips, erring independently). ``level`` is the pair's average level, or under the
    null of the other two modes the level at which a system scores ``against`` on average.
    For single-label tasks ``class_level``, ``class_agreement`` and ``class_active`` are the
    per-class recall profile (an inactive class is missed by both systems).
    """

    design: Design
    metric: str
    family: str
    mode: str
    level: float
    agreement: float
    spread: float
    against: float | None
    profile: str
    class_level: np.ndarray | None = None
    class_agreement: np.ndarray | None = None
    class_active: np.ndarray | None = None
    icc: float = 0.0

    @classmethod
    def make(cls, design: Design, metric: str, *, level, agreement, spread, against, profile,
             seed: int, conservative: bool = False, icc=None) -> _Model:
        family = _family(design, metric)
        icc = _check_icc(design, icc)
        if profile not in PROFILES:
            raise InputError(f"`profile` must be one of {list(PROFILES)}; got {profile!r}")
        if profile != "flat" and family != "class":
            raise InputError(f"the recall profile {profile!r} is for single-label tasks; "
                             f"{design.task} with {metric} is simulated flat")
        if against is None:
            level = _check_setup(design, metric, level, agreement, spread)
            mode = "pair"
        else:
            if family == "mae":
                _check_setup(design, metric, None, 0.5, spread)
            level = _level_for(design, metric, _check_against(design, metric, against), seed)
            mode = "conservative" if conservative else "one_sample"
            # Not used by a one-sample test; under "conservative" set by independence.
            agreement = 0.0 if family == "mae" else 0.5
            if profile != "flat":
                raise InputError("against a published number the simulated system is flat: "
                                 "`profile` must be 'flat' with `against`")
        model = cls(design, metric, family, mode, float(level), float(agreement), float(spread),
                    None if against is None else float(against), profile, icc=icc)
        if family == "class":
            model = model._with_profile()
        return model

    def _with_profile(self) -> _Model:
        k = len(self.design.classes)
        supports = np.bincount(self.design.y_true, minlength=k)
        active = np.ones(k, dtype=bool)
        if self.profile == "misses_rarest":
            present = supports > 0
            active = ~(present & (supports == supports[present].min()))
            if not active[present].any():
                raise InputError("every class is the rarest: nothing is left for 'misses_rarest'")
        n_classes = int((supports > 0).sum())
        n_active = int((active & (supports > 0)).sum())
        level = self.level * n_classes / n_active
        if level > 1:
            raise InputError(
                f"with the rarest class missed, the other classes need recall {level:.3f} for a "
                f"mean per-class recall of `level` {self.level:g}: impossible")
        if self.mode == "pair":
            try:
                _check_pair(level, self.agreement, 0.0)
            except InputError as error:
                raise InputError(f"{error} (the level of the classes not missed under "
                                 f"profile {self.profile!r})") from None
        class_level = np.where(active, level, 0.0)
        class_agreement = np.where(active, self.agreement, 1.0)
        return _replace(self, class_level=class_level, class_agreement=class_agreement,
                        class_active=active)

    # --- what the searches need ---

    def draws(self, n_sims: int, seed: int) -> _Draws:
        return _Draws.new(self.design, n_sims, seed, metric=self.metric,
                          agreement=self.agreement, spread=self.spread, icc=self.icc,
                          one_system=self.mode == "one_sample")

    def largest_gap(self, direction: int = 1) -> float:
        """The largest gap the model allows: two systems' chances of being right differ by
        at most the share of clips they disagree on; MAEs are at least 0 and at most the
        scale; a single system is right with a chance in [0, 1]."""
        if self.mode == "pair":
            return 2.0 * self.level if self.family == "mae" else 1.0 - self.agreement
        top = _scale_top(self.design, self.metric) if self.family == "mae" else 1.0
        return (top - self.level) if direction == 1 else self.level

    def run(self, draws: _Draws, gap: float, *, alpha: float, n_boot: int, seed: int) -> _Run:
        """Each simulated study's difference and whether its test rejected, at ``gap``:
        two systems by the paired permutation test ``emosign compare`` runs by default
        (:func:`emosign.stats.permutation_test`, ``n_boot`` swap patterns shared by every
        study of a batch); one system against a number by the one-sample bootstrap test
        (:func:`emosign.stats.paired_bootstrap` against the constant)."""
        _check_reachable(self.design, alpha=alpha, n_boot=n_boot)
        if self.mode == "one_sample":
            _check_one_sample(alpha=alpha, n_boot=n_boot)
        # The products here are small (hundreds of rows): one BLAS thread does them fastest,
        # and several threads spinning on a shared machine cost many times the CPU.
        with threadpool_limits(limits=1, user_api="blas"):
            rejected, differences = [], []
            for batch in draws.batches():
                if self.mode == "one_sample":
                    stat_a, stat_b = self.statistics(batch, gap)
                    tests = paired_bootstrap(stat_a, stat_b, self.design.n, n_boot=n_boot,
                                             seed=seed, chunk_size=_ROWS_PER_CHUNK,
                                             clusters=self.design.cluster_codes,
                                             interval="inverted")
                else:
                    tests = self.swap_test(batch, gap, n_perm=n_boot, seed=seed)
                assert isinstance(tests, list)  # (B, sims) statistics: one test per study
                rejected.append([t.p_value <= alpha for t in tests])
                differences.append([t.difference for t in tests])
        return _Run(np.concatenate(differences), np.concatenate(rejected))

    def pair_parameters(self, gap: float) -> tuple:
        """(level, gap, agreement) of the two simulated systems, per clip for a recall
        profile; the published system and yours under "conservative"."""
        if self.mode == "conservative":
            a, b = self.level + gap, self.level  # yours at level + gap, the published at level
            independent = 0.0 if self.family == "mae" else a * b + (1 - a) * (1 - b)
            return (a + b) / 2, gap, independent
        if self.family == "class":
            assert self.class_level is not None and self.class_agreement is not None
            assert self.class_active is not None
            y = self.design.y_true
            return self.class_level[y], gap * self.class_active[y], self.class_agreement[y]
        return self.level, gap, self.agreement

    def swap_test(self, batch, gap: float, *, n_perm: int, seed: int) -> list:
        """The paired permutation test of every simulated pair of a batch, on the same swap
        patterns: a sign-flip test where the difference is a sum over clips (accuracy, wAcc
        with the classes fixed, MAE), else the swap statistic of the F1 scores."""
        level, gap, agreement = self.pair_parameters(gap)
        terms, stat = _swap_inputs(self.design, self.metric, batch, level, gap, agreement)
        clusters = self.design.cluster_codes  # whole clusters swap, as compare --cluster
        if terms is not None:
            tests = sign_flip_test(terms, n_perm=n_perm, seed=seed, clusters=clusters)
        else:
            tests = permutation_test(stat, self.design.n, n_perm=n_perm, seed=seed,
                                     chunk_size=_ROWS_PER_CHUNK, clusters=clusters)
        assert isinstance(tests, list)  # (sims, n) terms or (P, sims) statistics
        return tests

    def statistics(self, batch, gap: float):
        """The weighted statistics (B, n) -> (B, sims) of the two sides: the simulated
        system(s) as :func:`emosign.metrics` scores them (the bootstrap's and the full data's
        view; the permutation test uses :meth:`swap_test`)."""
        design, metric = self.design, self.metric
        if self.mode == "one_sample":
            stat_a = _one_system(design, metric, batch, self.level + gap)
            assert self.against is not None
            constant = np.full(batch[0].shape[0], self.against)
            return stat_a, (lambda w, c=constant: np.broadcast_to(c, (w.shape[0], c.size)))
        return _systems(design, metric, batch, *self.pair_parameters(gap))

    def first_guess(self, draws: _Draws, alpha: float, power: float, direction: int) -> float:
        """Where the search starts: the gap of the normal approximation's MDE,
        ``(z_{1 - alpha / 2} + z_power) sd``, with ``sd`` the standard deviation over the
        first batch of simulated studies of their difference at no gap (no test run)."""
        batch = draws.first()
        ones = np.ones((1, self.design.n))

        def differences(gap: float) -> np.ndarray:
            a, b = self.statistics(batch, direction * gap)
            return (a(ones) - b(ones))[0]

        largest = self.largest_gap(direction)
        per_gap = abs(float(differences(largest).mean())) / largest if largest > 0 else 0.0
        if per_gap <= 0:
            return largest
        z = _NORMAL.inv_cdf(1 - alpha / 2) + _NORMAL.inv_cdf(power)
        return float(z * differences(0.0).std() / per_gap)

    def gap_for(self, difference: float, direction: int, seed: int) -> float:
        """The gap whose simulated studies differ by ``difference`` in the metric, on
        average (``direction`` -1: below ``against``)."""
        largest = self.largest_gap(direction)
        if self.family == "mae":
            return min(float(difference), largest)  # the expected MAE moves with the gap exactly
        if self.family == "class" and self.metric in ("accuracy", "balanced_accuracy"):
            # Linear in the indicators: the expected difference is the gap times the weight of
            # the clips it applies to (all of them, but those of a missed class).
            y = self.design.y_true
            supports = np.bincount(y, minlength=len(self.design.classes))
            weight = (np.full(y.size, 1.0 / y.size) if self.metric == "accuracy" else
                      1.0 / (np.count_nonzero(supports) * supports[y]))
            active = np.ones(y.size, dtype=bool) if self.class_active is None or self.mode != "pair" \
                else self.class_active[y]
            return min(float(difference) / float(weight[active].sum()), largest)
        # A model parameter, not a Monte Carlo draw: calibrated on fixed draws, whatever `seed`.
        batch = _Draws.new(self.design, _CALIBRATION_SIMS, _CALIBRATION_SEED, metric=self.metric).first()
        ones = np.ones((1, self.design.n))

        def mean_difference(gap: float) -> float:
            a, b = self.statistics(batch, direction * gap)
            return float(abs((a(ones) - b(ones)).mean()))

        return _bisect(lambda gap: mean_difference(gap) >= difference, largest, steps=30)

    def assumptions(self, alpha, power, n_sims, n_boot, seed) -> dict:
        found = _assumptions(self.design, self.metric, self.level, self.agreement,
                             self.against, alpha, power, n_sims, n_boot, seed, self.spread,
                             conservative=self.mode == "conservative")
        found.update(_cluster_assumptions(self.design, self.icc))
        if self.design.clusters is not None:
            found["test"] = _test_name(self.mode == "one_sample", self.design)
        if self.family == "class" and self.mode == "pair":
            assert self.class_level is not None and self.class_active is not None
            found["profile"] = self.profile
            found["profile_means"] = PROFILES[self.profile]
            found["class_levels"] = dict(zip(self.design.classes, map(float, self.class_level)))
        return found


def _replace(model: _Model, **changes) -> _Model:
    from dataclasses import replace

    return replace(model, **changes)


# --------------------------------------------------------------------------------------------
# What `emosign power` prints


def power_report(
    task: str,
    *,
    metric: str | None = None,
    power: float = _defaults.POWER,
    alpha: float = _defaults.ALPHA,
    level: float | None = None,
    agreement: float = _defaults.AGREEMENT,
    spread: float = _defaults.SPREAD,
    cluster: str = _defaults.CLUSTER,
    icc: float | None = None,
    differences: Sequence[float] | None = None,
    predictions_a=None,
    predictions_b=None,
    against: float | str | None = None,
    n_sims: int = _defaults.POWER_N_SIMS,
    n_boot: int = _defaults.POWER_N_BOOT,
    seed: int = _defaults.SEED,
    labels_file=None,
    progress: bool | None = False,
) -> dict:
    """Everything ``emosign power`` prints, as a JSON-ready dict (a ``power`` record,
    schema version 2). ``metric`` defaults to the task's: wAcc (``balanced_accuracy``), or
    micro-F1 on ``emotion_presence``.

    * Always: ``mde``, the smallest difference in ``metric`` (a fraction; MAE in scale steps)
      detected with ``power`` at ``alpha``, or None with ``reachable`` False, the best power
      found (``power``, at ``best_difference``) and ``note``; ``assumptions`` beside it.
    * Two systems: ``analytic``, for accuracy McNemar's approximation (Connor 1987) of the
      same MDE, for MAE the paired t-test's (:func:`paired_t_mde`), also None with the power
      at the bound when not reachable; on a single-label task ``recall_profiles``, the MDE
      under each per-class recall profile of :data:`PROFILES` at the same level and
      agreement.
    * ``design_analysis``: :class:`DesignAnalysis` (power, Type S, Type M) at each of
      ``differences`` (the metric's units), or when none are given at the MDE and half of it.
    * ``against``: a number (fraction) or the name of one of the paper's rows for the task
      (e.g. ``"GPT-4o (video)"``): the test is one-sample against the number taken as exact;
      ``mde`` is how far above it a system must score, ``mde_below`` below it; and
      ``conservative``, the same two answers when the number is taken as what it is, an
      estimate from the same clips (:func:`minimum_detectable_difference` with
      ``conservative=True``).
    * ``predictions_a`` (and ``predictions_b``, or ``against``): ``observed``, the real
      comparison (difference, its interval and p-value as ``emosign compare`` gives them,
      10,000 resamples) and the model's parameters read off the systems; the MDE and the
      design analysis are then at those parameters. No power "at the observed difference"
      is given: it is a function of the p-value and says nothing more (Hoenig & Heisey 2001).
    * ``cluster`` as in :func:`emosign.metrics.compare` ("clip", "source", "signer"): every
      simulated study is tested as ``compare --cluster`` tests it (whole clusters swapped, or
      resampled by the one-sample bootstrap), and the clips of a cluster are dependent, with
      intra-cluster correlation ``icc`` (:func:`estimate_icc` of the two systems when
      ``predictions_a`` and ``predictions_b`` are given and ``icc`` is None; else
      :data:`emosign._defaults.POWER_ICC`). ``assumptions`` says which (``icc_source``).
      Clusters so few that the test cannot reach ``alpha`` (4 signers: smallest mid-p 1/16) are
      refused, with the reason.
    """

    if metric is None:  # the task's: the paper's wAcc, micro-F1 on emotion_presence
        metric = "micro_f1" if task == "emotion_presence" else _defaults.POWER_METRIC
    metric = metric_name(metric)
    _check(alpha=alpha, n_sims=n_sims, n_boot=n_boot)
    _check_power(power)
    labels = load_labels(labels_file)
    design = design_for_task(task, labels_file=labels, cluster=cluster)
    _check_reachable(design, alpha=alpha, n_boot=n_boot)
    icc_source = "given" if icc is not None else "default"
    icc = _check_icc(design, icc)
    reported = _resolve_against(task, metric, against, _scale_top(design, metric))
    value = None if reported is None else reported["value"]
    if predictions_b is not None and predictions_a is None:
        raise InputError("`predictions_b` needs `predictions_a`: give both systems' predictions")
    if predictions_a is not None and predictions_b is None and value is None:
        raise InputError("give `predictions_b` (a second system) or `against` (a published "
                         "number) with `predictions_a`")
    if predictions_b is not None and value is not None:
        raise InputError("give `predictions_b` or `against`, not both: a comparison is between "
                         "two systems or one system and a number")
    wanted = [_check_difference(design, metric, d) for d in (differences or ())]
    if value is None:
        level = _check_setup(design, metric, level, agreement, spread)
    common: dict[str, Any] = dict(metric=metric, alpha=alpha, n_sims=n_sims, n_boot=n_boot, seed=seed)
    result: dict = {"task": design.task, "metric": metric,
                    "short_name": SHORT_NAMES.get(metric, metric)}
    if reported is not None:
        result["against"] = reported

    if predictions_a is not None:
        observed = _observed(task, metric, labels, predictions_a, predictions_b, value, seed,
                             cluster=cluster, design=design)
        correct_a, correct_b = observed.pop("_correct_a"), observed.pop("_correct_b")
        if correct_b is not None:
            level, agreement, spread, notes = observed_model(design, metric, correct_a, correct_b)
            observed.update(level=level, agreement=agreement, notes=notes)
            if _family(design, metric) == "mae":
                observed["spread"] = spread
        if design.clusters is not None and icc_source == "default":
            estimated, icc_notes = estimate_icc(design, metric, correct_a, correct_b)
            observed["icc"] = estimated
            observed.setdefault("notes", []).extend(icc_notes)
            icc, icc_source = estimated, "estimated"
        result["observed"] = observed

    model = dict(level=level, agreement=agreement, spread=spread, icc=icc, against=value,
                 **common)
    checked = _Model.make(design, metric, level=level, agreement=agreement, spread=spread,
                          against=value, profile="flat", seed=seed, icc=icc)
    mde, at_mde = _find_mde(checked, power=power, direction=1, alpha=alpha, n_sims=n_sims,
                            n_boot=n_boot, seed=seed, progress=progress)
    result.update(_mde_fields(mde))
    result["assumptions"] = mde.assumptions
    if design.clusters is not None:
        mde.assumptions["icc_source"] = {
            "given": "given",
            "default": f"the default, emosign._defaults.POWER_ICC = {_defaults.POWER_ICC} "
                       "(docs/power.md: why, and how to choose another)",
            "estimated": "estimated from the predictions' per-clip outcomes (estimate_icc)",
        }[icc_source]
    result["test"] = mde.assumptions["test"]
    family = _family(design, metric)
    if value is not None:
        below = minimum_detectable_difference(design, power=power, direction=-1, **model)
        result["mde_below"] = below.mde
        result["mde_below_detail"] = _mde_fields(below)
        result["conservative"] = {
            "means": "the published number taken as an estimate from the same clips: its system "
                     "simulated on them at that level, erring independently of yours, and the "
                     "paired test; the one-sample answers above take the number as exact",
            "above": _mde_fields(minimum_detectable_difference(
                design, power=power, conservative=True, **model)),
            "below": _mde_fields(minimum_detectable_difference(
                design, power=power, conservative=True, direction=-1, **model)),
        }
    elif metric == "accuracy":
        result["analytic"] = _mde_fields(mcnemar_mde(design.n, discordance=1 - agreement,
                                                     power=power, alpha=alpha))
        result["analytic"]["method"] = "McNemar's test, Connor (1987)'s normal approximation" \
            + ("" if design.clusters is None else " (independent clips: no clusters)")
    elif family == "mae":
        assert level is not None  # checked above
        result["analytic"] = _mde_fields(paired_t_mde(design.n, level=level, agreement=agreement,
                                                      spread=spread, power=power, alpha=alpha))
        result["analytic"]["method"] = "paired t-test of the per-clip absolute errors (noncentral t)" \
            + ("" if design.clusters is None else " (independent clips: no clusters)")
    if value is None and family == "class":
        result["recall_profiles"] = _profiles(design, mde, power, model)

    if wanted:
        analyses = design_analysis(design, differences=wanted, **model)
        result["design_analysis_at"] = "the differences given"
    else:  # the search's own studies
        gap = mde.gap if mde.gap is not None else checked.largest_gap(1)
        analyses = [at_mde.design_analysis(gap)]
        result["design_analysis_at"] = ("the MDE" if mde.reachable else
                                        "the largest difference the model allows (no MDE)")
    result["design_analysis"] = [a.to_dict() for a in analyses]
    return stamp("power", result)


def observed_model(design: Design, metric: str, correct_a,
                   correct_b) -> tuple[float, float, float, list[str]]:
    """The simulation model's parameters read off two real systems.

    ``correct_a`` / ``correct_b``, aligned with ``design.y_true``: for the single-label
    metrics (n,) booleans, whether each system got each clip right; for MAE (n,) absolute
    errors in scale steps; on emotion_presence (n, K) booleans, the emotions each system
    flagged. The level is the systems' mean accuracy for accuracy, else their mean per-class
    recall; agreement the share of clips both get right or both wrong (on emotion_presence:
    of present cells); for MAE the mean error, the correlation of the errors and their
    spread. A value outside what the model takes is moved to the bound (said in the notes).

    Returns
    -------
    (level, agreement, spread, notes)
    """
    metric = metric_name(metric)
    family = _family(design, metric)
    notes: list[str] = []
    if family == "mae":
        level, agreement, spread = _observed_mae_model(design, correct_a, correct_b, notes)
        return level, agreement, spread, notes
    if family == "presence":
        present = design.y_true
        right_a = np.asarray(correct_a, dtype=bool)[present]
        right_b = np.asarray(correct_b, dtype=bool)[present]
        level = float(np.mean([right_a.mean(), right_b.mean()]))
    else:
        right_a, right_b = np.asarray(correct_a, dtype=bool), np.asarray(correct_b, dtype=bool)
        # The model's level is both the expected accuracy and the expected wAcc: take the one
        # the comparison is about (per-class recall for the F1 scores, which weigh classes).
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
    return level, min(agreement, 0.995), 0.8, notes


def estimate_icc(design: Design, metric: str, outcome_a, outcome_b=None) -> tuple[float, list[str]]:
    """The intra-cluster correlation of the model read off real systems' per-clip outcomes.

    The per-clip value is what the test sums: the two systems' difference on the clip
    (single-label: right minus right, ``outcome_*`` (n,) booleans; MAE: absolute error minus
    absolute error, (n,) errors; emotion_presence: the share of the clip's ten cells each gets
    right, from (n, K) flags), or with ``outcome_b`` None one system's own (against a
    number). With ``e_i`` the values minus their mean and the ``design``'s clusters ``g`` of
    sizes ``m_g``, the ratio of the products of two clips of one cluster to the squares,

        R = sum_g ((sum_{i in g} e_i)**2 - sum_{i in g} e_i**2) / sum_i e_i**2,

    is matched to its expectation under an intra-cluster correlation ``icc`` (the method of
    moments; centring at the sample mean biases the plain pairwise estimator ``R n / P``
    down by about ``(1 + (m0 - 1) icc) / n``): with ``P = sum_g m_g (m_g - 1)`` and
    ``Q = sum_g m_g (m_g - 1)**2``,

        icc = (R (n - 1) + P / n) / (P - 2 Q / n + P**2 / n**2 + R P / n).

    Negative estimates (clusters no more alike than any two clips) become 0, and ``notes``
    say so.

    Returns
    -------
    (icc, notes) : icc in [0, 0.99].
    """
    if design.clusters is None:
        raise InputError("estimate_icc needs a design with clusters (design_for_task(cluster=...))")
    family = _family(design, metric_name(metric))

    def per_clip(outcome) -> np.ndarray:
        values = np.asarray(outcome)
        if family == "presence":
            return (values.astype(bool) == design.y_true).mean(axis=1)
        if family == "mae":
            return np.abs(values.astype(float))
        return values.astype(float)

    x = per_clip(outcome_a) if outcome_b is None else per_clip(outcome_a) - per_clip(outcome_b)
    if x.shape != (design.n,) or not np.isfinite(x).all():
        raise InputError(f"the per-clip outcomes must be finite, one per clip ({design.n}); got "
                         f"shape {x.shape}")
    codes = design.cluster_codes
    assert codes is not None
    e = x - x.mean()
    what = "the two systems' per-clip differences" if outcome_b is not None else \
        "the system's per-clip outcomes"
    # Equal values, not a zero variance: the mean of equal floats (a presence share, 0.9) need
    # not be exactly their value, and the rounding left in ``e`` is no correlation.
    if (x == x[0]).all():
        return 0.0, [f"{what} do not vary: no intra-cluster correlation to estimate; icc 0 used"]
    totals = np.bincount(codes, weights=e)
    squares = np.bincount(codes, weights=e**2)
    sizes = np.bincount(codes).astype(float)
    n = float(design.n)
    pairs = float((sizes * (sizes - 1)).sum())
    if pairs == 0:
        return 0.0, ["every cluster has one clip: icc 0 used"]
    if sizes.size == 1:
        # One cluster: its centred total is 0 whatever the outcomes, so R is -1 and the
        # moment equation 0 / 0; nothing tells clips within from clips between clusters.
        return 0.0, ["every clip is in one cluster: no intra-cluster correlation to estimate "
                     "(nothing to compare it with); icc 0 used"]
    ratio = float((totals**2 - squares).sum() / (e**2).sum())
    triples = float((sizes * (sizes - 1) ** 2).sum())
    found = (ratio * (n - 1) + pairs / n) / (pairs - 2 * triples / n + pairs**2 / n**2
                                              + ratio * pairs / n)
    notes = [f"icc {found:.3f} estimated from {what} over {design.n_clusters} "
             f"{_UNITS.get(design.cluster, 'clusters')}: an estimate from few clusters is noisy; "
             f"give icc (--icc) at a few values to see how much the answer depends on it"]
    if found < 0:
        notes.append(f"the estimated icc {found:.3f} is below 0 (clips of a cluster no more alike "
                     f"than any two); the model takes 0")
    if found > 0.99:
        notes.append(f"the estimated icc {found:.3f} is above 0.99, the largest the model takes "
                     f"(two clips of a cluster all but the same); it takes 0.99")
    return min(max(found, 0.0), 0.99), notes


def _mde_fields(found: MinimumDetectable) -> dict:
    """A MinimumDetectable as the report's JSON fields (the assumptions apart)."""
    fields: dict[str, Any] = {"mde": found.mde, "reachable": found.reachable,
                              "power": found.power, "power_se": found.power_se}
    if found.reachable:
        fields.update(gap=found.gap, mde_se=found.mde_se)
    else:
        fields.update(best_difference=found.best_difference, note=found.note)
    return fields


def _profiles(design: Design, flat: MinimumDetectable, power: float, model: dict) -> list[dict]:
    """The MDE under each recall profile (the flat one is ``flat``, already found)."""
    found = []
    for name, means in PROFILES.items():
        entry: dict[str, Any] = {"profile": name, "means": means}
        try:
            result = flat if name == "flat" else minimum_detectable_difference(
                design, power=power, profile=name, **model)
        except InputError as error:
            entry.update(mde=None, reachable=False, power=None, note=str(error))
        else:
            entry.update(_mde_fields(result), class_levels=result.assumptions["class_levels"])
        found.append(entry)
    return found


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
            raise InputError(f"`against` {against!r} is neither {what} nor one of "
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


def _observed(task, metric, labels, predictions_a, predictions_b, value, seed, *,
              cluster: str = _defaults.CLUSTER, design: Design | None = None) -> dict:
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
        compared = compare(task, predictions_a, predictions_b, labels_file=labels, seed=seed,
                           cluster=cluster)
        row = compared["comparison"][metric]
        return {"difference": row["difference"], "low": row["low"], "high": row["high"],
                "p_value": row["p_value"], "n_boot": compared["ci"]["n_boot"],
                "test": f"paired {compared['test']['method']} test (emosign compare's default"
                        + (")" if cluster == "clip" else f", --cluster {cluster})"),
                "_correct_a": correct_a, "_correct_b": correct_b}

    def stat_a(w):
        if metric == "mae":
            return sentiment_metrics(data.y_true - 3, aligned_a.values, sample_weight=w)["mae"]
        if data.y_true.ndim == 2:
            return multilabel_metrics(data.y_true, aligned_a.y_pred, sample_weight=w)[metric]
        return classification_metrics(data.y_true, aligned_a.y_pred, n_classes=len(data.classes),
                                      sample_weight=w)[metric]

    test = paired_bootstrap(stat_a, lambda w: np.full(w.shape[0], float(value)), data.n,
                            n_boot=10_000, seed=seed,
                            clusters=None if design is None else design.cluster_codes)
    assert isinstance(test, PairedTest)  # one statistic in, one test out
    return {"a": float(stat_a(np.ones((1, data.n)))[0]), "difference": test.difference,
            "low": test.low, "high": test.high, "p_value": test.p_value, "n_boot": test.n_boot,
            "test": "one-sample bootstrap test against the number taken as exact"
                    + ("" if cluster == "clip" else f", resampling whole {_UNITS[cluster]}"),
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
    codes: np.ndarray | None = None
    copy: float = 0.0
    one_system: bool = False
    # Single-label designs: the design whose wrong answers each batch's uniforms pick.
    answers_of: Design | None = field(default=None, compare=False, repr=False)
    # Batches kept for the next step of a search, when they are small (see _KEPT_BYTES).
    kept: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def new(cls, design: Design, n_sims: int, seed: int, *, metric: str = "accuracy",
            agreement: float = 0.0, spread: float = 0.8, icc: float = 0.0,
            one_system: bool = False) -> _Draws:
        family = _family(design, metric)
        # Dependence within clusters: each clip takes its cluster's draws with chance sqrt(icc).
        clustered = design.clusters is not None and icc > 0
        codes = design.cluster_codes if clustered else None
        copy = math.sqrt(icc) if clustered else 0.0
        if family == "presence":
            return cls(design.n, n_sims, seed, cells=len(design.classes), codes=codes, copy=copy,
                       one_system=one_system)
        if family == "mae":
            k = 1.0 / spread**2  # Gamma(k, 1/k): mean 1, standard deviation `spread`
            return cls(design.n, n_sims, seed, gamma_shapes=(agreement * k, (1.0 - agreement) * k),
                       codes=codes, copy=copy, one_system=one_system)
        return cls(design.n, n_sims, seed, codes=codes, copy=copy, answers_of=design,
                   one_system=one_system)

    def batches(self):
        # Every step of a search sees the same draws: small ones are kept, not drawn again.
        arrays = (2 if self.one_system else 3) * (5 / 3 if self.answers_of is not None else 1)
        keep = self.n_sims * self.n * max(self.cells, 1) * arrays * 8 <= _KEPT_BYTES
        for b, start in enumerate(range(0, self.n_sims, _SIMS_PER_BATCH)):
            if b in self.kept:
                yield self.kept[b]
                continue
            found = self._batch(b, min(_SIMS_PER_BATCH, self.n_sims - start))
            if keep:
                self.kept[b] = found
            yield found

    def _batch(self, b: int, rows: int) -> _Batch:
        cells = (self.cells,) if self.cells else ()
        rng = np.random.default_rng([self.seed, 0x706F776572, b])  # "power": apart from bootstrap seeds
        found: tuple[Any, ...] = self._draw(rng, (rows, self.n, *cells))
        if self.codes is not None and self.copy > 0:
            # A stream of its own ("cl"), so that a clip's own draws are those of the
            # unclustered model: icc only decides which clips take their cluster's instead.
            rng = np.random.default_rng([self.seed, 0x706F776572, b, 0x636C])
            shared = self._draw(rng, (rows, int(self.codes.max()) + 1, *cells))
            takes = rng.random((rows, self.n)) < self.copy
            if cells:
                takes = takes[..., None]
            found = tuple(None if mine is None else np.where(takes, whole[:, self.codes], mine)
                          for whole, mine in zip(shared, found))
        batch = _Batch(found)
        if self.answers_of is not None:  # the wrong answers do not depend on the gap
            batch.wrong = (_wrong_answers(self.answers_of, found[1]),
                           None if found[2] is None else _wrong_answers(self.answers_of, found[2]))
        return batch

    def _draw(self, rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[Any, Any, Any]:
        # One system (against a number) uses the first two arrays: the third, drawn last
        # from the stream, is left out (None) without changing the first two.
        if self.gamma_shapes is None:
            first, second = rng.random(shape), rng.random(shape)
            return first, second, None if self.one_system else rng.random(shape)
        shared, own = self.gamma_shapes
        k = shared + own
        first, second = rng.standard_gamma(shared, shape) / k, rng.standard_gamma(own, shape) / k
        return first, second, None if self.one_system else rng.standard_gamma(own, shape) / k

    def first(self) -> _Batch:
        return next(self.batches())


class _Batch(tuple):
    """One batch of draws, the three arrays of :class:`_Draws`; for a single-label design
    ``wrong``, the wrong answer each system gives where it errs (from the second and third
    arrays), made once per batch instead of at every gap."""

    wrong: tuple[np.ndarray, np.ndarray | None] | None = None


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
    wrong_a, wrong_b = _picked(batch)
    return (_statistic(design, metric, _answers(design, correct_a, u_a, wrong_a)),
            _statistic(design, metric, _answers(design, correct_b, u_b, wrong_b)))


def _picked(batch) -> tuple[np.ndarray | None, np.ndarray | None]:
    """The wrong answers a batch already holds (None: pick them from its uniforms)."""
    wrong = getattr(batch, "wrong", None)
    return (None, None) if wrong is None else wrong


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
    return _statistic(design, metric, _answers(design, batch[0] < p, batch[1], _picked(batch)[0]))


def _swap_inputs(design: Design, metric: str, batch, level, gap, agreement):
    """What the paired permutation test of a batch of simulated pairs needs: ``(terms,
    None)``, the (sims, n) per-clip terms whose sum is each pair's difference, when swapping
    a clip flips its term's sign (accuracy, wAcc, MAE); else ``(None, stat)``, a swap
    statistic (P, n) bool -> (P, sims) of the F1 scores."""
    family = _family(design, metric)
    n = design.n
    if family == "mae":
        _check_mae(design, float(np.max(level)), 0.0, float(np.max(np.abs(gap))))
        shared, own_a, own_b = batch
        errors_a = (level + gap / 2) * (shared + own_a)
        errors_b = (level - gap / 2) * (shared + own_b)
        return (errors_a - errors_b) / n, None
    cell, u_a, u_b = batch
    correct_a, correct_b = _pair(level, gap, agreement, cell)
    if family == "presence":
        flags_a = _presence_answers(design, correct_a, u_a, level + gap / 2)
        flags_b = _presence_answers(design, correct_b, u_b, level - gap / 2)
        return None, _presence_swap_statistic(design, metric, flags_a, flags_b)
    y = design.y_true
    supports = np.bincount(y, minlength=len(design.classes))
    if metric in ("accuracy", "balanced_accuracy"):
        # Class k's clips each weigh 1 / n (accuracy) or 1 / (K n_k) (wAcc, the K classes
        # present fixed, as they are under swaps).
        weights = (np.full(len(supports), 1.0 / n) if metric == "accuracy" else
                   np.where(supports > 0, 1.0 / (np.count_nonzero(supports) * np.maximum(supports, 1)), 0.0))
        return None, _linear_swap_statistic(y, weights, correct_a, correct_b)
    wrong_a, wrong_b = _picked(batch)
    pred_a = _answers(design, correct_a, u_a, wrong_a)
    pred_b = _answers(design, correct_b, u_b, wrong_b)
    return None, _f1_swap_statistic(supports, metric, y, pred_a, pred_b)


def _linear_swap_statistic(y: np.ndarray, weights: np.ndarray, correct_a: np.ndarray,
                           correct_b: np.ndarray):
    """Swap statistic (P, n) bool -> (P, sims) of a difference that is a weighted sum of the
    correct indicators, ``sum_i weights_{y_i} (c_a,i - c_b,i)``: swapping clip i flips its
    term's sign (Fisher's sign flip, as :func:`emosign.stats.sign_flip_test`), so every
    swapped difference of every pair is one (P, n) @ (n, sims) product in float64 (its
    rounding, 1e-16, is far inside the test's tie tolerance)."""
    terms = np.ascontiguousarray(((correct_a.astype(np.float64) - correct_b) * weights[y]).T)  # (n, sims)
    observed = terms.sum(axis=0)

    def statistic(swaps: np.ndarray) -> np.ndarray:
        return observed - 2.0 * (swaps.astype(np.float64) @ terms)

    return statistic


def _f1_swap_statistic(supports: np.ndarray, metric: str, y: np.ndarray, pred_a: np.ndarray,
                       pred_b: np.ndarray):
    """Swap statistic of wF1 or macro-F1 for simulated pairs (sims, n): after swapping,
    system A holds B's answer on the swapped clips and B holds A's, so each class's true
    positives and predicted counts move by the swapped clips' differences, one product
    each (true positives only on the class's own clips). F1 as
    :func:`emosign.metrics.classification_metrics` computes it (zero_division=0)."""
    k = len(supports)
    n = y.size
    support = supports.astype(float)
    members = [np.flatnonzero(y == c) for c in range(k)]
    hit_a, hit_b = (pred_a == y).T, (pred_b == y).T  # (n, sims)
    parts = []
    for c in range(k):
        as_a, as_b = (pred_a == c).T, (pred_b == c).T
        rows = members[c]
        parts.append((
            rows,
            hit_a[rows].sum(0).astype(float), hit_b[rows].sum(0).astype(float),
            np.ascontiguousarray(hit_b[rows].astype(np.float32) - hit_a[rows]),
            as_a.sum(0).astype(float), as_b.sum(0).astype(float),
            np.ascontiguousarray(as_b.astype(np.float32) - as_a),
        ))

    def statistic(swaps: np.ndarray) -> np.ndarray:
        s = swaps.astype(np.float32)
        shape = (swaps.shape[0], pred_a.shape[0])
        total = np.zeros(shape)
        buffers = (np.empty(shape), np.empty(shape), np.empty(shape))
        for c, (rows, tp_a, tp_b, tp_change, p_a, p_b, p_change) in enumerate(parts):
            if not rows.size:
                continue  # an absent class: F1 = 0 for both systems, whatever the swaps
            weight = 2 * (support[c] / n if metric == "weighted_f1" else 1.0 / k)
            _add_f1_difference(total, weight, s[:, rows] @ tp_change, s @ p_change,
                               tp_a, tp_b, p_a + support[c], p_b + support[c], buffers)
        return total

    return statistic


def _add_f1_difference(total: np.ndarray, weight: float, tp_moved: np.ndarray,
                       flagged_moved: np.ndarray, tp_a: np.ndarray, tp_b: np.ndarray,
                       denominator_a: np.ndarray, denominator_b: np.ndarray,
                       buffers: tuple[np.ndarray, np.ndarray, np.ndarray]) -> None:
    """``total += weight * (F1_A - F1_B) / 2`` of one class after the swaps, in place.

    ``tp_moved`` and ``flagged_moved`` (P, sims) are what the swaps move from B to A: true
    positives and predictions of the class; ``tp_*`` (sims,) the unswapped true positives,
    ``denominator_*`` (sims,) support plus predictions. With the class present (support >=
    1) a denominator is never 0, so F1 = 2 tp / (support + predicted) needs no guard. In
    float64 (the counts are whole numbers, exact; the ratios are not), nine passes over the
    (P, sims) arrays, into three ``buffers`` of that shape (fresh arrays of 8 MB a class
    cost more than the arithmetic): it is bound by memory, not by the products."""
    a, b, scratch = buffers
    np.add(tp_moved, tp_a, out=a, dtype=np.float64)
    np.add(flagged_moved, denominator_a, out=scratch, dtype=np.float64)
    a /= scratch
    np.subtract(tp_b, tp_moved, out=b, dtype=np.float64)
    np.subtract(denominator_b, flagged_moved, out=scratch, dtype=np.float64)
    b /= scratch
    a -= b
    a *= weight
    total += a


def _presence_swap_statistic(design: Design, metric: str, flags_a: np.ndarray,
                             flags_b: np.ndarray):
    """Swap statistic of micro- or macro-F1 on presence flags (sims, n, K): as
    :func:`_f1_swap_statistic`, per emotion (macro) or pooled over emotions (micro).
    F1 = 2 TP / (present + flagged), 0 where nothing is present or flagged."""
    y = design.y_true
    hits_a, hits_b = flags_a & y[None], flags_b & y[None]
    # True positives move only on the clips where the emotion (any emotion, pooled) is
    # present: their product is over those rows alone.
    if metric == "micro_f1":
        groups = [(np.flatnonzero(y.any(axis=1)), _count_last(hits_a), _count_last(hits_b),
                   _count_last(flags_a), _count_last(flags_b), float(y.sum()))]
    else:
        groups = [(np.flatnonzero(y[:, k]), hits_a[..., k], hits_b[..., k], flags_a[..., k],
                   flags_b[..., k], float(y[:, k].sum())) for k in range(y.shape[1])]
    parts = []
    for rows, tp_a, tp_b, f_a, f_b, present in groups:
        parts.append((rows, tp_a.sum(1).astype(float), tp_b.sum(1).astype(float),
                      np.ascontiguousarray((tp_b[:, rows].astype(np.float32) - tp_a[:, rows]).T),
                      f_a.sum(1).astype(float), f_b.sum(1).astype(float),
                      np.ascontiguousarray((f_b.astype(np.float32) - f_a).T), present))

    def statistic(swaps: np.ndarray) -> np.ndarray:
        s = swaps.astype(np.float32)
        shape = (swaps.shape[0], flags_a.shape[0])
        total = np.zeros(shape)
        buffers = (np.empty(shape), np.empty(shape), np.empty(shape))
        for rows, tp_a, tp_b, tp_change, f_a, f_b, f_change, present in parts:
            if present == 0:  # nothing present: 0 true positives, F1 2 * 0 / max(flagged, 1)
                continue      # is 0 for both systems, whatever the swaps
            _add_f1_difference(total, 2.0 / len(parts), s[:, rows] @ tp_change, s @ f_change,
                               tp_a, tp_b, f_a + present, f_b + present, buffers)
        return total

    return statistic


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


def _count_last(flags: np.ndarray) -> np.ndarray:
    """How many of the last axis's flags are set, (sims, n, K) -> (sims, n) integers: K
    slices added as 16-bit integers, four times faster than ``sum(-1)`` over a short axis."""
    count = flags[..., 0].astype(np.int16)
    for k in range(1, flags.shape[-1]):
        count += flags[..., k]
    return count


def _presence_statistic(design: Design, metric: str, flags: np.ndarray):
    """A weighted statistic (B, n) -> (B, sims): micro- or macro-F1 of each simulated system's
    presence flags (sims, n, K), as :func:`emosign.metrics.multilabel_metrics` computes them
    (pooled or per-emotion counts; F1 = 0 where nothing is present or flagged)."""
    y = design.y_true
    hits = flags & y[None]
    if metric == "micro_f1":
        tp = [np.ascontiguousarray(_count_last(hits).T, dtype=np.float32)]
        flagged = [np.ascontiguousarray(_count_last(flags).T, dtype=np.float32)]
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


def _pair(level, gap, agreement, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Correctness of A and B from uniforms ``u``: the cells (both right, A only, B only,
    both wrong) in that order along [0, 1). ``level``, ``gap`` and ``agreement`` are numbers
    or per-clip arrays (a recall profile), broadcast against ``u``'s last axis."""
    if np.ndim(level) == 0 and np.ndim(gap) == 0 and np.ndim(agreement) == 0:
        _check_pair(level, agreement, gap)
    d = 1.0 - np.asarray(agreement, dtype=float)
    both = level - d / 2
    a_only = (d + gap) / 2
    b_only = (d - gap) / 2
    if np.ndim(d) and (np.min(both) < -1e-12 or np.min(a_only) < -1e-12 or np.min(b_only) < -1e-12):
        raise InputError("the recall profile leaves a class with a negative share of clips: "
                         "its level, agreement and gap do not fit")
    correct_a = u < both + a_only
    correct_b = (u < both) | ((u >= both + a_only) & (u < both + a_only + b_only))
    return correct_a, correct_b


def _answers(design: Design, correct: np.ndarray, u: np.ndarray,
             wrong: np.ndarray | None = None) -> np.ndarray:
    """Predicted class indices (sims, n): the reference where ``correct``, else another class
    drawn in proportion to the supports with uniforms ``u`` (``wrong``: those classes, when
    already picked by :func:`_wrong_answers`)."""
    if wrong is None:
        wrong = _wrong_answers(design, u)
    return np.where(correct, design.y_true[None, :], wrong)


def _wrong_answers(design: Design, u: np.ndarray) -> np.ndarray:
    """The class (sims, n) a system answers where it errs: another class than the clip's,
    drawn in proportion to the supports with uniforms ``u``."""
    cdf = _wrong_class_cdf(design)  # (K, K)
    y = design.y_true
    # The wrong class is the number of cumulative probabilities below u: a binary search in
    # the row of the clips' class, not a (sims, n, K) comparison.
    wrong = np.empty(u.shape, dtype=np.int64)
    for c in np.unique(y):
        columns = np.flatnonzero(y == c)
        wrong[:, columns] = np.searchsorted(cdf[c], u[:, columns], side="left")
    np.minimum(wrong, len(design.classes) - 1, out=wrong)  # u within rounding of 1
    return wrong


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
    correct64 = correct.astype(np.float64) if metric == "balanced_accuracy" else None
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
            return (weights[:, order] * scale[:, y]) @ correct64
        assert predicted_as is not None  # built above for the F1 metrics
        # Class by class into one (B, S) total, with no (B, S, K) temporaries: each class's
        # F1 times its weight in the mean (1 / K; wF1: its share of the support).
        shares = (np.full_like(support, 1.0 / k) if metric == "macro_f1" else
                  support / np.maximum(support.sum(-1, keepdims=True), 1.0))
        total = np.zeros((weights.shape[0], correct.shape[1]))
        f1, denominator = np.empty_like(total), np.empty_like(total)
        for c, (block, column) in enumerate(zip(blocks, predicted_as)):
            # Whole-number counts: a zero denominator has tp = 0 too, so F1 = 0
            # (zero_division=0).
            np.add(w @ column, support[:, c, None], out=denominator, dtype=np.float64)
            np.maximum(denominator, 1.0, out=denominator)
            np.multiply(w[:, block] @ correct[block], 2.0, out=f1, dtype=np.float64)
            f1 /= denominator
            f1 *= shares[:, c, None]
            total += f1
        return total

    return statistic


def _level_for(design: Design, metric: str, value: float, seed: int) -> float:
    """The chance of being right (for MAE: the mean error) whose simulated systems score
    ``value`` in ``metric`` on average: the null hypothesis of a one-sample test against a
    published ``value``. (For accuracy, wAcc and MAE it is ``value`` itself; the F1 scores
    also depend on where the errors fall.)"""
    if metric == "mae" or (metric in ("accuracy", "balanced_accuracy") and not design.multi_label):
        return float(value)
    # The same design, metric and number have the same level (the four searches against a
    # published number each need it): calibrated once.
    key = (design.task, design.classes, design.y_true.tobytes(), design.y_true.shape, metric,
           float(value))
    if key not in _LEVELS:
        if len(_LEVELS) >= 64:
            _LEVELS.clear()
        _LEVELS[key] = _calibrate_level(design, metric, value)
    return _LEVELS[key]


#: Levels calibrated by _level_for, by design, metric and number.
_LEVELS: dict[tuple, float] = {}


def _calibrate_level(design: Design, metric: str, value: float) -> float:
    # A model parameter, not a Monte Carlo draw: calibrated on fixed draws, whatever `seed`.
    batch = _Draws.new(design, _CALIBRATION_SIMS, _CALIBRATION_SEED, metric=metric,
                       one_system=True).first()
    ones = np.ones((1, design.n))

    def mean(p: float) -> float:
        return float(_one_system(design, metric, batch, p)(ones).mean())

    return _bisect(lambda p: mean(p) >= value, 1.0, steps=30)


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
    """The simulation's own options; ``alpha`` refused below ``1 / (2 (1 + n_boot))``, the
    smallest p-value the paired permutation test's mid-p can give with ``n_boot`` swap
    patterns: at such an alpha no simulated study could reject (the one-sample bootstrap's
    own floor, twice that, is checked where it runs: :func:`_check_one_sample`)."""
    if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real) or not 0 < float(alpha) < 1:
        raise InputError(f"`alpha` must be strictly between 0 and 1; got {alpha!r}")
    for name, value in (("n_sims", n_sims), ("n_boot", n_boot)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise InputError(f"`{name}` must be a whole number >= 1; got {value!r}")
    _check_attainable(float(alpha), int(n_boot), share=0.5,
                      test=f"the paired permutation test with {n_boot:,} swap patterns, its mid-p")


def _check_one_sample(*, alpha: float, n_boot: int) -> None:
    """Against a number the test is a one-sample bootstrap, whose smallest p-value with
    ``n_boot`` resamples is ``1 / (1 + n_boot)``: refuse an ``alpha`` below it."""
    _check_attainable(alpha, n_boot, share=1.0,
                      test=f"the one-sample bootstrap test against a number with {n_boot:,} resamples")


def _check_attainable(alpha: float, n_boot: int, *, share: float, test: str) -> None:
    """Refuse ``alpha`` below ``share / (1 + n_boot)``, the smallest p-value ``test`` gives."""
    smallest = share / (1 + int(n_boot))
    if float(alpha) < smallest:
        shown = "1/(2 (1 + {n:,}))" if share == 0.5 else "1/(1 + {n:,})"
        raise InputError(
            f"`alpha` {alpha:g} is below the smallest p-value {test} can give, "
            f"{shown.format(n=n_boot)} = {smallest:.6f}: no simulated study could ever reject, "
            f"whatever the difference; raise `n_boot` to at least "
            f"{math.ceil(share / float(alpha)) - 1:,} or `alpha`")


def _check_icc(design: Design, icc) -> float:
    """The intra-cluster correlation of the clips' outcomes: ``None`` is the default (0 for
    independent clips, :data:`emosign._defaults.POWER_ICC` with clusters)."""
    if icc is None:
        return 0.0 if design.clusters is None else float(_defaults.POWER_ICC)
    if isinstance(icc, bool) or not isinstance(icc, numbers.Real) or not 0 <= float(icc) < 1 \
            or math.isnan(icc):
        raise InputError(f"`icc` (the intra-cluster correlation of the clips' outcomes) must be "
                         f"a number in [0, 1); got {icc!r}")
    if design.clusters is None and float(icc) > 0:
        raise InputError(f"`icc` {icc:g} needs clusters (`cluster` 'source' or 'signer'): clips "
                         f"that are their own clusters are independent")
    return float(icc) + 0.0  # -0.0 is 0 (printed "-0.000" otherwise)


def smallest_p_value(design: Design, *, n_boot: int = _defaults.POWER_N_BOOT) -> float:
    """The smallest p-value the paired permutation test of ``design`` can give: that of the
    most extreme data there are (every cluster's difference of one sign), as the test
    computes it (:func:`emosign.stats.sign_flip_test`, the same swap patterns). With ``G``
    clusters swapped whole there are ``2**G`` patterns, and swapping all of them is as
    extreme as the data: with EmoSign's 4 signers the smallest (mid-)p is ``(2 / 2) / 16``; with
    random patterns (``2**G - 1 > n_boot``) it is ``(1 / 2) / (1 + n_boot)``."""
    found = sign_flip_test(np.ones(design.n), n_perm=n_boot, seed=0, clusters=design.cluster_codes)
    assert isinstance(found, PairedTest)  # one row of terms, one test
    return float(found.p_value)


def _check_reachable(design: Design, *, alpha: float, n_boot: int) -> None:
    """Refuse clusters so few that no simulated study could reject at ``alpha``: the smallest
    attainable p of the paired permutation test over them is above it (also for the
    one-sample bootstrap, which over so few units has a handful of distinct resamples)."""
    if design.clusters is None:
        return  # 1 / (1 + n_boot): checked by _check
    smallest = smallest_p_value(design, n_boot=n_boot)
    if float(alpha) < smallest:
        g = design.n_clusters
        raise InputError(
            f"`cluster` {design.cluster!r}: not reachable: with {g} clusters swapped whole the "
            f"paired permutation test has {2**g:,} swap patterns and its smallest p-value is "
            f"{smallest:.4g}, above `alpha` {alpha:g}, so no study could ever reject, whatever "
            f"the difference (and a bootstrap over {g} units has too few distinct resamples "
            f"to stand in); use `cluster` 'source' or 'clip', or `alpha` of at least "
            f"{smallest:.4g}")


def _check_power(power) -> float:
    if isinstance(power, bool) or not isinstance(power, numbers.Real) or not 0 < float(power) < 1:
        raise InputError(f"`power` must be strictly between 0 and 1; got {power!r}")
    return float(power)


def _check_difference(design: Design, metric: str, difference) -> float:
    bound = _scale_top(design, metric)
    if isinstance(difference, bool) or not isinstance(difference, numbers.Real) \
            or not math.isfinite(difference) or not -bound <= float(difference) <= bound:
        raise InputError(f"`difference` must be a number in [-{bound:g}, {bound:g}] "
                         f"({'scale steps' if metric == 'mae' else 'a fraction'}); got {difference!r}")
    return float(difference)


#: What the clusters are, as the output names them.
_UNITS = {"source": "source videos", "signer": "signers"}


def _test_name(one_sample: bool, design: Design | None = None) -> str:
    """What the simulated studies are tested with."""
    clusters = design is not None and design.clusters is not None
    if clusters:
        assert design is not None
        units = f"whole {_UNITS.get(design.cluster, 'clusters')} ({design.n_clusters})"
        if one_sample:
            return (f"two-sided one-sample cluster bootstrap test (resampling {units}) against "
                    f"a published number taken as exact")
        compare = (f", as emosign compare --cluster {design.cluster}"
                   if design.cluster in _UNITS else "")
        return (f"two-sided paired permutation (swap) test swapping {units}{compare} "
                f"(emosign.stats.permutation_test)")
    if one_sample:
        return "two-sided one-sample bootstrap test against a published number taken as exact"
    return ("two-sided paired permutation (swap) test over clips, emosign compare's default "
            "(emosign.stats.permutation_test)")


def _cluster_assumptions(design: Design, icc: float) -> dict:
    """What the simulation assumed about clusters: how many, and how dependent within."""
    found: dict[str, Any] = {"cluster": design.cluster, "n_clusters": design.n_clusters}
    if design.clusters is None:
        found["dependence"] = "clips are independent (each its own cluster)"
        return found
    m0 = design.mean_cluster_size
    found.update(
        icc=icc,
        icc_means=("intra-cluster correlation of the clips' outcomes: the correlation between "
                   "two clips of one cluster of either system's correctness and of their "
                   "difference (MAE: absolute errors); the paired test's variance grows by "
                   "the design effect"),
        dependence=("each clip takes its cluster's draws (its right/wrong cell, wrong answers, "
                    "errors) instead of its own with chance sqrt(icc), so every clip keeps the "
                    "model's chances and two clips of a cluster correlate icc"),
        mean_cluster_size=m0,
        mean_cluster_size_means="sum of squared cluster sizes over clips, m0",
        design_effect=1 + (m0 - 1) * icc,
        design_effect_means="1 + (m0 - 1) icc: the variance of a sum over clips relative to "
                            "independent clips (Kish 1965)",
    )
    return found


def _se(p: float, n: int) -> float:
    return math.sqrt(max(p * (1 - p), 0.0) / n)


def _assumptions(design, metric, level, agreement, against, alpha, power, n_sims, n_boot, seed,
                 spread=0.8, *, conservative: bool = False) -> dict:
    family = _family(design, metric)
    found = {
        "task": design.task,
        "metric": metric,
        "n_clips": design.n,
        ("emotion_supports" if family == "presence" else "class_supports"): design.supports,
        "test": _test_name(against is not None and not conservative),
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
        if conservative:
            found["published_system"] = (
                "simulated on the same clips at the published number, erring independently of "
                "the system tested (its per-clip answers are not published): the number is "
                "taken as an estimate, not as exact")
        found["null_level"] = level
        found["null_level_means"] = ("the MAE of the simulated system under the null hypothesis"
                                     if family == "mae" else
                                     "the chance of being right at which a simulated system "
                                     "scores the published number on average")
    return found




def format_power(result: dict) -> str:
    """A :func:`power_report` result as text, differences in points (percent of the metric;
    MAE in scale steps). A difference no simulated or analytic test reaches is printed as
    "not reachable", with the best power found, never as a number."""
    name = result["short_name"]
    a = result["assumptions"]
    mae = result["metric"] in NOT_PERCENT

    def amount(x: float) -> str:
        return f"{x:.3f} scale steps" if mae else f"{100 * x:.1f} points"

    def mde_text(fields: dict, where: str = "") -> str:
        if not fields.get("reachable", fields.get("mde") is not None):
            if fields.get("power") is None:
                return f"not simulated ({fields.get('note', '').replace('`', '')})"
            best = fields.get("best_difference")
            at = f" (at {amount(best)}, the largest difference the model allows)" if best else ""
            return f"not reachable: best power {100 * fields['power']:.1f}%{at}"
        text = f"{amount(fields['mde'])}{where}"
        if fields.get("power_se"):
            se = f", MDE +/- {amount(fields['mde_se'])}" if fields.get("mde_se") else ""
            text += (f" (simulated power there {100 * fields['power']:.1f}% "
                     f"+/- {100 * fields['power_se']:.1f}{se})")
        return text

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
                     f"or both wrong) on {100 * a['agreement']:.1f}% of clips, "
                     f"recall profile {a.get('profile', 'flat')}")
    if a.get("cluster", "clip") != "clip":
        units = _UNITS.get(a["cluster"], "clusters")
        source = a.get("icc_source", "given")
        source = ("the default; docs/power.md says how to choose it"
                  if source.startswith("the default") else
                  "estimated from the predictions" if source.startswith("estimated") else source)
        lines.append(f"clusters: {a['n_clusters']} {units}, swapped (resampled) whole; two clips "
                     f"of one correlate {a['icc']:.3f} (icc, {source}), a design effect of "
                     f"{a['design_effect']:.2f} at the clips' mean cluster size "
                     f"{a['mean_cluster_size']:.1f}")
    draws = "swap patterns" if "permutation" in a["test"] else "resamples"
    lines.append(f"{a['test']}, alpha {a['alpha']}, power {a['power']}, "
                 f"{a['n_simulations']:,} simulations x {a['n_boot_per_test']:,} {draws}, seed {a['seed']}")
    lines.append("")
    where = f" of {name}" + (" above it" if against else "")
    lines.append(f"minimum detectable difference: {mde_text(result, where)}")
    if "mde_below_detail" in result:
        lines.append(f"  below it: {mde_text(result['mde_below_detail'])}")
    conservative = result.get("conservative")
    if conservative:
        lines.append("  taking the number as an estimate from the same clips (conservative): "
                     f"above {mde_text(conservative['above'])}; below {mde_text(conservative['below'])}")
    if "analytic" in result:
        lines.append(f"  {result['analytic']['method']}: {mde_text(result['analytic'])}")
    for profile in result.get("recall_profiles") or ():
        if profile["profile"] != "flat":
            lines.append(f"  recall profile {profile['profile']}: {mde_text(profile)}")
    analyses = result.get("design_analysis") or ()
    if analyses:
        lines += ["", "design analysis (Gelman & Carlin 2014): if the true difference were ..."]
        for d in analyses:
            if d["type_s"] is None:
                lines.append(f"  {amount(d['difference'])}: power {100 * d['power']:.1f}%; "
                             f"Type S and M undefined ({d['why']})")
                continue
            lines.append(f"  {amount(d['difference'])}: power {100 * d['power']:.1f}%, a significant "
                         f"result has the wrong sign {100 * d['type_s']:.1f}% of the time (Type S) "
                         f"and overstates the difference {d['type_m']:.2f}x on average (Type M)")
    observed = result.get("observed")
    if observed:
        difference = (f"{observed['difference']:+.3f} scale steps [{observed['low']:.3f}, "
                      f"{observed['high']:.3f}]" if mae else
                      f"{100 * observed['difference']:+.2f} points [{100 * observed['low']:.1f}, "
                      f"{100 * observed['high']:.1f}]")
        lines += ["", f"observed difference: {difference}, "
                      f"p = {observed['p_value']:.4f} (two-sided {observed['test']}, "
                      f"{observed['n_boot']:,} {'resamples' if against else 'swap patterns'})"]
        if "level" in observed:
            lines.append("the MDE and the design analysis above are at the level and agreement "
                         "read off the two systems")
        lines += [f"note: {n}" for n in observed.get("notes", [])]
    return "\n".join(lines)
