"""emosign.metrics, the public face of scoring: every name it declares is there, is the
implementation's own object, and importing it for the names stays light. What the names do is
tested in test_metric_functions.py and test_evaluate.py."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from emosign import _evaluation, _metric_functions, _metric_names, metrics

PRIVATE = {"_metric_names": _metric_names, "_metric_functions": _metric_functions, "_evaluation": _evaluation}


def test_every_declared_name_is_the_implementations_own():
    homes = {name: module for module in PRIVATE.values() for name in module.__all__}
    assert set(metrics.__all__) <= set(homes)
    for name in metrics.__all__:
        assert getattr(metrics, name) is getattr(homes[name], name), name
    assert set(metrics.__all__) <= set(dir(metrics))


def test_star_import_gives_the_declared_names():
    namespace: dict = {}
    exec("from emosign.metrics import *", namespace)
    assert set(metrics.__all__) <= set(namespace)
    assert namespace["evaluate"] is _evaluation.evaluate


def test_an_unknown_name_is_an_attribute_error():
    try:
        metrics.no_such_metric  # noqa: B018
    except AttributeError as err:
        assert "no_such_metric" in str(err)
    else:
        raise AssertionError("emosign.metrics.no_such_metric exists")


def test_the_names_import_without_the_scorer():
    # Figures, reports and the power analysis import emosign.metrics for names: that must not
    # bring pandas, the label reader or the scorer with it.
    code = ("import json, sys; from emosign.metrics import NOT_PERCENT, SHORT_NAMES, format_metric; "
            "print(json.dumps(list(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert not {"pandas", "emosign._evaluation", "emosign.labels", "emosign.predictions"} & loaded


def _package_imports(module) -> set[str]:
    """The emosign modules a module imports, anywhere in it."""
    tree = ast.parse(Path(module.__file__).read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emosign"):
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("emosign"))
    return found


def test_the_private_modules_never_import_the_public_face():
    for name, module in PRIVATE.items():
        assert "emosign.metrics" not in _package_imports(module), name
    # names and functions are the bottom: neither imports the other layers
    assert not {"emosign._evaluation", "emosign._metric_functions"} & _package_imports(_metric_names)
    assert not {"emosign._evaluation", "emosign._metric_names"} & _package_imports(_metric_functions)



def test_a_value_a_hair_below_zero_is_never_printed_minus_zero():
    from emosign._metric_names import fixed, format_metric, format_value

    # A clustered test's interval end at -3e-10 (its tie tolerance) read "-0.00", as if it
    # excluded zero from below.
    assert format_metric(-3e-12, "balanced_accuracy", (-3e-12, 0.64)) == "0.00 [0.0, 64.0]"
    assert format_value("mae", -1e-9) == "0.000" and format_value("accuracy", -0.0) == "0.00"
    assert fixed(-0.006, 2) == "-0.01" and fixed(-0.004, 2) == "0.00"
