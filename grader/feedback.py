"""A feedback page for the student: one self-contained HTML file per graded submission.

It shows each test's result and the feedback written for students; the hidden
tests' code, inputs and reference values never appear (only what the feedback
strings themselves say)."""

from __future__ import annotations

import html
from collections import OrderedDict

from .report import ExecutionStatus, Report, execution_margin, percent, unreproduced

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 60rem; color: #222; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
table { border-collapse: collapse; width: 100%; } td, th { padding: .35rem .5rem; border-bottom: 1px solid #ddd;
text-align: left; vertical-align: top; } .passed { color: #17692f; } .failed, .error, .timeout { color: #a4161a; }
.score { font-size: 1.2rem; font-weight: 600; } .note { color: #555; font-size: .9rem; }
.provisional { background: #fff6d6; padding: .5rem .7rem; border-left: 4px solid #d4a10f; }
"""


def render(report: Report, student: str = "") -> str:
    """The student's page: a whole HTML document."""
    title = html.escape(f"{report.assignment or ''} feedback")
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title><style>{STYLE}</style></head>"
        f"<body>\n{fragment(report, student)}\n</body></html>"
    )


def fragment(report: Report, student: str = "") -> str:
    """The page's content without the document around it, to embed in another page (nbgrader's feedback)."""
    e = html.escape
    parts = [
        f"<h1>{e(report.assignment or 'Submission')}{' · ' + e(student) if student else ''}</h1>",
        f"<p class='score'>{report.score:g} / {report.max_score:g} points ({percent(report):.0f}%)</p>",
    ]
    parts += [f"<p class='error'>{e(error)}</p>" for error in report.errors]
    parts += _provisional(report) + _execution(report) + _checks(report)
    if report.tamper:
        parts.append("<h2>Changes the grader noticed</h2><ul>")
        parts += [
            f"<li>{e(f['kind'].replace('_', ' '))} in {e(f['cell'])}: {e(f['detail'])}</li>" for f in report.tamper
        ]
        parts.append("</ul>")
    parts.append(
        f"<p class='note'>notebook sha256 {e(str(report.notebook_sha256))} · grader {e(report.grader_version)}</p>"
    )
    return "\n".join(parts)


def _checks(report: Report) -> list[str]:
    """A table per graded function: each check, its points, its result and what to do."""
    e = html.escape
    by_function: OrderedDict[str, list] = OrderedDict()
    for test in report.tests:
        by_function.setdefault(test.function, []).append(test)
    points, parts = report.points_by_function(), []
    for function, tests in by_function.items():
        earned, worth = points[function]
        parts.append(
            f"<h2><code>{e(function)}</code> · {earned:g} / {worth:g}</h2><table>"
            "<tr><th>check</th><th>points</th><th>result</th><th>what to do</th></tr>"
        )
        parts += [
            f"<tr><td>{e(t.name.replace('_', ' '))}</td><td>{t.points:g} / {t.max_points:g}</td>"
            f"<td class='{e(t.status)}'>{e(t.status)}{' (provisional)' if t.provisional else ''}</td>"
            f"<td>{e(t.feedback)}</td></tr>"
            for t in tests
        ]
        parts.append("</table>")
    return parts


def _provisional(report: Report) -> list[str]:
    """Which points are not final yet, and what makes them final."""
    if not report.provisional_points:
        return []
    return [
        f"<p class='provisional'><strong>Provisional:</strong> {report.provisional_points:g} of these points "
        "(the checks marked <em>provisional</em>) come from the experiment results saved in your notebook. "
        "Your final grade comes from the grader's own run of your notebook from the top: this page is "
        "replaced when that run has been graded (on the course hub, usually within minutes of submitting; "
        "longer when many submit at once). If a saved result was not produced by the code you submitted, "
        "that run will not reproduce it.</p>"
    ]


def _execution(report: Report) -> list[str]:
    """How the grader's own run of the notebook went (--execute): what stopped it, which cells raised."""
    run = report.execution
    if run is None:
        return []
    e = html.escape
    parts = ["<h2>Your notebook, run again by the grader</h2>"]
    if run.status == ExecutionStatus.STOPPED:
        parts.append(
            f"<p class='failed'>{e(run.cell or '')} was stopped: {e(run.reason or '')}. The cells after it "
            "did not run, so their results could not be graded. Make that cell cheaper (fewer steps, "
            "a smaller model or data set) or look for an endless loop.</p>"
        )
    elif run.status == ExecutionStatus.FAILED:
        parts.append(f"<p class='failed'>{e(run.reason or '')}</p>")
    else:
        parts.append("<p class='passed'>It ran to the end.</p>")
    if run.unreproduced:
        sentence = unreproduced(run)
        parts.append(f"<p class='failed'>{e(sentence[0].upper() + sentence[1:])}.</p>")
    if margin := execution_margin(run):
        parts.append(f"<p class='note'>{e(margin)}.</p>")
    if run.raised:
        parts.append("<p>These cells raised an error (later cells may depend on them):</p><ul>")
        parts += [f"<li><code>{e(line)}</code></li>" for line in run.raised]
        parts.append("</ul>")
    return parts
