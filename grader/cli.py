"""Command line: `python -m grader grade|references ...` (docs/contract.md is the contract)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import course
from . import report as reports
from .sandbox.limits import Limits


def _limits(args) -> Limits:
    return Limits(
        probe_seconds=args.test_timeout,
        submission_seconds=args.submission_timeout,
        memory_bytes=int(args.memory_gib * (1 << 30)),
        cell_cpu_seconds=args.cell_cpu,
    )


def _add_sandbox_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--sandbox",
        choices=("auto", "bubblewrap", "none"),
        default="auto",
        help="confinement of student code (auto: bubblewrap when installed)",
    )
    parser.add_argument(
        "--test-timeout",
        type=float,
        default=Limits.probe_seconds,
        metavar="S",
        help="wall-time limit of one test, seconds (default %(default)s)",
    )
    parser.add_argument(
        "--cell-cpu",
        type=float,
        default=Limits.cell_cpu_seconds,
        metavar="S",
        help="with --execute: CPU-time limit of one notebook cell, seconds, all its threads together "
        "(default %(default)s; CPU time, so that a busy machine costs no points)",
    )
    parser.add_argument(
        "--submission-timeout",
        type=float,
        default=Limits.submission_seconds,
        metavar="S",
        help="wall-time limit of one submission, seconds (default %(default)s)",
    )
    parser.add_argument(
        "--memory-gib",
        type=float,
        default=Limits.memory_bytes / (1 << 30),
        metavar="G",
        help="memory limit of one submission, GiB (default %(default)s)",
    )


def _add_gradebook_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        help="nbgrader gradebook URL (default: sqlite gradebook.db in the course; postgresql://... for a shared one)",
    )
    parser.add_argument("--no-gradebook", action="store_true", help="write reports and scores.csv only")


def cmd_grade(args) -> int:
    from .grading import grade

    report = grade(
        Path(args.notebook), args.assignment, execute=args.execute, limits=_limits(args), isolation=args.sandbox
    )
    if args.json:
        reports.write_json(report, Path(args.json))
    if args.html:
        from .feedback import render

        Path(args.html).write_text(render(report), encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(reports.markdown(report), encoding="utf-8")
    if not args.quiet:
        print(reports.table(report))
    return 0


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError("a shard is K/N, e.g. 3/10") from None
    if not 0 <= k < n:
        raise argparse.ArgumentTypeError(f"shard {text}: need 0 <= K < N")
    return k, n


def _pair(text: str) -> tuple[str, str]:
    student, _, assignment = text.partition("/")
    if not student or not assignment or "/" in assignment:
        raise argparse.ArgumentTypeError(f"{text!r}: expected STUDENT/ASSIGNMENT, e.g. student1/m2_vision")
    return student, assignment


def cmd_grade_all(args) -> int:
    from .batch import grade_all, merge, table
    from .gradebook import default_url

    statuses = grade_all(
        Path(args.directory),
        workers=args.workers,
        out=Path(args.out),
        force=args.force,
        execute=not args.quick,
        limits=_limits(args),
        isolation=args.sandbox,
        shard=args.shard,
        only=set(args.only) if args.only else None,
    )
    if args.shard != (0, 1):
        print(
            f"shard {args.shard[0]}/{args.shard[1]}: {len(statuses)} submissions; "
            "run `python -m grader merge` after all shards"
        )
        return 0
    rows = merge(
        Path(args.directory), Path(args.out), None if args.no_gradebook else (args.db or default_url()), statuses
    )
    print(table(rows))
    print(
        f"reports and feedback.html in {args.out}/<student>/<assignment>/, scores in {args.out}/scores.csv"
        + ("" if args.no_gradebook else f", gradebook {args.db or default_url()}")
    )
    return 0


def cmd_merge(args) -> int:
    from .batch import merge, table
    from .gradebook import default_url

    rows = merge(Path(args.directory), Path(args.out), None if args.no_gradebook else (args.db or default_url()))
    print(table(rows))
    return 0


def cmd_examples(args) -> int:
    from .examples import build

    for path in build(args.assignment, course.root(), args.students):
        print(f"wrote {path}")
    return 0


def cmd_gradescope(args) -> int:
    from . import gradescope

    if args.action == "build":
        print(
            f"wrote {gradescope.build(args.assignment, Path(args.out))}: "
            f"upload it as the autograder of {args.assignment}"
        )
    else:
        payload = gradescope.run(args.assignment, Path(args.root))
        print(
            f"{payload['score']:g}/{payload['max_score']:g} written to {Path(args.root) / 'results' / 'results.json'}"
        )
    return 0


def cmd_references(args) -> int:
    from .references import build

    ids = course.known() if args.assignment == "all" else [args.assignment]
    for assignment_id in ids:
        provenance = build(course.load(assignment_id), args.device, experiments=not args.probes_only)
        print(f"{assignment_id}: references built on {provenance['device']} with torch {provenance['torch']}")
    return 0


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="python -m grader", description=__doc__)
    sub = top.add_subparsers(dest="command", required=True)

    grade = sub.add_parser("grade", help="grade one submitted notebook")
    grade.add_argument("notebook")
    grade.add_argument("--assignment", choices=course.known(), help="default: from the notebook")
    grade.add_argument("--json", metavar="OUT", help="also write the JSON report here")
    grade.add_argument("--html", metavar="OUT", help="also write the student's feedback page here")
    grade.add_argument("--markdown", metavar="OUT", help="also write the table as Markdown (CI job summaries)")
    grade.add_argument("--execute", action="store_true", help="re-run the notebook in the sandbox first")
    grade.add_argument("--quiet", action="store_true", help="print nothing (use with --json)")
    _add_sandbox_options(grade)
    grade.set_defaults(run=cmd_grade)

    many = sub.add_parser("grade-all", help="grade a folder of submissions (submitted/<student>/<assignment>/)")
    many.add_argument("directory")
    many.add_argument("--workers", type=int, default=1, help="submissions graded at once (default 1)")
    many.add_argument("--out", default="autograded", help="where reports and scores.csv go (default autograded)")
    many.add_argument("--force", action="store_true", help="grade again even if a notebook is unchanged")
    many.add_argument(
        "--quick",
        action="store_true",
        help="do not run the notebooks again: experiment points come from the saved outputs and are provisional "
        "(named so in the reports and scores.csv, kept out of the gradebook); default: the grade of record, "
        "each notebook run again in the sandbox",
    )
    many.add_argument(
        "--only",
        type=_pair,
        action="append",
        metavar="STUDENT/ASSIGNMENT",
        help="grade only this submission (repeatable; the hub's service grades one at a time)",
    )
    many.add_argument(
        "--shard",
        type=_shard,
        default=(0, 1),
        metavar="K/N",
        help="grade only every N-th submission from the K-th (cluster job arrays); then run merge",
    )
    _add_gradebook_options(many)
    _add_sandbox_options(many)
    many.set_defaults(run=cmd_grade_all)

    merging = sub.add_parser("merge", help="collect the reports of grade-all shards into scores.csv and the gradebook")
    merging.add_argument("directory", help="the submitted/ folder the shards graded")
    merging.add_argument("--out", default="autograded")
    _add_gradebook_options(merging)
    merging.set_defaults(run=cmd_merge)

    examples = sub.add_parser("examples", help="example submissions for the demo and tests")
    examples_sub = examples.add_subparsers(dest="action", required=True)
    build_examples = examples_sub.add_parser("build", help="write submitted/{solution,untouched,partial}/")
    build_examples.add_argument("--assignment", required=True, choices=course.known())
    build_examples.add_argument(
        "--students",
        nargs="+",
        default=["solution", "untouched", "partial"],
        choices=["solution", "untouched", "partial"],
        help="which examples (default: all)",
    )
    build_examples.set_defaults(run=cmd_examples)

    scope = sub.add_parser("gradescope", help="Gradescope autograder bundle and runner")
    scope_sub = scope.add_subparsers(dest="action", required=True)
    bundle = scope_sub.add_parser("build", help="write the autograder zip to upload")
    bundle.add_argument("--assignment", required=True, choices=course.known())
    bundle.add_argument("--out", default="autograder.zip")
    bundle.set_defaults(run=cmd_gradescope)
    runner = scope_sub.add_parser("run", help="what run_autograder calls: grade root/submission into root/results")
    runner.add_argument("--assignment", required=True, choices=course.known())
    runner.add_argument("--root", default="/autograder")
    runner.set_defaults(run=cmd_gradescope)

    refs = sub.add_parser("references", help="reference results of the solutions")
    refs_sub = refs.add_subparsers(dest="action", required=True)
    build = refs_sub.add_parser("build", help="regenerate reference results from the source notebooks")
    build.add_argument("--assignment", required=True, choices=course.known() + ["all"])
    build.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    build.add_argument("--probes-only", action="store_true", help="keep the stored experiment results")
    build.set_defaults(run=cmd_references)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # the grader itself could not run: say so, exit non-zero
        print(f"grader error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
