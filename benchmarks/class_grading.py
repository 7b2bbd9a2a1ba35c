"""A class of 40 submissions (correct, partly correct, untouched, broken): this grader with 1
and 2 workers in the quick mode (`grade-all --quick`) against `nbgrader autograde` of the same 40,
same session.

Usage: python benchmarks/class_grading.py [--assignment m1_concepts] [--students 40]
"""

import argparse
import random
import shutil
import tempfile
from pathlib import Path

import nbformat
from common import BIN, ROOT, nbgrader_autograde, run, scratch_course


def make_class(assignment: str, students: int, folder: Path) -> dict[str, Path]:
    from grader.examples import catalogue, mutated

    mutants, _ = catalogue(assignment)
    solution = nbformat.read(ROOT / "submitted" / "solution" / assignment / f"{assignment}.ipynb", as_version=4)
    rng = random.Random(0)
    made = {}
    for i in range(students):
        path = folder / f"student{i:02d}" / assignment / f"{assignment}.ipynb"
        path.parent.mkdir(parents=True)
        kind = i % 4
        if kind == 0:  # correct
            nbformat.write(solution, path)
        elif kind == 1:  # partly correct: two or three bugs
            nbformat.write(mutated(solution, rng.sample(mutants, rng.randint(2, 3))), path)
        elif kind == 2:  # untouched release
            shutil.copy(ROOT / "release" / assignment / f"{assignment}.ipynb", path)
        else:  # broken: one bug and a cell that crashes on import
            broken = mutated(solution, [rng.choice(mutants)])
            graded = [c for c in broken.cells if c.metadata.get("nbgrader", {}).get("solution")]
            rng.choice(graded).source = "raise RuntimeError('oops')\n"
            nbformat.write(broken, path)
        made[f"student{i:02d}"] = path
    return made


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="m1_concepts")
    parser.add_argument("--students", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        students = make_class(args.assignment, args.students, tmp / "submitted")
        rates = {}
        for workers in (1, 2):
            out = tmp / f"autograded-{workers}"
            seconds, _ = run(
                [
                    str(BIN / "python"),
                    "-m",
                    "grader",
                    "grade-all",
                    str(tmp / "submitted"),
                    "--workers",
                    str(workers),
                    "--out",
                    str(out),
                    "--no-gradebook",
                    "--force",
                    # the figures in BENCHMARKS.md were measured before grade-all executed by default
                    "--quick",
                ]
            )
            rates[workers] = 60 * len(students) / seconds
            print(f"grader, {workers} worker(s): {seconds:.1f} s, {rates[workers]:.1f} submissions/minute")
        course = scratch_course(tmp / "course")
        nbgrader_seconds = nbgrader_autograde(course, args.assignment, students)
        nbgrader_rate = 60 * len(students) / nbgrader_seconds
        print(f"nbgrader autograde: {nbgrader_seconds:.1f} s, {nbgrader_rate:.1f} submissions/minute")
        print(
            f"speed-up over nbgrader: {rates[1] / nbgrader_rate:.1f}x with 1 worker, "
            f"{rates[2] / nbgrader_rate:.1f}x with 2"
        )


if __name__ == "__main__":
    main()
