"""The course's files agree with each other: release, references, points, notebooks."""

import json
import subprocess

import nbformat
import pytest
from conftest import ASSIGNMENTS, EACH_ASSIGNMENT, ROOT, prose, venv_env

from grader import course, references


def nbgrader(*args, cwd):
    return subprocess.run(["nbgrader", *args], cwd=cwd, env=venv_env(), capture_output=True, text=True)


def comparable(path):
    notebook = nbformat.read(path, as_version=4)
    return [(c.cell_type, c.source, json.dumps(c.metadata, sort_keys=True)) for c in notebook.cells]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_release_is_up_to_date_with_source(course_copy, assignment_id):
    (course_copy / "release").rename(course_copy / "committed_release")
    done = nbgrader("generate_assignment", assignment_id, "--force", cwd=course_copy)
    assert done.returncode == 0, done.stderr[-2000:]
    fresh = course_copy / "release" / assignment_id / f"{assignment_id}.ipynb"
    committed = course_copy / "committed_release" / assignment_id / f"{assignment_id}.ipynb"
    assert comparable(fresh) == comparable(committed), "release/ is stale: run `make release` and commit it"


# (the source notebooks themselves run end to end in test_execute: graded with --execute, they must
# score full marks with no cell raising, which is what `nbgrader validate` asks of them)
@pytest.mark.slow
@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_nbgrader_validate_fails_the_release(course_copy, assignment_id):
    release = course_copy / "release" / assignment_id / f"{assignment_id}.ipynb"
    inverted = nbgrader("validate", "--invert", str(release), cwd=course_copy)
    assert inverted.returncode == 0 and "Success" in inverted.stdout, inverted.stdout[-3000:]


