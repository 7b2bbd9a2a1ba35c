"""nbgrader's feedback page with this grader's report in it: a GenerateFeedback preprocessor.

`nbgrader generate_feedback` renders the autograded notebook with each test cell's score from the
gradebook. This preprocessor puts, first in that notebook, what the grader found: the score, each
hidden check with what to fix, and how a run with --execute went. The course's nbgrader_config.py
adds it to GenerateFeedback's preprocessors, so the page a student fetches from JupyterLab says all
of it. It reads report.json beside the notebook (grade-all writes it there).
"""

from __future__ import annotations

from pathlib import Path

from nbformat.v4 import new_markdown_cell
from nbgrader.preprocessors import NbGraderPreprocessor

from .feedback import STYLE, fragment
from .report import load_json

MARK = "grader-report"


class InsertGraderReport(NbGraderPreprocessor):
    """One cell at the top of the notebook: the grader's report as HTML."""

    def preprocess(self, nb, resources):
        folder = Path(resources.get("metadata", {}).get("path") or ".")
        report = load_json(folder / "report.json")
        if report is not None and not any(c.get("metadata", {}).get(MARK) for c in nb.cells):
            student = resources.get("nbgrader", {}).get("student", "")
            html = f"<div class='grader-report'><style>{STYLE.replace('body', '.grader-report')}</style>"
            nb.cells.insert(0, new_markdown_cell(html + fragment(report, student) + "</div>", metadata={MARK: True}))
        return nb, resources
