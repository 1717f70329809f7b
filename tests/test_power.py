"""Tests for ``emosign.power`` and ``emosign power``: the simulation against McNemar's analytic
power, an independent seeded study at the MDE (tested with emosign.stats' permutation test, as
compare is), monotonicity, the batched and swapped metrics against emosign.metrics, honest
answers (no bound as an MDE, alpha below the smallest p refused, a design analysis instead of
observed power, recall profiles, the conservative answer against a number), and the command."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import SYNTHETIC_ROWS

from emosign.cli import main
from emosign.errors import InputError
from emosign.metrics import (
    classification_metrics,
    multilabel_metrics,
    sentiment_metrics,
)
from emosign.power import (
    Design,
    _answers,
    _Draws,
    _pair,
    _statistic,
    _swap_inputs,
    _systems,
    design_analysis,
    design_for_task,
    estimate_icc,
    mae_difference_sd,
    mcnemar_mde,
    mcnemar_power,
    minimum_detectable_difference,
    paired_t_mde,
    paired_t_power,
    power_for_difference,
    retrodesign,
    simulate_power,
    smallest_p_value,
)
from emosign.stats import sign_flip_test

BALANCED = Design.from_supports([100, 100])  # 200 clips, two classes
SKEWED = Design.from_supports([60, 6, 40, 14])  # a rare class, as EmoSign has
# The 7-point scale with sentiment_7's shape of supports (few neutral clips).
SCALE = Design.from_supports([29, 49, 43, 3, 12, 26, 38], ordinal=True)
# 200 clips x 6 emotions present in 10% to 40% of clips, some clips with none.
PRESENCE = Design.from_presence(np.random.default_rng(11).random((200, 6)) < np.linspace(0.1, 0.4, 6))


# --- the simulation against the analytic answer ----------------------------------------------


@pytest.mark.parametrize("gap,agreement", [(0.06, 0.8), (0.1, 0.7), (0.12, 0.6)])
def test_simulated_power_of_accuracy_matches_mcnemar(gap, agreement):
    n_sims = 2_000
    simulated = simulate_power(BALANCED, metric="accuracy", gap=gap, level=0.5,
                               agreement=agreement, n_sims=n_sims, n_boot=500, seed=1)
    analytic = mcnemar_power(200, discordance=1 - agreement, difference=gap)
    assert 0.2 < analytic < 0.95  # a case where power is informative, not saturated
    # Monte Carlo error (3 SE) plus the normal approximation's own error on 200 clips.
    assert abs(simulated.power - analytic) <= 3 * simulated.power_se + 0.03
    assert simulated.difference == pytest.approx(gap, abs=0.005)


def test_simulated_mde_of_accuracy_matches_mcnemar():
    found = minimum_detectable_difference(BALANCED, metric="accuracy", level=0.6, agreement=0.75,
                                          n_sims=2_000, n_boot=500, seed=2)
    analytic = mcnemar_mde(200, discordance=0.25).mde
    assert found.mde == pytest.approx(analytic, abs=0.012)
    assert found.power >= 0.8 - 3 * found.power_se
    assert mcnemar_power(200, discordance=0.25, difference=analytic) == pytest.approx(0.8, abs=1e-6)


def test_no_difference_is_rejected_at_about_alpha():
    # The size of the test: at gap 0 the rejection rate is the false-positive rate.
    two = simulate_power(SKEWED, metric="accuracy", gap=0.0, level=0.5, agreement=0.7,
                         n_sims=2_000, n_boot=500, seed=3)
    one = simulate_power(SKEWED, metric="accuracy", gap=0.0, against=0.5, n_sims=2_000,
                         n_boot=500, seed=3)
    # Against a published wF1: the null is a system that scores the number on average,
    # whatever chance of being right that takes.
    f1 = simulate_power(SKEWED, metric="weighted_f1", gap=0.0, against=0.3, n_sims=2_000,
                        n_boot=500, seed=3)
    assert f1.difference == pytest.approx(0.0, abs=0.01)
    for estimate in (two, one, f1):
        assert abs(estimate.power - 0.05) <= 3 * estimate.power_se + 0.02


# --- a seeded simulation study at the MDE, independent of the search --------------------------


def test_a_difference_of_exactly_the_mde_is_detected_at_the_stated_rate():
    found = minimum_detectable_difference(SKEWED, metric="balanced_accuracy", level=0.5,
                                          agreement=0.7, n_sims=1_000, n_boot=400, seed=4)
    assert found.mde is not None
    # Fresh pairs at the found gap, from another seed and drawn here cell by cell; each
    # tested as `emosign compare` tests: emosign.metrics on the paired bootstrap's weights.
    rng = np.random.default_rng(2024)
    y = SKEWED.y_true
    k = len(SKEWED.classes)
    d = 0.3
    cells = [0.5 - d / 2, (d + found.gap) / 2, (d - found.gap) / 2]
    cells.append(1 - sum(cells))
    detected = []
    for _ in range(300):
        cell = rng.choice(4, size=y.size, p=cells)
        right_a, right_b = np.isin(cell, (0, 1)), np.isin(cell, (0, 2))
        wrong = (y + rng.integers(1, k, size=(2, y.size))) % k  # another class, uniformly
        pred_a = np.where(right_a, y, wrong[0])
        pred_b = np.where(right_b, y, wrong[1])

        # wAcc's difference is a sum of per-clip terms (c_a - c_b) / (K n_class), each
        # flipping its sign when the clip's answers are swapped: compare's permutation test.
        supports = np.bincount(y, minlength=k)
        terms = (right_a.astype(float) - right_b) / (k * supports[y])
        assert terms.sum() == pytest.approx(
            classification_metrics(y, pred_a, n_classes=k)["balanced_accuracy"]
            - classification_metrics(y, pred_b, n_classes=k)["balanced_accuracy"])
        test = sign_flip_test(terms, n_perm=400, seed=int(rng.integers(1 << 30)))
        detected.append(test.p_value <= 0.05)
    rate = np.mean(detected)
    se = np.sqrt(0.8 * 0.2 / len(detected))
    # 3 binomial SEs, and the search's own Monte Carlo error at the MDE.
    assert abs(rate - found.power) <= 3 * se + 3 * found.power_se


# --- monotone in n, agreement and alpha --------------------------------------------------------


def _mde(design, **kwargs):
    options = dict(metric="accuracy", level=0.5, agreement=0.7, n_sims=600, n_boot=300, seed=5)
    return minimum_detectable_difference(design, **{**options, **kwargs}).mde


def test_mde_shrinks_with_more_clips():
    found = [_mde(Design.from_supports([n // 2, n // 2])) for n in (100, 200, 400)]
    assert found[0] > found[1] > found[2]


def test_mde_shrinks_as_systems_agree_more():
    found = [_mde(SKEWED, agreement=a) for a in (0.6, 0.75, 0.9)]
    assert found[0] > found[1] > found[2]


def test_mde_shrinks_as_alpha_grows():
    found = [_mde(SKEWED, alpha=a) for a in (0.01, 0.05, 0.2)]
    assert found[0] > found[1] > found[2]


def test_power_grows_with_the_gap_and_nothing_fits_is_said():
    low = simulate_power(SKEWED, gap=0.04, n_sims=500, n_boot=300)
    high = simulate_power(SKEWED, gap=0.2, n_sims=500, n_boot=300)
    assert low.power < high.power
    # Near-identical systems cannot differ by much: no MDE, and the reason.
    none = minimum_detectable_difference(Design.from_supports([5, 5]), agreement=0.95,
                                         n_sims=300, n_boot=200)
    assert none.mde is None and "largest difference" in none.note


# --- the batched metrics are emosign.metrics' --------------------------------------------------


@pytest.mark.parametrize("metric", ["accuracy", "balanced_accuracy", "weighted_f1", "macro_f1"])
def test_batched_statistic_equals_the_metric_functions(metric):
    cell, wrong_a, _ = _Draws.new(SKEWED, 7, seed=6).first()
    correct_a, _ = _pair(0.5, 0.1, 0.7, cell)
    pred = _answers(SKEWED, correct_a, wrong_a)
    weights = np.random.default_rng(7).integers(0, 3, size=(5, SKEWED.n))
    weights[0, SKEWED.y_true == 1] = 0  # a resample without the rare class
    batched = _statistic(SKEWED, metric, pred)(weights)
    assert batched.shape == (5, 7)
    for s in range(7):
        expected = classification_metrics(SKEWED.y_true, pred[s], n_classes=4, sample_weight=weights)[metric]
        np.testing.assert_allclose(batched[:, s], expected, atol=1e-12)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="agreement"):
        simulate_power(SKEWED, gap=0.0, level=0.2, agreement=0.3)  # at most 40% right: >= 60% agree
    with pytest.raises(ValueError, match="gap"):
        simulate_power(SKEWED, gap=0.4, agreement=0.7)
    with pytest.raises(ValueError, match="metric"):
        simulate_power(SKEWED, metric="qwk", gap=0.1)
    with pytest.raises(ValueError, match="rating scale"):
        simulate_power(SKEWED, metric="mae", gap=0.1)  # its classes are not ordered steps
    with pytest.raises(ValueError, match="multi-label"):
        simulate_power(SKEWED, metric="micro_f1", gap=0.1)
    with pytest.raises(ValueError, match="n_sims"):
        simulate_power(SKEWED, gap=0.1, n_sims=0)


# --- the command -------------------------------------------------------------------------------


def test_cli_json_has_the_mde_and_its_assumptions(labels_file, capsys):
    code = main(["power", "--task", "sentiment_3", "--metric", "wF1", "--format", "json",
                 "--sims", "200", "--n-boot", "200", "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "weighted_f1"
    assert result["mde"] is None or 0 < result["mde"] <= 1
    a = result["assumptions"]
    assert a["n_clips"] == len(SYNTHETIC_ROWS) and a["alpha"] == 0.05 and a["power"] == 0.8
    assert sum(a["class_supports"].values()) == len(SYNTHETIC_ROWS)


def test_cli_on_two_real_prediction_files(labels_file, tmp_path, capsys):
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text("video_name,prediction\n" + "".join(f"{n},positive\n" for n in names))
    b.write_text("video_name,prediction\n" + "".join(
        f"{n},{'negative' if i % 3 else 'positive'}\n" for i, n in enumerate(names)))
    code = main(["power", "--task", "sentiment_3", "--metric", "accuracy", "--a", str(a), "--b",
                 str(b), "--sims", "200", "--n-boot", "200", "--format", "json",
                 "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    observed = json.loads(capsys.readouterr().out)["observed"]
    compare_code = main(["compare", "--task", "sentiment_3", "--a", str(a), "--b", str(b),
                         "--labels-file", str(labels_file)])
    assert compare_code == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("accuracy"))
    # compare prints percentage points, as evaluate does; power's JSON keeps fractions.
    assert float(line.split()[1]) == pytest.approx(100 * observed["difference"], abs=0.01)
    assert "power_at_observed_difference" not in observed  # post-hoc power is gone
    assert 0 < observed["agreement"] <= 1


def test_cli_against_a_paper_row_is_one_sample(real_labels, capsys):
    code = main(["power", "--task", "sentiment_3", "--against", "GPT-4o (video)", "--sims", "200",
                 "--n-boot", "200", "--format", "json", "--labels-file", str(real_labels), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["against"]["value"] == pytest.approx(0.4072)
    assert "one-sample" in result["assumptions"]["test"]
    assert result["mde"] > 0 and result["mde_below"] > 0


@pytest.mark.parametrize("argv,message", [
    (["--b", "x.csv"], "--b needs --a"),
    (["--against", "Nobody (video)"], "neither a fraction"),
    (["--against", "1.5"], "neither a fraction"),
    (["--difference", "5"], "--difference"),
])
def test_cli_errors_are_one_line(labels_file, capsys, argv, message):
    code = main(["power", "--task", "sentiment_3", "--sims", "50", "--n-boot", "50", "--quiet",
                 "--labels-file", str(labels_file), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("emosign: error:") and message in err


def test_cli_one_system_against_a_number(labels_file, tmp_path, capsys):
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    a = tmp_path / "a.csv"
    a.write_text("video_name,prediction\n" + "".join(f"{n},positive\n" for n in names))
    code = main(["power", "--task", "sentiment_3", "--metric", "accuracy", "--a", str(a),
                 "--against", "0.25", "--sims", "200", "--n-boot", "200", "--format", "json",
                 "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    observed = result["observed"]
    assert observed["difference"] == pytest.approx(observed["a"] - 0.25)
    assert observed["low"] <= observed["difference"] <= observed["high"]
    assert "one-sample" in result["assumptions"]["test"] and result["against"]["system"] is None


# --- MAE on the rating scale: against the paired t-test ----------------------------------------


@pytest.mark.parametrize("gap,agreement,spread", [(0.1, 0.7, 0.8), (0.2, 0.3, 0.8), (0.08, 0.5, 0.5)])
def test_simulated_power_of_mae_matches_the_paired_t_test(gap, agreement, spread):
    simulated = simulate_power(SCALE, metric="mae", gap=gap, level=1.0, agreement=agreement,
                               spread=spread, n_sims=2_000, n_boot=500, seed=12)
    sd = mae_difference_sd(level=1.0, gap=gap, agreement=agreement, spread=spread)
    analytic = paired_t_power(200, difference=gap, sd=sd)
    assert 0.2 < analytic < 0.95
    # Monte Carlo error (3 SE) plus the bootstrap's and the t-test's own error on 200 clips.
    assert abs(simulated.power - analytic) <= 3 * simulated.power_se + 0.03
    assert simulated.difference == pytest.approx(gap, abs=0.01)  # A's MAE minus B's


def test_simulated_mde_of_mae_matches_the_paired_t_test():
    found = minimum_detectable_difference(SCALE, metric="mae", level=1.2, agreement=0.6,
                                          spread=0.9, n_sims=2_000, n_boot=500, seed=13)
    analytic = paired_t_mde(200, level=1.2, agreement=0.6, spread=0.9).mde
    assert found.mde == pytest.approx(analytic, rel=0.08)
    assert found.power >= 0.8 - 3 * found.power_se
    assert found.assumptions["agreement_means"].startswith("correlation")
    sd = mae_difference_sd(level=1.2, gap=analytic, agreement=0.6, spread=0.9)
    assert paired_t_power(200, difference=analytic, sd=sd) == pytest.approx(0.8, abs=1e-6)


def test_mae_errors_have_the_stated_mean_spread_and_correlation():
    batch = _Draws.new(SCALE, 500, 14, metric="mae", agreement=0.6, spread=0.7).first()
    ones = np.ones((1, SCALE.n))
    a, b = _systems(SCALE, "mae", batch, 1.0, 0.2, 0.6)
    assert a(ones).mean() == pytest.approx(1.1, abs=0.01)
    assert b(ones).mean() == pytest.approx(0.9, abs=0.01)
    shared, own_a, own_b = batch
    errors_a, errors_b = (shared + own_a).ravel(), (shared + own_b).ravel()
    assert errors_a.std() / errors_a.mean() == pytest.approx(0.7, abs=0.01)
    assert np.corrcoef(errors_a, errors_b)[0, 1] == pytest.approx(0.6, abs=0.01)


def test_mae_statistic_equals_sentiment_metrics():
    batch = _Draws.new(SCALE, 4, 15, metric="mae", agreement=0.5).first()
    errors = 1.3 * (batch[0] + batch[1])
    stat, _ = _systems(SCALE, "mae", batch, 1.3, 0.0, 0.5)
    truth = SCALE.y_true - 3
    sign = np.where(np.random.default_rng(16).random(errors.shape) < 0.5, -1, 1)
    weights = np.random.default_rng(17).integers(0, 3, size=(5, SCALE.n))
    for s in range(4):
        expected = sentiment_metrics(truth, truth + sign[s] * errors[s], sample_weight=weights)["mae"]
        np.testing.assert_allclose(stat(weights)[:, s], expected, rtol=1e-12)


def test_a_difference_of_exactly_the_mae_mde_is_detected_at_the_stated_rate():
    found = minimum_detectable_difference(SCALE, metric="mae", level=1.0, agreement=0.5,
                                          n_sims=1_000, n_boot=400, seed=18)
    # Fresh pairs from another seed, drawn here from the model's definition (Gamma errors with
    # mean level +/- gap / 2, sd 0.8 x mean, correlation 0.5 by a shared part), each tested
    # as `emosign compare` tests: sentiment_metrics' mae on the paired bootstrap's weights.
    rng = np.random.default_rng(2025)
    k = 1 / 0.8**2
    truth = SCALE.y_true - 3
    detected = []
    for _ in range(300):
        shared = rng.gamma(0.5 * k, 1 / k, SCALE.n)
        pred_a = truth + (1 + found.gap / 2) * (shared + rng.gamma(0.5 * k, 1 / k, SCALE.n))
        pred_b = truth - (1 - found.gap / 2) * (shared + rng.gamma(0.5 * k, 1 / k, SCALE.n))

        terms = (np.abs(pred_a - truth) - np.abs(pred_b - truth)) / SCALE.n  # sums to the MAE gap
        test = sign_flip_test(terms, n_perm=400, seed=int(rng.integers(1 << 30)))
        detected.append(test.p_value <= 0.05)
    rate = np.mean(detected)
    se = np.sqrt(0.8 * 0.2 / len(detected))
    assert abs(rate - found.power) <= 3 * se + 3 * found.power_se


def test_mae_mde_shrinks_with_more_clips_and_more_correlated_errors():
    def mde(design, agreement=0.5):
        return minimum_detectable_difference(design, metric="mae", level=1.0, agreement=agreement,
                                             n_sims=600, n_boot=300, seed=19).mde

    by_n = [mde(Design.from_supports([n // 7] * 7, ordinal=True)) for n in (98, 196, 392)]
    assert by_n[0] > by_n[1] > by_n[2]
    by_agreement = [mde(SCALE, a) for a in (0.2, 0.5, 0.8)]
    assert by_agreement[0] > by_agreement[1] > by_agreement[2]


# --- micro- and macro-F1 on multi-label presence ----------------------------------------------


@pytest.mark.parametrize("metric", ["micro_f1", "macro_f1"])
def test_presence_statistic_equals_multilabel_metrics(metric):
    batch = _Draws.new(PRESENCE, 6, 20, metric=metric).first()
    from emosign.power import _presence_answers

    correct_a, _ = _pair(0.6, 0.1, 0.7, batch[0])
    flags = _presence_answers(PRESENCE, correct_a, batch[1], 0.65)
    stat, _ = _systems(PRESENCE, metric, batch, 0.6, 0.1, 0.7)
    weights = np.random.default_rng(21).integers(0, 3, size=(5, PRESENCE.n))
    weights[0, PRESENCE.y_true[:, 0]] = 0  # a resample without the rarest emotion
    for s in range(6):
        expected = multilabel_metrics(PRESENCE.y_true, flags[s], sample_weight=weights)[metric]
        np.testing.assert_allclose(stat(weights)[:, s], expected, atol=1e-12)


def test_presence_systems_flag_each_emotion_as_often_as_it_is_present():
    batch = _Draws.new(PRESENCE, 500, 22, metric="micro_f1").first()
    from emosign.power import _presence_answers

    correct_a, correct_b = _pair(0.6, 0.2, 0.7, batch[0])
    flags = _presence_answers(PRESENCE, correct_a, batch[1], 0.7)
    np.testing.assert_allclose(flags.mean(axis=(0, 1)), PRESENCE.y_true.mean(axis=0), atol=0.01)
    present = np.broadcast_to(PRESENCE.y_true, correct_a.shape)
    assert correct_a[present].mean() == pytest.approx(0.7, abs=0.01)
    assert (correct_a == correct_b)[present].mean() == pytest.approx(0.7, abs=0.01)
    # Precision equals recall, so micro-F1 is near the recall.
    a, b = _systems(PRESENCE, "micro_f1", batch, 0.6, 0.2, 0.7)
    ones = np.ones((1, PRESENCE.n))
    assert a(ones).mean() == pytest.approx(0.7, abs=0.02)
    assert b(ones).mean() == pytest.approx(0.5, abs=0.02)


def test_micro_f1_mde_monotone_and_its_size_is_alpha():
    def mde(design, agreement=0.7):
        return minimum_detectable_difference(design, metric="micro_f1", level=0.5,
                                             agreement=agreement, n_sims=600, n_boot=300,
                                             seed=23).mde

    rng = np.random.default_rng(24)
    by_n = [mde(Design.from_presence(rng.random((n, 6)) < 0.3)) for n in (100, 200, 400)]
    assert by_n[0] > by_n[1] > by_n[2]
    by_agreement = [mde(PRESENCE, a) for a in (0.6, 0.75, 0.9)]
    assert by_agreement[0] > by_agreement[1] > by_agreement[2]
    for metric in ("micro_f1", "macro_f1"):
        null = simulate_power(PRESENCE, metric=metric, gap=0.0, n_sims=2_000, n_boot=500, seed=25)
        assert abs(null.power - 0.05) <= 3 * null.power_se + 0.02


def test_power_for_an_mae_or_f1_difference_grows_with_it():
    small = power_for_difference(SCALE, metric="mae", difference=0.05, n_sims=500, n_boot=300)
    large = power_for_difference(SCALE, metric="mae", difference=0.25, n_sims=500, n_boot=300)
    assert small.power < large.power and large.difference == pytest.approx(0.25, abs=0.02)
    f1 = power_for_difference(PRESENCE, metric="micro_f1", difference=0.08, n_sims=500, n_boot=300)
    assert f1.difference == pytest.approx(0.08, abs=0.01)
    with pytest.raises(ValueError, match="MAE"):
        simulate_power(SCALE, metric="mae", gap=0.0, level=4.0)  # more than half the scale
    with pytest.raises(ValueError, match="gap"):
        simulate_power(SCALE, metric="mae", gap=2.5, level=1.0)
    with pytest.raises(ValueError, match="spread"):
        simulate_power(SCALE, metric="mae", gap=0.1, spread=float("nan"))


def test_cli_mae_and_micro_f1(real_labels, capsys):
    code = main(["power", "--task", "sentiment_7", "--metric", "MAE", "--level", "1.2",
                 "--agreement", "0.5", "--sims", "300", "--n-boot", "300", "--format", "json",
                 "--labels-file", str(real_labels), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "mae" and result["assumptions"]["level"] == 1.2
    assert result["mde"] == pytest.approx(result["analytic"]["mde"], rel=0.2)
    assert result["analytic"]["reachable"] and "recall_profiles" not in result
    code = main(["power", "--task", "emotion_presence", "--metric", "microF1", "--sims", "300",
                 "--n-boot", "300", "--format", "json", "--labels-file", str(real_labels), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["metric"] == "micro_f1" and 0 < result["mde"] < 0.5
    from emosign.labels import load_labels
    from emosign.tasks import get_task

    present = get_task("emotion_presence").bind(load_labels(real_labels)).y_true
    assert list(result["assumptions"]["emotion_supports"].values()) == present.sum(axis=0).tolist()


@pytest.mark.parametrize("argv,message", [
    (["--task", "emotion_presence", "--metric", "wAcc"], "multi-label"),
    (["--task", "sentiment_3", "--metric", "mae"], "rating scale"),
    (["--task", "sentiment_7", "--metric", "mae", "--level", "3.5"], "level"),
    (["--task", "sentiment_7", "--metric", "mae", "--difference", "7"], "--difference"),
])
def test_cli_new_metric_errors_are_one_line(labels_file, capsys, argv, message):
    code = main(["power", "--sims", "50", "--n-boot", "50", "--quiet",
                 "--labels-file", str(labels_file), *argv])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("emosign: error:") and message in err and "\n" == err[-1] and err.count("\n") == 1


def test_cli_real_mae_and_micro_f1_comparisons(real_labels, tmp_path, capsys):
    from emosign.labels import load_labels
    from emosign.metrics import compare
    from emosign.tasks import get_task
    from emosign.vocab import EMOTION_NAMES

    labels = load_labels(real_labels)
    rng = np.random.default_rng(26)
    seven = get_task("sentiment_7").bind(labels)
    truth = seven.y_true - 3
    hard = rng.random(seven.n) < 0.4  # clips both systems find hard: correlated errors
    files = {}
    for name, noise in (("a", 1), ("b", 2)):
        rating = np.clip(truth + np.where(hard, rng.integers(-noise - 1, noise + 2, seven.n),
                                          rng.integers(-1, 2, seven.n)), -3, 3)
        files[name] = tmp_path / f"{name}7.csv"
        files[name].write_text("video_name,prediction\n" + "".join(
            f"{v},{r}\n" for v, r in zip(seven.video_names, rating)))
    code = main(["power", "--task", "sentiment_7", "--metric", "mae", "--a", str(files["a"]),
                 "--b", str(files["b"]), "--sims", "300", "--n-boot", "300", "--format", "json",
                 "--labels-file", str(real_labels), "--quiet"])
    assert code == 0
    observed = json.loads(capsys.readouterr().out)["observed"]
    compared = compare("sentiment_7", str(files["a"]), str(files["b"]), labels_file=labels)
    assert observed["difference"] == pytest.approx(compared["comparison"]["mae"]["difference"])
    errors = [np.abs(np.loadtxt(files[n], delimiter=",", skiprows=1, usecols=1) - truth) for n in "ab"]
    assert observed["level"] == pytest.approx(np.mean(errors))
    assert observed["agreement"] == pytest.approx(np.corrcoef(errors)[0, 1])
    assert observed["spread"] == pytest.approx(np.mean([e.std() / e.mean() for e in errors]))

    presence = get_task("emotion_presence").bind(labels)
    for name, miss in (("a", 0.2), ("b", 0.5)):
        flags = np.where(presence.y_true, rng.random(presence.y_true.shape) > miss,
                         rng.random(presence.y_true.shape) < 0.1)
        files[name] = tmp_path / f"{name}p.csv"
        files[name].write_text("video_name," + ",".join(EMOTION_NAMES) + "\n" + "".join(
            f"{v}," + ",".join(str(int(f)) for f in row) + "\n"
            for v, row in zip(presence.video_names, flags)))
    code = main(["power", "--task", "emotion_presence", "--metric", "microF1", "--a",
                 str(files["a"]), "--b", str(files["b"]), "--sims", "300", "--n-boot", "300",
                 "--labels-file", str(real_labels), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    difference = compare("emotion_presence", str(files["a"]), str(files["b"]),
                         labels_file=labels)["comparison"]["micro_f1"]["difference"]
    assert f"observed difference: {100 * difference:+.2f} points" in text
    assert "design analysis" in text and "power the comparison had" not in text


def test_against_a_number_mde_is_above_it_whatever_side_the_system_is_on(real_labels, tmp_path):
    from emosign.labels import load_labels
    from emosign.power import power_report
    from emosign.tasks import get_task

    seven = get_task("sentiment_7").bind(load_labels(real_labels))
    path = tmp_path / "good.csv"  # off by at most one step: MAE well below 1.2
    rating = np.clip(seven.y_true - 3 + np.random.default_rng(27).integers(-1, 2, seven.n), -3, 3)
    path.write_text("video_name,prediction\n" + "".join(f"{v},{r}\n" for v, r in zip(seven.video_names, rating)))
    options = dict(metric="mae", against=1.2, n_sims=300, n_boot=300, labels_file=real_labels)
    with_system = power_report("sentiment_7", predictions_a=str(path), **options)
    alone = power_report("sentiment_7", **options)
    assert with_system["observed"]["difference"] < 0
    assert with_system["mde"] == alone["mde"] and with_system["mde_below"] == alone["mde_below"]
    assert alone["mde"] > alone["mde_below"]  # errors spread more around a larger MAE


# --- honest answers (issue 21, item 3) ---------------------------------------------------------


def test_the_swapped_statistics_are_the_metrics_of_the_swapped_answers():
    # The permutation test's view: after a swap, A holds B's answers on the swapped clips.
    batch = _Draws.new(SKEWED, 5, seed=31).first()
    correct_a, correct_b = _pair(0.5, 0.1, 0.7, batch[0])
    pred_a, pred_b = _answers(SKEWED, correct_a, batch[1]), _answers(SKEWED, correct_b, batch[2])
    swaps = np.random.default_rng(32).random((4, SKEWED.n)) < 0.5
    for metric in ("accuracy", "balanced_accuracy", "weighted_f1", "macro_f1"):
        _, stat = _swap_inputs(SKEWED, metric, batch, 0.5, 0.1, 0.7)
        got = stat(swaps)
        for j in range(4):
            for s in range(5):
                a = np.where(swaps[j], pred_b[s], pred_a[s])
                b = np.where(swaps[j], pred_a[s], pred_b[s])
                expected = (classification_metrics(SKEWED.y_true, a, n_classes=4)[metric]
                            - classification_metrics(SKEWED.y_true, b, n_classes=4)[metric])
                assert got[j, s] == pytest.approx(expected, abs=1e-12)


def test_a_search_bound_is_never_an_mde():
    # Two systems right on 99% of clips agree on at least 98% of them, so they differ by at
    # most 2 points: McNemar's power there is .52, not .8. No number is an MDE.
    analytic = mcnemar_mde(200, discordance=0.02)
    assert analytic.mde is None and not analytic.reachable
    assert analytic.power == pytest.approx(0.516, abs=0.005) and analytic.best_difference == 0.02
    assert "not reachable" in analytic.note
    t = paired_t_mde(10, level=0.05, agreement=0.0, spread=2.0)  # 10 clips, tiny MAEs
    assert t.mde is None and t.power < 0.8 and "not reachable" in t.note
    simulated = minimum_detectable_difference(BALANCED, metric="accuracy", level=0.99,
                                              agreement=0.98, n_sims=400, n_boot=200)
    assert simulated.mde is None and not simulated.reachable and simulated.power < 0.8
    assert simulated.best_difference == pytest.approx(0.02, abs=0.005)


def test_cli_prints_not_reachable_never_the_bound(labels_file, capsys):
    argv = ["power", "--task", "sentiment_3", "--metric", "accuracy", "--level", "0.99",
            "--agreement", "0.98", "--sims", "200", "--n-boot", "200", "--quiet",
            "--labels-file", str(labels_file)]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "not reachable: best power" in text and "2.0 points of" not in text
    assert main([*argv, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["mde"] is None and result["reachable"] is False
    assert result["analytic"]["mde"] is None and result["analytic"]["reachable"] is False


def test_alpha_below_the_smallest_attainable_p_is_refused(labels_file, capsys):
    # The paired test's mid-p reaches 1/(2 (1 + n_boot)); the one-sample bootstrap 1/(1 + n_boot).
    with pytest.raises(InputError, match=r"smallest p-value .* 1/\(2 \(1 \+ 1,000\)\)"):
        minimum_detectable_difference(SKEWED, alpha=0.0002, n_boot=1_000)
    with pytest.raises(InputError, match="`n_boot` to at least 2,499"):
        simulate_power(SKEWED, gap=0.1, alpha=0.0002, n_boot=1_000)
    assert simulate_power(SKEWED, gap=0.1, alpha=0.0005, n_boot=1_000, n_sims=20).power >= 0
    with pytest.raises(InputError, match=r"one-sample bootstrap .* 1/\(1 \+ 1,000\)"):
        simulate_power(SKEWED, gap=0.1, alpha=0.0005, n_boot=1_000, against=0.5, n_sims=20)
    code = main(["power", "--task", "sentiment_3", "--alpha", "0.0002", "--sims", "50",
                 "--quiet", "--labels-file", str(labels_file)])
    assert code == 2
    err = capsys.readouterr().err
    assert "--alpha 0.0002 is below the smallest p-value" in err and "--n-boot" in err
    assert "`" not in err  # the library's parameter names became the command's options


def test_retrodesign_reproduces_gelman_and_carlin():
    # Gelman & Carlin (2014), the beauty-and-sex-ratio example: true effect 0.1 points,
    # standard error 3.3: power 0.05, Type S 0.46, exaggeration ratio about 77.
    found = retrodesign(0.1, 3.28)
    assert found["power"] == pytest.approx(0.05, abs=0.001)
    assert found["type_s"] == pytest.approx(0.46, abs=0.01)
    assert 70 < found["type_m"] < 85
    strong = retrodesign(2.8, 1.0)  # 80% power: no sign errors, little exaggeration
    assert strong["power"] == pytest.approx(0.80, abs=0.01) and strong["type_s"] < 1e-5
    assert 1.0 < strong["type_m"] < 1.15


def test_design_analysis_type_s_and_m_on_a_known_case():
    # Accuracy on 200 balanced clips, agreement 0.7: the difference's standard error is
    # sqrt(0.3 / 200) = 0.039. At a true difference of 2 points the test is badly
    # underpowered: significant results exaggerate about 2.6 times and a few have the wrong
    # sign; at 11 points (80% power) neither happens. The simulation agrees with
    # Gelman & Carlin's normal retrodesign.
    se = np.sqrt(0.3 / 200)
    small, large = design_analysis(BALANCED, metric="accuracy", differences=[0.02, 0.11],
                                   level=0.5, agreement=0.7, n_sims=4_000, n_boot=500, seed=33)
    for found, true in ((small, 0.02), (large, 0.11)):
        expected = retrodesign(true, se)
        assert found.difference == pytest.approx(true, abs=0.003)
        assert found.power == pytest.approx(expected["power"], abs=3 * found.power_se + 0.03)
        # (the permutation test is conditional on the discordant clips, a discrete
        # distribution: within 15% of the normal theory's exaggeration ratio)
        assert found.type_m == pytest.approx(expected["type_m"], abs=3 * found.type_m_se,
                                             rel=0.15)
    assert small.type_m > 2 and small.type_s > 0.005
    assert large.type_s == 0 and large.type_m < 1.2
    zero = design_analysis(BALANCED, metric="accuracy", differences=[0.0], n_sims=2_000,
                           n_boot=500, seed=36)[0]
    assert zero.type_s is None and zero.type_m is None and "no true difference" in zero.why
    assert abs(zero.power - 0.05) <= 3 * zero.power_se + 0.01  # the test's size, not NaN


def test_recall_profiles_change_the_mde(real_labels):
    # sentiment_3 with 3 neutral clips: systems that both miss them (as most do) are told
    # apart at about 8 points of wAcc, where the flat profile needs about 16.
    from emosign.power import design_for_task

    design = design_for_task("sentiment_3", labels_file=real_labels)
    flat = minimum_detectable_difference(design, n_sims=1_000, n_boot=500, seed=34)
    missing = minimum_detectable_difference(design, profile="misses_rarest", n_sims=1_000,
                                            n_boot=500, seed=34)
    assert 0.13 < flat.mde < 0.19 and 0.06 < missing.mde < 0.095
    assert missing.assumptions["class_levels"]["neutral"] == 0.0
    assert missing.assumptions["class_levels"]["negative"] == pytest.approx(0.75)
    with pytest.raises(InputError, match="profile"):
        minimum_detectable_difference(design, profile="lumpy")


def test_cli_json_has_profiles_and_design_analysis(labels_file, capsys):
    code = main(["power", "--task", "sentiment_3", "--format", "json", "--sims", "300",
                 "--n-boot", "300", "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["schema_version"] == 2 and "permutation" in result["test"]
    assert [p["profile"] for p in result["recall_profiles"]] == ["flat", "misses_rarest"]
    assert result["recall_profiles"][0]["mde"] == result["mde"]
    (at_mde,) = result["design_analysis"]
    if result["reachable"]:  # at the MDE; on the few synthetic clips at the best one found
        assert result["design_analysis_at"] == "the MDE"
        assert at_mde["difference"] == pytest.approx(result["mde"]) and at_mde["type_m"] >= 1
    else:
        assert result["design_analysis_at"].startswith("the largest difference")
        assert at_mde["difference"] == pytest.approx(result["best_difference"])
        assert at_mde["power"] == result["power"]
    code = main(["power", "--task", "sentiment_3", "--format", "json", "--sims", "300",
                 "--n-boot", "300", "--difference", "0.05", "0.2",
                 "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    analyses = json.loads(capsys.readouterr().out)["design_analysis"]
    # (on a few synthetic clips the simulated difference moves in coarse steps)
    assert [a["difference"] for a in analyses] == pytest.approx([0.05, 0.2], abs=0.015)
    assert analyses[0]["power"] < analyses[1]["power"] and analyses[0]["type_m"] > analyses[1]["type_m"]


def test_one_system_against_a_high_number_and_the_conservative_answer(labels_file, tmp_path, capsys):
    # A system scoring 0.9 against a number: no hard-coded agreement gets in the way.
    names = [r["video_name"] for r in SYNTHETIC_ROWS]
    a = tmp_path / "a.csv"
    a.write_text("video_name,prediction\n" + "".join(f"{n},positive\n" for n in names))
    code = main(["power", "--task", "sentiment_3", "--metric", "accuracy", "--a", str(a),
                 "--against", "0.9", "--sims", "200", "--n-boot", "200", "--format", "json",
                 "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    assert result["against"]["value"] == 0.9
    conservative = result["conservative"]
    # Taking the number as an estimate from the same clips can only make it harder.
    assert conservative["below"]["mde"] is None or conservative["below"]["mde"] >= result["mde_below"]


def test_the_conservative_answer_is_larger(real_labels):
    from emosign.power import design_for_task

    design = design_for_task("sentiment_3", labels_file=real_labels)
    options = dict(metric="accuracy", against=0.5, n_sims=600, n_boot=300, seed=35)
    exact = minimum_detectable_difference(design, **options)
    estimate = minimum_detectable_difference(design, conservative=True, **options)
    assert estimate.mde > 1.2 * exact.mde
    assert "estimate" in estimate.assumptions["published_system"]
    with pytest.raises(InputError, match="`conservative` needs `against`"):
        minimum_detectable_difference(design, conservative=True)


def test_library_messages_name_parameters_not_options(labels_file):
    from emosign.power import power_report

    with pytest.raises(InputError, match="`predictions_b` needs `predictions_a`") as caught:
        power_report("sentiment_3", predictions_b="x.csv", labels_file=labels_file)
    assert "--" not in str(caught.value)


def test_the_swapped_presence_statistics_are_multilabel_metrics_of_the_swapped_flags():
    from emosign.power import _presence_answers

    batch = _Draws.new(PRESENCE, 4, 37, metric="micro_f1").first()
    correct_a, correct_b = _pair(0.5, 0.1, 0.7, batch[0])
    flags_a = _presence_answers(PRESENCE, correct_a, batch[1], 0.55)
    flags_b = _presence_answers(PRESENCE, correct_b, batch[2], 0.45)
    swaps = np.random.default_rng(38).random((5, PRESENCE.n)) < 0.5
    for metric in ("micro_f1", "macro_f1"):
        _, stat = _swap_inputs(PRESENCE, metric, batch, 0.5, 0.1, 0.7)
        got = stat(swaps)
        for j in range(5):
            for s in range(4):
                a = np.where(swaps[j][:, None], flags_b[s], flags_a[s])
                b = np.where(swaps[j][:, None], flags_a[s], flags_b[s])
                expected = (multilabel_metrics(PRESENCE.y_true, a)[metric]
                            - multilabel_metrics(PRESENCE.y_true, b)[metric])
                assert got[j, s] == pytest.approx(expected, abs=1e-12)


# --- clusters: the test compare --cluster runs, dependent clips, the signer refusal ----------

# 200 clips in 8 clusters of 25, the two classes alike in each.
EIGHT = BALANCED.with_clusters(np.arange(200) % 8, cluster="source")


def test_the_cluster_reaches_the_test():
    # Independent clips (icc 0): only the test differs. Swapping 8 clusters whole (2**8
    # patterns) is a valid but blunter test than swapping 200 clips, so power falls.
    common = dict(metric="accuracy", gap=0.1, level=0.5, agreement=0.7, n_sims=600, n_boot=255,
                  seed=3)
    clips = simulate_power(BALANCED, **common)
    clustered = simulate_power(EIGHT, icc=0.0, **common)
    assert clips.power - clustered.power > 4 * max(clips.power_se, clustered.power_se)
    assert "swapping whole source videos (8)" in clustered.assumptions["test"]
    assert clips.assumptions["cluster"] == "clip" and clustered.assumptions["n_clusters"] == 8


def test_dependent_clips_keep_the_test_valid_only_when_clustered():
    # No true difference, clips of a cluster correlated 0.5: the clustered test rejects at
    # about alpha; the clip-level test of the very same pairs rejects far more often.
    found = simulate_power(EIGHT, metric="accuracy", gap=0.0, icc=0.5, n_sims=800, n_boot=255, seed=4)
    assert found.power <= 0.05 + 3 * found.power_se
    cell = _Draws.new(EIGHT, 800, 4, icc=0.5).first()[0]
    correct_a, correct_b = _pair(0.5, 0.0, 0.7, cell)
    naive = sign_flip_test((correct_a.astype(float) - correct_b) / 200, n_perm=255, seed=4)
    assert np.mean([t.p_value <= 0.05 for t in naive]) > 0.12


def test_clips_of_a_cluster_correlate_icc_and_keep_their_chances():
    design = BALANCED.with_clusters(np.arange(200) // 10)  # 20 clusters of 10 clips
    batch = _Draws.new(design, 1_000, 5, icc=0.3).first()
    correct_a, correct_b = _pair(0.6, 0.1, 0.7, batch[0])
    assert correct_a.mean() == pytest.approx(0.65, abs=0.01)  # level + gap / 2
    assert correct_b.mean() == pytest.approx(0.55, abs=0.01)
    assert np.mean(correct_a == correct_b) == pytest.approx(0.7, abs=0.01)
    codes = np.arange(200) // 10
    same = (codes[:, None] == codes[None, :]) & ~np.eye(200, dtype=bool)
    other = codes[:, None] != codes[None, :]
    for values in (correct_a.astype(float), correct_a.astype(float) - correct_b):
        r = np.corrcoef(values.T)
        assert r[same].mean() == pytest.approx(0.3, abs=0.03)
        assert abs(r[other].mean()) < 0.01
    # A clip takes its cluster's draws with chance sqrt(icc), else keeps its own: those of the
    # unclustered model.
    unclustered = _Draws.new(BALANCED, 1_000, 5).first()
    assert (batch[0] != unclustered[0]).mean() == pytest.approx(np.sqrt(0.3), abs=0.01)


def test_icc_is_estimated_without_bias_from_pairs_of_known_dependence():
    design = EIGHT
    for icc in (0.0, 0.2, 0.5):
        batch = _Draws.new(design, 400, 6, icc=icc).first()
        correct_a, correct_b = _pair(0.5, 0.0, 0.7, batch[0])
        found = [estimate_icc(design, "accuracy", a, b)[0] for a, b in zip(correct_a, correct_b)]
        # The mean over pairs (clamped at 0, which lifts it a little where icc is 0).
        assert np.mean(found) == pytest.approx(icc, abs=0.04)


def test_icc_of_a_difference_constant_in_each_cluster_is_the_largest(labels_file, tmp_path, capsys):
    from emosign.labels import load_labels
    from emosign.tasks import get_task

    data = get_task("sentiment_3").bind(load_labels(labels_file))
    source = [n.rsplit("_", 1)[0] for n in data.video_names]
    wrong_sources = sorted(set(source))[::2]  # B errs on every clip of these source videos
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("video_name,prediction\n" + "".join(
        f"{n},{data.classes[y]}\n" for n, y in zip(data.video_names, data.y_true)))
    b.write_text("video_name,prediction\n" + "".join(
        f"{n},{data.classes[(y + 1) % 3] if s in wrong_sources else data.classes[y]}\n"
        for n, y, s in zip(data.video_names, data.y_true, source)))
    # Clusters of one size, the per-clip differences 1 on the clips of half of them and 0 on
    # the rest: two clips of a cluster always agree, the largest icc the model takes.
    right = (np.arange(200) % 8) % 2 == 0
    icc, notes = estimate_icc(EIGHT, "accuracy", np.ones(200, bool), right)
    assert icc == pytest.approx(0.99) and "it takes 0.99" in notes[-1]
    # ... and alternating inside every cluster, less alike than any two clips: 0, said.
    icc, notes = estimate_icc(EIGHT, "accuracy", np.ones(200, bool), (np.arange(200) // 8) % 2 == 0)
    assert icc == 0.0 and "below 0" in notes[-1]
    # The command estimates it from the two files as estimate_icc does (the synthetic
    # videos have one to three clips, so the estimate is not exactly 1).
    design = design_for_task("sentiment_3", labels_file=labels_file, cluster="source")
    right_b = np.array([s not in wrong_sources for s in source])
    expected = estimate_icc(design, "accuracy", np.ones(design.n, bool), right_b)[0]
    assert expected > 0.8
    assert main(["power", "--task", "sentiment_3", "--metric", "accuracy", "--a", str(a), "--b",
                 str(b), "--cluster", "source", "--sims", "100", "--n-boot", "200",
                 "--format", "json", "--labels-file", str(labels_file), "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["observed"]["icc"] == pytest.approx(expected)
    assert result["assumptions"]["icc"] == pytest.approx(expected)
    assert result["assumptions"]["icc_source"].startswith("estimated")
    assert "--cluster source" in result["observed"]["test"]
    # Given, the icc is the one used, and the estimate is not made.
    assert main(["power", "--task", "sentiment_3", "--metric", "accuracy", "--a", str(a), "--b",
                 str(b), "--cluster", "source", "--icc", "0.2", "--sims", "100", "--n-boot", "200",
                 "--format", "json", "--labels-file", str(labels_file), "--quiet"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["assumptions"]["icc"] == 0.2 and "icc" not in result["observed"]


def test_icc_of_degenerate_outcomes_is_0_said():
    # Every clip in one cluster: its centred total is 0 whatever the outcomes (0 / 0 in the
    # moment equation: a ZeroDivisionError, or 0.99 from the rounding).
    one = BALANCED.with_clusters(np.zeros(200, int), cluster="source")
    for seed in range(8):
        right = np.random.default_rng(seed).integers(0, 2, 200).astype(bool)
        icc, notes = estimate_icc(one, "accuracy", right)
        assert icc == 0.0 and "one cluster" in notes[-1]
    # Equal per-clip values whose float mean is not exactly theirs (five of six emotions right
    # on every clip, 5/6) do not vary: 0, not the 0.99 the rounding gave.
    presence = PRESENCE.with_clusters(np.arange(200) % 8, cluster="source")
    answers = presence.y_true.copy()
    answers[:, 0] = ~answers[:, 0]
    icc, notes = estimate_icc(presence, "micro_f1", answers)
    assert icc == 0.0 and "do not vary" in notes[-1]


def test_icc_minus_0_is_0():
    from emosign.power import _check_icc

    assert str(_check_icc(EIGHT, -0.0)) == "0.0"


def test_clusters_too_few_to_reject_are_refused_with_the_reason(labels_file, capsys):
    four = BALANCED.with_clusters(np.arange(200) % 4, cluster="signer")
    # Two of the 16 patterns (none, all swapped) tie with the data; the mid-p counts them half.
    assert smallest_p_value(four, n_boot=1_000) == pytest.approx((2 / 2) / 16)
    with pytest.raises(InputError, match=r"16 swap patterns .* smallest p-value is 0\.0625"):
        minimum_detectable_difference(four, metric="accuracy", n_sims=50, n_boot=100)
    with pytest.raises(InputError, match="not reachable"):
        simulate_power(four, metric="accuracy", gap=0.1, against=0.5, n_sims=50, n_boot=100)
    # At an alpha the 16 patterns can reach, it runs.
    assert simulate_power(four, metric="accuracy", gap=0.3, alpha=0.2, n_sims=50, n_boot=100).power > 0
    code = main(["power", "--task", "sentiment_3", "--cluster", "signer", "--sims", "50",
                 "--quiet", "--labels-file", str(labels_file)])
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("emosign: error: --cluster 'signer': not reachable") and "--alpha" in err
    assert len(err.strip().splitlines()) == 1 and "`" not in err


def test_icc_without_clusters_is_refused_and_the_defaults_are_the_library_s(labels_file):
    import inspect

    from emosign import _defaults
    from emosign.cli import build_parser
    from emosign.power import power_report

    with pytest.raises(InputError, match="`icc` 0.2 needs clusters"):
        simulate_power(BALANCED, gap=0.1, icc=0.2, n_sims=20, n_boot=20)
    with pytest.raises(InputError, match="`icc`"):
        simulate_power(EIGHT, gap=0.1, icc=1.5, n_sims=20, n_boot=20)
    args = build_parser().parse_args(["power", "--task", "sentiment_3"])
    parameters = inspect.signature(power_report).parameters
    assert args.cluster == parameters["cluster"].default == _defaults.CLUSTER
    assert args.icc is parameters["icc"].default is None  # None: estimated, else POWER_ICC
    assert simulate_power(EIGHT, gap=0.1, n_sims=20, n_boot=20).assumptions["icc"] == _defaults.POWER_ICC


def test_cli_says_what_the_clustered_simulation_assumed(labels_file, capsys):
    code = main(["power", "--task", "sentiment_3", "--metric", "accuracy", "--cluster", "source",
                 "--sims", "100", "--n-boot", "200", "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    text = " ".join(capsys.readouterr().out.split())  # however the lines are wrapped
    assert "clusters: 7 source videos" in text and "icc, the default" in text
    assert "swapping whole source videos (7)" in text and "design effect" in text
    assert "(independent clips: no clusters)" in text  # McNemar's analytic answer
