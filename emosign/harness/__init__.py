"""The MLLM harness: ask a multimodal model about every clip, the paper's way, and score it.

It is not a baseline: it runs someone else's model. One module per job:

- :mod:`emosign.harness.prompts`: the prompts and their answer formats;
- :mod:`emosign.harness.client`: the OpenAI-compatible client, its errors and retries;
- :mod:`emosign.harness.runfiles`: a run's files on disk (found, read, written, locked);
- :mod:`emosign.harness.parallel`: asking a model about many items at once;
- :mod:`emosign.harness.runner`: the resumable run over clips (:func:`run_mllm`) and its
  scoring (:func:`score_run`);
- :mod:`emosign.harness.answers`: reading a free-text answer into labels;
- :mod:`emosign.harness.extract`: the paper's second stage, a text model naming the label of
  each answer the rules cannot read (cached and resumable like the first);
- :mod:`emosign.harness.lmms_eval_task` and :mod:`emosign.harness.lmms_eval_scores`: the same
  prompts as an lmms-eval task, and the scoring of lmms-eval's logged samples.
"""