def test_validate_points_at_an_answer_cell_that_did_not_run(course_copy):
    """A syntax error in an answer cell: nbgrader's Validate (the notebook's button runs the same) shows
    the test cell below it, which says to run and fix the cell above instead of a bare NameError."""
    release = course_copy / "release" / "m1_concepts" / "m1_concepts.ipynb"
    notebook = nbformat.read(release, as_version=4)
    next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "Q1").source = 'Q1 = "d'
    nbformat.write(notebook, release)
    done = nbgrader("validate", str(release), cwd=course_copy)
    assert "Q1 is not defined: run the cell above; fix any error it shows" in done.stdout, done.stdout[-3000:]


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_solution_example_is_current_and_ran_cleanly(assignment_id):
    from grader.examples import answer, cell_of
    from grader.notebook import RESULTS_MIME_TYPE

    source = nbformat.read(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    release = nbformat.read(ROOT / "release" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    solved = nbformat.read(ROOT / "submitted" / "solution" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            assert cell_of(solved, meta["grade_id"]).source == answer(cell.source), (
                "`make examples`: submitted/ is stale"
            )
    assert [c.source for c in solved.cells if not c.metadata.get("nbgrader", {}).get("solution")] == [
        c.source for c in release.cells if not c.metadata.get("nbgrader", {}).get("solution")
    ]
    errors = [o for c in solved.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, [f"{o.ename}: {o.evalue}" for o in errors]
    assert all(c.execution_count for c in solved.cells if c.cell_type == "code"), "every cell ran"
    recorded = [
        o for c in solved.cells if c.cell_type == "code" for o in c.outputs if RESULTS_MIME_TYPE in o.get("data", {})
    ]
    assert recorded or assignment_id == "m1_concepts"


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_references_are_built_from_the_current_source(assignment_id):
    _, _, provenance = references.load(assignment_id)
    source = ROOT / "source" / assignment_id / f"{assignment_id}.ipynb"
    assert provenance["code_sha256"] == references.code_digest(source), (
        "source/'s code changed since the references were built: `make references` (on a GPU: DEVICE=cuda)"
    )
    assert {"device", "device_type", "torch", "seed", "built"} <= set(provenance)


@pytest.mark.parametrize("assignment_id", EACH_ASSIGNMENT)
def test_every_graded_cell_is_a_function_with_points(graded_examples, assignment_id):
    spec = course.load(assignment_id)
    report = graded_examples("solution", assignment_id)
    by_function = {}
    for t in report.tests:
        by_function[t.function] = by_function.get(t.function, 0) + t.max_points
    for grade_id in spec.graded:
        assert by_function.get(grade_id, 0) > 0, f"{grade_id} carries no hidden tests"
        assert by_function[grade_id] == spec.points_of(grade_id), f"{grade_id}: hidden points != test cell points"
    assert set(by_function) - set(spec.graded) <= {"experiment"}


@pytest.mark.parametrize("assignment_id", ASSIGNMENTS)
def test_solution_cells_define_what_their_grade_id_names(assignment_id):
    import ast

    source = nbformat.read(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            tree = ast.parse(cell.source)
            names = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
            names |= {
                t.id for n in tree.body if isinstance(n, ast.Assign) for t in n.targets if isinstance(t, ast.Name)
            }
            assert meta["grade_id"] in names, f"cell {meta['grade_id']} does not define {meta['grade_id']}"


def _m1_constants() -> dict:
    """The data the m1 notebook quotes, as its cells assign them (literals only, so read without running)."""
    import ast

    notebook = nbformat.read(ROOT / "source" / "m1_concepts" / "m1_concepts.ipynb", as_version=4)
    found = {}
    for cell in notebook.cells:
        if cell.cell_type == "code" and not cell.metadata.get("nbgrader"):
            for node in ast.parse(cell.source).body:
                if (
                    isinstance(node, ast.Assign)
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id.isupper()
                ):
                    found[node.targets[0].id] = ast.literal_eval(node.value)
    return found


def test_m1_quotes_the_course_results():
    """What the concept check shows as this course's evidence is what the experiments recorded."""
    r3 = lambda v: round(float(v), 3)  # noqa: E731 (the notebook shows three decimals)
    _, m3, _ = references.load("m3_evaluation")
    _, m2_lora, _ = references.load("m2_lora")
    quoted = _m1_constants()
    assert quoted["LEARNING_CURVES"] == {
        s: {n: [r3(v) for v in seeds] for n, seeds in by.items()} for s, by in m3["learning_curves"].items()
    }
    assert quoted["NEGATIVE_TRANSFER_GAPS"] == {
        m: [r3(v) for v in r["gap_per_seed"]] for m, r in m3["negative_transfer"].items()
    }
    for strategy, row in quoted["LORA_VS_FULL"].items():
        recorded = m2_lora["encoder"][strategy]
        assert row == {
            "trainable parameters": recorded["trainable_parameters"],
            "total parameters": recorded["total_parameters"],
            "seconds per step": r3(sum(recorded["seconds_per_step"]) / len(recorded["seconds_per_step"])),
        }
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    selection = m3["source_selection"]
    assert quoted["SOURCES"] == {
        n: [r3(mean(r["logme"])), r3(mean(r["accuracy"]))] for n, r in selection["candidates"].items()
    }
    assert quoted["KENDALL_TAU"] == [round(t, 2) for t in selection["kendall_tau"]]
    assert quoted["TAU_INTERVAL"] == [round(v, 2) for v in selection["interval"]]


def test_m1_claims_hold_on_the_quoted_numbers():
    """Each statement a question's right answer makes about the data is true of the data it shows."""
    q = _m1_constants()
    curves, gaps, lora = q["LEARNING_CURVES"], q["NEGATIVE_TRANSFER_GAPS"], q["LORA_VS_FULL"]
    mean = lambda v: sum(v) / len(v)  # noqa: E731
    seeds = range(3)
    # Q2: with 5 labels, fine-tuning ahead of both at every seed; the means quoted
    assert all(
        curves["fine-tuning"]["5"][s] > max(curves["feature extraction"]["5"][s], curves["scratch"]["5"][s])
        for s in seeds
    )
    assert [round(mean(curves[k]["5"]), 2) for k in ("fine-tuning", "feature extraction", "scratch")] == [
        0.72,
        0.67,
        0.58,
    ]
    # Q3: at 400, fine-tuning 0.02 to 0.03 ahead of scratch and scratch ahead of the frozen features, at every seed;
    # the means the feedback quotes
    assert {round(f - s, 2) for f, s in zip(curves["fine-tuning"]["400"], curves["scratch"]["400"])} <= {0.02, 0.03}
    assert all(s > f for s, f in zip(curves["scratch"]["400"], curves["feature extraction"]["400"]))
    assert [round(mean(curves[k]["400"]), 3) for k in ("feature extraction", "scratch", "fine-tuning")] == [
        0.922,
        0.948,
        0.973,
    ]
    # Q5 and Q6: the frozen source hurts at every seed, fine-tuned it helps at every seed; the key is the mean
    assert all(g > 0 for g in gaps["frozen source"]) and all(g < 0 for g in gaps["fine-tuned source"])
    from grader.assignments.m1_concepts.checks import KEYS

    assert abs(mean(gaps["frozen source"]) - KEYS["Q6"].key) < 1e-9
    # Q10: a third of a percent of the parameters, about 70% of the time
    share = lora["LoRA"]["trainable parameters"] / lora["LoRA"]["total parameters"]
    ratio = lora["LoRA"]["seconds per step"] / lora["full fine-tuning"]["seconds per step"]
    assert 0.0030 <= share <= 0.0036 and 0.62 <= ratio <= 0.78
    # Q12: (a) reads the first seed's tau and its feedback names the lowest, the interval across 0 (the key) and
    # its top quoted by the feedback on (b), the faces CNN second by LogME and second worst after fine-tuning,
    # and (d) quoting the largest tau as if it were accuracy
    tau, interval, wrong = q["KENDALL_TAU"], q["TAU_INTERVAL"], KEYS["Q12"].wrong
    assert f"tau is {tau[0]} on the first seed" in prose("m1_concepts") and f"tau is {min(tau)}," in wrong["a"]
    assert interval[0] < 0 < interval[1] and f"the interval reaches {interval[1]}," in wrong["b"]
    by_logme = sorted(q["SOURCES"], key=lambda n: q["SOURCES"][n][0], reverse=True)
    by_accuracy = sorted(q["SOURCES"], key=lambda n: q["SOURCES"][n][1], reverse=True)
    assert by_logme[1] == by_accuracy[-2] == "faces CNN"
    assert f"the best source is {max(q['KENDALL_TAU'])} accuracy points better" in prose("m1_concepts")


def test_m1_is_a_concept_check_worth_taking():
    """Keys spread over the letters, questions decided from the course's data, misconceptions aimed at,
    and every wrong choice explained."""
    from collections import Counter

    from grader.assignments.m1_concepts.checks import KEYS, Choice

    choices = {q: k for q, k in KEYS.items() if isinstance(k, Choice)}
    letters = Counter(k.key for k in choices.values())
    assert len(KEYS) == 12 and max(letters.values()) <= 0.35 * len(choices), letters
    assert sum("data" in k.kinds for k in KEYS.values()) >= 5
    assert sum("misconception" in k.kinds for k in KEYS.values()) >= 3
    for question, key in choices.items():
        assert set(key.wrong) == set("abcd") - {key.key}, question
        assert all(len(why) > 40 for why in key.wrong.values()), question
