"""From an exhibit to what made it: the caption's provenance line and the appendix's records.

Every workflow job leaves a provenance file (``results/<profile>/provenance/<job>.json``:
parameters, code fingerprint, git commit, the sha256 of its inputs and outputs). This module
reads those files as artefacts — it imports nothing of the workflow engine — and builds

* the line under an exhibit's caption (:func:`caption_line`): the notebook cell that drew it,
  the artefact(s) it shows with their sha256, the job that wrote each one and a link
  (``{ref}``) to that job's record in the appendix, with the job's rule, parameter
  fingerprint, code fingerprint and commit; an exhibit that names no artefact links the
  record of its chapter's own job, which lists every input the chapter read with its sha256;
* the appendix's record of each job (:func:`record_block`), under the label
  :func:`anchor` gives it (``prov-<job>``), so every caption link lands on the record it names.

The links are MyST ``{ref}`` roles: the book is built with ``--nitpick --warningiserror``, so a
caption that links a record the appendix does not show fails the build.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "anchor", "params_fingerprint", "read_records", "producers", "rule_of", "file_sha256",
    "caption_line", "record_block", "SHORT",
]

SHORT = 12  # hex digits of a sha256 or fingerprint shown on a page (the appendix and run_record.json hold them whole)
WORKFLOW_RULES = Path(__file__).resolve().parents[3] / "workflow" / "rules"


def anchor(job: str) -> str:
    """The label of a job's record in the appendix: ``prov-`` and the job name, lower case, other characters as ``-``.

    Sphinx turns a label into an HTML id the same way (``chapter-04_integrated_model`` ->
    ``prov-chapter-04-integrated-model``), so the link and the anchor agree.
    """
    return "prov-" + re.sub(r"[^a-z0-9]+", "-", job.lower()).strip("-")


def params_fingerprint(params: Mapping[str, Any]) -> str:
    """sha256 of the job's parameters as canonical JSON (sorted keys, no spaces), first :data:`SHORT` hex digits."""
    text = json.dumps(params, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SHORT]


