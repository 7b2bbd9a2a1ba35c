"""The course on JupyterHub, end to end, in a real browser (headless Chromium driven by Playwright).

`deploy/jupyterhub/hub.sh` starts a hub as `make hub` does; the instructor releases m1_concepts and
m2_vision from formgrader (Nbgrader > Formgrader in JupyterLab); two students log in, fetch, answer
in the notebook as a person would, run the cells, validate and submit; the autograder service
grades; each student fetches feedback and the test reads the score on the feedback page; the
instructor reads the scores in formgrader, changes one by hand and exports the grades from a
terminal. Screenshots of every step are kept in SCREENSHOTS. The rest of the loop (crash of the
service, broken and simultaneous submissions, resubmission) is driven through nbgrader's own
commands, which is what the Assignments panel calls. Class mode (system accounts, as root): a
student's own kernel cannot read or write what is not theirs, and their own flow still works.
"""

import csv
import json
import os
import re
import shutil
import tempfile
import time
from datetime import datetime
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, pasted
from course_hub import Hub

pytestmark = pytest.mark.slow  # a hub, two students' servers, a browser, real grading

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PROXY = ROOT / "deploy" / "jupyterhub" / "node_modules" / ".bin" / "configurable-http-proxy"
SCREENSHOTS = Path(os.environ.get("HUB_SCREENSHOTS", ROOT / "artifacts" / "hub"))
PASSWORD = "browser-test"
# Chromium as root in a closed network: no sandbox (the test is the only page), no background traffic
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def missing() -> str:
    if not Path(CHROMIUM).exists():
        return "chromium is not installed (apt-get install chromium)"
    if not PROXY.exists():
        return "the hub's proxy is not installed (make deploy/jupyterhub/node_modules/.installed)"
    return ""


if missing():
    # CI installs both and must run this test, as it does the Slurm one; elsewhere it is skipped
    pytestmark = [pytestmark, pytest.mark.skipif(not os.environ.get("CI_REQUIRES_HUB"), reason=missing())]


@pytest.fixture(scope="module")
def hub(tmp_path_factory, browser):
    """A demo hub whose instructor has released m1_concepts and m2_vision from formgrader."""
    hub = Hub(tmp_path_factory.mktemp("hub"), password=PASSWORD)
    started = hub.script("start")
    assert started.returncode == 0, started.stdout + started.stderr
    instructor = Instructor(hub, browser, "instructor", shots="instructor-release")
    instructor.log_in()
    instructor.formgrader()
    for assignment in ("m1_concepts", "m2_vision"):
        instructor.release(assignment)
    instructor.page.close()
    yield hub
    hub.script("stop")


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield browser
        browser.close()


def answers_for(assignment: str, functions=None) -> dict[str, str]:
    """What a student types: for each graded cell of the release (known by its first line), the solution."""
    from grader.examples import solved

    release = nbformat.read(ROOT / "release" / assignment / f"{assignment}.ipynb", as_version=4)
    solution = solved(assignment)
    typed = {}
    for stub, answer in zip(release.cells, solution.cells):
        meta = stub.metadata.get("nbgrader", {})
        if meta.get("solution") and (functions is None or meta["grade_id"] in functions):
            typed[stub.source.splitlines()[0]] = answer.source
    return typed


