"""Tests for ``emosign.clips``: constructed systems whose hard clips are known, and the clip
section of ``emosign report``."""

from __future__ import annotations

import json

import numpy as np
import pytest

from emosign.clips import (
    MIN_GROUP,
    breakdown,
    chance_hit_rate,
    clip_outcomes,
    clip_table,
    rasch_fit,
    separating,
    unsolved,
)
from emosign.labels import load_labels
from emosign.metrics import evaluate
from emosign.records import stamp
from emosign.report import (
    Heading,
    Items,
    Paragraph,
    Table,
    build_report,
    collect_results,
    write_report,
)
from emosign.tasks import get_task

TASK = "sentiment_3"


@pytest.fixture
def systems(labels_file):
    """Three systems on the 12 synthetic clips: every clip right but known ones.

    A misses clips 0 and 1, B misses 0 and 2, C misses 0, 1 and 3: clip 0 is solved by no
    system, clip 1 by B only, clip 2 by A and C, clip 3 by A and B, the rest by all three."""
    labels = load_labels(labels_file)
    data = get_task(TASK).bind(labels)
    names = list(data.video_names)
    truth = [data.classes[i] for i in data.y_true]

    def wrong(k):
        return next(c for c in data.classes if c != truth[k])

    def system(misses):
        return {n: (wrong(k) if k in misses else truth[k]) for k, n in enumerate(names)}

    return labels, names, {"A": system({0, 1}), "B": system({0, 2}), "C": system({0, 1, 3})}


def test_difficulty_unsolved_and_separating_clips_are_the_constructed_ones(systems):
    labels, names, predictions = systems
    outcomes = clip_outcomes(TASK, predictions, labels_file=labels)
    assert outcomes.correct.shape == (len(names), 3)
    table = clip_table(outcomes)
    right = dict(zip(table["video_name"], table["n_right"]))
    assert right[names[0]] == 0 and right[names[1]] == 1
    assert right[names[2]] == 2 and right[names[3]] == 2
    assert all(right[n] == 3 for n in names[4:])
    # Hardest first by the chance- and ability-adjusted difficulty. Clip 3 is neutral, the
    # rare class (chance hit rate 1/12): two systems of three right there is better than
    # chance makes likely, so it comes last, not fourth as the raw count would put it.
    assert list(table["video_name"][:3]) == [names[0], names[1], names[2]]
    assert table["difficulty"].is_monotonic_decreasing
    assert table.iloc[-1]["video_name"] == names[3] and table.iloc[-1]["reference"] == "neutral"
    assert table.iloc[-1]["chance"] == pytest.approx(1 / 12)
    assert (table["difficulty_low"] < table["difficulty"]).all()
    assert table.loc[1, "right"] == "B"
    assert list(unsolved(outcomes)["video_name"]) == [names[0]]

    apart = separating(outcomes, "A", "B")
    assert dict(zip(apart["video_name"], apart["right_only"])) == {names[1]: "B", names[2]: "A"}
    assert list(separating(outcomes, "A", "C")["video_name"]) == [names[3]]


def test_each_clip_carries_its_labels_and_cue_descriptions(systems):
    labels, names, predictions = systems
    table = clip_table(clip_outcomes(TASK, predictions, labels_file=labels))
    by_name = {c.video_name: c for c in labels}
    for row in table.itertuples():
        clip = by_name[row.video_name]
        assert (row.signer, row.sentiment, row.sentiment_magnitude) == (clip.signer, clip.sentiment,
                                                                        abs(clip.sentiment))
        assert row.intensity == max(clip.intensities)
        assert (row.cue_1, row.cue_2, row.cue_3) == tuple(clip.cues)
        assert row.expression_set == clip.expression_set


