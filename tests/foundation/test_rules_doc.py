"""docs/rules.md stays true: every rule of the domain has a row, every function it names imports,
every test it names exists (``file::test_name``)."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "rules.md"
RULES = range(1, 13)  # the twelve rules of DOMAIN.md


def rows() -> dict[int, tuple[list[str], list[str]]]:
    """Rule number → (functions, tests) as named in the table's second and third columns."""
    out: dict[int, tuple[list[str], list[str]]] = {}
    for line in DOC.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not re.match(r"\d+ ", cells[0]):
            continue
        rule = int(cells[0].split()[0])
        assert rule not in out, f"rule {rule} has two rows"
        functions = [n for n in re.findall(r"`([^`]+)`", cells[1]) if "." in n]  # not notes
        out[rule] = (functions, re.findall(r"`([^`]+)`", cells[2]))
    return out


def resolve(dotted: str) -> object:
    """Import ``package.module.name`` (the longest importable module prefix, then attributes)."""
    parts = dotted.split(".")
    for i in range(len(parts) - 1, 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:i]))
        except ModuleNotFoundError:
            continue
        for attr in parts[i:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(dotted)


def defined_tests(path: Path) -> set[str]:
    """``test_x`` and ``Class::test_x`` names defined in a test file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef):
            for sub in node.body:
                if isinstance(sub, ast.FunctionDef | ast.AsyncFunctionDef):
                    names.add(f"{node.name}::{sub.name}")
    return names


TABLE = rows()


def test_every_rule_has_a_row_with_a_function_and_a_test() -> None:
    assert sorted(TABLE) == list(RULES)
    for rule, (functions, tests) in TABLE.items():
        assert functions, f"rule {rule} names no function"
        assert tests, f"rule {rule} names no test"


@pytest.mark.parametrize("rule", RULES)
def test_named_functions_import(rule: int) -> None:
    for dotted in TABLE[rule][0]:
        assert resolve(dotted) is not None, dotted


@pytest.mark.parametrize("rule", RULES)
def test_named_tests_exist(rule: int) -> None:
    for ref in TABLE[rule][1]:
        file, _, name = ref.partition("::")
        path = ROOT / file
        assert path.is_file(), f"rule {rule}: no file {file}"
        assert name.split("[")[0] in defined_tests(path), f"rule {rule}: no test {ref}"
