"""A seeded simulation check of every power and MDE figure emosign prints, in one run.

    python benchmarks/sim_power_check.py --labels-file path/to/emosign_dataset.csv

For each task, metric and per-class recall profile of the statistics page's table
(``docs/statistics.md``, "Power"), and against a published number (exact and conservative):

1. the MDE as ``emosign power`` finds it (``minimum_detectable_difference``, seed 0,
   2,000 simulated pairs, 1,000 swap patterns or resamples each);
2. a fresh check: ``--check-sims`` new pairs at the MDE's gap, from another seed (new draws
   and new swap patterns), tested the same way; their rejection rate must be the asked power
   (80%) within Monte Carlo error;
3. for accuracy and wAcc, an independent check that shares no code with emosign.power: pairs
   drawn here from the model's definition (cells both right / A only / B only / both wrong,
   a wrong answer another class in proportion to the supports), each tested with
   ``emosign.stats.sign_flip_test``, the permutation test ``emosign compare`` runs, on the
   per-clip terms of the metric written out here.

Every rate is printed with its Monte Carlo standard error, and ``ok`` when it is within
3 standard errors (the search's and the check's, combined) of the search's power; the
markdown table at the end is the one on the statistics page.

4. ``--cluster source`` (``emosign power --cluster source``): accuracy and wAcc with the 22
   source videos swapped whole, clips of a video independent (icc 0) and correlated at the
   default icc, each MDE checked as in 1-3; the independent check draws the dependent clips
   here from the model's definition (a clip takes its video's uniform with chance
   sqrt(icc)) and tests them with ``sign_flip_test(clusters=...)``. Its markdown table is the
   one on docs/power.md.
"""

from __future__ import annotations

import argparse
import math
import os
import time

import numpy as np

FLAT_AND_RARE = ("flat", "misses_rarest")


def independent_rate(design, metric: str, level: float, agreement: float, gap: float,
                     profile: str, n_sims: int, n_perm: int, seed: int) -> float:
    """Rejection rate of pairs drawn here, tested with stats.sign_flip_test."""
    from emosign.stats import sign_flip_test

    rng = np.random.default_rng(seed)
    y = design.y_true
    k = len(design.classes)
    supports = np.bincount(y, minlength=k)
    active = np.ones(k, dtype=bool)
    if profile == "misses_rarest":
        present = supports > 0
        active = ~(present & (supports == supports[present].min()))
    class_level = np.where(active, level * np.count_nonzero(supports) / np.count_nonzero(active & (supports > 0)), 0.0)
    rejected = 0
    for _ in range(n_sims):
        p, g = class_level[y], np.where(active[y], gap, 0.0)
        d = np.where(active[y], 1 - agreement, 0.0)
        both, a_only, b_only = p - d / 2, (d + g) / 2, (d - g) / 2
        u = rng.random(y.size)
        right_a = u < both + a_only
        right_b = (u < both) | ((u >= both + a_only) & (u < both + a_only + b_only))
        if metric == "accuracy":
            terms = (right_a.astype(float) - right_b) / y.size
        else:  # wAcc: (c_a - c_b) / (K n_class) per clip
            terms = (right_a.astype(float) - right_b) / (np.count_nonzero(supports) * supports[y])
        test = sign_flip_test(terms, n_perm=n_perm, seed=int(rng.integers(1 << 31)))
        rejected += test.p_value <= 0.05
    return rejected / n_sims


def independent_cluster_rate(design, metric: str, level: float, agreement: float, gap: float,
                             icc: float, n_sims: int, n_perm: int, seed: int) -> float:
    """Rejection rate of dependent pairs drawn here (a clip takes its cluster's uniform with
    chance sqrt(icc)), tested with stats.sign_flip_test swapping whole clusters."""
    from emosign.stats import sign_flip_test

    rng = np.random.default_rng(seed)
    y = design.y_true
    codes = np.unique(design.clusters, return_inverse=True)[1].reshape(-1)
    supports = np.bincount(y, minlength=len(design.classes))
    d = 1 - agreement
    both, a_only, b_only = level - d / 2, (d + gap) / 2, (d - gap) / 2
    own = rng.random((n_sims, y.size))
    whole = rng.random((n_sims, codes.max() + 1))[:, codes]
    u = np.where(rng.random((n_sims, y.size)) < math.sqrt(icc), whole, own)
    right_a = u < both + a_only
    right_b = (u < both) | ((u >= both + a_only) & (u < both + a_only + b_only))
    weight = (np.full(y.size, 1 / y.size) if metric == "accuracy" else
              1 / (np.count_nonzero(supports) * supports[y]))
    tests = sign_flip_test((right_a.astype(float) - right_b) * weight, n_perm=n_perm,
                           seed=int(rng.integers(1 << 31)), clusters=codes)
    return float(np.mean([t.p_value <= 0.05 for t in tests]))


