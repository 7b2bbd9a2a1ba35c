"""Gradescope: the autograder bundle, and results.json in Gradescope's format.

`build` zips what the autograder needs (grader/ with its checks and references,
the helper package, the released notebook, the pinned requirements; never the
solutions in source/) with Gradescope's two scripts: setup.sh installs the
environment once per image, run_autograder grades /autograder/submission/ and
writes /autograder/results/results.json. The score is a grade of record, so the
notebook runs again in the sandbox first: set the assignment's autograder timeout
above the notebook's own runtime (BENCHMARKS.md).
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from . import course
from .files import write_atomically
from .report import Report, TestStatus

SETUP = """#!/usr/bin/env bash
# Runs once when Gradescope builds the autograder image.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq bubblewrap python3-venv python3-pip
cd /autograder/source
python3 -m venv .venv
.venv/bin/pip install --quiet -r requirements.txt
.venv/bin/pip install --quiet --no-deps -r requirements-nodeps.txt
.venv/bin/pip install --quiet --no-deps -e .
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this for every submission; AUTOGRADER_ROOT lets tests point it elsewhere.
root="${{AUTOGRADER_ROOT:-/autograder}}"
cd "$root/source"
python=python3
[ -x .venv/bin/python ] && python=.venv/bin/python
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec "$python" -m grader gradescope run --assignment {assignment} --root "$root"
"""

INCLUDED = ("grader", "transfer_course", "requirements.txt", "requirements-nodeps.txt", "pyproject.toml")


def results(report: Report) -> dict:
    """Gradescope's results.json: one entry per hidden test, feedback as its output."""
    tests = [
        {
            "name": f"{t.function}: {t.name}",
            "score": t.points,
            "max_score": t.max_points,
            "status": "passed" if t.status == TestStatus.PASSED else "failed",
            "output": t.feedback or "passed",
            "visibility": "visible",
        }
        for t in report.tests
    ]
    notes = report.errors + report.warnings + [f"{f['kind']} in {f['cell']}: {f['detail']}" for f in report.tamper]
    return {
        "score": report.score,
        "max_score": report.max_score,
        "tests": tests,
        "output": "\n".join(notes) or f"{report.score:g}/{report.max_score:g}",
        "visibility": "visible",
        "stdout_visibility": "hidden",
    }


def run(assignment_id: str, root: Path) -> dict:
    """Grade the notebook in root/submission and write root/results/results.json."""
    from .grading import grade
    from .report import write_json

    submission = root / "submission"
    preferred = submission / f"{assignment_id}.ipynb"
    notebooks = [preferred] if preferred.exists() else sorted(submission.glob("**/*.ipynb"))
    if notebooks:
        report = grade(notebooks[0], assignment_id, execute=True)  # Gradescope's score is a grade of record
    else:
        report = Report(assignment_id, None, errors=[f"no notebook submitted: upload {assignment_id}.ipynb"])
    payload = results(report)
    write_atomically(root / "results" / "results.json", json.dumps(payload, indent=1))
    write_json(report, root / "results" / "report.json")
    return payload


def build(assignment_id: str, out: Path) -> Path:
    """The autograder zip for one assignment."""
    root = course.root()
    spec = course.load(assignment_id)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for script, text in (("setup.sh", SETUP), ("run_autograder", RUN.format(assignment=assignment_id))):
            info = zipfile.ZipInfo(script)
            info.external_attr = 0o755 << 16
            bundle.writestr(info, text)
        files = [spec.release_notebook]
        for name in INCLUDED:
            path = root / name
            files += [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for path in files:
            if "__pycache__" not in path.parts and ".egg-info" not in str(path):
                bundle.write(path, f"source/{path.relative_to(root)}")
    return out
