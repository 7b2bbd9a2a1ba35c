"""Every sentence of the notebooks that states an effect, held to the numbers the course recorded.

A claim quotes its sentence, which must stay in the source notebook word for word, and checks
it on every recorded run: the executed solution example (a CPU run) and the references (a GPU
run for the experiments), since students and instructors see both. Editing the prose drops
the quote; rerunning an experiment whose numbers no longer carry the sentence fails its check.
"""

import itertools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass

import nbformat
import pytest
from conftest import ROOT, example

from grader import references
from grader.notebook import read, recorded_results

EXPERIMENTS = ("m2_lora", "m2_vision", "m3_evaluation")


def mean(values) -> float:
    return sum(values) / len(values)


def chance_of_tau(n: int, tau: float) -> float:
    """How often a random order of n sources reaches |Kendall tau| >= tau (exactly, over all n! orders)."""
    reach = 0
    for order in itertools.permutations(range(n)):
        inversions = sum(order[i] > order[j] for i, j in itertools.combinations(range(n), 2))
        reach += abs(1 - 4 * inversions / (n * (n - 1))) >= tau - 1e-9
    return reach / math.factorial(n)


def fine_tuning_margins() -> list[float]:
    """Fine-tuning minus feature extraction in each correct run of m2_vision's table in BENCHMARKS.md
    (three seeds x three correct augmentations)."""
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    section = text.split("## Where correct runs of m2_vision's experiment land", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| (\d) \| [\w ]+ \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \|$", section, re.M)
    assert len(rows) == 9, "BENCHMARKS.md's table of correct m2_vision runs changed shape"
    return [float(ft) - float(fe) for _, fe, ft, _ in rows]


@dataclass(frozen=True)
class Claim:
    assignment_id: str
    quote: str
    holds: Callable[[list[dict]], bool]  # on the runs: [{assignment_id: {result name: values}}, ...]


def every(check):
    return lambda runs: all(check(run) for run in runs)


def curves(run):
    return run["m3_evaluation"]["learning_curves"]


def forgetting(run):
    return run["m3_evaluation"]["forgetting"]


def shift(run):
    return run["m3_evaluation"]["domain_shift"]


def strategies(run):
    return run["m2_vision"]["strategies"]


def encoder(run):
    return run["m2_lora"]["encoder"]


def negative(run, source):
    return run["m3_evaluation"]["negative_transfer"][source]


def trained_share(row) -> float:
    return row["trainable_parameters"] / row["total_parameters"]


def llm(run):
    return run["m2_lora"]["llm"]


IMAGE = 1 / 20  # the forgetting experiment's ImageNet accuracy is measured on 20 images
SEEDS = range(3)

CLAIMS = [
    # m3, learning curves
    Claim(
        "m3_evaluation",
        "With five labels per class both pretrained strategies beat the small CNN trained from scratch\non every seed.",
        every(
            lambda r: all(
                min(curves(r)["feature extraction"]["5"][s], curves(r)["fine-tuning"]["5"][s])
                > curves(r)["scratch"]["5"][s]
                for s in SEEDS
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "scratch comes within half a\npoint of fine-tuning",
        every(lambda r: abs(mean(curves(r)["fine-tuning"]["400"]) - mean(curves(r)["scratch"]["400"])) <= 0.005),
    ),
    Claim(
        "m3_evaluation",
        "beats frozen ImageNet features on every seed",
        every(lambda r: all(curves(r)["scratch"]["400"][s] > curves(r)["feature extraction"]["400"][s] for s in SEEDS)),
    ),
    Claim(
        "m3_evaluation",
        "which stay about three\npoints behind both.",
        every(
            lambda r: all(
                0.025
                <= min(curves(r)["scratch"]["400"][s], curves(r)["fine-tuning"]["400"][s])
                - curves(r)["feature extraction"]["400"][s]
                <= 0.04
                for s in SEEDS
            )
        ),
    ),
    # m3, negative transfer (five seeds)
    Claim(
        "m3_evaluation",
        "the error stays near\nchance and the gap is positive on every seed.",
        every(
            lambda r: (
                all(abs(e - 0.5) < 0.05 for e in negative(r, "frozen source")["transfer"])
                and all(g > 0 for g in negative(r, "frozen source")["gap_per_seed"])
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "the gap is negative on every seed.",
        every(lambda r: all(g < 0 for g in negative(r, "fine-tuned source")["gap_per_seed"])),
    ),
    # m3, forgetting: one seed, 20 source images, so only differences of several images are stated
    Claim(
        "m3_evaluation",
        "at least five of\nthe twenty sample images it knew are gone.",
        every(lambda r: forgetting(r)["full fine-tuning"]["forgetting"] >= 5 * IMAGE - 1e-6),
    ),
    Claim(
        "m3_evaluation",
        "A frozen backbone forgets nothing",
        every(lambda r: forgetting(r)["frozen backbone"]["forgetting"] == 0),
    ),
    Claim(
        "m3_evaluation",
        "loses at most one image.",
        every(lambda r: forgetting(r)["L2-SP"]["forgetting"] <= IMAGE + 1e-6),
    ),
    Claim(
        "m3_evaluation",
        "full fine-tuning and L2-SP swap\nplaces.",
        lambda runs: (
            len(
                {
                    forgetting(r)["full fine-tuning"]["digit_accuracy"] > forgetting(r)["L2-SP"]["digit_accuracy"]
                    for r in runs
                }
            )
            == 2
        ),
    ),
    # m3, domain shift
    Claim(
        "m3_evaluation",
        "the MNIST model is close to chance on the UCI digits as they are.",
        every(lambda r: shift(r)["MNIST test"] > 0.9 and shift(r)["UCI as is"] < 0.2),
    ),
    Claim(
        "m3_evaluation",
        "recovers a large part of the gap",
        every(lambda r: shift(r)["UCI + AdaBN"] - shift(r)["UCI as is"] > 0.2),
    ),
    Claim(
        "m3_evaluation",
        "Five labels per class on top of AdaBN\ndo far more.",
        every(lambda r: shift(r)["UCI + AdaBN + 5 labels/class"] - shift(r)["UCI + AdaBN"] > 0.2),
    ),
    # m3, source selection: what the prose says about tau, and how often chance reaches it
    Claim(
        "m3_evaluation",
        "of\nthe 120 orders five sources can take, 58 reach a tau of 0.4 or more in absolute value by\nchance alone.",
        lambda runs: round(120 * chance_of_tau(5, 0.4)) == 58,
    ),
    Claim(
        "m3_evaluation",
        "(Kendall's tau of 0.4 over five sources, one seed) is what a random ranking of five reaches about\n"
        "  half the time",
        every(
            lambda r: (
                len(r["m3_evaluation"]["source_selection"]["candidates"]) == 5
                and round(r["m3_evaluation"]["source_selection"]["kendall_tau"], 2) == 0.4
                and 0.4 < chance_of_tau(5, r["m3_evaluation"]["source_selection"]["kendall_tau"]) < 0.6
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "Module 2's perplexity rose\n  after LoRA",
        every(lambda r: llm(r)["after"]["perplexity"] > llm(r)["before"]["perplexity"]),
    ),
    # m2_vision
    Claim(
        "m2_vision",
        "training from scratch stays far behind both\n  strategies that reuse ImageNet weights.",
        every(
            lambda r: (
                min(strategies(r)["feature_extraction"]["accuracy"], strategies(r)["fine_tuning"]["accuracy"])
                - strategies(r)["scratch"]["accuracy"]
                > 0.3
            )
        ),
    ),
    Claim(
        "m2_vision",
        "Module 3's learning curves show a small network trained from scratch near\n  0.8 with twenty labels per class",
        every(lambda r: abs(mean(curves(r)["scratch"]["20"]) - 0.8) < 0.03),
    ),
    Claim(
        "m2_vision",
        "Fine-tuning the last three blocks trains 92% of the weights",
        every(lambda r: round(100 * trained_share(strategies(r)["fine_tuning"])) == 92),
    ),
    Claim(
        "m2_vision",
        "feature extraction under half a percent.",
        every(lambda r: trained_share(strategies(r)["feature_extraction"]) < 0.005),
    ),
    Claim(
        "m2_vision",
        "Fine-tuning beat the frozen backbone in\n  this run",
        every(lambda r: strategies(r)["fine_tuning"]["accuracy"] > strategies(r)["feature_extraction"]["accuracy"]),
    ),
    Claim(
        "m2_vision",
        "over three seeds and three correct augmentations it was ahead in every run, by\n  1 to 15 points",
        lambda runs: (
            (margins := fine_tuning_margins())
            and min(margins) > 0
            and (round(100 * min(margins)), round(100 * max(margins))) == (1, 15)
        ),
    ),
    # m2_lora
    Claim(
        "m2_lora",
        "LoRA trains a third of a percent of the weights and lands within a few points of full\nfine-tuning",
        every(
            lambda r: (
                0.003 <= trained_share(encoder(r)["LoRA"]) < 0.0036
                and abs(encoder(r)["LoRA"]["accuracy"] - encoder(r)["full fine-tuning"]["accuracy"]) < 0.03
            )
        ),
    ),
    Claim(
        "m2_lora",
        "The frozen encoder's poor score",
        every(lambda r: encoder(r)["head only"]["accuracy"] < encoder(r)["LoRA"]["accuracy"] - 0.1),
    ),
    Claim(
        "m2_lora",
        "thirty LoRA steps with the\n  prompt masked out of the loss raised its accuracy on 100 reviews.",
        every(lambda r: len(llm(r)["losses"]) == 30 and llm(r)["after"]["accuracy"] > llm(r)["before"]["accuracy"]),
    ),
    Claim(
        "m2_lora",
        "The perplexity of unrelated text went up",
        every(lambda r: llm(r)["after"]["perplexity"] > llm(r)["before"]["perplexity"]),
    ),
]


def recorded_runs() -> dict[str, dict]:
    """Each recorded run of the experiments, by where it comes from."""
    solution = {a: recorded_results(read(example("solution", a))) for a in EXPERIMENTS}
    reference = {a: references.load(a)[1] for a in EXPERIMENTS}
    return {"solution example": solution, "references": reference}


def prose(assignment_id: str) -> str:
    notebook = nbformat.read(ROOT / "source" / assignment_id / f"{assignment_id}.ipynb", as_version=4)
    return "\n\n".join(c.source for c in notebook.cells if c.cell_type == "markdown")


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.assignment_id}: {c.quote[:40]}")
def test_the_notebook_says_it(claim):
    assert claim.quote in prose(claim.assignment_id), "the sentence changed: update its claim with it"


@pytest.mark.parametrize("claim", CLAIMS, ids=lambda c: f"{c.assignment_id}: {c.quote[:40]}")
def test_the_numbers_carry_it(claim):
    runs = recorded_runs()
    assert claim.holds(list(runs.values())), f"not true of the recorded runs ({', '.join(runs)}): {claim.quote!r}"


def test_numbers_edited_against_the_prose_fail_their_claims():
    """Scratch ahead with five labels, and AdaBN doing nothing: the claims that say otherwise fail."""
    runs = recorded_runs()
    edited = runs["solution example"]["m3_evaluation"]
    edited["learning_curves"]["scratch"]["5"] = [0.9, 0.9, 0.9]
    edited["domain_shift"]["UCI + AdaBN"] = edited["domain_shift"]["UCI as is"]
    failing = {c.quote for c in CLAIMS if not c.holds(list(runs.values()))}
    assert failing == {
        CLAIMS[0].quote,  # five labels: pretrained ahead on every seed
        "recovers a large part of the gap",
    }
