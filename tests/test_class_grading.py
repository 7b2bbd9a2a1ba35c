"""Grading a class: grade-all, resumability, shards and merge, the gradebook, feedback pages,
the Gradescope bundle. Uses the quick m1_concepts examples; the tests of resumability and shards grade
in the quick mode (m1_concepts records no experiment results, so its grade is the same either way)."""

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest
from conftest import ROOT, example, venv_env

from grader import batch

pytestmark = pytest.mark.slow  # grades classes, runs nbgrader and a Slurm cluster


@pytest.fixture
def classroom(tmp_path):
    """submitted/<student>/m1_concepts/ for a solution, a partial, an untouched and a broken student."""
    submitted = tmp_path / "submitted"
    for student in ("solution", "partial", "untouched"):
        target = submitted / f"s_{student}" / "m1_concepts" / "m1_concepts.ipynb"
        target.parent.mkdir(parents=True)
        shutil.copy(example(student, "m1_concepts"), target)
    broken = submitted / "s_broken" / "m1_concepts" / "m1_concepts.ipynb"
    broken.parent.mkdir(parents=True)
    broken.write_text("{ not json")
    return submitted


def scores(path):
    with open(path) as f:
        return {(r["student"], r["assignment"]): (float(r["score"]), r["status"]) for r in csv.DictReader(f)}


