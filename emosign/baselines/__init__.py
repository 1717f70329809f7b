"""Baselines for EmoSign: models this project trains and rules it applies.

The harness that runs someone else's multimodal model is :mod:`emosign.harness`.
"""

__all__: list[str] = []
