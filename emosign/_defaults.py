"""The defaults that the library's functions and the ``emosign`` command share, written once.

The functions take them as their keyword defaults and the command line as its option defaults
(and prints them in ``--help``), so the two cannot drift apart. This module imports nothing, so
that building the command's parser costs no import of numpy, pandas or scipy. The MLLM
harness's client and frame settings have their own home, :mod:`emosign.harness.config`.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "AGREEMENT",
    "ALPHA",
    "BENCHMARK_TASKS",
    "CI",
    "CLUSTER",
    "KFOLD_REPEATS",
    "MAX_DRAWS",
    "MCNEMAR_P_VALUE",
    "N_BOOT",
    "N_PERM",
    "ON_INVALID",
    "POWER",
    "POWER_ICC",
    "POWER_METRIC",
    "POWER_N_BOOT",
    "POWER_N_SIMS",
    "P_VALUE",
    "SEED",
    "SPREAD",
    "TARGET",
    "TEST",
    "TEXT_WIDTH",
]

# --- scoring: evaluate, compare, benchmark, mllm score, lmms-eval-score -----------------------

#: The most bootstrap resamples or swap patterns the command line takes: a p-value's Monte Carlo
#: error at p = 0.05 is 0.0002 there, and a mistyped 10**11 would otherwise run for days.
MAX_DRAWS: Final = 1_000_000
#: Coverage of every bootstrap interval.
CI: Final = 0.95
#: Bootstrap resamples of the clips: the percentile interval's Monte Carlo error at 10,000 is
#: about 0.2 points on EmoSign's 200 clips.
N_BOOT: Final = 10_000
#: Seed of every resampling, so that a result is the same on every run.
SEED: Final = 0
#: A missing or unreadable prediction stops the scoring ("raise") unless asked to count it wrong.
ON_INVALID: Final = "raise"
#: The reference scored against: the released majority labels.
TARGET: Final = "majority"
#: compare's test: the paired permutation (swap) test, of the right size for every metric.
TEST: Final = "permutation"
#: The unit compare swaps or resamples whole.
CLUSTER: Final = "clip"
#: Random swap patterns of the permutation test.
N_PERM: Final = 9_999
#: The permutation test's p-value: the mid-p, ties with the observed difference counting one
#: half, whose size is alpha within Monte Carlo error on a lattice-valued metric such as
#: accuracy ("conservative" counts them whole: size at most alpha, .039-.041 on EmoSign).
P_VALUE: Final = "mid"
#: McNemar's test stays the exact conditional test unless the mid-p is asked for.
MCNEMAR_P_VALUE: Final = "conservative"

# --- power ------------------------------------------------------------------------------------

#: The metric whose detectable difference is asked for: the paper's wAcc.
POWER_METRIC: Final = "balanced_accuracy"
#: The chance of detecting the difference.
POWER: Final = 0.8
#: Two-sided significance level.
ALPHA: Final = 0.05
#: Share of clips two systems both get right or both get wrong (MAE: their errors' correlation).
AGREEMENT: Final = 0.7
#: MAE only: standard deviation over mean of a system's per-clip absolute errors.
SPREAD: Final = 0.8
#: Simulated system pairs per step of the search.
POWER_N_SIMS: Final = 2_000
#: Bootstrap resamples per simulated test.
POWER_N_BOOT: Final = 1_000
#: With --cluster source or signer, when no two systems' predictions say otherwise: the
#: intra-cluster correlation of the clips' outcomes (docs/power.md says why 0.1 and how to
#: choose another; with --a/--b it is estimated from the two systems).
POWER_ICC: Final = 0.1

# --- benchmark --------------------------------------------------------------------------------

#: The tasks of the paper's Tables 3 and 4.
BENCHMARK_TASKS: Final = ("sentiment_3", "sentiment_7", "emotion_single")
#: Repeats of the stratified 5-fold view (about a third of the benchmark's time).
KFOLD_REPEATS: Final = 3

# --- printed output ---------------------------------------------------------------------------

#: The widest line a command prints (tables, notes): a terminal of 100 columns shows every line
#: whole; what does not fit is in the command's --format json or its written files.
TEXT_WIDTH: Final = 100