def cluster_checks(args, labels) -> bool:
    """Section 4: MDEs with whole source videos swapped, checked as the others are."""
    from emosign import _defaults
    from emosign.power import design_for_task, minimum_detectable_difference, simulate_power

    print(f"\n4. --cluster source: {'task':<15}{'metric':<18}{'icc':>5}{'MDE':>8}{'power':>8}"
          f"{'fresh check':>15}{'independent':>15}{'ok':>5}{'CPU s':>7}")
    all_ok, table = True, {}
    for task in ("sentiment_3", "sentiment_7", "emotion_single"):
        clip = design_for_task(task, labels_file=labels)
        design = design_for_task(task, labels_file=labels, cluster="source")
        for metric in ("accuracy", "balanced_accuracy"):
            model = dict(metric=metric, level=0.5, agreement=0.7)
            unclustered = minimum_detectable_difference(clip, n_sims=args.sims, n_boot=args.n_boot,
                                                        seed=0, **model)
            cells = [f"{100 * unclustered.mde:.1f}"]
            for icc in (0.0, _defaults.POWER_ICC):
                cpu = time.process_time()
                found = minimum_detectable_difference(design, icc=icc, n_sims=args.sims,
                                                      n_boot=args.n_boot, seed=0, **model)
                if found.mde is None:
                    cells.append("not reachable")
                    continue
                fresh = simulate_power(design, gap=found.gap, icc=icc, n_sims=args.check_sims,
                                       n_boot=args.n_boot, seed=1, **model).power
                fresh_se = math.sqrt(fresh * (1 - fresh) / args.check_sims)
                rate = independent_cluster_rate(design, metric, 0.5, 0.7, found.gap, icc,
                                                args.independent_sims, args.n_boot, seed=2)
                rate_se = math.sqrt(0.8 * 0.2 / args.independent_sims)
                ok = (abs(fresh - found.power) <= 3 * math.hypot(fresh_se, found.power_se)
                      and abs(rate - found.power) <= 3 * math.hypot(rate_se, found.power_se))
                all_ok &= ok
                print(f"{'':<22}{task:<15}{metric:<18}{icc:>5.2f}{100 * found.mde:>8.2f}"
                      f"{found.power:>8.3f}{f'{fresh:.3f}+/-{fresh_se:.3f}':>15}"
                      f"{f'{rate:.3f}+/-{rate_se:.3f}':>15}{'ok' if ok else 'NO':>5}"
                      f"{time.process_time() - cpu:>7.2f}")
                se = f" +/- {100 * found.mde_se:.1f}" if found.mde_se else ""
                cells.append(f"{100 * found.mde:.1f}{se}")
            table[(task, metric)] = cells
    print(f"\n| task | metric | clips | source videos, icc 0 | source videos, icc "
          f"{_defaults.POWER_ICC} (default) |")
    print("| --- | --- | --- | --- | --- |")
    for (task, metric), cells in table.items():
        print(f"| {task} | {metric} | {' | '.join(cells)} |")
    return all_ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels-file", default=os.environ.get("EMOSIGN_LABELS"))
    parser.add_argument("--sims", type=int, default=2_000)
    parser.add_argument("--n-boot", type=int, default=1_000)
    parser.add_argument("--check-sims", type=int, default=4_000)
    parser.add_argument("--independent-sims", type=int, default=600)
    parser.add_argument("--only-clusters", action="store_true",
                        help="run section 4 (--cluster source) alone")
    args = parser.parse_args()
    if not args.labels_file:
        parser.error("give --labels-file or set EMOSIGN_LABELS")

    from emosign.labels import load_labels
    from emosign.paper import reported_rows
    from emosign.power import design_for_task, minimum_detectable_difference, simulate_power

    labels = load_labels(args.labels_file)
    if args.only_clusters:
        print("all checks within 3 Monte Carlo standard errors:",
              "yes" if cluster_checks(args, labels) else "NO")
        return
    options = dict(n_sims=args.sims, n_boot=args.n_boot, seed=0)
    cases = []
    for task in ("sentiment_3", "sentiment_7", "emotion_single"):
        for metric in ("balanced_accuracy", "weighted_f1", "accuracy"):
            for profile in FLAT_AND_RARE:
                cases.append((task, metric, profile, dict(level=0.5, agreement=0.7), None))
    cases.append(("sentiment_7", "mae", "flat", dict(level=1.0, agreement=0.7), None))
    cases.append(("emotion_presence", "micro_f1", "flat", dict(level=0.5, agreement=0.7), None))
    cases.append(("emotion_presence", "macro_f1", "flat", dict(level=0.5, agreement=0.7), None))
    for task in ("sentiment_3", "sentiment_7", "emotion_single"):
        for profile in FLAT_AND_RARE:  # the second table: systems that agree more
            cases.append((task, "balanced_accuracy", profile, dict(level=0.5, agreement=0.85), None))
        gpt = {r["system"]: r for r in reported_rows(task)}["GPT-4o (video)"]
        for metric in ("balanced_accuracy", "weighted_f1"):
            for conservative in (False, True):
                cases.append((task, metric, "flat",
                              dict(against=gpt["metrics"][metric], conservative=conservative),
                              "GPT-4o (video)"))

    print(f"{'task':<17}{'metric':<18}{'profile / against':<28}{'MDE':>8}{'power':>8}"
          f"{'fresh check':>15}{'independent':>15}{'ok':>5}{'CPU s':>7}")
    table = []
    designs = {}
    all_ok = True
    for task, metric, profile, model, against in cases:
        design = designs.setdefault(task, design_for_task(task, labels_file=labels))
        cpu = time.process_time()
        kwargs = {**model, **({"profile": profile} if against is None else {})}
        found = minimum_detectable_difference(design, metric=metric, **kwargs, **options)
        what = (profile + (f", agreement {model['agreement']}" if model.get("agreement", 0.7) != 0.7 else "")
                if against is None else
                f"above {against}" + (" (cons.)" if model.get("conservative") else ""))
        if found.mde is None:
            print(f"{task:<17}{metric:<18}{what:<28}{'n/r':>8}{found.power:>8.3f}")
            table.append((task, metric, what, None, found.power))
            continue
        kwargs.pop("conservative", None)
        if model.get("conservative"):
            # The conservative model: checked by the same search's own engine on fresh draws.
            from emosign.power import _Model

            checked = _Model.make(design, metric, level=None, agreement=0.7, spread=0.8,
                                  against=model["against"], profile="flat", seed=1,
                                  conservative=True)
            run = checked.run(checked.draws(args.check_sims, 1), found.gap, alpha=0.05,
                              n_boot=args.n_boot, seed=1)
            fresh = run.power
        else:
            fresh = simulate_power(design, metric=metric, gap=found.gap, n_sims=args.check_sims,
                                   n_boot=args.n_boot, seed=1, **kwargs).power
        fresh_se = math.sqrt(fresh * (1 - fresh) / args.check_sims)
        independent = ""
        ok = abs(fresh - found.power) <= 3 * math.hypot(fresh_se, found.power_se)
        if metric in ("accuracy", "balanced_accuracy") and against is None:
            rate = independent_rate(design, metric, 0.5, model["agreement"], found.gap, profile,
                                    args.independent_sims, args.n_boot, seed=2)
            rate_se = math.sqrt(0.8 * 0.2 / args.independent_sims)
            independent = f"{rate:.3f}+/-{rate_se:.3f}"
            ok = ok and abs(rate - found.power) <= 3 * math.hypot(rate_se, found.power_se)
        all_ok &= ok
        unit = 1 if metric == "mae" else 100
        print(f"{task:<17}{metric:<18}{what:<28}{unit * found.mde:>8.2f}{found.power:>8.3f}"
              f"{f'{fresh:.3f}+/-{fresh_se:.3f}':>15}{independent:>15}{'ok' if ok else 'NO':>5}"
              f"{time.process_time() - cpu:>7.2f}")
        table.append((task, metric, what, found, fresh))

    print("\nMarkdown (points of the metric; MAE in scale steps; +/- the MDE's Monte Carlo error):\n")
    print("| task | metric | flat | misses the rarest class |")
    print("| --- | --- | --- | --- |")
    rows: dict[tuple[str, str], dict[str, str]] = {}
    for task, metric, what, found, _ in table:
        if found is None or isinstance(found, float):
            cell = "not reachable"
        else:
            unit = 1 if metric == "mae" else 100
            se = f" +/- {unit * found.mde_se:.1f}" if found.mde_se and metric != "mae" else ""
            cell = f"{unit * found.mde:.3f}" if metric == "mae" else f"{unit * found.mde:.1f}{se}"
        rows.setdefault((task, metric), {})[what] = cell
    for (task, metric), cells in rows.items():
        if "flat" in cells:
            print(f"| {task} | {metric} | {cells['flat']} | {cells.get('misses_rarest', 'n/a')} |")
    print("\n| task | wAcc, agreement 0.85: flat / misses rarest | above GPT-4o (video), exact / "
          "conservative: wAcc | wF1 |")
    print("| --- | --- | --- | --- |")
    for task in ("sentiment_3", "sentiment_7", "emotion_single"):
        wacc = rows[(task, "balanced_accuracy")]
        wf1 = rows[(task, "weighted_f1")]
        above = "above GPT-4o (video)"
        print(f"| {task} | {wacc['flat, agreement 0.85']} / {wacc['misses_rarest, agreement 0.85']} | "
              f"{wacc[above]} / {wacc[above + ' (cons.)']} | {wf1[above]} / {wf1[above + ' (cons.)']} |")
    all_ok &= cluster_checks(args, labels)
    print("\nall checks within 3 Monte Carlo standard errors:", "yes" if all_ok else "NO")


if __name__ == "__main__":
    main()