def test_breakdowns_count_clips_and_unsolved_per_group(systems):
    labels, names, predictions = systems
    outcomes = clip_outcomes(TASK, predictions, labels_file=labels)
    by_signer = breakdown(outcomes, "signer", min_clips=1).set_index("signer")
    signers = [c.signer for c in labels]
    assert by_signer["clips"].to_dict() == {s: signers.count(s) for s in set(signers)}
    hard_signer = next(c.signer for c in labels if c.video_name == names[0])
    assert by_signer.loc[hard_signer, "unsolved"] == 1
    assert by_signer["unsolved"].sum() == 1
    a_misses = {names[0], names[1]}
    for signer, row in by_signer.iterrows():
        clips = [c.video_name for c in labels if c.signer == signer]
        assert row["acc:A"] == pytest.approx(sum(n not in a_misses for n in clips) / len(clips))
    magnitude = breakdown(outcomes, "sentiment_magnitude", min_clips=1)
    assert magnitude["clips"].sum() == len(names)
    assert set(magnitude["sentiment_magnitude"]) <= {0, 1, 2, 3}
    assert breakdown(outcomes, "expression_set")["clips"].sum() == len(names)
    # By default a group of fewer than MIN_GROUP clips is counted but not broken down.
    default = breakdown(outcomes, "signer").set_index("signer")
    assert default["clips"].to_dict() == by_signer["clips"].to_dict()
    for _, row in default.iterrows():
        small = row["clips"] < MIN_GROUP
        assert row["broken_down"] == (not small)
        assert np.isnan(row["mean_share_right"]) == small and np.isnan(row["acc:A"]) == small


def test_bad_requests_are_named(systems, labels_file):
    labels, _, predictions = systems
    outcomes = clip_outcomes(TASK, predictions, labels_file=labels)
    with pytest.raises(ValueError, match="no system 'Z'"):
        separating(outcomes, "A", "Z")
    with pytest.raises(ValueError, match="by must be"):
        breakdown(outcomes, "colour")
    with pytest.raises(ValueError, match="single-label"):
        clip_outcomes("emotion_presence", predictions, labels_file=labels)
    with pytest.raises(ValueError, match="system 'A'"):
        clip_outcomes(TASK, {"A": {"nope": "positive"}}, labels_file=labels, on_invalid="raise")


# --- in the report ---------------------------------------------------------------------------


def write_evaluated(folder, labels_file, predictions):
    """Each system's predictions CSV and its `emosign evaluate` JSON beside it."""
    folder.mkdir()
    for name, mapping in predictions.items():
        csv = folder / f"{name}.csv"
        csv.write_text("video_name,prediction\n" + "".join(f"{k},{v}\n" for k, v in mapping.items()))
        result = evaluate(TASK, str(csv), labels_file=labels_file, n_boot=100)
        (folder / f"{name}.json").write_text(json.dumps(result))


def test_the_report_shows_the_clips_and_their_cues(systems, labels_file, tmp_path):
    labels, names, predictions = systems
    write_evaluated(tmp_path / "results", labels_file, predictions)
    collected = collect_results([tmp_path / "results"])
    blocks = build_report(collected, labels=labels, figures=False)
    assert Heading(2, "Clips") in blocks
    hardest = next(b for b in blocks if isinstance(b, Table) and b.kind == "clip-hardest")
    first = hardest.rows[0]
    clip = next(c for c in labels if c.video_name == names[0])
    assert first[0] == names[0] and first[3] == "0 of 3"
    assert hardest.header[4:6] == ("chance hit rate", "difficulty [95% interval]")
    assert all(cue in first[8] for cue in clip.cues)
    summary = next(b for b in blocks if isinstance(b, Paragraph) and b.text.startswith("3 systems"))
    assert f"1 of {len(names)} clips no system gets right" in summary.text
    # Evaluated files do not record their inputs: not ranked, so no separating clips, said so.
    assert not any(isinstance(b, Table) and b.kind == "clip-separating" for b in blocks)
    assert any(isinstance(b, Paragraph) and "only between ranked systems" in b.text for b in blocks)
    breakdowns = next(b for b in blocks if isinstance(b, Table) and b.kind == "clip-breakdown")
    assert {row[0] for row in breakdowns.rows} == {"signer", "sentiment magnitude", "expression set"}
    # Small groups are named, not broken down; the text claims no "why".
    assert f"fewer than {MIN_GROUP} clips" in breakdowns.caption
    assert any(row[3].startswith("not broken down") for row in breakdowns.rows)
    intro = next(b for b in blocks if isinstance(b, Paragraph) and b.text.startswith("Which clips"))
    assert "not an explanation of why" in intro.text and "floors" in intro.text

    # Without the label file the section says how to get it.
    blocks = build_report(collected, labels=None, figures=False)
    assert any(isinstance(b, Paragraph) and "--labels-file" in b.text for b in blocks)


