"""Tests for the lmms-eval task folder, without lmms-eval (it needs torch and a model).

The folder is loaded the way lmms-eval 0.7.3 loads one: YAML with ``include:`` merged over
the template, ``!function utils.name`` imported from the ``utils.py`` beside the YAML with
``importlib.util.spec_from_file_location``, every key a field of its ``TaskConfig``, and the
data read by ``datasets.load_dataset(dataset_path, **dataset_kwargs)``. Then every clip's
answer goes through ``process_results`` and each metric's aggregation, and the numbers must
equal ``emosign evaluate --on-invalid wrong`` on the same answers.
"""

from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import datasets
import pytest
import yaml
from conftest import SYNTHETIC_SINGLE, write_mp4

from emosign import vocab
from emosign.cli import main
from emosign.harness.lmms_eval_task import VIDEO_DIR_ENV, export_lmms_eval, task_metrics
from emosign.harness.prompts import (
    HARNESS_TASKS,
    PAPER_VIDEO_FILE_PROMPTS,
    SCORED_TASKS,
    VIDEO_FILE_PROMPTS,
)
from emosign.labels import load_labels
from emosign.metrics import evaluate

# lmms-eval 0.7.3's TaskConfig fields (lmms_eval/api/task.py): any other top-level key is a
# TypeError when lmms-eval builds the task.
TASK_CONFIG_FIELDS = {
    "task", "task_alias", "tag", "group", "group_alias", "dataset_path", "dataset_name",
    "dataset_kwargs", "training_split", "validation_split", "test_split", "fewshot_split",
    "full_docs", "process_results_use_image", "process_docs", "doc_to_visual", "doc_to_text",
    "doc_to_target", "doc_to_choice", "doc_to_messages", "process_results", "use_prompt",
    "description", "target_delimiter", "fewshot_delimiter", "fewshot_config", "num_fewshot",
    "metric_list", "output_type", "generation_kwargs", "repeats", "filter_list",
    "should_decontaminate", "doc_to_decontamination_query", "cluster_key", "score_key",
    "metadata", "lmms_eval_specific_kwargs", "model_specific_generation_kwargs",
    "model_specific_target_kwargs", "reasoning_tags", "auto_strip_thinking",
}


