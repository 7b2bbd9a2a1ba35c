"""The grader under attack: every submission of the corpus gets a report, no more points than
its honest part earns, and changes nothing outside the grader's temporary directory."""

import hashlib
import json
import socket
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, example
from corpus import CASES, LISTENER_PORT

from grader.report import write_json
from grader.sandbox import bubblewrap
from grader.sandbox.limits import Limits

pytestmark = [
    pytest.mark.skipif(not bubblewrap.available(), reason="the corpus checks the bubblewrap sandbox"),
    pytest.mark.slow,
]  # about 50 gradings, some waiting for limits

# Short limits keep the corpus quick; the messages must name them.
# Touching fresh memory is slow on small VMs (~250 MB/s): the memory limit is low and the
# per-test limit leaves a memory bomb time to reach it.
LIMITS = Limits(probe_seconds=10, submission_seconds=300, memory_bytes=3 << 29, output_bytes=1 << 20)
WATCHED = ("grader", "source", "release", "submitted", "transfer_course", "nbgrader_config.py")


def fingerprint() -> dict[str, str]:
    """Content hashes of every file the grader relies on or an attack might aim at."""
    found = {}
    for name in WATCHED:
        path = ROOT / name
        for file in [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file()):
            if "__pycache__" not in file.parts:
                found[str(file.relative_to(ROOT))] = hashlib.sha256(file.read_bytes()).hexdigest()
    return found


@pytest.fixture(scope="module")
def solutions():
    return {a: nbformat.read(example("solution", a), as_version=4) for a in ("m1_concepts", "m2_vision", "m2_lora")}


@pytest.fixture(scope="module")
def before():
    return fingerprint()


def probe_lines(assignment_id: str) -> list[str]:
    """The lines of an assignment's probes long enough to be recognisable in a report."""
    source = (ROOT / "grader" / "assignments" / assignment_id / "probes.py").read_text()
    return [line.strip() for line in source.splitlines() if len(line.strip()) >= 30]


@pytest.fixture(scope="module")
def listener():
    """A server of the test process on the host's loopback, which no submission may reach."""
    server = socket.create_server(("127.0.0.1", 0))
    server.setblocking(False)
    yield server
    server.close()


def submit(case, solutions, tmp_path, port: int = 0) -> Path:
    built = case.build(solutions[case.assignment])
    if not isinstance(built, bytes):
        for cell in built.cells:
            cell.source = cell.source.replace(LISTENER_PORT, str(port))
    path = tmp_path / case.assignment / f"{case.assignment}.ipynb"
    path.parent.mkdir()
    if isinstance(built, bytes):
        path.write_bytes(built)
    else:
        nbformat.write(built, path)
    return path


def test_the_corpus_is_big_enough():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission(case, solutions, before, listener, tmp_path, monkeypatch):
    from grader.grading import grade
    from grader.sandbox.confinement import cgroups_available

    if case.needs_cgroup and not cgroups_available():
        # Without cgroups root has no process cap: a fork bomb would hit the CI machine itself.
        # The grader's reports warn about this; the case runs wherever the limit exists.
        pytest.skip("this machine does not let the grader create cgroups")

    monkeypatch.setenv("GRADER_SECRET", "s3cr3t-token")
    path = submit(case, solutions, tmp_path, listener.getsockname()[1])
    submitted = path.read_bytes()
    report = grade(path, case.assignment, limits=LIMITS)  # must not raise, whatever the notebook does

    honest = grade(example("solution", case.assignment), case.assignment) if case.lost == "all" else None
    names = {t.name for t in report.tests}
    lost = {t.name for t in report.tests if t.status != "passed"}
    expected = names if case.lost == "all" else case.lost
    assert lost == expected, {t.name: t.feedback for t in report.tests if t.status != "passed"}
    assert report.score == sum(t.max_points for t in report.tests if t.name not in expected)
    assert report.max_score == (honest.max_score if honest else report.max_score) > 0
    for name, status in case.statuses.items():
        assert next(t.status for t in report.tests if t.name == name) == status
    for name, text in case.feedback.items():
        assert text in next(t.feedback for t in report.tests if t.name == name)
    assert case.tamper == {f["kind"] for f in report.tamper}
    if case.error:
        assert any(case.error in e for e in report.errors), report.errors
    assert not any("s3cr3t" in t.feedback for t in report.tests)
    leaked = [line for line in probe_lines(case.assignment) if line in json.dumps(report.as_dict())]
    assert not leaked, leaked[:3]
    # nothing outside the temporary directory changed, the submission included
    assert path.read_bytes() == submitted
    assert fingerprint() == before
    with pytest.raises(BlockingIOError):
        listener.accept()
    # and the report can be written
    write_json(report, tmp_path / "report.json")
    json.loads((tmp_path / "report.json").read_text())


def test_grading_twice_gives_the_same_report(tmp_path):
    from grader.grading import grade

    path = example("partial", "m2_vision")
    first, second = grade(path).as_dict(), grade(path).as_dict()
    for report in (first, second):
        report["sandbox"].pop("seconds")
    assert first == second


def test_without_bubblewrap_grading_still_works_and_says_it_is_weaker():
    from grader.grading import grade

    report = grade(example("solution", "m1_concepts"), isolation="none", limits=LIMITS)
    assert report.score == report.max_score
    assert report.sandbox["isolation"] == "none"
    assert any("without filesystem and network isolation" in w for w in report.warnings)


def test_limits_still_hold_without_bubblewrap(solutions, tmp_path):
    from grader.grading import grade

    case = next(c for c in CASES if c.name == "fork_bomb")
    report = grade(submit(case, solutions, tmp_path), case.assignment, isolation="none", limits=LIMITS)
    assert {t.name for t in report.tests if t.status != "passed"} == case.lost