def test_predictions_named_outside_the_results_folder_are_not_read(systems, labels_file, tmp_path):
    labels, names, predictions = systems
    write_evaluated(tmp_path / "results", labels_file, predictions)
    outside = tmp_path / "elsewhere.csv"
    outside.write_text((tmp_path / "results" / "A.csv").read_text())
    doc = json.loads((tmp_path / "results" / "A.json").read_text())
    doc["predictions"]["source"] = str(outside)
    (tmp_path / "results" / "A.json").write_text(json.dumps(doc))
    (tmp_path / "results" / "B.json").write_text(json.dumps(
        {**json.loads((tmp_path / "results" / "B.json").read_text()),
         "predictions": {"source": "../elsewhere.csv"}}))
    collected = collect_results([tmp_path / "results"])
    by_name = {s.system: s for s in collected.systems}
    assert by_name["A"].predictions_file is None and by_name["B"].predictions_file is None
    assert by_name["C"].predictions_file == str((tmp_path / "results" / "C.csv").resolve())


def test_predictions_that_disagree_with_their_results_are_left_out(systems, labels_file, tmp_path):
    labels, names, predictions = systems
    write_evaluated(tmp_path / "results", labels_file, predictions)
    swapped = (tmp_path / "results" / "C.csv").read_text()
    (tmp_path / "results" / "A.csv").write_text(swapped)  # A's results, C's predictions
    out = tmp_path / "report"
    write_report([tmp_path / "results"], out, labels_file=labels_file)
    text = (out / "report.md").read_text()
    assert "A: its per-clip predictions do not give the accuracy its results record" in text
    assert "2 systems: B \\[evaluated\\], C \\[evaluated\\]" in text
    assert (out / "figures" / f"clips-{TASK}.png").stat().st_size > 0


def test_a_symlink_out_of_the_results_folder_is_not_followed(systems, labels_file, tmp_path):
    labels, names, predictions = systems
    write_evaluated(tmp_path / "results", labels_file, predictions)
    secret = tmp_path / "secret.csv"
    secret.write_text((tmp_path / "results" / "A.csv").read_text())
    (tmp_path / "results" / "A.csv").unlink()
    (tmp_path / "results" / "A.csv").symlink_to(secret)
    bench = tmp_path / "bench"
    (bench / "predictions" / TASK).mkdir(parents=True)
    (bench / "predictions" / TASK / "majority.csv").symlink_to(secret)
    (bench / "results.json").write_text(json.dumps(stamp("benchmark", {"rows": [
        {"task": TASK, "system": "majority", "kind": "floor", "reported": False, "n": len(names),
         "metrics": {"balanced_accuracy": 0.5, "accuracy": 0.5}}]})))
    collected = collect_results([tmp_path / "results", bench])
    by_name = {s.system: s for s in collected.systems}
    assert by_name["A"].predictions_file is None and by_name["majority"].predictions_file is None
    assert by_name["B"].predictions_file is not None


def test_cli_report_with_labels_and_quiet_has_the_clips_and_no_bar(systems, labels_file, tmp_path,
                                                                   capsys):
    from emosign.cli import main

    labels, names, predictions = systems
    write_evaluated(tmp_path / "results", labels_file, predictions)
    # A second folder with a system of the same name: both are kept, the second numbered.
    write_evaluated(tmp_path / "again", labels_file, {"A": predictions["A"]})
    code = main(["report", str(tmp_path / "results"), str(tmp_path / "again"), "--out",
                 str(tmp_path / "report"), "--labels-file", str(labels_file), "--quiet"])
    assert code == 0
    assert capsys.readouterr().err == ""
    text = (tmp_path / "report" / "report.md").read_text()
    assert "## Clips" in text and "4 systems: " in text and "A (4) \\[evaluated\\]" in text


