"""The package's import structure: one-way layers, no import loop, and a light ``import tsforecast``."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "tsforecast"

# Lowest first: a module may import modules of its own layer or of a lower one, never a higher one.
LAYERS = [
    ["errors", "columns"],
    ["_validation", "timestamps", "_progress", "shipped", "_secret"],
    ["frequency"],
    ["frames"],
    ["loaders"],
    ["split", "windows", "shuffle_guard", "schedules", "metrics", "covariates"],
    ["seasonality", "covariate_screen"],
    ["models"],
    ["_task_cache", "_snapshot", "audit", "_plan", "_engine", "backtest"],
    ["report"],
    ["cli"],
    ["__main__", ""],  # "": the package root, which composes the layers
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every tsforecast module ``path`` imports, anywhere in the file (functions and TYPE_CHECKING included)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.split(".")[0] == "tsforecast")
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "tsforecast":
                continue
            if node.module or node.level == 0:
                found.add(target)
            for alias in node.names:  # `from . import figures` imports a module
                if (PACKAGE.parent / f"{target}.{alias.name}".replace(".", "/")).with_suffix(".py").exists():
                    found.add(f"{target}.{alias.name}")
    return found - {module}


GRAPH = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return RANK[top]


def test_every_module_has_a_layer() -> None:
    assert all(_layer(module) >= 0 for module in GRAPH)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_a_module_imports_only_its_own_layer_or_lower_ones(module: str) -> None:
    upward = [target for target in GRAPH[module] if _layer(target) > _layer(module)]
    assert not upward, f"{module} imports the higher layer(s) {upward}"


def test_there_is_no_import_loop() -> None:
    def reaches(start: str, goal: str) -> bool:
        seen, todo = set(), list(GRAPH.get(start, ()))
        while todo:
            current = todo.pop()
            if current == goal:
                return True
            if current not in seen:
                seen.add(current)
                todo.extend(GRAPH.get(current, ()))
        return False

    loops = [module for module in GRAPH if reaches(module, module)]
    assert not loops, f"import loops through {loops}"


@pytest.mark.parametrize("statement", ["import tsforecast", "import tsforecast.report", "import tsforecast.models"])
def test_importing_the_package_or_the_report_loads_no_torch(statement: str) -> None:
    code = f"import sys; {statement}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"


def test_torch_loads_when_a_torch_model_is_first_used() -> None:
    code = (
        "import sys, tsforecast as tsf; assert 'torch' not in sys.modules; "
        "from tsforecast.models import MODELS; assert 'sgd' in MODELS and 'torch' not in sys.modules; "
        "print(tsf.SGDForecaster is MODELS['sgd'] is type(tsf.make_model('sgd', horizon=2)), "
        "tsf.ordered_loader.__module__, 'torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.split() == ["True", "tsforecast.shuffle_guard", "True"]


def test_an_unknown_attribute_is_still_an_attribute_error() -> None:
    import tsforecast
    import tsforecast.models

    with pytest.raises(AttributeError, match=r"module 'tsforecast' has no attribute 'nope'"):
        _ = tsforecast.nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"module 'tsforecast\.models' has no attribute 'nope'"):
        _ = tsforecast.models.nope  # type: ignore[attr-defined]