class Student:
    """One student in JupyterLab on the hub, doing what a person does, with a screenshot of each step."""

    def __init__(self, hub: Hub, browser, name: str, shots: str = ""):
        self.hub, self.name, self.prefix = hub, name, shots or name
        self.page = browser.new_page(viewport={"width": 1400, "height": 900})
        self.page.set_default_timeout(90_000)
        self.step = 0

    def shot(self, what: str) -> Path:
        self.step += 1
        path = SCREENSHOTS / f"{self.prefix}-{self.step:02d}-{what}.png"
        self.page.screenshot(path=path)
        return path

    def log_in(self) -> None:
        page = self.page
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("#username_input", self.name)
        page.fill("#password_input", self.hub.password(self.name))
        page.click("#login_submit")
        page.wait_for_selector("#jp-main-dock-panel")
        self.shot("lab")

    def menu(self, top: str, item: str) -> None:
        self.page.click(f".lm-MenuBar-itemLabel:text-is('{top}')")
        self.page.click(f".lm-Menu-itemLabel:text-is('{item}')")

    def assignments(self) -> None:
        self.menu("Nbgrader", "Assignment List")
        self.page.wait_for_selector("#released_assignments_list_loading[hidden]", state="attached")

    def fetch(self, assignment: str) -> None:
        self.assignments()
        self.page.click(f"#released_assignments_list .list_item:has-text('{assignment}') button:has-text('Fetch')")
        self.page.wait_for_selector(f"#fetched_assignments_list a.assignment-notebooks-link:has-text('{assignment}')")
        self.shot(f"fetched-{assignment}")

    def open_notebook(self, assignment: str) -> None:
        page = self.page
        panel = f"#nbgrader-transfer-learning-{assignment}"
        page.click(f"#fetched_assignments_list a.assignment-notebooks-link:has-text('{assignment}')")
        page.click(f"{panel} .nested_list_item a:text-is('{assignment}')")
        page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{assignment}.ipynb')")
        # keys pressed before the kernel is connected are dropped: wait until the status bar says Idle
        page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')")
        self.shot(f"opened-{assignment}")

    def cells(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell")

    @staticmethod
    def text_of(cell) -> str:
        """A cell's source as the editor shows it (JupyterLab renders cells out of view lazily: scroll first)."""
        cell.scroll_into_view_if_needed()
        editor = cell.locator(".cm-content")
        for _ in range(40):  # a cell scrolled into view gets its editor's lines a moment later
            if text := editor.inner_text():
                return text
            time.sleep(0.05)
        return ""

    def answer(self, typed: dict[str, str]) -> int:
        """Replace each stub whose first line is known with the answer, as text inserted in the editor
        (typing key by key would meet the editor's auto-indent and bracket closing). Cells out of view
        render lazily, so look again until every stub is found or three passes found nothing new."""
        filled: set[str] = set()
        for _ in range(3):
            cells = self.cells()
            for i in range(cells.count()):
                text = self.text_of(cells.nth(i))
                first = text.splitlines()[0] if text else ""
                if first in typed and first not in filled and "NotImplementedError" in text:
                    self.replace_source(cells.nth(i), typed[first])
                    filled.add(first)
            if len(filled) == len(typed):
                break
        self.page.keyboard.press("Escape")
        self.shot("answered")
        return len(filled)

    def replace_source(self, cell, source: str) -> None:
        editor = cell.locator(".cm-content")
        for _ in range(3):  # a click that lands before the editor takes focus leaves the notebook in command mode
            editor.click()
            self.page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook.jp-mod-editMode")
            self.page.keyboard.press("Control+a")
            self.page.keyboard.insert_text(source)
            if editor.inner_text().strip() == source.strip():
                return
        raise AssertionError(f"could not type into the cell: {editor.inner_text()!r}")

    def run_cells(self, containing: list[str]) -> None:
        """Run, in order, each cell whose text contains one of these strings (Ctrl+Enter: no new cell)."""
        cells = self.cells()
        for i in range(cells.count()):
            text = self.text_of(cells.nth(i))
            if any(s in text for s in containing):
                cells.nth(i).locator(".jp-InputPrompt").click()
                self.page.keyboard.press("Control+Enter")
                self.page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Saving completed')")

    def run_all(self) -> None:
        self.menu("Run", "Run All Cells")
        self.page.wait_for_timeout(500)
        self.page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')")
        self.page.keyboard.press("Control+s")
        self.page.wait_for_selector(".jp-StatusBar-TextItem:has-text('Saving completed')")
        self.shot("ran")

    def validate(self) -> str:
        self.page.click(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Toolbar-item:has-text('Validate') jp-button")
        dialog = self.page.wait_for_selector(".jp-Dialog-content")
        self.shot("validated")
        text = dialog.inner_text()
        self.page.click(".jp-Dialog-button")
        return text

    def submit(self, assignment: str) -> float:
        self.page.click(".lm-TabBar-tab:has-text('Assignments')")
        self.page.click(f"#fetched_assignments_list .list_item:has-text('{assignment}') button:has-text('Submit')")
        self.page.wait_for_selector(f"#submitted_assignments_list .list_item:has-text('{assignment}')")
        self.shot(f"submitted-{assignment}")
        return time.monotonic()

    def fetch_feedback(self, assignment: str, timeout: float = 180) -> tuple[str, float]:
        """Click Fetch Feedback until feedback arrives; open it; return the page's text and when it came."""
        page = self.page
        item = f"#submitted_assignments_list .list_item:has-text('{assignment}')"
        deadline = time.monotonic() + timeout
        while True:
            page.click(f"{item} button:has-text('Fetch Feedback')")
            page.wait_for_timeout(1000)
            if page.locator(f"{item} a:has-text('view feedback')").count():
                arrived = time.monotonic()
                break
            assert time.monotonic() < deadline, f"no feedback for {self.name}/{assignment}:\n{self.hub.log()[-3000:]}"
            page.wait_for_timeout(2000)
        self.shot(f"feedback-ready-{assignment}")
        # the link opens the feedback folder in the file browser; the page opens in JupyterLab's HTML viewer
        page.locator(f"{item} a:has-text('view feedback')").first.click()
        page.dblclick(f".jp-DirListing-item:has-text('{assignment}.html')")
        frame = page.frame_locator(".jp-HTMLViewer:not(.lm-mod-hidden) iframe")
        frame.locator("body").wait_for()
        page.wait_for_timeout(1000)
        self.shot(f"feedback-page-{assignment}")
        return frame.locator("body").inner_text(), arrived


class Instructor(Student):
    """The instructor in JupyterLab: formgrader from the Nbgrader menu (framed in a tab), a terminal."""

    def formgrader(self):
        self.menu("Nbgrader", "Formgrader")
        self.frame = self.page.frame_locator("#formgrader iframe")
        self.frame.locator("h1:has-text('Manage Assignments')").wait_for()
        self.shot("formgrader")
        return self.frame

    def dismiss(self) -> str:
        """The text of formgrader's result dialog, closed."""
        dialog = self.frame.locator(".modal-dialog")
        dialog.wait_for()
        text = dialog.inner_text()
        dialog.locator(".modal-footer button").first.click()
        dialog.wait_for(state="hidden")
        self.frame.locator(".modal-backdrop").wait_for(state="detached")
        return text

    def release(self, assignment: str) -> None:
        """Manage Assignments: Generate (the student version from source/), then Release."""
        row = self.frame.locator(f"tr:has(td.name a:text-is('{assignment}'))")
        row.locator("td.assign a").click()
        generated = self.dismiss()
        assert "Successfully created the student version" in generated, generated[:1500]
        row.locator("td.release a").click()
        released = self.dismiss()
        assert f"Successfully released '{assignment}'" in released, released[:1500]
        row.locator("td.status:has-text('released')").wait_for()
        self.shot(f"released-{assignment}")

    def terminal(self, command: str) -> None:
        """File > New > Terminal, and a command typed into it."""
        self.page.click(".lm-MenuBar-itemLabel:text-is('File')")
        self.page.hover(".lm-Menu-itemLabel:text-is('New')")
        self.page.click(".lm-Menu-itemLabel:text-is('Terminal')")
        terminal = self.page.locator(".jp-Terminal:not(.lm-mod-hidden) .xterm-screen")
        terminal.click()
        self.page.keyboard.type(command + "\n")


def score_on_page(text: str) -> tuple[float, float]:
    """The score the grader's report states on the feedback page ('23 / 30 points')."""
    match = re.search(r"([\d.]+) / ([\d.]+) points", text)
    assert match, text[:2000]
    return float(match.group(1)), float(match.group(2))


def test_two_students_submit_and_read_their_feedback(hub, browser):
    ada, ben = Student(hub, browser, "student1"), Student(hub, browser, "student2")
    for student in (ada, ben):
        student.log_in()

    # ada: every m1 question, run, validate, submit
    ada.fetch("m1_concepts")
    ada.open_notebook("m1_concepts")
    assert ada.answer(answers_for("m1_concepts")) == 12
    ada.run_all()
    validation = ada.validate()
    assert "Success" in validation, validation
    submitted = ada.submit("m1_concepts")
    text, arrived = ada.fetch_feedback("m1_concepts")
    assert score_on_page(text) == (12, 12)
    m1_seconds = arrived - submitted

    # ben: one m2_vision function, typed into its cell; runs the setup, the function and its public test
    ben.fetch("m2_vision")
    ben.open_notebook("m2_vision")
    assert ben.answer(answers_for("m2_vision", {"count_parameters"})) == 1
    ben.run_cells(["from transfer_course import", "def count_parameters", "count_parameters("])
    ben.validate()
    ben_submitted = ben.submit("m2_vision")
    text, arrived = ben.fetch_feedback("m2_vision")
    earned, possible = score_on_page(text)
    assert possible == 30 and 0 < earned < possible and "count_parameters" in text
    m2_seconds = arrived - ben_submitted
    assert hub.gradebook_score("student1", "m1_concepts") == 12
    # Fetch Feedback before any feedback was released (each student's first clicks) finds nothing yet, quietly
    assert "Traceback" not in hub.log(), hub.log()[-3000:]
    # each sees only their own: ben has no m1 feedback, ada none for m2_vision
    assert not list((hub.state / "home" / "student2").glob("m1_concepts/feedback/*/*.html"))
    assert not list((hub.state / "home" / "student1").glob("m2_vision/feedback/*/*.html"))
    print(
        f"submit to feedback: m1_concepts {m1_seconds:.1f} s, m2_vision {m2_seconds:.1f} s; "
        f"screenshots in {SCREENSHOTS}"
    )
    (SCREENSHOTS / "timings.json").write_text(json.dumps({"m1_concepts": m1_seconds, "m2_vision": m2_seconds}))


def save_from_terminal(hub: Hub, student: str, assignment: str, notebook: bytes) -> None:
    """What the Assignments panel's Fetch does, from the student's terminal, then the notebook saved."""
    home = hub.state / "home" / student
    if not (home / assignment).exists():
        fetched = hub.as_user(student, "nbgrader", "fetch_assignment", assignment)
        assert fetched.returncode == 0, fetched.stderr[-2000:]
    hub.save(student, f"{assignment}/{assignment}.ipynb", notebook)


def submit_from_terminal(hub: Hub, student: str, assignment: str, notebook: bytes | None = None) -> None:
    if notebook is not None:
        save_from_terminal(hub, student, assignment, notebook)
    submitted = hub.as_user(student, "nbgrader", "submit", assignment)
    assert submitted.returncode == 0, submitted.stderr[-2000:]


def feedback_folders(hub: Hub, student: str, assignment: str) -> set[str]:
    """The submissions (by timestamp) whose feedback the student has fetched."""
    return {p.name for p in (hub.state / "home" / student / assignment / "feedback").glob("*") if p.is_dir()}


def feedback_from_terminal(hub: Hub, student: str, assignment: str, before: set[str], timeout: float = 150) -> str:
    """Fetch feedback until the page of a submission not in `before` arrives; its text."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        hub.as_user(student, "nbgrader", "fetch_feedback", assignment)
        new = sorted(feedback_folders(hub, student, assignment) - before)
        if new:
            folder = hub.state / "home" / student / assignment / "feedback" / new[-1]
            return (folder / f"{assignment}.html").read_text()
        time.sleep(2)
    raise AssertionError(f"no feedback for {student}/{assignment}:\n{hub.log()[-3000:]}")


def solution_bytes(assignment: str, student: str = "solution") -> bytes:
    return (ROOT / "submitted" / student / assignment / f"{assignment}.ipynb").read_bytes()


def service_pids(hub: Hub) -> list[int]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if (
                proc.name.isdigit()
                and "autograder.py" in (proc / "cmdline").read_text()
                and os.readlink(proc / "cwd").startswith(str(hub.state))
            ):
                found.append(int(proc.name))
        except OSError:
            pass
    return found


def test_pasted_results_lose_their_points_when_the_grade_of_record_arrives(hub):
    """The preview in seconds shows the pasted experiment points as provisional, the gradebook never
    holds them, and the service's own run of the notebook replaces the page with the grade of record."""
    before = feedback_folders(hub, "student1", "m2_vision")
    submit_from_terminal(hub, "student1", "m2_vision", nbformat.writes(pasted("m2_vision")).encode())
    preview = feedback_from_terminal(hub, "student1", "m2_vision", before)
    assert "Provisional:" in preview and score_on_page(preview)[0] > 0, preview[:2000]
    assert hub.gradebook_score("student1", "m2_vision") == 0
    # the final run queues behind earlier ones (ben's, from the browser test): a notebook whose functions all
    # raise runs in well under a minute, but an earlier solution run may take minutes on a slow machine
    deadline, page = time.monotonic() + 600, preview
    while "Provisional:" in page and time.monotonic() < deadline:
        time.sleep(5)
        page = feedback_from_terminal(hub, "student1", "m2_vision", set())
    assert "Provisional:" not in page, f"no grade of record:\n{hub.log()[-3000:]}"
    assert score_on_page(page)[0] == 0 and "did not record" in page
    assert hub.gradebook_score("student1", "m2_vision") == 0


def test_a_crash_of_the_service_loses_nothing(hub):
    before = feedback_folders(hub, "student3", "m2_vision")
    submit_from_terminal(hub, "student3", "m2_vision", solution_bytes("m2_vision"))
    deadline = time.monotonic() + 60
    while "student3/m2_vision" not in hub.log() and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(2)  # mid-grade: collecting, or grading in the sandbox
    for pid in service_pids(hub):
        os.kill(pid, 9)
    page = feedback_from_terminal(hub, "student3", "m2_vision", before, timeout=180)
    assert "30 / 30 points" in page
    assert "Service autograder exited" in hub.log()  # it did die, and the hub started it again


def test_broken_and_simultaneous_submissions_are_all_graded(hub):
    import threading

    before = {s: feedback_folders(hub, s, "m1_concepts") for s in ("student1", "student2")}
    save_from_terminal(hub, "student1", "m1_concepts", b"")  # an empty file
    save_from_terminal(hub, "student2", "m1_concepts", solution_bytes("m1_concepts", "partial"))
    submissions = [threading.Thread(target=submit_from_terminal, args=(hub, s, "m1_concepts")) for s in before]
    for submission in submissions:  # in the same second
        submission.start()
    for submission in submissions:
        submission.join()
    latest = {
        s: max(
            e.name
            for e in (hub.state / "exchange" / "transfer-learning" / "inbound").iterdir()
            if e.name.startswith(f"{s}+m1_concepts+")
        )
        for s in before
    }
    stamps = sorted(datetime.strptime(e.split("+")[2], "%Y-%m-%d %H:%M:%S.%f %Z") for e in latest.values())
    # each submit starts its own nbgrader process: on a loaded 2-core CI machine one landed 1.3 s after
    # the other; within 3 s the second arrives while the first is still being graded (about 4 s)
    assert (stamps[-1] - stamps[0]).total_seconds() <= 3, latest
    page = feedback_from_terminal(hub, "student1", "m1_concepts", before["student1"])
    assert "0 / 12 points" in page and "empty" in page  # says what went wrong, not just zero
    page = feedback_from_terminal(hub, "student2", "m1_concepts", before["student2"])
    partial_score = score_on_page(page)[0]
    assert 0 < partial_score < 12 and hub.gradebook_score("student2", "m1_concepts") == partial_score

    # a resubmission is graded again, and the gradebook keeps the latest score
    before = feedback_folders(hub, "student2", "m1_concepts")
    submit_from_terminal(hub, "student2", "m1_concepts", solution_bytes("m1_concepts"))
    assert "12 / 12 points" in feedback_from_terminal(hub, "student2", "m1_concepts", before)
    assert hub.gradebook_score("student2", "m1_concepts") == 12


def test_the_browser_test_fails_when_the_service_does_not_grade(tmp_path, browser):
    """The same student flow against a hub whose autograder is off: waiting for feedback must fail,
    so the test above proves that the service graded, not that a page happened to exist."""
    hub = Hub(tmp_path, password=PASSWORD)
    hub.env["HUB_AUTOGRADE"] = "0"
    assert hub.script("start").returncode == 0
    try:
        hub.release("m1_concepts")
        student = Student(hub, browser, "student1", shots="no-service-student1")
        student.page.set_default_timeout(60_000)
        student.log_in()
        student.fetch("m1_concepts")
        student.submit("m1_concepts")
        with pytest.raises(AssertionError, match="no feedback"):
            student.fetch_feedback("m1_concepts", timeout=30)
    finally:
        hub.script("stop")


def test_the_instructor_sees_the_notebooks_as_students_will(hub, browser):
    """Each executed example notebook opened in JupyterLab: markdown rendered, plots shown, progress
    bars as text (screenshots kept for people to look at), no widget left showing its first state."""
    home = hub.state / "home" / "instructor"
    for assignment in ("m2_vision", "m2_lora", "m3_evaluation"):
        shutil.copy(ROOT / "submitted" / "solution" / assignment / f"{assignment}.ipynb", home)
    instructor = Student(hub, browser, "instructor")
    instructor.log_in()
    for assignment in ("m2_vision", "m2_lora", "m3_evaluation"):
        page = instructor.page
        page.dblclick(f".jp-DirListing-item:has-text('{assignment}.ipynb')")
        page.wait_for_selector(f".lm-TabBar-tab.lm-mod-current:has-text('{assignment}.ipynb')")
        notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
        notebook.locator(".jp-RenderedMarkdown h1").first.wait_for()
        figures = notebook.locator(".jp-RenderedImage img")
        figures.first.scroll_into_view_if_needed()
        # the next figure below renders a moment later: on a loaded CI machine it was not there yet
        for _ in range(60):
            if figures.count() >= 2:
                break
            page.wait_for_timeout(500)
        instructor.shot(f"figure-{assignment}")
        assert figures.count() >= 2, f"{assignment}: plots do not show"
        # JupyterLab renders cells far from the view lazily: go through the notebook cell by cell, as a reader would
        finished = notebook.locator(".jp-OutputArea-output pre:has-text('100%|')")
        stuck = notebook.locator(".jp-OutputArea-output pre").filter(has_text=re.compile(r"(^|[^0-9])[0-9]{1,2}%\|"))
        notebook.locator(".jp-Cell").first.click()
        page.keyboard.press("Escape")  # command mode: `j` selects the next cell and scrolls it into view
        seen_finished = seen_stuck = False
        for _ in nbformat.read(home / f"{assignment}.ipynb", as_version=4).cells:
            seen_finished = seen_finished or finished.count() > 0
            seen_stuck = seen_stuck or stuck.count() > 0
            page.keyboard.press("j")
            page.wait_for_timeout(100)
        assert not seen_stuck, f"{assignment}: a progress bar shows a state before its last"
        # m3's step loops erase their bars when done (leave=False: 36 learning-curve runs would bury the plots)
        if assignment != "m3_evaluation":
            assert seen_finished, f"{assignment}: no finished text progress bar"
            finished.first.scroll_into_view_if_needed()
        instructor.shot(f"progress-{assignment}")
        assert notebook.locator(".jp-OutputArea-output:has-text('Loading widget')").count() == 0


def test_the_instructor_reads_changes_and_exports_the_scores(hub, browser):
    """After the students' submissions above: formgrader shows each autograded score, the instructor
    takes a point away by hand with a comment, and `nbgrader export` in their terminal has it."""
    expected = hub.gradebook_score("student2", "m1_concepts")
    assert expected == 12  # the resubmitted solution (test_broken_and_simultaneous_submissions_are_all_graded)
    instructor = Instructor(hub, browser, "instructor", shots="instructor-grades")
    instructor.log_in()
    frame = instructor.formgrader()
    frame.locator("a:text-is('Manage Students')").click()
    row = frame.locator("tr:has(td:text-is('student2'))")
    row.wait_for()
    instructor.shot("students")
    row.locator("td a").first.click()
    assignment = frame.locator("tr:has(td:has-text('m1_concepts'))")
    assignment.wait_for()
    instructor.shot("student2")
    # autograded (not "(not autograded)"), with the gradebook's score
    assert assignment.locator("td").first.inner_text().strip() == "m1_concepts"
    assert "12 / 12" in assignment.inner_text(), assignment.inner_text()

    assignment.locator("td a").first.click()  # the student's notebooks of the assignment
    frame.locator("tr:has(td:has-text('m1_concepts')) td a").first.click()  # the submission, cell by cell
    cell = frame.locator(".nbgrader_cell:has(input#test_Q1)")
    cell.wait_for()
    cell.scroll_into_view_if_needed()
    cell.locator("button.no-credit").click()
    comment = frame.locator("textarea").first
    comment.fill("Q1: submitted two days late; its point taken off, as the syllabus says.")
    comment.press("Tab")  # formgrader saves a comment when it loses focus
    instructor.shot("adjusted")
    deadline = time.monotonic() + 30
    while hub.gradebook_score("student2", "m1_concepts") != 11 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert hub.gradebook_score("student2", "m1_concepts") == 11
    assert any("Q1:" in (c or "") for c in hub.comments("student2", "m1_concepts"))

    # the README's terminal path: the course's environment is on PATH in the instructor's terminal
    exported = hub.course / "grades.csv"
    instructor.terminal("cd $TL_COURSE_ROOT && nbgrader export")
    deadline = time.monotonic() + 60
    while not exported.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    instructor.shot("exported")
    assert exported.exists(), "nbgrader export did not run in the instructor's terminal"
    rows = {(r["student_id"], r["assignment"]): float(r["score"]) for r in csv.DictReader(exported.open())}
    assert rows[("student2", "m1_concepts")] == 11


# --- class mode: a system account per person ---------------------------------------------------------


@pytest.fixture(scope="module")
def class_hub():
    """A class-mode hub (root: it makes system accounts) with m1_concepts released. Its folder is not
    under pytest's, which only root may enter: the students' homes must be reachable by them."""
    if os.geteuid() != 0:
        if os.environ.get("CI_REQUIRES_HUB"):
            pytest.fail("class mode needs root, and CI requires the hub tests")
        pytest.skip("class mode makes system accounts: run as root")
    state = Path(tempfile.mkdtemp(prefix="class-hub-"))
    hub = Hub(state, students=2, mode="class")
    started = hub.script("start")
    assert started.returncode == 0, started.stdout + started.stderr
    hub.release("m1_concepts")
    yield hub
    hub.script("stop")
    shutil.rmtree(state, ignore_errors=True)


# a cell a student runs in their own kernel: each attempt, and what the system said
PROBE = """import json, os
def attempt(action, path):
    try:
        if action == "write":
            open(os.path.join(path, "planted.txt"), "w").write("x")
        elif os.path.isdir(path):
            os.listdir(path)
        else:
            open(path, "rb").read(1)
        return "allowed"
    except PermissionError:
        return "denied"
    except OSError as error:
        return type(error).__name__
print("PROBE " + json.dumps({label: attempt(action, path) for label, (action, path) in ATTEMPTS.items()}))
"""


def test_in_class_mode_a_student_reaches_only_their_own(class_hub, browser):
    hub = class_hub
    # student2 has worked: a fetched notebook, a submission graded, feedback fetched
    before = feedback_folders(hub, "student2", "m1_concepts")
    submit_from_terminal(hub, "student2", "m1_concepts", solution_bytes("m1_concepts", "partial"))
    feedback_from_terminal(hub, "student2", "m1_concepts", before)
    # the autograder runs as the instructor, in cgroups hub.sh gave that account (not per-process limits)
    report = (hub.course / "autograded" / "student2" / "m1_concepts" / "report.json").read_text()
    assert "sandbox" in report and "no writable cgroup" not in report, report[-2000:]
    other, exchange = hub.state / "home" / "student2", hub.state / "exchange" / "transfer-learning"
    attempts = {
        "solutions in the course": ("read", hub.course / "source" / "m1_concepts" / "m1_concepts.ipynb"),
        "solutions in the checkout": ("read", ROOT / "source" / "m1_concepts" / "m1_concepts.ipynb"),
        "example solutions": ("read", ROOT / "submitted" / "solution" / "m1_concepts" / "m1_concepts.ipynb"),
        "answer key": ("read", ROOT / "grader" / "assignments" / "m1_concepts" / "checks.py"),
        "probes": ("read", ROOT / "grader" / "assignments" / "m2_vision" / "probes.py"),
        "references": ("read", ROOT / "grader" / "references" / "m2_vision.json"),
        "the checkout's history": ("read", ROOT / ".git" / "HEAD"),
        "student2's home": ("read", other),
        "student2's notebook": ("read", other / "m1_concepts" / "m1_concepts.ipynb"),
        "student2's feedback": ("read", other / "m1_concepts" / "feedback"),
        "submissions in the exchange": ("read", exchange / "inbound"),
        "submissions in the course": ("read", hub.course / "submitted"),
        "the gradebook": ("read", hub.course / "gradebook.db"),
        "the reports": ("read", hub.course / "autograded" / "student2" / "m1_concepts" / "report.json"),
        "the hub's database": ("read", hub.state / "jupyterhub.sqlite"),
        "write student2's feedback": ("write", other / "m1_concepts" / "feedback"),
        "write the reports": ("write", hub.course / "autograded"),
        "write released feedback": ("write", exchange / "feedback"),
        "write the released assignment": ("write", exchange / "outbound" / "m1_concepts"),
    }
    for label, (_, path) in attempts.items():  # each is there: "denied" must not stand in for "missing"
        assert path.exists(), f"{label}: {path} is not there to try"

    student = Student(hub, browser, "student1", shots="class-student1")
    student.log_in()
    page = student.page
    page.click(".jp-LauncherCard[data-category='Notebook']")
    page.wait_for_selector(".jp-StatusBar-TextItem:has-text('| Idle')")
    code = f"ATTEMPTS = {json.dumps({k: (a, str(p)) for k, (a, p) in attempts.items()})}\n{PROBE}"
    student.replace_source(student.cells().first, code)
    page.keyboard.press("Control+Enter")
    output = page.locator(".jp-OutputArea-output:has-text('PROBE ')")
    output.wait_for()
    student.shot("probe")
    got = json.loads(output.inner_text().split("PROBE ", 1)[1])
    assert got == dict.fromkeys(attempts, "denied"), {k: v for k, v in got.items() if v != "denied"}

    # and their own work goes through: fetch, answer, submit, feedback
    student.fetch("m1_concepts")
    student.open_notebook("m1_concepts")
    assert student.answer(answers_for("m1_concepts")) == 12
    student.run_all()
    student.submit("m1_concepts")
    text, _ = student.fetch_feedback("m1_concepts")
    assert score_on_page(text) == (12, 12)
    assert hub.gradebook_score("student1", "m1_concepts") == 12
