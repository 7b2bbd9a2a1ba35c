"""m1_concepts probes: read each answer variable; the keys never enter the sandbox."""

from probing import ProbeFailure, probe

QUESTIONS = [f"Q{n}" for n in range(1, 13)]


def answer(student, name):
    value = getattr(student, name)
    if isinstance(value, bool) or not isinstance(value, (str, int, float)) or type(value) not in (str, int, float):
        raise ProbeFailure(f"{name} should be a letter in quotes or a number, got {type(value).__name__}")
    return value.strip().lower() if isinstance(value, str) else value


for _name in QUESTIONS:
    probe(_name, "answer")(lambda student, device, _name=_name: answer(student, _name))