def test_grade_all_writes_reports_feedback_csv_and_gradebook(classroom, course_copy, tmp_path):
    out, db = tmp_path / "autograded", f"sqlite:///{tmp_path / 'gradebook.db'}"
    for student in ("s_solution", "s_partial"):  # as `nbgrader collect` leaves them
        (classroom / student / "m1_concepts" / "timestamp.txt").write_text("2026-12-01 09:30:00.000000 UTC")
    done = subprocess.run(
        [sys.executable, "-m", "grader", "grade-all", str(classroom), "--workers", "2", "--out", str(out), "--db", db],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = scores(out / "scores.csv")
    assert got[("s_solution", "m1_concepts")] == (12.0, "graded")
    with open(out / "scores.csv") as f:
        assert {r["mode"] for r in csv.DictReader(f)} == {"executed"}, "the default is the grade of record"
    assert got[("s_untouched", "m1_concepts")][0] == 0 and got[("s_broken", "m1_concepts")][0] == 0
    assert 0 < got[("s_partial", "m1_concepts")][0] < 12
    for student in ("s_solution", "s_partial", "s_untouched", "s_broken"):
        folder = out / student / "m1_concepts"
        report = json.loads((folder / "report.json").read_text())
        page = (folder / "feedback.html").read_text()
        assert all(t["name"].replace("_", " ") in page for t in report["tests"])
        assert (folder / "m1_concepts.ipynb").exists()
    page = (out / "s_partial" / "m1_concepts" / "feedback.html").read_text()
    assert "is not right" in page and "KEYS" not in page and "probes" not in page
    assert "not valid JSON" in (out / "s_broken" / "m1_concepts" / "feedback.html").read_text()

    from nbgrader.api import Gradebook

    with Gradebook(db) as gradebook:
        submission = gradebook.find_submission("m1_concepts", "s_partial")
        assert submission.score == got[("s_partial", "m1_concepts")][0]
        assert gradebook.find_submission("m1_concepts", "s_solution").score == 12
    # formgrader (tmp_path is the course) lists each as autograded, not "(not autograded)" beside its score:
    # the gradebook holds the time of the submission it graded (none where collect left none)
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config

    config = Config({"Exchange": {"root": str(tmp_path / "exchange")}})
    api = NbGraderAPI(coursedir=CourseDirectory(root=str(tmp_path)), config=config)
    assert api.get_autograded_students("m1_concepts") == {"s_solution", "s_partial", "s_untouched", "s_broken"}
    exported = subprocess.run(
        ["nbgrader", "export", f"--db={db}", f"--to={tmp_path / 'grades.csv'}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=venv_env(),
    )
    assert exported.returncode == 0, exported.stderr[-2000:]
    rows = {r["student_id"]: float(r["score"]) for r in csv.DictReader(open(tmp_path / "grades.csv"))}
    assert rows["s_solution"] == 12 and rows["s_partial"] == got[("s_partial", "m1_concepts")][0]
    # tmp_path is a course (course_copy): nbgrader's own feedback pages, the broken submission's included
    feedback = subprocess.run(
        ["nbgrader", "generate_feedback", "m1_concepts"], capture_output=True, text=True, cwd=tmp_path, env=venv_env()
    )
    assert feedback.returncode == 0, feedback.stderr[-2000:]
    for student, score in (("s_partial", got[("s_partial", "m1_concepts")][0]), ("s_broken", 0)):
        page = (tmp_path / "feedback" / student / "m1_concepts" / "m1_concepts.html").read_text()
        assert f"Score: {score:.1f} / 12.0" in page
    assert (
        "could not be graded" in (tmp_path / "feedback" / "s_broken" / "m1_concepts" / "m1_concepts.html").read_text()
    )


def test_unchanged_submissions_are_not_graded_again(classroom, tmp_path):
    out = tmp_path / "autograded"
    first = batch.grade_all(classroom, out=out, execute=False, progress=False)
    assert set(first.values()) == {"graded"}
    stamp = (out / "s_solution" / "m1_concepts" / "report.json").stat().st_mtime_ns
    (classroom / "s_partial" / "m1_concepts" / "m1_concepts.ipynb").write_bytes(
        example("solution", "m1_concepts").read_bytes()
    )
    second = batch.grade_all(classroom, out=out, execute=False, progress=False)
    assert second[("s_solution", "m1_concepts")] == "unchanged" and second[("s_partial", "m1_concepts")] == "graded"
    assert (out / "s_solution" / "m1_concepts" / "report.json").stat().st_mtime_ns == stamp
    assert set(batch.grade_all(classroom, out=out, execute=False, force=True, progress=False).values()) == {"graded"}


def test_the_same_notebook_submitted_again_carries_its_new_timestamp(classroom, tmp_path):
    """Its grade is reused, but nbgrader's feedback for the new submission is keyed by the new timestamp
    and secret: left old, the student's `fetch_feedback` never finds it."""
    out = tmp_path / "autograded"
    submission = classroom / "s_solution" / "m1_concepts"
    (submission / "timestamp.txt").write_text("2026-11-28 20:00:00.000000 UTC")
    batch.grade_all(classroom, out=out, execute=False, progress=False)
    (submission / "timestamp.txt").write_text("2026-11-28 20:05:00.000000 UTC")
    (submission / "submission_secret.txt").write_text("a new secret")
    again = batch.grade_all(classroom, out=out, execute=False, progress=False)
    assert again[("s_solution", "m1_concepts")] == "unchanged"
    graded = out / "s_solution" / "m1_concepts"
    assert (graded / "timestamp.txt").read_text() == "2026-11-28 20:05:00.000000 UTC"
    assert (graded / "submission_secret.txt").read_text() == "a new secret"


def test_shards_then_merge_equal_one_run(classroom, tmp_path):
    whole, sharded = tmp_path / "whole", tmp_path / "sharded"
    batch.merge(classroom, whole, None, batch.grade_all(classroom, out=whole, execute=False, progress=False))
    for k in range(3):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "grader",
                "grade-all",
                str(classroom),
                "--shard",
                f"{k}/3",
                "--out",
                str(sharded),
                "--no-gradebook",
                "--quick",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
        assert done.returncode == 0 and f"shard {k}/3" in done.stdout, done.stderr[-1000:]
    merged = subprocess.run(
        [
            sys.executable,
            "-m",
            "grader",
            "merge",
            str(classroom),
            "--out",
            str(sharded),
            "--db",
            f"sqlite:///{tmp_path / 'g.db'}",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert merged.returncode == 0, merged.stderr[-1000:]
    assert {k: v[0] for k, v in scores(sharded / "scores.csv").items()} == {
        k: v[0] for k, v in scores(whole / "scores.csv").items()
    }


def test_gradescope_bundle_runs_like_on_gradescope(tmp_path):
    from grader import gradescope

    bundle = gradescope.build("m1_concepts", tmp_path / "autograder.zip")
    names = zipfile.ZipFile(bundle).namelist()
    assert {"setup.sh", "run_autograder", "source/release/m1_concepts/m1_concepts.ipynb"} <= set(names)
    assert not any(n.startswith(("source/source/", "source/submitted/")) for n in names), "solutions must stay out"
    root = tmp_path / "autograder"
    zipfile.ZipFile(bundle).extractall(root)
    (root / "submission").mkdir()
    shutil.copy(example("partial", "m1_concepts"), root / "submission" / "m1_concepts.ipynb")
    os.chmod(root / "run_autograder", 0o755)
    env = venv_env(AUTOGRADER_ROOT=str(root))
    done = subprocess.run([str(root / "run_autograder")], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads((root / "results" / "results.json").read_text())
    assert results["score"] == 9 and results["max_score"] == 12 and len(results["tests"]) == 12
    assert all({"name", "score", "max_score", "output", "status"} <= set(t) for t in results["tests"])
    failed = [t for t in results["tests"] if t["status"] == "failed"]
    assert failed and all(t["score"] == 0 and t["output"] for t in failed)


@pytest.fixture
def slurm(tmp_path):
    """A one-machine Slurm cluster (deploy/slurm/single-node.sh), its environment, stopped afterwards."""
    if not (shutil.which("slurmctld") and os.geteuid() == 0) and not os.environ.get("CI_REQUIRES_SLURM"):
        pytest.skip("needs root and Debian's slurm-wlm (.ci/run installs it and makes this test required)")
    script, folder = ROOT / "deploy" / "slurm" / "single-node.sh", tmp_path / "cluster"
    started = subprocess.run([str(script), "start", str(folder)], capture_output=True, text=True)
    assert started.returncode == 0, started.stdout + started.stderr
    try:
        yield dict(os.environ, SLURM_CONF=str(folder / "slurm.conf"))
    finally:
        subprocess.run([str(script), "stop", str(folder)], check=True)


def test_slurm_job_array_grades_like_one_machine(classroom, tmp_path, slurm):
    import time

    out, db = tmp_path / "autograded", f"sqlite:///{tmp_path / 'gradebook.db'}"
    submitted = subprocess.run(
        [str(ROOT / "deploy" / "slurm" / "submit.sh"), str(classroom), "3", str(out), db],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=slurm,
    )
    assert submitted.returncode == 0, submitted.stderr
    merge_job = submitted.stdout.split()[-1]
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        shown = subprocess.run(["scontrol", "show", "job", "-o", merge_job], capture_output=True, text=True, env=slurm)
        state = shown.stdout.partition("JobState=")[2].split(" ")[0]
        if state not in ("PENDING", "RUNNING", "CONFIGURING", "COMPLETING"):
            break
        time.sleep(1)
    logs = "".join(p.read_text() for p in sorted(out.glob("slurm-*.out")))
    assert state == "COMPLETED", f"merge job {state}:\n{logs[-3000:]}"
    assert len(list(out.glob("slurm-*_*.out"))) == 3, "one log per array task"

    whole = tmp_path / "whole"
    batch.merge(classroom, whole, None, batch.grade_all(classroom, out=whole, progress=False))
    assert scores(out / "scores.csv") == scores(whole / "scores.csv")
    from nbgrader.api import Gradebook

    with Gradebook(db) as gradebook:
        assert gradebook.find_submission("m1_concepts", "s_solution").score == 12


def test_github_classroom_workflow_grade_step_reports_points(tmp_path):
    """The workflow's Grade step, run as GitHub would run it in a student's repository."""
    import yaml

    workflow = yaml.safe_load((ROOT / "deploy" / "github-classroom" / "classroom.yml").read_text())
    job = workflow["jobs"]["grade"]
    script = next(step["run"] for step in job["steps"] if step.get("name") == "Grade")
    shutil.copy(example("partial", "m1_concepts"), tmp_path / "m1_concepts.ipynb")
    summary = tmp_path / "step-summary.md"
    env = venv_env(**{**job["env"], "ASSIGNMENT": "m1_concepts", "GITHUB_STEP_SUMMARY": str(summary)})
    done = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "::notice title=Autograding::Points 9/12" in done.stdout
    assert "9/12" in summary.read_text() and (tmp_path / "feedback.html").exists()
    assert json.loads((tmp_path / "report.json").read_text())["score"] == 9