def file_sha256(path: str | os.PathLike[str]) -> str | None:
    """sha256 of a file's bytes, or of a folder's files (sorted relative paths and their hashes); None if absent."""
    p = Path(path)
    h = hashlib.sha256()
    if p.is_file():
        with p.open("rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest()
    if p.is_dir():
        for q in sorted(q for q in p.rglob("*") if q.is_file()):
            h.update(f"{q.relative_to(p).as_posix()}:{file_sha256(q)}\n".encode())
        return h.hexdigest()
    return None


def read_records(folder: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Every provenance file of a results folder (``results/<profile>/provenance``), by job name; empty if none."""
    out: dict[str, dict[str, Any]] = {}
    for f in sorted(Path(folder).glob("*.json")):
        try:
            out[f.stem] = json.loads(f.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{f}: not a provenance file ({exc}); delete it and re-run `ecrs run` to rewrite it") from None
    return out


def _key(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(str(path)))


def _same_file(out: str, key: str, tail: str | None) -> bool:
    """A recorded output is ``key`` itself, or — for a results folder copied or moved since the run
    recorded its absolute paths — ends with the same path relative to the results folder (``tail``)."""
    out_key = _key(out)
    return out_key == key or (tail is not None and out_key.endswith(os.sep + tail))


def producers(records: Mapping[str, Mapping[str, Any]], path: str | os.PathLike[str], *, root: str | os.PathLike[str] | None = None) -> list[str]:
    """The jobs whose recorded outputs include ``path`` (a file, or a folder a job wrote as a whole or file by file).

    With ``root`` (the results folder ``path`` lies in), a record written where the folder used to be
    still matches by the path relative to it.
    """
    key = _key(path)
    tail = _tail(key, root)
    found = []
    for job, rec in records.items():
        for out in rec.get("outputs", {}):
            out_key = _key(out)
            if _same_file(out, key, tail) or key.startswith(out_key + os.sep) or out_key.startswith(key + os.sep):
                found.append(job)
                break
    return found


def _tail(key: str, root: str | os.PathLike[str] | None) -> str | None:
    if root is None:
        return None
    try:
        return str(Path(key).relative_to(_key(root)))
    except ValueError:
        return None


def rule_of(job: str, *, rules: str | os.PathLike[str] = WORKFLOW_RULES) -> tuple[str, str | None]:
    """The Snakemake rule that runs ``job`` and the rules file that defines it (None when not found).

    A job is named ``<stage>-<what>`` (``train-li2025-resnet3d-fold1``, ``chapter-04_integrated_model``);
    its rule is the stage's (``train_fold``), or for the rules made in a loop (chapters, claims)
    ``<stage>_<what>`` (``chapter_04_integrated_model``, defined by ``name: f"chapter_{...}"``).
    """
    stage, _, rest = job.partition("-")
    looped = stage in ("chapter", "claims")
    name = {"train": "train_fold"}.get(stage, f"{stage}_{rest}" if looped else stage)
    pattern = rf'f"{stage}_\{{' if looped else rf"^rule {re.escape(name)}:"
    folder = Path(rules)
    for f in sorted(folder.glob("*.smk")) if folder.is_dir() else []:
        if re.search(pattern, f.read_text(encoding="utf-8"), flags=re.M):
            return name, f"workflow/rules/{f.name}"
    return name, None


def _relative(path: str, root: Path) -> str:
    try:
        return Path(_key(path)).relative_to(_key(root)).as_posix()
    except ValueError:
        return str(path)


def _short(digest: str | None) -> str:
    return f"`{digest[:SHORT]}`" if digest else "missing"


def _job_facts(job: str, rec: Mapping[str, Any]) -> str:
    rule, _ = rule_of(job)
    git = rec.get("git", {}) or {}
    commit = (git.get("commit") or "no git commit")[:10] + (" (dirty)" if git.get("dirty") else "")
    return f"rule `{rule}`, parameters `{params_fingerprint(rec.get('params', {}))}`, code `{str(rec.get('code', ''))[:SHORT]}`, commit `{commit}`"


def caption_line(
    *,
    chapter: str,
    cell: int | None,
    sources: Sequence[str | os.PathLike[str]] = (),
    records: Mapping[str, Mapping[str, Any]],
    results_root: str | os.PathLike[str],
) -> str:
    """The provenance line of one exhibit (MyST), shown under its caption.

    Parameters
    ----------
    chapter : str
        The notebook's name (``04_integrated_model``); its own job is ``chapter-<chapter>``.
    cell : int, optional
        The execution count of the notebook cell that shows the exhibit (``In [7]`` of the executed notebook,
        ``results/<profile>/executed/<chapter>.ipynb``; paths are shown relative to the results folder).
    sources : sequence of paths
        The artefacts the exhibit shows (e.g. ``tables/li2025_integrated_auc.csv``). Each is named with
        its sha256 and linked to the record of the job that wrote it. Empty: the exhibit links its
        chapter's record, which lists every artefact the chapter read.
    records : mapping
        The run's provenance files (:func:`read_records`).
    results_root : path
        ``results/<profile>``: paths are shown relative to it.

    Raises
    ------
    ValueError
        When a source does not exist, or no job's provenance names it as an output (an exhibit may
        only show what a workflow job wrote; run ``ecrs run`` to write it).
    """
    root = Path(results_root)
    # the executed notebook (results/<profile>/executed/) numbers its cells; the page shows the cell's code just above the exhibit
    where = f"cell [{cell}] of `executed/{chapter}.ipynb`" if cell is not None else f"`executed/{chapter}.ipynb`"
    chapter_job = f"chapter-{chapter}"
    own = f"{{ref}}`{chapter_job} <{anchor(chapter_job)}>`"
    if not sources:
        return (f"Provenance: drawn by {where}, job {own} (its record: rule, parameters, code, commit "
                f"and the sha256 of every artefact the chapter read).")
    parts = []
    for src in sources:
        digest = file_sha256(src)
        if digest is None:
            raise ValueError(f"{chapter}: the exhibit's source {src} does not exist; build it with `ecrs run`")
        jobs = producers(records, src, root=root)
        if not jobs:
            raise ValueError(f"{chapter}: no job's provenance in {root / 'provenance'} lists {src} as an output; "
                             f"an exhibit shows only what a workflow job wrote (run `ecrs run` to write it)")
        job = jobs[0]
        rec = records[job]
        recorded = next((h for o, h in rec.get("outputs", {}).items() if _same_file(o, _key(src), _tail(_key(src), root))), None)
        stale = " (differs from the job's record: re-run `ecrs run`)" if recorded is not None and recorded != digest else ""
        parts.append(f"`{_relative(str(src), root)}` (sha256 {_short(digest)}{stale}) from job "
                     f"{{ref}}`{job} <{anchor(job)}>` ({_job_facts(job, rec)})")
    return f"Provenance: {'; '.join(parts)}; drawn by {where}, job {own}."


LISTED = 40  # files listed per job and direction; the rest are counted (every hash is in run_record.json and the provenance file)


def _files(hashes: Mapping[str, str | None], root: Path) -> str:
    if not hashes:
        return "none"
    shown = [f"`{_relative(p, root)}` {_short(h)}" for p, h in list(hashes.items())[:LISTED]]
    more = len(hashes) - LISTED
    return ", ".join(shown) + (f", and {more} more (listed in `provenance/<job>.json`)" if more > 0 else "")


def record_block(job: str, rec: Mapping[str, Any], *, results_root: str | os.PathLike[str], status: str | None = None) -> str:
    """One job's record on the appendix page (MyST): its label, rule, fingerprints, commit and inputs with their sha256."""
    root = Path(results_root)
    rule, rules_file = rule_of(job)
    git = rec.get("git", {}) or {}
    commit = (git.get("commit") or "not a git checkout") + (" (with uncommitted changes)" if git.get("dirty") else "")
    inputs = rec.get("inputs", {}) or {}
    outputs = rec.get("outputs", {}) or {}
    where = f" in `{rules_file}`" if rules_file else ""
    lines = [
        f"({anchor(job)})=",
        f"**Job `{job}`** — rule `{rule}`{where}; "
        + (f"{status} in this run; " if status else "")
        + f"run `{rec.get('run_id', '?')}`, finished {rec.get('finished', '?')}, {rec.get('seconds', '?')} s. "
        + f"Parameters fingerprint `{params_fingerprint(rec.get('params', {}))}` (sha256 of the parameters as sorted JSON); "
        + f"code fingerprint `{rec.get('code', '')}`; commit `{commit}`.",
        "",
        f"- inputs ({len(inputs)}): " + _files(inputs, root),
        f"- outputs ({len(outputs)}): " + _files(outputs, root),
        "",
    ]
    return "\n".join(lines)


def record_blocks(jobs: Iterable[Mapping[str, Any]], records: Mapping[str, Mapping[str, Any]], *, results_root: str | os.PathLike[str]) -> str:
    """The records of a run record's jobs (``run_record.json``'s ``jobs``), in its order, one block each."""
    blocks = []
    for j in jobs:
        name = j["job"]
        rec = records.get(name) or {"params": j.get("params", {}), "code": j.get("code"), "git": {"commit": j.get("commit"), "dirty": j.get("dirty")},
                                     "inputs": j.get("inputs", {}), "outputs": {}, "run_id": j.get("run"), "finished": j.get("finished"), "seconds": j.get("seconds")}
        blocks.append(record_block(name, rec, results_root=results_root, status=j.get("status")))
    return "\n".join(blocks)
