"""Baselines for EmoSign: floors, text and visual systems, and the signer-independent benchmark."""

__all__: list[str] = []
