"""Baselines for EmoSign and the harness that runs multimodal LLMs the paper's way."""