def load_task_yaml(path: Path) -> dict:
    """A task YAML as lmms-eval 0.7.3 reads it (utils.load_yaml_config, mode="full")."""

    class Loader(yaml.SafeLoader):
        pass

    def function(loader, node):
        module_name, _, name = loader.construct_scalar(node).rpartition(".")
        spec = importlib.util.spec_from_file_location(module_name, path.parent / f"{module_name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, name)

    Loader.add_constructor("!function", function)
    config = yaml.load(path.read_text(), Loader=Loader)
    included = config.pop("include", None)
    if included:
        # lmms-eval tries the include relative to the working directory first.
        base = load_task_yaml(Path(included) if Path(included).is_file() else path.parent / included)
        config = {**base, **config}
    return config


@pytest.fixture
def videos(labels_file, tmp_path) -> Path:
    directory = tmp_path / "videos"
    directory.mkdir()
    for clip in load_labels(labels_file):
        write_mp4(directory / f"{clip.utterance_id}.mp4", seconds=0.2, fps=10)
    return directory


@pytest.fixture
def folder(labels_file, videos, tmp_path) -> Path:
    return export_lmms_eval(tmp_path / "lmms", video_dir=videos, labels_file=labels_file)


def load_docs(config: dict) -> list[dict]:
    dataset = datasets.load_dataset(config["dataset_path"], name=config.get("dataset_name"),
                                    **config["dataset_kwargs"])
    return list(dataset[config["test_split"]])


# --- the folder as lmms-eval sees it --------------------------------------------------------


def test_the_folder_has_one_task_per_prompt_and_a_template(folder, labels_file, monkeypatch, tmp_path):
    yamls = sorted(p.name for p in folder.glob("*.yaml"))
    assert yamls == ["emosign_emotion.yaml", "emosign_joint.yaml", "emosign_sentiment.yaml"]
    # lmms-eval registers only *.yaml files that have a `task`: the template is not a task.
    assert (folder / "_default_template_yaml").is_file()
    # Paths must not depend on the working directory, even one with a template of its own.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "_default_template_yaml").write_text("dataset_path: csv\ntest_split: train\n")
    monkeypatch.chdir(elsewhere)
    labels = load_labels(labels_file)
    for path in folder.glob("*.yaml"):
        config = load_task_yaml(path)
        assert set(config) <= TASK_CONFIG_FIELDS, set(config) - TASK_CONFIG_FIELDS
        assert config["task"] == path.stem and config["tag"] == "emosign"
        assert config["output_type"] == "generate_until"
        prompt_task = path.stem.removeprefix("emosign_")
        names = [m["metric"] for m in config["metric_list"]]
        assert names == [m.name for m in task_metrics(prompt_task)]
        assert all(callable(m["aggregation"]) for m in config["metric_list"])
        docs = load_docs(config)
        expected = labels.subset("single") if prompt_task == "emotion" else labels.clips
        assert [d["video_name"] for d in docs] == [c.video_name for c in expected]
        assert all(d["prompt_task"] == prompt_task for d in docs)
    assert (folder / "data" / "labels.csv").read_bytes() == Path(labels_file).read_bytes()


def test_visuals_and_prompts(folder, videos, monkeypatch, tmp_path):
    config = load_task_yaml(folder / "emosign_sentiment.yaml")
    doc = load_docs(config)[0]
    [path] = config["doc_to_visual"](doc)
    assert Path(path) == (videos / f"{doc['utterance_id']}.mp4").resolve() and Path(path).is_file()
    kwargs = {"pre_prompt": "", "post_prompt": ""}
    assert config["doc_to_text"](doc, kwargs) == VIDEO_FILE_PROMPTS["sentiment"].render(fps=0)
    assert config["doc_to_text"](doc, {"pre_prompt": "<video>\n", "post_prompt": ""}).startswith("<video>\nThe video")

    moved = tmp_path / "elsewhere"
    videos.rename(moved)
    monkeypatch.setenv(VIDEO_DIR_ENV, str(moved))
    assert config["doc_to_visual"](doc) == [str((moved / doc["video"]).resolve())]
    with pytest.raises(ValueError, match="leaves"):
        config["doc_to_visual"]({**doc, "video": "../../etc/passwd"})
    with pytest.raises(ValueError, match="leaves"):
        config["doc_to_visual"]({**doc, "video": ""})
    (moved / doc["video"]).unlink()
    with pytest.raises(FileNotFoundError, match=f"{doc['video_name']}.*{VIDEO_DIR_ENV}"):
        config["doc_to_visual"](doc)


def test_a_folder_name_outside_ascii_survives_the_yaml(labels_file, videos, tmp_path):
    folder = export_lmms_eval(tmp_path / "lmms 😀 é", video_dir=videos, labels_file=labels_file,
                              prompt_tasks=["sentiment"])
    config = load_task_yaml(folder / "emosign_sentiment.yaml")
    assert Path(config["dataset_kwargs"]["data_files"]["test"]).is_file()
    assert len(load_docs(config)) == len(load_labels(labels_file))


def test_caption_tasks_put_the_translation_in_the_prompt(labels_file, videos, tmp_path):
    labels = load_labels(labels_file)
    captions = tmp_path / "captions.csv"
    captions.write_text("utterance_id,caption\n" + "".join(
        f"{c.utterance_id},Caption {c.utterance_id}.\n" for c in labels))
    folder = export_lmms_eval(tmp_path / "lmms", video_dir=videos, labels_file=labels_file,
                              with_caption=True, captions_file=captions, prompt_tasks=["emotion"])
    assert sorted(p.stem for p in folder.glob("*.yaml")) == ["emosign_emotion", "emosign_emotion_caption"]
    config = load_task_yaml(folder / "emosign_emotion_caption.yaml")
    doc = load_docs(config)[0]
    text = config["doc_to_text"](doc, {})
    assert text == VIDEO_FILE_PROMPTS["emotion"].render(fps=0, caption=f"Caption {doc['utterance_id']}.")
    plain = load_docs(load_task_yaml(folder / "emosign_emotion.yaml"))[0]
    assert "Caption" not in load_task_yaml(folder / "emosign_emotion.yaml")["doc_to_text"](plain, {})


# --- scoring equals emosign evaluate --------------------------------------------------------


def score_through_lmms(config: dict, answer_of) -> dict[str, float]:
    """What lmms-eval computes: process_results per doc, then each metric's aggregation."""
    docs = load_docs(config)
    per_doc = [config["process_results"](doc, [answer_of(doc["video_name"])]) for doc in docs]
    return {m["metric"]: m["aggregation"]([values[m["metric"]] for values in per_doc])
            for m in config["metric_list"]}


def evaluate_cli(task: str, rows: list[dict], tmp_path: Path, labels_file: Path) -> dict:
    path = tmp_path / f"{task}.csv"
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    out = tmp_path / f"{task}.json"
    assert main(["evaluate", "--task", task, "--predictions", str(path), "--on-invalid", "wrong",
                 "--labels-file", str(labels_file), "--n-boot", "50", "--output", str(out)]) == 0
    return json.loads(out.read_text())["metrics"]


def test_sentiment_scores_equal_emosign_evaluate(folder, labels_file, tmp_path, capsys):
    labels = load_labels(labels_file)
    names = [c.video_name for c in labels]
    phrases = [level.phrase for level in vocab.SENTIMENT_LEVELS]
    # Right, off by one, or unreadable, in turn.
    answers = {}
    for i, clip in enumerate(labels):
        level = clip.sentiment + 3
        answers[clip.video_name] = ("I can't tell" if i % 3 == 2 else
                                    phrases[level] if i % 3 == 0 else phrases[(level + 1) % 7])
    scores = score_through_lmms(load_task_yaml(folder / "emosign_sentiment.yaml"), answers.get)

    rows = [{"video_name": n, "prediction": answers[n]} for n in names]
    for task in SCORED_TASKS["sentiment"]:
        expected = evaluate_cli(task, rows, tmp_path, labels_file)
        assert scores[f"{task}_wAcc"] == pytest.approx(100 * expected["balanced_accuracy"])
        assert scores[f"{task}_wF1"] == pytest.approx(100 * expected["weighted_f1"])
        assert scores[f"{task}_acc"] == pytest.approx(100 * expected["accuracy"])
        unreadable = sum(i % 3 == 2 for i in range(len(names)))
        assert scores[f"{task}_parse_rate"] == pytest.approx(100 * (1 - unreadable / len(names)))
    assert 0 < scores["sentiment_7_acc"] < 100


def test_joint_scores_equal_emosign_evaluate(folder, labels_file, tmp_path):
    labels = load_labels(labels_file)
    answers = {}
    for i, clip in enumerate(labels):
        intensities = [min(3, v + (i % 2)) for v in clip.intensities]
        fields = {"sentiment": clip.sentiment if i % 4 else -clip.sentiment,
                  **dict(zip(vocab.EMOTION_NAMES, intensities)), "explanation": "Raised brows."}
        answers[clip.video_name] = "Sorry." if i == 3 else json.dumps(fields)
    scores = score_through_lmms(load_task_yaml(folder / "emosign_joint.yaml"), answers.get)
    assert set(scores) == {m.name for m in task_metrics("joint")}

    def intensity_rows(present_only: bool) -> list[dict]:
        rows = []
        for i, clip in enumerate(labels):
            values = json.loads(answers[clip.video_name]) if i != 3 else None
            row = {"video_name": clip.video_name}
            for e in vocab.EMOTION_NAMES:
                v = "?" if values is None else values[e]
                row[e] = v if values is None or not present_only else int(v > 0)
            rows.append(row)
        return rows

    presence = evaluate_cli("emotion_presence", intensity_rows(True), tmp_path, labels_file)
    assert scores["emotion_presence_microF1"] == pytest.approx(100 * presence["micro_f1"])
    assert scores["emotion_presence_macroF1"] == pytest.approx(100 * presence["macro_f1"])
    intensity = evaluate_cli("emotion_intensity", intensity_rows(False), tmp_path, labels_file)
    assert scores["emotion_intensity_MAE"] == pytest.approx(intensity["mae"])
    sentiment = evaluate_cli("sentiment_3", [
        {"video_name": c.video_name,
         "prediction": "?" if i == 3 else vocab.sentiment_3(json.loads(answers[c.video_name])["sentiment"])}
        for i, c in enumerate(labels)], tmp_path, labels_file)
    assert scores["sentiment_3_wAcc"] == pytest.approx(100 * sentiment["balanced_accuracy"])
    assert scores["sentiment_3_parse_rate"] == pytest.approx(100 * (1 - 1 / len(labels)))
    # Parse rates count the scored clips only: the 8 of the single expression set.
    single = [i for i, c in enumerate(labels) if c.video_name in SYNTHETIC_SINGLE]
    refused = int(3 in single)
    ties = sum(1 for i in single if i != 3 and _top_tied(json.loads(answers[labels.clips[i].video_name])))
    assert scores["emotion_single_parse_rate"] == pytest.approx(100 * (1 - (refused + ties) / len(single)))


def _top_tied(answer: dict) -> bool:
    merged = {**{e: answer[e] for e in vocab.EMOTION_NAMES if e not in ("joy", "excited")},
              "happiness": max(answer["joy"], answer["excited"])}
    top = max(merged.values())
    return top > 0 and sum(v == top for v in merged.values()) > 1


def test_a_limited_run_is_scored_on_the_clips_it_ran(folder, labels_file):
    # lmms-eval --limit N: only the first N documents reach the aggregation.
    config = load_task_yaml(folder / "emosign_sentiment.yaml")
    docs = load_docs(config)[:5]
    per_doc = [config["process_results"](doc, ["Somewhat Negative"]) for doc in docs]
    metric = next(m for m in config["metric_list"] if m["metric"] == "sentiment_3_acc")
    score = metric["aggregation"]([values["sentiment_3_acc"] for values in per_doc])
    names = [d["video_name"] for d in docs]
    expected = evaluate("sentiment_3", {n: "negative" for n in names}, labels_file=labels_file,
                        clips=names, n_boot=10)
    assert expected["n"] == 5
    assert score == pytest.approx(100 * expected["metrics"]["accuracy"])


def test_no_readable_answer_gives_nan_not_a_crash(folder):
    import math

    scores = score_through_lmms(load_task_yaml(folder / "emosign_emotion.yaml"), lambda name: "")
    assert scores["emotion_single_parse_rate"] == 0
    assert math.isnan(scores["emotion_single_wAcc"])
    assert len(SYNTHETIC_SINGLE) == len(load_docs(load_task_yaml(folder / "emosign_emotion.yaml")))


# --- the paper's protocol (--protocol paper) ------------------------------------------------


def write_captions(labels_file: Path, path: Path) -> Path:
    path.write_text("utterance_id,caption\n" + "".join(
        f"{c.utterance_id},Caption {c.utterance_id}.\n" for c in load_labels(labels_file)))
    return path


@pytest.fixture
def paper_folder(labels_file, videos, tmp_path) -> Path:
    return export_lmms_eval(tmp_path / "lmms-paper", video_dir=videos, labels_file=labels_file,
                            protocol="paper", with_caption=True,
                            captions_file=write_captions(labels_file, tmp_path / "captions.csv"))


def test_the_paper_export_asks_the_papers_questions(paper_folder, labels_file):
    paper_names = [e.prompt_name for e in vocab.EMOTIONS]
    tasks = sorted(p.stem for p in paper_folder.glob("*.yaml"))
    # The task names are the same as the default export's.
    assert tasks == sorted(f"emosign_{t}{c}" for t in HARNESS_TASKS for c in ("", "_caption"))
    for path in paper_folder.glob("*.yaml"):
        assert "'paper' protocol" in path.read_text().splitlines()[0]
        config = load_task_yaml(path)
        docs = load_docs(config)
        assert docs and all(d["protocol"] == "paper" for d in docs)
        doc = docs[1]
        text = config["doc_to_text"](doc, {"pre_prompt": "", "post_prompt": ""})
        prompt = PAPER_VIDEO_FILE_PROMPTS[doc["prompt_task"]]
        caption = f"Caption {doc['utterance_id']}." if path.stem.endswith("_caption") else None
        assert text == prompt.render(fps=0, caption=caption, video_name=doc["video_name"])
        assert text != VIDEO_FILE_PROMPTS[doc["prompt_task"]].render(fps=0, caption=caption)
        # The model samples the frames itself: no rate, no timestamps, nothing left unfilled.
        assert "{" + "fps}" not in text and "frames per second" not in text
        assert "seconds" not in text and "{video_name}" not in text
        assert ("Caption" in text) == (caption is not None)
        assert "order matters" in text and "American Sign Language" in text
        if doc["prompt_task"] == "emotion":
            # One label in square brackets, the ten as the paper spells them, no Neutral.
            assert "square brackets" in text and f"[{paper_names[0]}]" in text
            assert all(name in text for name in paper_names)
            assert "neutral" not in text.lower()
        if doc["prompt_task"] == "joint":
            skeleton = json.loads(text[text.index("Format: ") + len("Format: "):])
            assert list(skeleton) == ["filename", "Sentiment", *paper_names, "QA"]
            assert skeleton["filename"] == doc["video_name"]
            assert all(isinstance(v, str) for v in skeleton.values())
            assert text.startswith("You are an expert on human emotions.")
        if doc["prompt_task"] == "sentiment":
            phrases = [level.phrase for level in vocab.SENTIMENT_LEVELS]
            positions = [text.index(phrase) for phrase in phrases]
            assert positions == sorted(positions) and "7-point" in text
    readme = (paper_folder / "README.md").read_text()
    assert "--protocol paper" in readme and "`paper` protocol" in readme
    # Frame sampling is the lmms-eval model's own setting; the README names it.
    assert "max_num_frames" in readme and "max_frames_num" in readme
    assert "no frame cap" in readme


def test_the_default_export_is_unchanged_and_older_documents_mean_emosign(folder):
    for prompt_task in HARNESS_TASKS:
        path = folder / f"emosign_{prompt_task}.yaml"
        assert "'emosign' protocol" in path.read_text().splitlines()[0]
        config = load_task_yaml(path)
        docs = load_docs(config)
        assert all(d["protocol"] == "emosign" for d in docs)
        expected = VIDEO_FILE_PROMPTS[prompt_task].render(fps=0)
        assert all(config["doc_to_text"](d, {}) == expected for d in docs)
        older = {k: v for k, v in docs[0].items() if k != "protocol"}  # an export before --protocol
        assert config["doc_to_text"](older, {}) == expected
        with pytest.raises(ValueError, match=f"clip '{docs[0]['video_name']}': unknown protocol 'papr'"):
            config["doc_to_text"]({**docs[0], "protocol": "papr"}, {})
    readme = (folder / "README.md").read_text()
    assert "--protocol emosign" in readme and "at most 48 frames" in readme


def test_answers_in_the_papers_formats_score_like_emosign_evaluate(paper_folder, labels_file, tmp_path):
    labels = load_labels(labels_file)
    prompt_name = {e.name: e.prompt_name for e in vocab.EMOTIONS}

    # Emotion: one label in square brackets; joy and excited both mean happiness.
    emotion_answers, emotion_rows = {}, []
    for i, clip in enumerate(labels.subset("single")):
        label = clip.single_label
        if i == 2:
            answer, meant = "I cannot tell.", "?"
        elif label == "happiness":
            answer, meant = f"[{vocab.HAPPINESS_SOURCES[i % 2]}]", "happiness"
        elif label == vocab.NEUTRAL or i % 3 == 0:  # no neutral in the paper's list
            answer, meant = f"[{prompt_name['surprise_neg']}]", "surprise_neg"
        else:
            answer, meant = f"The signer frowns.\n\n[{prompt_name[label]}]", label
        emotion_answers[clip.video_name] = answer
        emotion_rows.append({"video_name": clip.video_name, "prediction": meant})
    assert "[surprise (negative)]" in emotion_answers.values()
    scores = score_through_lmms(load_task_yaml(paper_folder / "emosign_emotion.yaml"),
                                emotion_answers.get)
    expected = evaluate_cli("emotion_single", emotion_rows, tmp_path, labels_file)
    assert scores["emotion_single_wAcc"] == pytest.approx(100 * expected["balanced_accuracy"])
    assert scores["emotion_single_wF1"] == pytest.approx(100 * expected["weighted_f1"])
    assert scores["emotion_single_acc"] == pytest.approx(100 * expected["accuracy"])
    assert 0 < scores["emotion_single_acc"] < 100
    assert scores["emotion_single_parse_rate"] == pytest.approx(100 * (1 - 1 / len(emotion_rows)))

    # Sentiment: the seven phrases; a bare "Negative" is -2 on the 7-point scale.
    phrases = [level.phrase for level in vocab.SENTIMENT_LEVELS]
    sentiment_answers = {c.video_name: phrases[(c.sentiment + 3 + i % 2) % 7]
                         for i, c in enumerate(labels)}
    assert "Negative" in sentiment_answers.values()
    scores = score_through_lmms(load_task_yaml(paper_folder / "emosign_sentiment_caption.yaml"),
                                sentiment_answers.get)
    rows = [{"video_name": c.video_name,
             "prediction": vocab.sentiment_7(phrases.index(sentiment_answers[c.video_name]) - 3)}
            for c in labels]
    for task in SCORED_TASKS["sentiment"]:
        expected = evaluate_cli(task, rows, tmp_path, labels_file)
        assert scores[f"{task}_wAcc"] == pytest.approx(100 * expected["balanced_accuracy"])
        assert scores[f"{task}_acc"] == pytest.approx(100 * expected["accuracy"])
        assert scores[f"{task}_parse_rate"] == 100
    assert 0 < scores["sentiment_7_acc"] < 100

    # Joint: the paper's keys, every value a string, in a fenced block.
    joint_answers, numbers = {}, {}
    for i, clip in enumerate(labels):
        intensities = [min(3, v + (i % 2)) for v in clip.intensities]
        sentiment = clip.sentiment if i % 4 else -clip.sentiment
        numbers[clip.video_name] = (sentiment, intensities)
        answer = {"filename": clip.video_name, "Sentiment": str(sentiment),
                  **{prompt_name[e]: str(v) for e, v in zip(vocab.EMOTION_NAMES, intensities)},
                  "QA": "The brows go up. The signs are fast."}
        joint_answers[clip.video_name] = "```json\n" + json.dumps(answer) + "\n```"
    scores = score_through_lmms(load_task_yaml(paper_folder / "emosign_joint.yaml"),
                                joint_answers.get)
    assert set(scores) == {m.name for m in task_metrics("joint")}
    for task in ("sentiment_7", "sentiment_3"):
        to_label = vocab.sentiment_7 if task == "sentiment_7" else vocab.sentiment_3
        expected = evaluate_cli(task, [{"video_name": n, "prediction": to_label(s)}
                                       for n, (s, _) in numbers.items()], tmp_path, labels_file)
        assert scores[f"{task}_wAcc"] == pytest.approx(100 * expected["balanced_accuracy"])
        assert scores[f"{task}_parse_rate"] == 100
    intensity_rows = [{"video_name": n, **dict(zip(vocab.EMOTION_NAMES, v))}
                      for n, (_, v) in numbers.items()]
    intensity = evaluate_cli("emotion_intensity", intensity_rows, tmp_path, labels_file)
    assert scores["emotion_intensity_MAE"] == pytest.approx(intensity["mae"])
    presence = evaluate_cli("emotion_presence", [
        {k: (int(v > 0) if k != "video_name" else v) for k, v in row.items()}
        for row in intensity_rows], tmp_path, labels_file)
    assert scores["emotion_presence_microF1"] == pytest.approx(100 * presence["micro_f1"])
    assert scores["emotion_intensity_parse_rate"] == 100


def test_an_unknown_protocol_is_one_clear_error(labels_file, videos, tmp_path, capsys):
    with pytest.raises(ValueError, match=r"unknown protocol 'papr'; choose one of \['emosign', 'paper'\]"):
        export_lmms_eval(tmp_path / "a", video_dir=videos, labels_file=labels_file, protocol="papr")
    with pytest.raises(SystemExit) as exit:
        main(["export-lmms-eval", str(tmp_path / "a"), "--video-dir", str(videos),
              "--labels-file", str(labels_file), "--protocol", "papr"])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert "error: argument --protocol: invalid choice: 'papr'" in err and "Traceback" not in err
    assert not (tmp_path / "a").exists()
    assert main(["export-lmms-eval", str(tmp_path / "a"), "--video-dir", str(videos),
                 "--labels-file", str(labels_file), "--protocol", "paper"]) == 0
    assert "protocol paper" in capsys.readouterr().out
    docs = load_docs(load_task_yaml(tmp_path / "a" / "emosign_joint.yaml"))
    assert {d["protocol"] for d in docs} == {"paper"}


# --- bad input ------------------------------------------------------------------------------


def test_a_missing_video_is_named(labels_file, videos, tmp_path):
    clip = load_labels(labels_file).clips[2]
    (videos / f"{clip.utterance_id}.mp4").unlink()
    with pytest.raises(FileNotFoundError, match=clip.video_name):
        export_lmms_eval(tmp_path / "lmms", video_dir=videos, labels_file=labels_file)
    assert not (tmp_path / "lmms").exists()


def test_refusals(labels_file, videos, tmp_path, capsys):
    with pytest.raises(ValueError, match="captions"):
        export_lmms_eval(tmp_path / "a", video_dir=videos, labels_file=labels_file, with_caption=True)
    captions = tmp_path / "captions.csv"
    captions.write_text("utterance_id,caption\n")
    with pytest.raises(ValueError, match="no caption"):
        export_lmms_eval(tmp_path / "a", video_dir=videos, labels_file=labels_file,
                         with_caption=True, captions_file=captions)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("keep")
    assert main(["export-lmms-eval", str(busy), "--video-dir", str(videos),
                 "--labels-file", str(labels_file)]) == 2
    assert "not empty" in capsys.readouterr().err
    # Not written by emosign: refused even with --overwrite, nothing lost.
    assert main(["export-lmms-eval", str(busy), "--video-dir", str(videos),
                 "--labels-file", str(labels_file), "--overwrite"]) == 2
    assert "not written by emosign export-lmms-eval" in capsys.readouterr().err
    assert (busy / "notes.txt").read_text() == "keep"


def test_the_export_never_replaces_the_videos_or_labels(labels_file, videos, capsys):
    for out in (videos, videos.parent):
        assert main(["export-lmms-eval", str(out), "--video-dir", str(videos),
                     "--labels-file", str(labels_file), "--overwrite"]) == 2
        assert "which this reads" in capsys.readouterr().err
    assert len(list(videos.glob("*.mp4"))) == len(load_labels(labels_file)) and labels_file.is_file()


def test_on_the_real_labels(real_labels, tmp_path):
    labels = load_labels(real_labels)
    videos = tmp_path / "videos"
    videos.mkdir()
    for clip in labels:  # the lookup needs only the files to exist
        (videos / f"{clip.utterance_id}.mp4").touch()
    folder = export_lmms_eval(tmp_path / "lmms", video_dir=videos, labels_file=real_labels)
    sizes = {p.stem: len(load_docs(load_task_yaml(p))) for p in folder.glob("*.yaml")}
    assert sizes == {"emosign_joint": 200, "emosign_sentiment": 200,
                     "emosign_emotion": len(labels.subset("single"))}
    assert len(labels.subset("single")) == 140


# --- lmms-eval's logged samples, scored with intervals --------------------------------------


def write_samples(folder: Path, out: Path, prompt: str, answer_of, *, limit: int | None = None) -> Path:
    """A samples file as lmms-eval --log_samples writes it: per doc, the metrics' values."""
    config = load_task_yaml(folder / f"emosign_{prompt}.yaml")
    docs = load_docs(config)[:limit]
    path = out / "qwen__qwen2.5-vl-7b" / f"20261123_101010_samples_emosign_{prompt}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for i, doc in enumerate(docs):
            answer = answer_of(doc["video_name"])
            values = config["process_results"](doc, [answer])
            f.write(json.dumps({"doc_id": i, "target": doc["video_name"], "filtered_resps": answer,
                                **values, "input": "..."}) + "\n")
    return path


def test_logged_samples_are_scored_with_intervals_and_reported(folder, labels_file, tmp_path, capsys):
    from emosign.harness.lmms_eval_scores import score_samples
    from emosign.records import read_record
    from emosign.report import collect_results

    labels = load_labels(labels_file)
    phrases = [level.phrase for level in vocab.SENTIMENT_LEVELS]
    answers = {c.video_name: "no idea" if i == 0 else phrases[(c.sentiment + 3 + i % 2) % 7]
               for i, c in enumerate(labels)}
    out = tmp_path / "lmms-results"
    write_samples(folder, out, "sentiment", answers.get)
    write_samples(folder, out, "emotion", lambda name: "Sadness", limit=4)
    lmms_scores = score_through_lmms(load_task_yaml(folder / "emosign_sentiment.yaml"), answers.get)

    results = score_samples(out, labels_file=labels_file, n_boot=200)
    assert json.loads((out / "emosign_results.json").read_text())["rows"] == results["rows"]
    assert read_record(out / "emosign_results.json").kind == "lmms-eval-score"
    by_task = {(r["prompt"], r["task"]): r for r in results["rows"]}
    row = by_task[("sentiment", "sentiment_3")]
    assert row["model"] == "qwen__qwen2.5-vl-7b" and (row["answered"], row["parsed"]) == (12, 11)
    assert 100 * row["metrics"]["balanced_accuracy"] == pytest.approx(lmms_scores["sentiment_3_wAcc"])
    run = next(r for r in results["runs"] if r["task"] == "sentiment")
    low, high = run["scores"]["sentiment_3"]["evaluation"]["ci"]["intervals"]["balanced_accuracy"]
    assert low <= row["metrics"]["balanced_accuracy"] <= high and low < high
    # --limit 4: four clips ran, and only they are scored.
    limited = by_task[("emotion", "emotion_single")]
    assert (limited["n"], limited["answered"]) == (len(SYNTHETIC_SINGLE), 4)
    assert next(r for r in results["runs"] if r["task"] == "emotion")["scores"]["emotion_single"][
        "evaluation"]["n"] == 4

    summary = out / "qwen__qwen2.5-vl-7b" / "20261123_101010_results.json"
    summary.write_text(json.dumps({"results": {}, "configs": {}}))  # lmms-eval's own
    collected = collect_results([out])
    systems = [s for s in collected.systems if s.origin == "mllm"]
    assert {s.task for s in systems} == {"sentiment_7", "sentiment_3", "emotion_single"}
    assert all(s.intervals for s in systems)
    assert collected.missing == ()  # the summary is accounted for by emosign_results.json
    (out / "emosign_results.json").unlink()
    with pytest.raises(FileNotFoundError, match="lmms-eval's summary"):
        collect_results([summary])
    assert main(["lmms-eval-score", str(out), "--labels-file", str(labels_file), "--n-boot", "50"]) == 0
    assert "qwen__qwen2.5-vl-7b" in capsys.readouterr().out


def test_bad_samples_are_named(folder, labels_file, tmp_path):
    from emosign.harness.lmms_eval_scores import score_samples

    with pytest.raises(FileNotFoundError, match="--log_samples"):
        score_samples(tmp_path, labels_file=labels_file)
    path = write_samples(folder, tmp_path / "out", "sentiment", lambda name: "Neutral")
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines + [lines[1]]) + "\n")
    with pytest.raises(ValueError, match=f"line {len(lines) + 1}: clip .* appears twice"):
        score_samples(tmp_path / "out", labels_file=labels_file)
    bad = json.loads(lines[2])
    for value in bad.values():
        if isinstance(value, dict):
            value["video_name"] = "../not-a-clip"
    path.write_text("\n".join(lines[:2] + [json.dumps(bad)]) + "\n")
    with pytest.raises(ValueError, match="line 3: clip '../not-a-clip' is not in the label file"):
        score_samples(tmp_path / "out", labels_file=labels_file)
    assert not (tmp_path / "out" / "emosign_results.json").exists()


