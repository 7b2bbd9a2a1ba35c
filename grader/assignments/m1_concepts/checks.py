"""m1_concepts hidden checks: the answer keys, and feedback that teaches rather than tells.

The keys live only here, in the grader: the sandbox that runs student code never sees this file.
"""

import pytest

from grader.checking import graded

# question -> (key, tolerance for numbers, feedback when wrong)
KEYS = {
    "Q1": (
        "b",
        None,
        "Transfer learning is about reusing knowledge from a source task for a different target task; "
        "multi-task learning, deployment and distillation are other ideas.",
    ),
    "Q2": (
        "a",
        None,
        "Think about variance: how many parameters must be fitted from the few labels when the "
        "features come ready-made?",
    ),
    "Q3": (
        "b",
        None,
        "Little data, a domain close to ImageNet: the pretrained features already fit, and every "
        "parameter you train can overfit 300 photos.",
    ),
    "Q4": (
        "b",
        None,
        "Two million labels are enough to adapt every layer; a frozen ImageNet backbone leaves "
        "X-ray-specific features unlearnt.",
    ),
    "Q5": (
        "a",
        None,
        "Far domain, little data: keep the generic early layers, adapt the specific late ones, and "
        "move pretrained weights gently (discriminative learning rates).",
    ),
    "Q6": ("b", None, "Ask which distribution changed: the inputs p(x), the labels p(y), or the rule p(y | x)?"),
    "Q7": (
        886_274,
        0,
        "Each adapted 768 -> 768 matrix gets r (d_in + d_out) parameters; count query, key and value "
        "in all 12 layers, then add the head's weights and biases (768 x 2 + 2).",
    ),
    "Q8": (65_536, 0, "LoRA adds A (r x d_in) and B (d_out x r): r (d_in + d_out) parameters, not r d_in d_out."),
    "Q9": ("b", None, "The model lost the source task it was pretrained on; negative transfer is about the target."),
    "Q10": ("d", None, "Which option moves the pretrained weights further, faster?"),
    "Q11": (
        0.05,
        1e-9,
        "The gap is error with the source minus error without it (Wang et al. 2019); "
        "a positive gap means the source hurt.",
    ),
    "Q12": ("a", None, "Negative transfer compares against training on the same target data without the source."),
}


def _correct(got, key, tolerance) -> bool:
    if tolerance is None:
        return got == key
    return isinstance(got, (int, float)) and abs(got - key) <= tolerance


@pytest.mark.parametrize("question", [pytest.param(q, marks=graded(q, 1), id=q) for q in KEYS])
def test_answer(student, question):
    key, tolerance, feedback = KEYS[question]
    got = student(f"{question}.answer")
    assert _correct(got, key, tolerance), f"{question}: {got!r} is not right. {feedback}"
