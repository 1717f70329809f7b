"""Tests for ``emosign.clips``: constructed systems whose hard clips are known, and the clip
section of ``emosign report``."""

from __future__ import annotations

import json

import pytest

from emosign.clips import breakdown, clip_outcomes, clip_table, separating, unsolved
from emosign.labels import load_labels
from emosign.metrics import evaluate
from emosign.records import stamp
from emosign.report import (
    Heading,
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
    # Hardest first, then file order.
    assert list(table["video_name"][:4]) == [names[0], names[1], names[2], names[3]]
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
    by_signer = breakdown(outcomes, "signer").set_index("signer")
    signers = [c.signer for c in labels]
    assert by_signer["clips"].to_dict() == {s: signers.count(s) for s in set(signers)}
    hard_signer = next(c.signer for c in labels if c.video_name == names[0])
    assert by_signer.loc[hard_signer, "unsolved"] == 1
    assert by_signer["unsolved"].sum() == 1
    a_misses = {names[0], names[1]}
    for signer, row in by_signer.iterrows():
        clips = [c.video_name for c in labels if c.signer == signer]
        assert row["acc:A"] == pytest.approx(sum(n not in a_misses for n in clips) / len(clips))
    magnitude = breakdown(outcomes, "sentiment_magnitude")
    assert magnitude["clips"].sum() == len(names)
    assert set(magnitude["sentiment_magnitude"]) <= {0, 1, 2, 3}
    assert breakdown(outcomes, "expression_set")["clips"].sum() == len(names)


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
    assert all(cue in first[6] for cue in clip.cues)
    summary = next(b for b in blocks if isinstance(b, Paragraph) and b.text.startswith("3 systems"))
    assert f"1 of {len(names)} clips no system gets right" in summary.text
    assert next(b for b in blocks if isinstance(b, Table) and b.kind == "clip-separating")
    breakdowns = next(b for b in blocks if isinstance(b, Table) and b.kind == "clip-breakdown")
    assert {row[0] for row in breakdowns.rows} == {"signer", "sentiment magnitude", "expression set"}

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
