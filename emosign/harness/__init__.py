"""The MLLM harness: ask a multimodal model about every clip, the paper's way, and score it.

It is not a baseline: it runs someone else's model. One module per job:

- :mod:`emosign.harness.prompts`: the prompts and their answer formats, and the presets
  (protocols) that bundle them with a frame sampling;
- :mod:`emosign.harness.config`: the settings, each default defined once and checked
  (:class:`~emosign.harness.config.ClientConfig`, how a model is asked;
  :class:`~emosign.harness.config.FrameConfig`, how a clip becomes frames);
- :mod:`emosign.harness.client`: the OpenAI-compatible client, its errors and retries;
- :mod:`emosign.harness.runfiles`: a run's files on disk (found, read, written, locked);
- :mod:`emosign.harness.parallel`: the one resumable job loop of both stages (asking about
  many items at once, the early stop on a dead server, Ctrl-C and SIGTERM);
- :mod:`emosign.harness.runner`: the run over clips (:func:`~emosign.harness.runner.run_mllm`)
  and its scoring (:func:`~emosign.harness.runner.score_run`);
- :mod:`emosign.harness.answers`: reading a free-text answer into labels;
- :mod:`emosign.harness.extract`: the paper's second stage, a text model naming the label of
  each answer the rules cannot read (cached and resumable like the first);
- :mod:`emosign.harness.lmms_eval_task` and :mod:`emosign.harness.lmms_eval_scores`: the same
  prompts as an lmms-eval task, and the scoring of lmms-eval's logged samples;
- :mod:`emosign.harness.inspect_tasks` and :mod:`emosign.harness.inspect_logs`: the same
  frames, prompts, reader and metrics as Inspect tasks (the ``inspect`` extra), and Inspect's
  logs read back into emosign.

Import each name from the module that defines it; this package exports nothing itself.
"""

__all__: list[str] = []
