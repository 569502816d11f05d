"""Every stage that loads a study (cohort and split, read-only since ``load_study`` makes nothing) declares the split as an input.

A stage that reads ``split.json`` without declaring it runs, on a fresh build, before the split job has
written it (CI found ``hu_tissues`` doing so). Checked statically: the stage functions of
``pipeline/stages.py`` that call ``_loaded`` against the input blocks of their rules in ``workflow/rules``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGES = ROOT / "src" / "ecrs_analysis" / "pipeline" / "stages.py"
RULES = sorted((ROOT / "workflow" / "rules").glob("*.smk")) + [ROOT / "workflow" / "Snakefile"]


def _stages_loading_a_study() -> set[str]:
    tree = ast.parse(STAGES.read_text())
    out = set()
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.name.startswith("_"):
            calls = {n.func.id for n in ast.walk(fn) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
            if "_loaded" in calls and fn.name != "_loaded":
                out.add(fn.name.lstrip("_"))
    return out


def _input_blocks() -> dict[str, str]:
    blocks: dict[str, str] = {}
    for path in RULES:
        if not path.exists():
            continue
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(), re.S | re.M):
            body = m.group(2)
            inp = re.search(r"^    input:\n(.*?)(?=^    \w+:)", body, re.S | re.M)
            blocks[m.group(1)] = inp.group(1) if inp else ""
    return blocks


def _stage_rules() -> dict[str, list[str]]:
    """Stage name -> the rules whose shell runs it (``W.stage_command("<stage>", ...)``)."""
    out: dict[str, list[str]] = {}
    for path in RULES:
        if not path.exists():
            continue
        for m in re.finditer(r"^rule (\w+):\n(.*?)(?=^rule |\Z)", path.read_text(), re.S | re.M):
            for stage in re.findall(r'stage_command\(\s*"(\w+)"', m.group(2)):
                out.setdefault(stage, []).append(m.group(1))
    return out


def test_the_check_finds_the_stages_and_their_rules():
    stages, rules = _stages_loading_a_study(), _stage_rules()
    assert {"hu_tissues", "subgroups", "clinical_exhibits"} <= stages  # the check can fail only if it sees them
    assert all(stage in rules for stage in stages), sorted(stages - set(rules))


def test_every_stage_that_loads_a_study_declares_its_split():
    blocks, rules = _input_blocks(), _stage_rules()
    missing = []
    for stage in sorted(_stages_loading_a_study()):
        for rule in rules.get(stage, []):
            text = blocks.get(rule, "")
            # the split job reads the cohort, so a declared split also orders the job after the cohort
            if "RP.split(" not in text:
                missing.append(f"rule {rule} (stage {stage}) loads the study but does not declare RP.split(...) as an input")
    assert not missing, "\n".join(missing)
