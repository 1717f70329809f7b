"""Moved to :mod:`emosign.harness.prompts`; this name stays importable, with a DeprecationWarning, for one release."""

from emosign.harness import _moved

__getattr__ = _moved(__name__, "emosign.harness.prompts")