# --- chance, ability and ranked systems ---------------------------------------------------------


def test_a_rasch_fit_recovers_known_difficulties_on_simulated_data():
    # 60 systems of known ability on 200 clips of known difficulty, with a chance offset.
    rng = np.random.default_rng(7)
    n, m = 200, 60
    difficulty = rng.normal(0, 1, n)
    ability = rng.normal(0, 1, m)
    chance = rng.choice([0.6, 0.3, 0.1], size=n)
    logit = np.log(chance / (1 - chance))[:, None] + ability[None, :] - difficulty[:, None]
    correct = rng.random((n, m)) < 1 / (1 + np.exp(-logit))
    fit = rasch_fit(correct, chance=chance)
    assert fit.converged
    assert np.corrcoef(fit.difficulty, difficulty)[0, 1] > 0.9
    assert np.corrcoef(fit.ability, ability)[0, 1] > 0.97
    # The 95% intervals cover the true difficulties about 95% of the time.
    covered = np.abs(fit.difficulty - difficulty) <= 1.96 * fit.difficulty_se
    assert 0.9 <= covered.mean() <= 0.99
    # Without the chance offset, rare-class clips look harder than they are.
    plain = rasch_fit(correct)
    rare = chance == 0.1
    assert (plain.difficulty - difficulty)[rare].mean() > 1 + (fit.difficulty - difficulty)[rare].mean()
    with pytest.raises(ValueError, match="0/1"):
        rasch_fit(np.full((3, 2), 0.5))


def test_chance_hit_rate_is_the_label_prior_share(systems):
    labels, names, predictions = systems
    outcomes = clip_outcomes(TASK, predictions, labels_file=labels)
    rates = chance_hit_rate(outcomes)
    for reference, rate in zip(outcomes.reference, rates):
        assert rate == pytest.approx(outcomes.reference.count(reference) / len(names))


def write_mllm_record(folder, labels_file, predictions):
    """Each system as an MLLM run (inputs recorded: ranked), its predictions beside it."""
    folder.mkdir()
    runs = []
    for name, mapping in predictions.items():
        csv = folder / f"{name}.csv"
        csv.write_text("video_name,prediction\n" + "".join(f"{k},{v}\n" for k, v in mapping.items()))
        evaluation = evaluate(TASK, str(csv), labels_file=labels_file, n_boot=100)
        n = len(mapping)
        runs.append({"model": name, "input": "video", "task": "sentiment", "scores": {TASK: {
            "evaluation": evaluation, "predictions_file": csv.name,
            "parse": {"n": n, "answered": n, "parsed": n, "parse_rate": 1.0, "problems": {}}}}})
    (folder / "results.json").write_text(json.dumps(stamp("mllm-score", {"runs": runs, "rows": []})))


def test_separating_clips_only_between_ranked_systems_and_ranks_have_intervals(systems, labels_file,
                                                                              tmp_path):
    labels, names, predictions = systems
    write_mllm_record(tmp_path / "runs", labels_file, predictions)
    collected = collect_results([tmp_path / "runs"])
    assert all(s.ranked for s in collected.systems if not s.reported)
    blocks = build_report(collected, labels=labels, figures=False)
    apart = next(b for b in blocks if isinstance(b, Table) and b.kind == "clip-separating")
    assert "two best ranked systems" in apart.caption
    board = next(b for b in blocks if isinstance(b, Table) and b.kind == "leaderboard")
    assert board.header[3] == "rank [95% interval] (same inputs)"
    # Three systems that differ on one or two of 12 clips: their ranks overlap.
    ranks = [row[3] for row in board.rows]
    assert all(r.endswith("of 3") for r in ranks) and any("-" in r for r in ranks)
    how = next(b for b in blocks if isinstance(b, Items) and any("joint bootstrap" in i for i in b.items))
    assert "per-clip predictions" in how.items[0]
