"""Every sentence of the notebooks that states an effect, held to the numbers the course recorded.

A claim quotes its sentence, which must stay in the source notebook word for word, and checks
it on every recorded run: the executed solution example (a CPU run) and the references (a GPU
run for the experiments), since students and instructors see both. Editing the prose drops
the quote; rerunning an experiment whose numbers no longer carry the sentence fails its check.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from conftest import ROOT, example, prose

from grader import references
from grader.notebook import read, recorded_results

EXPERIMENTS = ("m2_lora", "m2_vision", "m3_evaluation")


def mean(values) -> float:
    return sum(values) / len(values)


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


def adabn_adds_nothing_after_labels(run) -> bool:
    tuned, both = shift(run)["UCI + 5 labels/class"], shift(run)["UCI + AdaBN + 5 labels/class"]
    return all(abs(a - b) < 0.01 for a, b in zip(tuned, both))


def selection(run):
    return run["m3_evaluation"]["source_selection"]


def ranked(run, measure: str) -> list[str]:
    """The candidate sources, best first by the mean over seeds of `measure` (logme or accuracy)."""
    candidates = selection(run)["candidates"]
    return sorted(candidates, key=lambda name: mean(candidates[name][measure]), reverse=True)


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
    # m3, domain shift: three seeds, every UCI row scored on the same held-out digits
    Claim(
        "m3_evaluation",
        "As they are, the UCI digits leave the MNIST model close to chance on every seed.",
        every(lambda r: all(m > 0.9 and u < 0.2 for m, u in zip(shift(r)["MNIST test"], shift(r)["UCI as is"]))),
    ),
    Claim(
        "m3_evaluation",
        "with no label and no change to the model, gains 0.2 or more on every seed.",
        every(lambda r: all(f - u >= 0.2 for f, u in zip(shift(r)["UCI framed"], shift(r)["UCI as is"]))),
    ),
    Claim(
        "m3_evaluation",
        "AdaBN on the digits as they are gains about as much (the two means are\n  within 0.05 of each other).",
        every(lambda r: abs(mean(shift(r)["UCI + AdaBN"]) - mean(shift(r)["UCI framed"])) < 0.05),
    ),
    Claim(
        "m3_evaluation",
        "framed and adapted, the model\n  does better than with either alone on every seed.",
        every(
            lambda r: all(
                both > max(framed, adapted)
                for both, framed, adapted in zip(
                    shift(r)["UCI framed + AdaBN"], shift(r)["UCI framed"], shift(r)["UCI + AdaBN"]
                )
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "fine-tuned on them, the model beats\n  framing plus AdaBN on every seed.",
        every(
            lambda r: all(
                min(tuned, both_tuned) > both
                for tuned, both_tuned, both in zip(
                    shift(r)["UCI + 5 labels/class"],
                    shift(r)["UCI + AdaBN + 5 labels/class"],
                    shift(r)["UCI framed + AdaBN"],
                )
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "with and without it, the fine-tuned models\n  are within a point of each other on every seed.",
        every(adabn_adds_nothing_after_labels),
    ),
    Claim(
        "m3_evaluation",
        "a\n  few target labels helped most, and once there were labels AdaBN added nothing.",
        every(
            lambda r: (
                adabn_adds_nothing_after_labels(r)
                and mean(shift(r)["UCI + 5 labels/class"])
                > max(mean(v) for k, v in shift(r).items() if "labels" not in k and k != "MNIST test")
            )
        ),
    ),
    # m3, source selection: seven sources, three seeds, a bootstrap interval for tau
    Claim(
        "m3_evaluation",
        "Seven candidate sources for the UCI digits",
        every(lambda r: len(selection(r)["candidates"]) == 7 and len(selection(r)["kendall_tau"]) == 3),
    ),
    Claim(
        "m3_evaluation",
        "LogME puts ImageNet's EfficientNet first and\n"
        "the random CNN last, and fine-tuning ranks the random CNN last too.",
        every(
            lambda r: (
                ranked(r, "logme")[0] == "ImageNet EfficientNet"
                and ranked(r, "logme")[-1] == ranked(r, "accuracy")[-1] == "random CNN"
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "the faces CNN has the second-best LogME and the second-worst accuracy after fine-tuning",
        every(lambda r: ranked(r, "logme")[1] == ranked(r, "accuracy")[-2] == "faces CNN"),
    ),
    Claim(
        "m3_evaluation",
        "the best source after fine-tuning is the MNIST CNN, which LogME ranks third",
        every(lambda r: ranked(r, "accuracy")[0] == ranked(r, "logme")[2] == "MNIST CNN"),
    ),
    Claim(
        "m3_evaluation",
        "Kendall's tau\nstays below 0.35 on every seed and its 95% interval includes 0",
        every(
            lambda r: (
                max(selection(r)["kendall_tau"]) < 0.35
                and selection(r)["interval"][0] < 0 < selection(r)["interval"][1]
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "its agreement with fine-tuning could not be told apart from\n"
        "  chance, and it rated the features of a face detector second best for digits.",
        every(
            lambda r: (
                selection(r)["interval"][0] < 0 < selection(r)["interval"][1] and ranked(r, "logme")[1] == "faces CNN"
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
        "AdaBN on the digits as they are gains about as much (the two means are\n  within 0.05 of each other).",
    }