def test_the_protocol_of_logged_samples_reaches_the_scores_and_the_report(
    folder, paper_folder, labels_file, tmp_path
):
    from emosign.harness.lmms_eval_scores import score_samples
    from emosign.report import collect_results

    runs = {}
    for name, exported in (("default", folder), ("paper", paper_folder)):
        out = tmp_path / f"lmms-{name}"
        write_samples(exported, out, "sentiment", lambda clip: "Somewhat Negative")
        [run] = score_samples(out, labels_file=labels_file, n_boot=50)["runs"]
        runs[name] = run
    assert (runs["default"]["protocol"], runs["paper"]["protocol"]) == ("emosign", "paper")
    # Two runs of one model in two protocols are two systems in the report.
    names = {s.system for s in collect_results([tmp_path / "lmms-default", tmp_path / "lmms-paper"])
             .systems if s.origin == "mllm" and s.task == "sentiment_3"}
    assert names == {"qwen__qwen2.5-vl-7b (video, sentiment prompt)",
                     "qwen__qwen2.5-vl-7b (video, sentiment prompt, paper protocol)"}


def test_samples_of_two_protocols_in_one_file_are_refused_and_older_ones_have_none(
    folder, labels_file, tmp_path
):
    from emosign.harness.lmms_eval_scores import score_samples

    path = write_samples(folder, tmp_path / "out", "sentiment", lambda clip: "Neutral")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for value in lines[1].values():
        if isinstance(value, dict):
            value["protocol"] = "paper"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    with pytest.raises(ValueError, match="line 2: .* another protocol"):
        score_samples(tmp_path / "out", labels_file=labels_file, n_boot=50)
    for line in lines:  # as logged by a folder exported before protocols were recorded
        for value in line.values():
            if isinstance(value, dict):
                value.pop("protocol", None)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    [run] = score_samples(tmp_path / "out", labels_file=labels_file, n_boot=50)["runs"]
    assert run["protocol"] is None


