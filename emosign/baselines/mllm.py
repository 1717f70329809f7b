"""Moved to :mod:`emosign.harness.runner`; this name stays importable, with a DeprecationWarning, for one release."""

from emosign.harness import _moved

__getattr__ = _moved(__name__, "emosign.harness.runner", "emosign.harness.client")
