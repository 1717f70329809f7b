"""The emosign command (emosign.cli)."""

from __future__ import annotations

import csv
import io
import json
import shlex
import subprocess
import sys
import textwrap

import pytest
from conftest import SYNTHETIC_ROWS, SYNTHETIC_SINGLE, label_row, write_label_file

from emosign import vocab
from emosign.cli import main


def test_info_prints_the_summary(labels_file, capsys):
    assert main(["info", "--labels-file", str(labels_file)]) == 0
    out = capsys.readouterr().out
    assert f"{len(SYNTHETIC_ROWS)} clips" in out
    assert "clips per signer" in out and "Ben" in out
    lines = {line.split()[0]: line.split()[-1] for line in out.splitlines() if line.startswith("  ")}
    assert lines["Cory"] == "4" and lines["Rachel"] == "3"
    assert "HP     happiness" in out and "worry+sadness" in out
    assert "emotion present" in out


def test_export_single_expression_csv(labels_file, tmp_path, capsys):
    code = main(["export-labels", "--config", "single_expression", "--labels-file", str(labels_file),
                 "--cache-dir", str(tmp_path)])
    assert code == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["video_name", "label"]
    assert dict(rows[1:]) == SYNTHETIC_SINGLE


def test_export_clips_jsonl(labels_file, tmp_path, capsys):
    main(["export-labels", "--config", "clips", "--format", "jsonl", "--labels-file", str(labels_file),
          "--cache-dir", str(tmp_path)])
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(records) == len(SYNTHETIC_ROWS)
    assert list(records[0])[0] == "video_name"
    assert records[0]["sentiment_7"] == "moderately_positive"
    assert set(vocab.EMOTION_NAMES) <= set(records[0])
    assert "video" not in records[0] and "caption" not in records[0]
    # Every label of the clips config, the ids included.
    assert records[0]["signer"] == "Ben" and records[0]["utterance_id"] == "1001"


