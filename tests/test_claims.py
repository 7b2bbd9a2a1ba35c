"""Every sentence of the notebooks that states an effect, held to the numbers the course recorded.

A claim quotes its sentence, which must stay in the source notebook word for word, and checks
it on every recorded run: the executed solution example (a CPU run) and the references (a GPU
run for the experiments), since students and instructors see both. Editing the prose drops
the quote; rerunning an experiment whose numbers no longer carry the sentence fails its check.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from statistics import mean, stdev

import nbformat
import pytest
from conftest import ROOT, example, prose

from grader import references
from grader.examples import cell_of
from grader.notebook import read, recorded_results
from transfer_course import models

EXPERIMENTS = ("m2_lora", "m2_vision", "m3_evaluation")


def benchmark_table(heading: str) -> list[list[str]]:
    """The body rows of the first table under `## heading` in BENCHMARKS.md, each a list of its cells."""
    text = (ROOT / "BENCHMARKS.md").read_text(encoding="utf-8")
    section = text.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    table = lines[: next((i for i, line in enumerate(lines[1:], 1) if not line.startswith("|")), len(lines))]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in table[2:]]  # after header, rule


def fine_tuning_margins() -> list[float]:
    """Fine-tuning minus feature extraction in each correct run of m2_vision's table in BENCHMARKS.md
    (three seeds x three correct augmentations)."""
    rows = benchmark_table("Where correct runs of m2_vision's experiment land")
    margins = [float(ft) - float(fe) for seed, _, fe, ft, _ in rows if seed.isdigit()]
    assert len(margins) == 9, "BENCHMARKS.md's table of correct m2_vision runs changed shape"
    return margins


def fine_tuning_ahead(margins: list[float]) -> bool:
    """Ahead in eight of the nine correct runs, by 5 points on average."""
    return sum(m > 0 for m in margins) == 8 and round(100 * mean(margins)) == 5


def scratch_rate_search() -> dict[float, tuple[float, float]]:
    """Scratch's learning-rate search in BENCHMARKS.md: rate -> (mean validation accuracy, mean final loss)."""
    rows = benchmark_table("The learning rate of m2_vision's scratch baseline")
    return {float(rate): (float(accuracy.split("±")[0]), float(loss)) for rate, _, accuracy, loss in rows}


def notebook_scratch_rate() -> float:
    notebook = nbformat.read(ROOT / "source" / "m2_vision" / "m2_vision.ipynb", as_version=4)
    source = cell_of(notebook, "experiment_settings").source
    return float(re.search(r'"scratch": \(([\d.e-]+), \1\)', source).group(1))


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


def margins(run, below: str, *above: str) -> list[float]:
    """Per seed, how far the lowest of the `above` strategies' accuracies is over the `below` one's."""
    runs = strategies(run)
    return [min(run_above) - b for b, *run_above in zip(runs[below]["accuracy"], *(runs[a]["accuracy"] for a in above))]


def encoder(run):
    return run["m2_lora"]["encoder"]


def negative(run, source):
    return run["m3_evaluation"]["negative_transfer"][source]


def trained_share(row) -> float:
    return row["trainable_parameters"] / row["total_parameters"]


def llm(run):
    return run["m2_lora"]["llm"]


PROBES = ("probe, [CLS] pooler", "probe, mean pooling")
COMPARED = ("LoRA", "full fine-tuning", "probe, mean pooling")


def per_step(row) -> float:
    return mean(row["seconds_per_step"])


def step_memory(row) -> float:
    return sum(row["memory_mb"].values())


def lora_gain(run) -> float:
    """SmolLM2's mean test accuracy after LoRA minus before, over seeds."""
    return mean(llm(run)["after"]["accuracy"]) - mean(llm(run)["before"]["accuracy"])