@pytest.mark.parametrize("hostile, refused", [
    ({"problem": ["x"]}, "problem"),
    ({"problem": {}}, "problem"),
    ({"problem": "not-a-kind"}, "problem"),
    ({"cells": ["x"]}, "cells"),
    ({"cells": {"prediction": {"$ne": 1}}}, None),
    ({"cells": {"prediction": ["Neutral"]}}, None),
    ({"cells": {"prediction": True}}, None),
    ({"cells": {"prediction": "banana"}}, None),
])
def test_hostile_sample_shapes_are_one_line_or_counted_unparseable_alike(
    hostile, refused, folder, labels_file, tmp_path, capsys
):
    # Issue 22, item 7: `"problem": ["x"]` or `{}` raised TypeError (a traceback), and cells
    # such as {"prediction": {"$ne": 1}} gave a parse rate of 100% while the evaluation
    # listed every one as unparseable. One reader of samples, one count.
    from fakes import one_error_line

    from emosign.harness.lmms_eval_scores import score_samples

    out = tmp_path / "out"
    path = write_samples(folder, out, "sentiment", lambda name: "Neutral", limit=5)
    lines = []
    for line in path.read_text().splitlines():
        sample = json.loads(line)
        for value in sample.values():
            if isinstance(value, dict) and "cells" in value:
                value.update(hostile)
        lines.append(json.dumps(sample))
    path.write_text("\n".join(lines) + "\n")
    if refused:
        capsys.readouterr()  # the dataset builder's progress
        assert main(["lmms-eval-score", str(out), "--labels-file", str(labels_file),
                     "--n-boot", "20"]) == 2
        line = one_error_line(capsys.readouterr().err)
        assert f"{path}, line 1" in line and refused in line
        return
    results = score_samples(out, labels_file=labels_file, n_boot=20)
    for run in results["runs"]:
        for scored, score in run["scores"].items():
            parse, evaluation = score["parse"], score["evaluation"]
            assert parse["answered"] == 5, scored
            listed = 5 if evaluation is None else (
                len(evaluation["predictions"]["unparseable"])
                + len(evaluation["predictions"]["missing"]))
            assert parse["unparseable"] == listed, (scored, parse, evaluation and evaluation["predictions"])
    assert all(row["parse_rate"] == 0 for row in results["rows"]), results["rows"]