def test_bad_label_file_is_one_clear_error(tmp_path, capsys):
    path = write_label_file(tmp_path / "bad.csv", [label_row("Cory_1", 9)])
    assert main(["info", "--labels-file", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emosign: error:") and "row 1 (Cory_1)" in err and "Traceback" not in err


def test_console_script_runs(labels_file):
    result = subprocess.run(
        [sys.executable, "-m", "emosign.cli", "info", "--labels-file", str(labels_file)],
        capture_output=True, text=True, check=True,
    )
    assert "sentiment" in result.stdout


def test_repro_command_on_the_real_labels(real_labels, capsys):
    assert main(["repro", "--labels-file", str(real_labels)]) == 0
    out = capsys.readouterr().out
    assert "reproduce do" in out and "Krippendorff" in out


def test_repro_command_fails_on_a_wrong_file(labels_file, capsys):
    assert main(["repro", "--labels-file", str(labels_file)]) == 1  # 12 clips, not 200


def test_cues_command(labels_file, capsys):
    assert main(["cues", "--labels-file", str(labels_file), "--by", "sentiment_3", "--ceiling"]) == 0
    out = capsys.readouterr().out
    assert "negative" in out and "human ceiling" in out and "cue_f1" in out


def test_mllm_score_of_a_missing_directory_is_one_clear_error(tmp_path, labels_file, capsys):
    code = main(["mllm", "score", str(tmp_path / "nothing"), "--labels-file", str(labels_file)])
    assert code == 2 and "Traceback" not in capsys.readouterr().err


# --- what the tables print --------------------------------------------------------------------


def _metric_row(out: str, name: str) -> list[str]:
    (line,) = [line for line in out.splitlines() if line.split()[:1] == [name]]
    return line.split()


def test_evaluate_table_prints_counts_and_distances_as_they_are(labels_file, tmp_path, capsys):
    from emosign.labels import read_labels

    labels = read_labels(labels_file)
    explanations = tmp_path / "explanations.csv"
    explanations.write_text("video_name,prediction\n" + "".join(
        f"{c.video_name},raised eyebrows and a frown with fast signing\n" for c in labels))
    assert main(["evaluate", "--task", "cue_grounding", "--predictions", str(explanations),
                 "--labels-file", str(labels_file), "--n-boot", "20", "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert main(["evaluate", "--task", "cue_grounding", "--predictions", str(explanations),
                 "--labels-file", str(labels_file), "--n-boot", "20"]) == 0
    out = capsys.readouterr().out
    # cues_named is a count (3 cue categories here), not a fraction: never "300.00".
    named = _metric_row(out, "cues_named")
    assert named[1] == f"{result['metrics']['cues_named']:.3f}" == "3.000"
    # Beside each metric: its chance level and the human ceiling, from the result.
    header = [line for line in out.splitlines() if line.startswith("metric")][0]
    assert header.split()[-2:] == ["chance", "human"]
    f1 = _metric_row(out, "cue_f1")
    assert f1[-2:] == [f"{100 * result['chance']['cue_f1']:.2f}",
                       f"{100 * result['human_ceiling']['cue_f1']:.2f}"]
    assert named[-1] == f"{result['human_ceiling']['cues_named']:.3f}"
    assert "cues_named as they are (not percentages)" in out


def test_soft_label_scores_alone_are_enough(labels_file, tmp_path, capsys):
    # The README's soft-label example: score_<class> columns and no prediction column.
    classes = vocab.SINGLE_EXPRESSION_NAMES
    rows = []
    for name, label in SYNTHETIC_SINGLE.items():
        scores = [1 - 0.01 * (len(classes) - 1) if c == label else 0.01 for c in classes]
        rows.append(",".join([name, *(f"{s:.6f}" for s in scores)]))
    path = tmp_path / "soft.csv"
    path.write_text("video_name," + ",".join(f"score_{c}" for c in classes) + "\n" + "\n".join(rows) + "\n")
    common = ["--task", "emotion_single", "--predictions", str(path), "--labels-file", str(labels_file),
              "--n-boot", "20"]
    assert main(["evaluate", *common, "--target", "soft"]) == 0
    out = capsys.readouterr().out
    assert float(_metric_row(out, "cross_entropy")[1]) < 1  # nats, printed as they are
    # On the majority target, each clip's class is its top score: all right here.
    assert main(["evaluate", *common, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["metrics"]["accuracy"] == 1.0


def test_compare_prints_percentage_points_and_says_what_p_is(labels_file, tmp_path, capsys):
    a = tmp_path / "a.csv"
    a.write_text("video_name,prediction\n" + "".join(f"{k},{v}\n" for k, v in SYNTHETIC_SINGLE.items()))
    b = tmp_path / "b.csv"
    b.write_text("video_name,prediction\n" + "".join(f"{k},neutral\n" for k in SYNTHETIC_SINGLE))
    assert main(["compare", "--task", "emotion_single", "--a", str(a), "--b", str(b),
                 "--labels-file", str(labels_file), "--n-boot", "50"]) == 0
    out = capsys.readouterr().out
    right_b = sum(label == "neutral" for label in SYNTHETIC_SINGLE.values())
    difference = 100 * (1 - right_b / len(SYNTHETIC_SINGLE))
    assert _metric_row(out, "accuracy")[1] == f"{difference:.2f}"
    assert "percentage points" in out
    assert "p: paired permutation test" in out and "interval: inversion of the same" in out
    assert "p_holm: Holm's step-down adjustment" in out
    # McNemar for accuracy; refused, naming the option, for another metric or with clusters.
    common = ["compare", "--task", "emotion_single", "--a", str(a), "--b", str(b),
              "--labels-file", str(labels_file)]
    assert main([*common, "--test", "mcnemar"]) == 0
    out = capsys.readouterr().out
    assert "McNemar's exact test" in out and _metric_row(out, "accuracy")[1] == f"{difference:.2f}"
    assert main([*common, "--test", "mcnemar", "--metrics", "macro_f1"]) == 2
    err = capsys.readouterr().err
    assert "--test mcnemar is exact for accuracy only" in err and "use --test permutation" in err
    assert main([*common, "--test", "mcnemar", "--cluster", "source"]) == 2
    assert "error: --cluster source: McNemar's test" in capsys.readouterr().err
    # --p-value with the bootstrap is refused in the command's terms, not the library's.
    assert main([*common, "--test", "bootstrap", "--p-value", "mid"]) == 2
    err = capsys.readouterr().err
    assert "error: --p-value mid chooses" in err and "leave --p-value out" in err
    assert "p_value" not in err
    assert main([*common, "--test", "bootstrap", "--cluster", "signer", "--format", "json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["test"]["method"] == "bootstrap" and record["test"]["cluster"] == "signer"
    assert all(row["agrees"] for row in record["comparison"].values())
    assert "understates the spread" in record["test"]["p_value_method"]
    # Several tasks are one family: p_holm over every (task, metric).
    assert main(["compare", "--task", "emotion_single", "sentiment_3", "--a", str(a), "--b", str(b),
                 "--labels-file", str(labels_file), "--format", "json", "--on-invalid", "wrong"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["task"] for r in records] == ["emotion_single", "sentiment_3"]
    assert "8 (task, metric) pairs" in records[0]["test"]["p_holm_method"]
    from emosign.stats import holm
    p = [row["p_value"] for r in records for row in r["comparison"].values()]
    assert [row["p_holm"] for r in records for row in r["comparison"].values()] == pytest.approx(list(holm(p)))


def test_cues_by_emotion_counts_the_descriptions_of_its_clips(labels_file, capsys):
    assert main(["cues", "--labels-file", str(labels_file), "--by", "single_label"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    n = len(SYNTHETIC_SINGLE)
    assert first.startswith(f"% of the {3 * n} cue descriptions ({n} clips)")


# --- --help ------------------------------------------------------------------------------------

DOCUMENTED_COMMANDS = ("info", "export-labels", "evaluate", "compare", "benchmark", "export-hub",
                       "export-lmms-eval", "repro", "cues")


def _subparser(command: str):
    from emosign.cli import build_parser

    parser = build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    return sub.choices[command]


@pytest.mark.parametrize("command", DOCUMENTED_COMMANDS)
def test_every_option_says_what_it_does_and_its_default(command):
    parser = _subparser(command)
    for action in parser._actions:
        if action.dest == "help":
            continue
        name = "/".join(action.option_strings) or action.dest
        assert action.help, f"{command} {name} has no help"
        if action.option_strings:
            assert "default" in action.help or "required" in action.help, f"{command} {name}: {action.help}"


@pytest.mark.parametrize("command", DOCUMENTED_COMMANDS)
def test_every_command_ends_its_help_with_examples_that_parse(command):
    from emosign.cli import build_parser

    parser = _subparser(command)
    assert parser.description
    text = parser.format_help()
    examples = text[text.index("examples:\n"):].splitlines()[1:]
    assert examples
    for line in examples:
        words = shlex.split(line.split(">")[0])
        assert words[:2] == ["emosign", command]
        build_parser().parse_args(words[1:])  # every example is a valid command line


# --- a baseline of your own --------------------------------------------------------------------


def _registry_example() -> str:
    from emosign.baselines import registry

    doc = registry.__doc__
    block = doc[doc.index("Register your own"):].split("::\n", 1)[1]
    block = block[: block.index("\nand run it with")]
    return textwrap.dedent(block)


def test_a_registered_baseline_runs_from_the_command_line(labels_file, tmp_path, monkeypatch, capsys):
    from emosign.baselines import registry

    # The registry's own docstring example, as the user's module.
    (tmp_path / "mybaseline_cli_test.py").write_text(_registry_example())
    monkeypatch.chdir(tmp_path)
    import emosign.baselines.catalog  # noqa: F401  (the built-ins register now, in the real registry)
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))
    monkeypatch.delitem(sys.modules, "mybaseline_cli_test", raising=False)
    code = main(["benchmark", "--baseline-module", "mybaseline_cli_test", "--baselines", "my_majority",
                 "majority", "--tasks", "sentiment_3", "--labels-file", str(labels_file),
                 "--n-boot", "20", "--kfold-repeats", "0"])
    assert code == 0
    out = capsys.readouterr().out
    (mine,) = [line for line in out.splitlines() if line.split()[:1] == ["my_majority"]]
    (floor,) = [line for line in out.splitlines() if line.split()[:1] == ["majority"]]
    assert "my_majority" in registry.REGISTRY
    # The example is the built-in majority floor written again: the same row, number for number.
    assert mine.split()[1:] == floor.split()[1:]
    assert "33.33" in mine


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers run only on Linux")
def test_a_worker_killed_mid_benchmark_is_one_clear_error(labels_file, tmp_path, monkeypatch, capsys):
    from emosign.baselines import registry

    # A baseline whose fit kills its worker process, as the kernel's OOM killer would.
    (tmp_path / "killer_baseline_cli_test.py").write_text(textwrap.dedent("""
        import os
        from emosign.baselines.registry import Baseline, register

        class Killed:
            def fit(self, examples, y, classes):
                os._exit(137)

        register(Baseline("killed", "dies in fit", kind="floor", needs=frozenset({"labels"}),
                          learned=True, make=lambda seed: Killed()))
    """))
    monkeypatch.chdir(tmp_path)
    import emosign.baselines.catalog  # noqa: F401
    monkeypatch.setattr(registry, "REGISTRY", dict(registry.REGISTRY))
    monkeypatch.delitem(sys.modules, "killer_baseline_cli_test", raising=False)
    code = main(["benchmark", "--baseline-module", "killer_baseline_cli_test", "--baselines",
                 "killed", "majority", "--tasks", "sentiment_3", "--labels-file", str(labels_file),
                 "--n-boot", "20", "--kfold-repeats", "0", "--workers", "2", "--out", "bench"])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("emosign: error: a worker process stopped abruptly (killed, out of memory")
    assert "Traceback" not in err and not (tmp_path / "bench").exists()


def test_a_baseline_module_that_does_not_import_is_one_clear_error(labels_file, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    code = main(["benchmark", "--baseline-module", "no_such_module_here", "--labels-file", str(labels_file)])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("emosign: error: --baseline-module no_such_module_here: cannot import")


def test_a_baseline_module_that_fails_says_why(labels_file, tmp_path, monkeypatch, capsys):
    (tmp_path / "broken_baseline_cli_test.py").write_text("raise RuntimeError('no GPU here')\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "broken_baseline_cli_test", raising=False)
    code = main(["benchmark", "--baseline-module", "broken_baseline_cli_test",
                 "--labels-file", str(labels_file)])
    err = capsys.readouterr().err
    assert code == 2
    assert "--baseline-module broken_baseline_cli_test: importing it raised RuntimeError: no GPU here" in err


# Each command's options and the library function they are passed to, option dest -> parameter.
_OPTIONS_OF = [
    (["evaluate", "--task", "sentiment_3", "--predictions", "p.csv"], "emosign.metrics", "evaluate",
     {"target": "target", "ci": "ci", "n_boot": "n_boot", "seed": "seed", "on_invalid": "on_invalid"}),
    (["compare", "--task", "sentiment_3", "--a", "a.csv", "--b", "b.csv"], "emosign.metrics", "compare",
     {"ci": "ci", "n_boot": "n_boot", "seed": "seed", "on_invalid": "on_invalid", "test": "test",
      "cluster": "cluster", "n_perm": "n_perm", "p_value": "p_value"}),
    (["power", "--task", "sentiment_3"], "emosign.power", "power_report",
     {"metric": "metric", "power": "power", "alpha": "alpha", "agreement": "agreement",
      "spread": "spread", "sims": "n_sims", "n_boot": "n_boot", "seed": "seed", "cluster": "cluster",
      "icc": "icc"}),
    (["benchmark"], "emosign.baselines.benchmark", "run_benchmark",
     {"tasks": "tasks", "n_boot": "n_boot", "kfold_repeats": "kfold_repeats", "seed": "seed",
      "on_missing_video": "on_missing_video", "cache_dir": "cache_dir"}),
    (["lmms-eval-score", "out"], "emosign.harness.lmms_eval_scores", "score_samples",
     {"n_boot": "n_boot"}),
    (["mllm", "score", "runs"], "emosign.harness.runner", "score_run", {"n_boot": "n_boot"}),
    (["mllm", "run", "--model", "m", "--task", "joint", "--video-dir", "v"],
     "emosign.harness.runner", "run_mllm", {"out": "out", "protocol": "protocol"}),
]


@pytest.mark.parametrize("argv, module, function, options", _OPTIONS_OF,
                         ids=[" ".join(case[0][:2]) for case in _OPTIONS_OF])
def test_every_option_default_is_the_library_default(argv, module, function, options):
    import importlib
    import inspect

    from emosign.cli import build_parser

    args = build_parser().parse_args(argv)
    parameters = inspect.signature(getattr(importlib.import_module(module), function)).parameters
    for dest, parameter in options.items():
        library = parameters[parameter].default
        cli = getattr(args, dest)
        if isinstance(library, tuple):
            cli = tuple(cli)
        assert cli == library, f"{' '.join(argv[:2])} --{dest}: {cli!r} != {function}'s {library!r}"


@pytest.mark.parametrize("argv", [
    ["evaluate", "--task", "sentiment_3", "--predictions", "p.csv", "--n-boot"],
    ["compare", "--task", "sentiment_3", "--a", "a.csv", "--b", "b.csv", "--n-perm"],
    ["benchmark", "--n-boot"], ["mllm", "score", "runs", "--n-boot"], ["lmms-eval-score", "out", "--n-boot"],
])
def test_resamples_and_swap_patterns_are_bounded(argv, capsys):
    from emosign import _defaults
    from emosign.cli import build_parser

    assert getattr(build_parser().parse_args([*argv, str(_defaults.MAX_DRAWS)]), argv[-1][2:].replace("-", "_")) \
        == _defaults.MAX_DRAWS
    # A mistyped 10**11 would run for days: refused before anything is read.
    with pytest.raises(SystemExit):
        build_parser().parse_args([*argv, "100000000000"])
    assert "must be a whole number >= 1 and < 1000001" in capsys.readouterr().err


def test_the_version_and_the_help_need_no_heavy_import():
    code = ("import sys\nfrom emosign.cli import main\n"
            "try:\n    main(['--version'])\nexcept SystemExit as stop:\n    assert stop.code == 0\n"
            "print(sorted(m for m in ('pandas', 'datasets', 'sklearn', 'scipy') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    version, loaded = done.stdout.strip().splitlines()
    assert version.startswith("emosign ") and loaded == "[]"


# --- issue 22: every numeric option's error names the option --------------------------------


def _every_option():
    """(command, action) for every option of every `emosign` command."""
    import argparse

    from emosign.cli import build_parser

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    yield from walk(sub, (*path, name))
            elif action.option_strings:
                yield path, action

    yield from walk(build_parser(), ())


def test_no_numeric_option_takes_a_bare_int_or_float():
    # Issue 22, item 8: `power --seed -1` passed argparse's bare int and failed in the
    # library, naming no option. Every numeric option is one of _options' argument types,
    # whose refusal argparse prints after the option's name.
    bare = [(" ".join(path), action.option_strings[0]) for path, action in _every_option()
            if action.type in (int, float)]
    assert bare == []


@pytest.mark.parametrize("command", [
    ["power", "--task", "sentiment_3"],
    ["evaluate", "--task", "sentiment_3", "--predictions", "p.csv"],
    ["compare", "--task", "sentiment_3", "--a", "a.csv", "--b", "b.csv"],
    ["benchmark"],
])
@pytest.mark.parametrize("value", ["-1", "nan", "1.5", "1e999", "4294967296"])
def test_a_nonsensical_seed_is_refused_naming_the_option(command, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--seed", value])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "argument --seed: must be a whole number" in err and "Traceback" not in err


@pytest.mark.parametrize("argv, said", [
    (["evalute"], "did you mean evaluate?"),
    (["mllm", "scor"], "did you mean score?"),
    (["evaluate", "--task", "sentment_3", "--predictions", "p.csv"], "did you mean sentiment_3"),
    (["evaluate", "--task", "sentiment_3", "--predictons", "p.csv"],
     "unrecognized option: --predictons; did you mean --predictions?"),
    (["mllm", "run", "--modle", "m"], "did you mean --model?"),
])
def test_a_mistyped_command_choice_or_option_gets_the_closest(argv, said, capsys):
    with pytest.raises(SystemExit) as stop:
        main(argv)
    assert stop.value.code == 2
    assert said in capsys.readouterr().err


def test_an_option_of_another_command_is_refused_without_a_wrong_suggestion(capsys):
    with pytest.raises(SystemExit):
        main(["info", "--seed", "3"])
    err = capsys.readouterr().err
    assert "unrecognized option: --seed" in err and "did you mean" not in err


# --- every table fits 100 columns -------------------------------------------------------------


@pytest.fixture(scope="module")
def example_inputs(tmp_path_factory):
    from conftest import REAL_LABELS

    if not REAL_LABELS:
        pytest.skip("EMOSIGN_LABELS is not set")
    out = tmp_path_factory.mktemp("examples") / "ex"
    assert main(["examples", str(out), "--labels-file", REAL_LABELS]) == 0
    return out


def _lmms_eval_samples(out, labels_file) -> None:
    """lmms-eval's --log_samples output for the sentiment prompt, as its process_results
    writes it, with an answer per clip."""
    from emosign.harness.lmms_eval_task import process_results
    from emosign.labels import load_labels

    phrases = [level.phrase for level in vocab.SENTIMENT_LEVELS]
    path = out / "a-model-with-a-long-name__qwen2.5-vl-72b-instruct" / "2026_samples_emosign_sentiment.jsonl"
    path.parent.mkdir(parents=True)
    with path.open("w") as f:
        for i, clip in enumerate(load_labels(labels_file)):
            doc = {"video_name": clip.video_name, "prompt_task": "sentiment"}
            values = process_results(doc, [phrases[(clip.sentiment + 3 + i % 3) % 7]])
            f.write(json.dumps({"doc_id": i, **values}) + "\n")


def _example_commands(ex, labels, tmp_path):
    predictions = ex / "predictions"
    fast = ["--n-boot", "50"]
    for path in sorted(predictions.iterdir()):
        yield ["evaluate", "--task", path.name.split(".")[0], "--predictions", str(path), *fast]
    yield ["evaluate", "--task", "cue_grounding", "--predictions", str(ex / "explanations.csv"), *fast]
    pair = ["--a", str(predictions / "sentiment_3.cue_text.csv"),
            "--b", str(predictions / "sentiment_3.prior_random.csv")]
    yield ["compare", "--task", "sentiment_3", "sentiment_7", *pair, "--n-perm", "50", *fast]
    yield ["power", "--task", "sentiment_3", "--sims", "20", "--n-boot", "20", "--quiet"]
    yield ["power", "--task", "sentiment_3", *pair, "--sims", "20", "--n-boot", "20", "--quiet"]
    yield ["mllm", "score", str(ex / "runs"), *fast]
    yield ["report", str(ex / "runs"), "--out", str(tmp_path / "report"), "--quiet"]
    _lmms_eval_samples(tmp_path / "lmms", labels)
    yield ["lmms-eval-score", str(tmp_path / "lmms"), *fast]
    yield ["info"]
    yield ["repro"]
    for by in ("all", "single_label", "sentiment_3"):
        yield ["cues", "--by", by, "--ceiling"]


def test_every_command_prints_lines_of_at_most_100_characters(example_inputs, real_labels,
                                                              tmp_path, capsys):
    ran = 0
    for argv in _example_commands(example_inputs, real_labels, tmp_path):
        code = main([*argv, "--labels-file", str(real_labels)])
        out = capsys.readouterr().out
        assert code == 0 and out.strip(), argv
        widest = max(out.splitlines(), key=len)
        assert len(widest) <= 100, (argv, widest)
        ran += 1
    assert ran == 20


def test_a_table_too_wide_keeps_its_first_columns_and_says_where_the_rest_is():
    from emosign.cli._width import fit_text

    header = f"{'name':<12}" + "".join(f"{f'column_{k}':>14}" for k in range(20))
    rows = [f"{name:<12}" + "".join(f"{k + i / 100:>14.2f}" for k in range(20))
            for i, name in enumerate(["first", "second row"])]
    text = "a sentence " * 30 + "\n" + "\n".join([header, "-" * len(header), *rows])
    fitted = fit_text(text).splitlines()
    assert max(len(line) for line in fitted) <= 100
    assert " ".join(fitted[:4]).split() == ("a sentence " * 30).split()  # wrapped, every word
    table = fitted[4:]
    shown = table[0].split()
    assert shown[0] == "name" and shown[1:] == [f"column_{k}" for k in range(len(shown) - 1)]
    assert set(table[1]) == {"-"} and len(table[1]) == len(table[0])
    assert table[3].split()[:3] == ["second", "row", "0.01"]
    assert table[-1] == f"({21 - len(shown)} columns more with --format json)"
    # Without a JSON output to point to, nothing is dropped: the rest goes under the table.
    moved = fit_text("\n".join([header, *rows]), rest=None)
    assert max(len(line) for line in moved.splitlines()) <= 100
    assert sorted(moved.split()) == sorted(
        ("\n".join([header, *rows]) + "\nname first second row" * (moved.count("\n\n"))).split())
    # What fits is left exactly as it was.
    narrow = "\n".join(line[:98] for line in [header, *rows])
    assert fit_text(narrow) == narrow