def perplexity_rose(run) -> bool:
    return all(a > b for b, a in zip(llm(run)["before"]["perplexity"], llm(run)["after"]["perplexity"]))


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
        "fine-tuning is about fifteen points ahead of\n"
        "scratch with five labels per class and about two with 400, still on every seed.",
        every(
            lambda r: (
                round(mean(curves(r)["fine-tuning"]["5"]) - mean(curves(r)["scratch"]["5"]), 2) == 0.15
                and round(mean(curves(r)["fine-tuning"]["400"]) - mean(curves(r)["scratch"]["400"]), 2) == 0.02
                and all(f > s for f, s in zip(curves(r)["fine-tuning"]["400"], curves(r)["scratch"]["400"]))
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "with 400 labels per class scratch beats them on every seed, by one\nto four points.",
        every(
            lambda r: all(
                0.01 <= s - f <= 0.04
                for s, f in zip(curves(r)["scratch"]["400"], curves(r)["feature extraction"]["400"])
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "scratch all 24,170 weights of a small network\nof its own, feature extraction a linear classifier (12,810), "
        "fine-tuning 1,030,410 (the last\nstage and `conv_head`, a fifth of EfficientNet's 4.65 million weights, "
        "and a head)",
        every(
            lambda r: (
                sum(p.numel() for p in models.small_cnn(10).parameters()) == 24170
                and [forgetting(r)[s]["trained_parameters"] for s in ("frozen", "fine-tuning")] == [12810, 1030410]
                and round((1030410 - 12810) / sum(p.numel() for p in models.vision_backbone().parameters()), 1) == 0.2
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "with\n  hundreds of labels per class its lead shrinks to a couple of points, and frozen features fall\n"
        "  behind a small network trained from scratch.",
        every(
            lambda r: (
                0.01 <= mean(curves(r)["fine-tuning"]["400"]) - mean(curves(r)["scratch"]["400"]) <= 0.03
                and mean(curves(r)["scratch"]["400"]) > mean(curves(r)["feature extraction"]["400"])
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
    # m3, forgetting: three seeds, ImageNet's answers on 1,000 photo crops kept (1 - forgetting)
    Claim(
        "m3_evaluation",
        "changed ImageNet's answer on about a fifth of the photo crops\nwhen the top was fine-tuned, on every seed.",
        every(lambda r: all(0.15 <= f <= 0.25 for f in forgetting(r)["fine-tuning"]["forgetting"])),
    ),
    Claim(
        "m3_evaluation",
        "The frozen top keeps every answer",
        every(lambda r: all(f == 0 for f in forgetting(r)["frozen"]["forgetting"])),
    ),
    Claim(
        "m3_evaluation",
        "L2-SP and LoRA each keep about 95% of them (between 0.92 and 0.97 on every seed)",
        every(lambda r: all(0.92 <= 1 - f <= 0.97 for s in ("L2-SP", "LoRA") for f in forgetting(r)[s]["forgetting"])),
    ),
    Claim(
        "m3_evaluation",
        "a low-rank\nupdate forgets too, only less, about as much as fine-tuning held back by L2-SP.",
        every(
            lambda r: (
                0 < mean(forgetting(r)["LoRA"]["forgetting"]) < mean(forgetting(r)["fine-tuning"]["forgetting"]) / 2
                and abs(mean(forgetting(r)["LoRA"]["forgetting"]) - mean(forgetting(r)["L2-SP"]["forgetting"])) < 0.02
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "LoRA trained\n48,138 parameters, a twentieth of fine-tuning's 1,030,410.",
        every(lambda r: [forgetting(r)[s]["trained_parameters"] for s in ("LoRA", "fine-tuning")] == [48138, 1030410]),
    ),
    Claim(
        "m3_evaluation",
        "their means lie within two points of\neach other, inside the spread over seeds.",
        every(
            lambda r: (
                (spread := max(means := [mean(v["digit_accuracy"]) for v in forgetting(r).values()]) - min(means))
                <= 0.02
                and spread < mean(stdev(v["digit_accuracy"]) for v in forgetting(r).values())
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "Section 2's fine-tuning, longer and at a\nhigher rate, beat the frozen features on every seed even with five "
        "labels per class",
        every(
            lambda r: all(
                f > e for f, e in zip(curves(r)["fine-tuning"]["5"], curves(r)["feature extraction"]["5"], strict=True)
            )
        ),
    ),
    Claim(
        "m3_evaluation",
        "a fifth of ImageNet's answers changed after\n  sixty steps on a hundred digits. Freezing keeps all of them; "
        "L2-SP and LoRA about 95%.",
        every(
            lambda r: (
                round(mean(forgetting(r)["fine-tuning"]["forgetting"]), 1) == 0.2
                and mean(forgetting(r)["frozen"]["forgetting"]) == 0
                and all(0.94 <= 1 - mean(forgetting(r)[s]["forgetting"]) <= 0.96 for s in ("L2-SP", "LoRA"))
            )
        ),
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
        "Module 2's perplexity rose after LoRA",
        every(perplexity_rose),
    ),
    # m2_vision: three seeds, each its own labelled and test digits
    Claim(
        "m2_vision",
        "training from scratch stays far behind both\n  strategies that reuse ImageNet weights, on every seed.",
        every(lambda r: all(m > 0.3 for m in margins(r, "scratch", "feature_extraction", "fine_tuning"))),
    ),
    Claim(
        "m2_vision",
        "scratch's was tuned on its own (BENCHMARKS.md has the\nsearch)",
        lambda runs: (
            (search := scratch_rate_search()) and max(search, key=lambda r: search[r][0]) == notebook_scratch_rate()
        ),
    ),
    Claim(
        "m2_vision",
        "its training loss ends near 2 on every seed, close to a uniform guess (ln 10 = 2.3)",
        every(lambda r: all(1.7 <= loss <= 2.3 for loss in strategies(r)["scratch"]["final_training_loss"])),
    ),
    Claim(
        "m2_vision",
        "whatever the rate\n  (BENCHMARKS.md)",
        lambda runs: all(loss >= 1.9 for _, loss in scratch_rate_search().values()),
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
        "it was 14 points ahead on one seed and behind on another",
        every(lambda r: round(100 * max(m := margins(r, "feature_extraction", "fine_tuning"))) == 14 and min(m) < 0),
    ),
    Claim(
        "m2_vision",
        "the two means differ by less than either's standard deviation.",
        every(
            lambda r: (
                abs(
                    mean(strategies(r)["fine_tuning"]["accuracy"])
                    - mean(strategies(r)["feature_extraction"]["accuracy"])
                )
                < min(stdev(strategies(r)[s]["accuracy"]) for s in ("fine_tuning", "feature_extraction"))
            )
        ),
    ),
    Claim(
        "m2_vision",
        "Over nine correct runs\n  (three seeds, three augmentations; BENCHMARKS.md) it was ahead in eight, "
        "by 5 points on\n  average",
        lambda runs: fine_tuning_ahead(fine_tuning_margins()),
    ),
    Claim(
        "m2_vision",
        "The frozen backbone\n  trains about 240 times fewer weights in under half the time.",
        every(
            lambda r: (
                round(
                    strategies(r)["fine_tuning"]["trainable_parameters"]
                    / strategies(r)["feature_extraction"]["trainable_parameters"],
                    -1,
                )
                == 240
                and mean(strategies(r)["feature_extraction"]["seconds"])
                < mean(strategies(r)["fine_tuning"]["seconds"]) / 2
            )
        ),
    ),
    # m2_lora, MiniLM: three seeds, each its own training and test reviews
    Claim(
        "m2_lora",
        "The same frozen encoder scores 0.61 through the `[CLS]` pooler and\n"
        "0.73 through the mean of its token vectors",
        every(lambda r: [round(mean(encoder(r)[p]["accuracy"]), 2) for p in PROBES] == [0.61, 0.73]),
    ),
    Claim(
        "m2_lora",
        "on every seed at least ten points apart",
        every(lambda r: all(m - p >= 0.1 for p, m in zip(*(encoder(r)[p]["accuracy"] for p in PROBES)))),
    ),
    Claim(
        "m2_lora",
        "LoRA, full fine-tuning and the probe on mean\npooling are within two points of each other",
        every(lambda r: max(means := [mean(encoder(r)[s]["accuracy"]) for s in COMPARED]) - min(means) <= 0.02),
    ),
    Claim(
        "m2_lora",
        "while each moves by three to four points from seed to\nseed",
        every(lambda r: all(0.03 <= max(a := encoder(r)[s]["accuracy"]) - min(a) <= 0.045 for s in COMPARED)),
    ),
    Claim(
        "m2_lora",
        "It trains a third of a percent of the weights, a LoRA step took\nabout 70% of the time of a full one",
        every(
            lambda r: (
                0.003 <= trained_share(encoder(r)["LoRA"]) < 0.0036
                and 0.62 <= per_step(encoder(r)["LoRA"]) / per_step(encoder(r)["full fine-tuning"]) <= 0.78
            )
        ),
    ),
    Claim(
        "m2_lora",
        "a training step holds about a third of the memory",
        every(lambda r: 0.3 <= step_memory(encoder(r)["LoRA"]) / step_memory(encoder(r)["full fine-tuning"]) <= 0.4),
    ),
    Claim(
        "m2_lora",
        "through the `[CLS]` pooler the same features scored twelve\n  points lower.",
        every(
            lambda r: (
                round(100 * (mean(encoder(r)[PROBES[1]]["accuracy"]) - mean(encoder(r)[PROBES[0]]["accuracy"]))) == 12
            )
        ),
    ),
    # m2_lora, SmolLM2: prompt and words chosen on validation reviews, three seeds
    Claim(
        "m2_lora",
        "` negative` / ` positive` after\n`Sentiment:` scores 0.80 on the validation reviews and is chosen",
        every(
            lambda r: (
                llm(r)["chosen"] == {"template": "Review: {review}\nSentiment:", "words": "negative / positive"}
                and round(max(llm(r)["validation"].values()), 2) == 0.8
            )
        ),
    ),
    Claim(
        "m2_lora",
        "` rotten` /\n` fresh` score 15 to 28 points lower with either prompt.",
        every(
            lambda r: all(
                0.15 <= max(llm(r)["validation"].values()) - accuracy <= 0.28 + 1e-6
                for choice, accuracy in llm(r)["validation"].items()
                if choice.endswith("rotten / fresh")
            )
        ),
    ),
    Claim(
        "m2_lora",
        "ahead\nof zero-shot on one seed, behind on two, the two means closer than either's spread over seeds.",
        every(
            lambda r: (
                sorted(a > b for b, a in zip(llm(r)["before"]["accuracy"], llm(r)["after"]["accuracy"]))
                == [False, False, True]
                and lora_gain(r) < min(stdev(llm(r)[when]["accuracy"]) for when in ("before", "after"))
            )
        ),
    ),
    Claim(
        "m2_lora",
        "twenty LoRA steps did not make SmolLM2 better at this task.",
        every(lambda r: all(len(losses) == 20 for losses in llm(r)["losses"]) and lora_gain(r) <= 0),
    ),
    Claim(
        "m2_lora",
        "the perplexity of the\nplot summaries rose on every seed, from 64.6 to 67.0 on average.",
        every(
            lambda r: (
                perplexity_rose(r)
                and [round(mean(llm(r)[when]["perplexity"]), 1) for when in ("before", "after")] == [64.6, 67.0]
            )
        ),
    ),
    Claim("m2_lora", "the perplexity of unrelated text rose on every seed", every(perplexity_rose)),
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
    """Scratch ahead with five labels, AdaBN doing nothing, fine-tuning clearly ahead of the frozen backbone in
    m2_vision, and LoRA lifting SmolLM2 well above zero-shot: the claims that say otherwise fail, and only those."""
    runs = recorded_runs()
    edited = runs["solution example"]["m3_evaluation"]
    edited["learning_curves"]["scratch"]["5"] = [0.9, 0.9, 0.9]
    edited["domain_shift"]["UCI + AdaBN"] = edited["domain_shift"]["UCI as is"]
    runs["solution example"]["m2_vision"]["strategies"]["fine_tuning"]["accuracy"][2] = 0.9
    runs["solution example"]["m2_lora"]["llm"]["after"]["accuracy"] = [0.9, 0.9, 0.9]
    failing = {c.quote for c in CLAIMS if not c.holds(list(runs.values()))}
    assert failing == {
        CLAIMS[0].quote,  # five labels: pretrained ahead on every seed
        CLAIMS[1].quote,  # five labels: fine-tuning fifteen points ahead
        "AdaBN on the digits as they are gains about as much (the two means are\n  within 0.05 of each other).",
        "it was 14 points ahead on one seed and behind on another",
        "the two means differ by less than either's standard deviation.",
        "ahead\nof zero-shot on one seed, behind on two, the two means closer than either's spread over seeds.",
        "twenty LoRA steps did not make SmolLM2 better at this task.",
    }
