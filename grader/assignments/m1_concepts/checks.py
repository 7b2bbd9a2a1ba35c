"""m1_concepts hidden checks: the answer keys, and feedback that says why a wrong answer was tempting.

The keys live only here, in the grader: the sandbox that runs student code never sees this file.
Every wrong choice of every multiple-choice question has its own feedback: what makes it look
right, and what it misses. Numeric answers get the feedback of the mistake they most likely come
from when they equal a known wrong value, and a hint otherwise.
"""

from dataclasses import dataclass, field

import pytest

from grader.checking import graded


@dataclass(frozen=True)
class Choice:
    key: str
    wrong: dict[str, str]  # each other letter -> why it tempts, and what it misses
    kinds: tuple[str, ...] = ()  # "data": decided from this course's results; "misconception": aims at one


@dataclass(frozen=True)
class Number:
    key: float
    tolerance: float
    hint: str
    wrong: dict[float, str] = field(default_factory=dict)  # a known wrong value -> the mistake behind it
    kinds: tuple[str, ...] = ()


KEYS = {
    "Q1": Choice(
        "d",
        {
            "a": "Training on both at once is multi-task learning: nothing learnt earlier is reused, both tasks "
            "are learnt together from the start.",
            "b": "That is distillation: it moves knowledge from a big model into a small one for the same task, "
            "not from a source task to a new target task.",
            "c": "Making the inputs look alike is preprocessing (or a part of domain adaptation), but nothing "
            "learnt on the source is reused.",
        },
    ),
    "Q2": Choice(
        "b",
        {
            "a": "Fewer parameters does sound safer with 50 images, but the table says otherwise: scratch is last at "
            "every seed (0.58 on average) because it must learn its features from those 50 images.",
            "c": "'Fewest trainable parameters generalises best' is the textbook rule, and the table contradicts it "
            "here: fine-tuning is ahead of feature extraction at each of the three seeds.",
            "d": "The seeds do spread, but the order is the same at every seed: look at each seed, not only at the "
            "spread.",
        },
        ("data",),
    ),
    "Q3": Choice(
        "c",
        {
            "a": "At 5 labels pretrained features win, so it is tempting to expect that everywhere; at 400 labels "
            "the frozen features are last at every seed (0.922 against 0.948 and 0.973).",
            "b": "The lead has shrunk from 0.15 at 5 labels, but fine-tuning is still ahead at every seed (0.973 "
            "against 0.948 on average): smaller, not gone.",
            "d": "Scratch does beat the frozen features, but fine-tuning the pretrained network beats scratch: it is "
            "the freezing that limits, not the pretraining.",
        },
        ("data", "misconception"),
    ),
    "Q4": Choice(
        "a",
        {
            "b": "A far domain makes the late, specific layers less useful, but the early layers (edges, textures) "
            "still transfer, and 500 images are too few to learn them from scratch.",
            "c": "Freezing protects against overfitting, but features made for ImageNet's objects fit satellite "
            "images poorly: with 500 images the last blocks can adapt, gently.",
            "d": "A learning rate meant for random weights throws the pretrained ones away in a few steps.",
        },
    ),
    "Q5": Choice(
        "b",
        {
            "a": "The frozen source does hurt, at every seed, but the same source fine-tuned helps at every seed: "
            "the problem is freezing features that cannot see orientation, not the source.",
            "c": "Small, but positive at all five seeds (0.08 to 0.19): a consistent sign is not noise.",
            "d": "More labels do not change what frozen features cannot see: the head still gets no orientation.",
        },
        ("data",),
    ),
    "Q6": Number(
        0.1418,
        1e-3,  # the seeds' gaps as printed (three decimals) average to 0.1418
        "Average the five gaps of the frozen source: sum them and divide by five.",
        {
            -0.1418: "The gap is error with the source minus error without it; you subtracted the other way.",
            -0.0676: "That is the fine-tuned source's mean gap; the question asks about the frozen one.",
        },
        ("data",),
    ),
    "Q7": Choice(
        "c",
        {
            "a": "Concept shift would mean a 3 is now labelled something else; the rule from image to label is "
            "the same, only the images look different.",
            "b": "Label shift is about class proportions; both sets have all ten digits in similar numbers.",
            "d": "Forgetting is about the source task after training on a target; here nothing was trained on UCI.",
        },
    ),
    "Q8": Number(
        65_536,
        0,
        "LoRA adds A (r x d_in) and B (d_out x r): r (d_in + d_out) parameters.",
        {
            134_217_728: "r x d_in x d_out would be r full matrices; A and B are thin: r (d_in + d_out).",
            32_768: "That counts A only; B (d_out x r) trains too.",
            16_777_216: "That is the whole frozen matrix, which LoRA leaves untouched.",
        },
        ("misconception",),
    ),
    "Q9": Number(
        886_274,
        0,
        "Each adapted 768 x 768 matrix gets r (768 + 768) parameters; count query, key and value in "
        "all 12 layers, then add the head's weights and biases.",
        {
            884_736: "That is the LoRA part alone: the new head (768 x 2 weights + 2 biases) trains too.",
            886_272: "Almost: the head has 2 biases as well as its 768 x 2 weights.",
            339_738_624: "r x 768 x 768 per matrix would be r full matrices; A and B together are r (768 + 768).",
        },
    ),
    "Q10": Choice(
        "a",
        {
            "b": "The share of parameters says nothing about the share of computation: the frozen layers still run "
            "forwards and backwards at every step.",
            "c": "LoRA adds 0.3% of the parameters; the frozen ones are not removed, but they do not grow either.",
            "d": "PyTorch skips the gradients of parameters with requires_grad = False; what remains is the "
            "backward pass through the layers (gradients of activations), needed to reach the adapters.",
        },
        ("data", "misconception"),
    ),
    "Q11": Choice(
        "d",
        {
            "a": "requires_grad = False means no gradient, and an optimizer only updates parameters that have one.",
            "b": "Dropout drops activations during a forward pass; it never changes a weight.",
            "c": "Weight decay in AdamW skips parameters without a gradient, and frozen ones were not given to it.",
        },
        ("misconception",),
    ),
    "Q12": Choice(
        "c",
        {
            "a": "One seed is not the answer: on another tau is -0.05, and the interval includes 0, so a random "
            "ranking of seven sources could agree with fine-tuning as well.",
            "b": "Tau far from 1 does not show the score is useless either: the interval reaches 0.33, and seven "
            "sources on three seeds cannot tell either way.",
            "d": "Tau compares orders (how many pairs are ranked alike), not sizes of accuracy differences.",
        },
        ("data", "misconception"),
    ),
}


def _correct(got, key) -> bool:
    if isinstance(key, Choice):
        return got == key.key
    return isinstance(got, int | float) and abs(got - key.key) <= key.tolerance


def _feedback(question: str, got, key) -> str:
    if isinstance(key, Choice):
        why = key.wrong.get(got, f"answer with one of the letters a, b, c, d; {got!r} is none of them")
        return f"{question}: ({got}) is not right. {why}"
    for value, why in key.wrong.items():
        if isinstance(got, int | float) and abs(got - value) <= max(key.tolerance, 1e-9):
            return f"{question}: {got!r} is not right. {why}"
    return f"{question}: {got!r} is not right. {key.hint}"


@pytest.mark.parametrize("question", [pytest.param(q, marks=graded(q, 1), id=q) for q in KEYS])
def test_answer(student, question):
    key = KEYS[question]
    got = student(f"{question}.answer")
    assert _correct(got, key), _feedback(question, got, key)
