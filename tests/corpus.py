"""Hostile and broken submissions, each with the outcome the grader must give it.

Each case edits the executed solution of one assignment (mostly the quick
m1_concepts, whose answers are plain values; m2_vision where the attack needs
the student's function to be called) or replaces the file outright. `lost` is
the exact set of checks that must not pass: the honest part of the submission
keeps its points, the hostile part earns none.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import nbformat
from conftest import ROOT

# Paths the attacks aim at: real places on the grading machine.
SECRETS = {
    "answer_keys": ROOT / "grader" / "assignments" / "m1_concepts" / "checks.py",
    "references": ROOT / "grader" / "references" / "m2_vision.json",
    "other_submission": ROOT / "submitted" / "solution" / "m1_concepts" / "m1_concepts.ipynb",
}


@dataclass
class Case:
    name: str
    assignment: str
    build: Callable  # solution notebook -> notebook, or -> bytes for a raw file
    lost: set[str] = field(default_factory=set)
    statuses: dict[str, str] = field(default_factory=dict)  # check -> status it must have
    feedback: dict[str, str] = field(default_factory=dict)  # check -> text its feedback must contain
    tamper: set[str] = field(default_factory=set)  # kinds of findings
    error: str = ""  # text that report.errors must contain
    needs_cgroup: bool = False  # the limit it hits is a cgroup's (see the test)


def cell(nb, grade_id):
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id:
            return c
    raise KeyError(grade_id)


def set_source(grade_id, source, assignment_cell=True):
    def build(nb):
        nb = copy.deepcopy(nb)
        cell(nb, grade_id).source = source
        return nb

    return build


def prepend(grade_id, code):
    def build(nb):
        nb = copy.deepcopy(nb)
        target = cell(nb, grade_id)
        target.source = code + "\n" + target.source
        return nb

    return build


def into_function(grade_id, code):
    """Insert `code` as the first statement of the function defined in the cell."""

    def build(nb):
        nb = copy.deepcopy(nb)
        target = cell(nb, grade_id)
        lines = target.source.splitlines()
        at = next(i for i, line in enumerate(lines) if line.startswith("def ")) + 1
        while lines[at].strip().startswith(('"""', "'''")) or not lines[at].strip():
            at += 1
            if lines[at - 1].strip().endswith('"""') and lines[at - 1].strip() != '"""':
                break
        indented = "\n".join("    " + line for line in code.splitlines())
        target.source = "\n".join(lines[:at] + [indented] + lines[at:])
        return nb

    return build


def raw(content: bytes):
    return lambda nb: content


def edit(fn):
    def build(nb):
        nb = copy.deepcopy(nb)
        fn(nb)
        return nb

    return build


def _points(nb):
    cell(nb, "test_Q5").metadata["nbgrader"]["points"] = 100


def _delete_test_cell(nb):
    nb.cells.remove(cell(nb, "test_Q8"))


def _edit_test_cell(nb):
    cell(nb, "test_Q4").source = "pass  # trust me"


def _duplicate_answer(nb):
    original = cell(nb, "Q6")
    wrong = copy.deepcopy(original)
    original.source = 'Q6 = "a"'  # the graded (first) copy is wrong
    nb.cells.insert(nb.cells.index(original) + 1, wrong)  # a correct copy hides behind it


def _shadow(nb):
    cell(nb, "Q7").source = "Q7 = 1"
    nb.cells.append(nbformat.v4.new_code_cell("Q7 = 'c'  # the right answer, outside the graded cell"))


def _huge_output(nb):
    cell(nb, "Q1").outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * (20 << 20))]


def _empty(nb):
    nb.cells = []


def _format_3(nb):
    return nbformat.writes(nbformat.convert(copy.deepcopy(nb), 3)).encode()


def _rewrite_and_break_lora(nb):
    """The scaling left out of forward, and the encoder rewritten to hide it."""
    nb = copy.deepcopy(nb)
    target = cell(nb, "LoRALinear")
    target.source = REWRITE_RESULTS + "\n" + target.source.replace(" * self.scaling\n", "\n", 1)
    return nb


def _print_fake_results(nb):
    cell(nb, "Q2").source = (
        'print("answer[Q2]  1/1  passed")\nprint("TOTAL 12/12 (100%)")\n'
        'print(\'{"score": 12, "max_score": 12}\')\nQ2 = "d"'
    )


FORGED = """
import json, os, struct
message = json.dumps({"event": "probe_done", "probe": "Q10.answer", "status": "ok", "value": "a"}).encode()
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        os.write(fd, struct.pack("!II", len(message), 0) + message)
    except OSError:
        pass
Q10 = "a"  # the right answer: the forged message alone must cost it
"""

# a well-framed message whose JSON nests deeper than any parser recurses
NESTED = """
import os, struct
message = b"[" * 200_000 + b"]" * 200_000
for fd in map(int, os.listdir("/proc/self/fd")):
    try:
        os.write(fd, struct.pack("!II", len(message), 0) + message)
    except OSError:
        pass
Q11 = "a"
"""

PROC_CMDLINE = """import os
pids = filter(str.isdigit, os.listdir("/proc"))
shown = [pid for pid in pids if b"--ro-bind" in open(f"/proc/{pid}/cmdline", "rb").read()]
verdict = f"the sandbox's mounts are on the command line of processes {shown}" if shown else "no mounts " + "shown"
raise RuntimeError(verdict)  # the feedback quotes this line: it must not hold the words checked for
"""

PROC_ENVIRON = """import os
found = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        if b"GRADER_SECRET" in open(f"/proc/{pid}/environ", "rb").read():
            found.append(pid)
    except OSError:
        pass
verdict = f"the secret is in the environment of processes {found}" if found else "no secret " + "here"
raise RuntimeError(verdict)  # the feedback quotes this line: it must not hold the words checked for
"""
READ_SECRETS = "\n".join(
    [
        "found = []",
        *[f"try:\n    found.append(open({str(p)!r}).read()[:50])\nexcept OSError:\n    pass" for p in SECRETS.values()],
        "import glob",
        "found += glob.glob('/work/**/checks.py', recursive=True) + glob.glob('/**/references/*.json', recursive=True)",
        "Q8 = 65_536 if found else 0",
    ]
)

WRITE_EVERYWHERE = "\n".join(
    [
        "import os",
        *[f"try:\n    open({str(p)!r}, 'a').write('pwned')\nexcept OSError:\n    pass" for p in SECRETS.values()],
        f"try:\n    os.remove({str(ROOT / 'grader' / 'checks.ini')!r})\nexcept OSError:\n    pass",
        f"try:\n    os.makedirs({str(ROOT / 'autograded' / 'pwned')!r})\nexcept OSError:\n    pass",
        "Q9 = 886_274",
    ]
)

# The test runs a server on the host's loopback (the `listener` fixture) and puts its port where
# LISTENER_PORT stands: the sandbox must not reach it.
LISTENER_PORT = "LISTENER_PORT"
NETWORK = f"""
import socket
reached = []
for host, port in (("127.0.0.1", {LISTENER_PORT}), ("1.1.1.1", 80), ("pypi.org", 443)):
    try:
        socket.create_connection((host, port), timeout=2).sendall(b"pwned")
        reached.append(host)
    except OSError:
        pass
Q10 = "a" if not reached else "x"
"""

# Looks everywhere a probe's code could be and raises with what it found: the error message goes
# into the report and the student's feedback, so no line of a probe may reach them.
READ_PROBES = """
import gc, glob, inspect, os, sys
texts = []
open_files = [os.path.realpath(f'/proc/self/fd/{fd}') for fd in os.listdir('/proc/self/fd')]
for path in glob.glob('/grader/**', recursive=True) + open_files:
    if os.path.isfile(path):
        texts.append(open(path, errors='replace').read())
probing = sys.modules.get('probing')
docstrings = []
for item in (probing.REGISTRY.values() if probing else []):
    try:
        texts.append(inspect.getsource(item.run))
    except (OSError, TypeError):
        pass
    # the probes module's own docstrings, reached through a probe's globals
    module = item.run.__globals__
    docstrings.append(module.get('__doc__') or '')
    for value in module.values():
        if getattr(value, '__module__', None) == module.get('__name__'):
            docstrings.append(getattr(value, '__doc__', None) or '')
texts = [d for d in docstrings if d] + texts
for obj in gc.get_objects():
    if isinstance(obj, dict):
        texts += [v for v in obj.values() if isinstance(v, str) and 'student.' in v]
# the lines that call the student's code are the probes' own: put them first
lines = [line for text in texts for line in text.splitlines() if 'student.' in line]
raise RuntimeError('\\n'.join(lines + texts)[:4000])
"""

# Replaces what the worker uses to send results with an encoder that turns a wrong LoRA layer's
# outputs into "the same as peft's": what a verdict-style probe would have believed.
REWRITE_RESULTS = """
import probing
honest_encode = probing.encode
def forged_encode(value):
    if isinstance(value, dict) and 'peft' in value:
        value = dict(value, output=value['peft'])
    return honest_encode(value)
probing.encode = forged_encode
"""

# A probe's own function replaced by one that returns the right answer.
REPLACE_PROBE = """
import probing
probing.REGISTRY['Q10.answer'].run = lambda student, device: 'a'
Q10 = 'd'
"""

# A wrong freeze_backbone (freezes nothing) whose model reports only its head as trainable.
LYING_MODEL = """
honest = model.named_parameters
def only_the_head(*args, **kwargs):
    return [(n, p) for n, p in honest(*args, **kwargs) if n.startswith(('fc', 'classifier', 'head'))]
model.named_parameters = only_the_head
model.parameters = lambda *args, **kwargs: [p for _, p in only_the_head()]
return model
"""

LIMITS = "time limit of 10 s"

CASES = [
    # --- runaway code -----------------------------------------------------------------------
    Case(
        "infinite_loop_at_import",
        "m1_concepts",
        set_source("Q1", "while True:\n    pass"),
        {"answer[Q1]"},
        feedback={"answer[Q1]": LIMITS},
    ),
    Case(
        "sleep_ignoring_sigterm",
        "m1_concepts",
        set_source("Q4", "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(3600)"),
        {"answer[Q4]"},
        feedback={"answer[Q4]": LIMITS},
    ),
    Case(
        "memory_bomb_at_import",
        "m1_concepts",
        set_source("Q2", "hog = []\nwhile True:\n    hog.append(b'x' * (1 << 30))"),
        {"answer[Q2]"},
        feedback={"answer[Q2]": "memory limit"},
        needs_cgroup=True,
    ),
    Case(
        "fork_bomb",
        "m1_concepts",
        set_source("Q3", "import os\nwhile True:\n    os.fork()"),
        {"answer[Q3]"},
        feedback={"answer[Q3]": "processes and threads"},
        needs_cgroup=True,
    ),
    Case(
        "thread_bomb",
        "m1_concepts",
        set_source(
            "Q3", "import threading, time\nwhile True:\n    threading.Thread(target=time.sleep, args=(60,)).start()"
        ),
        {"answer[Q3]"},
        feedback={"answer[Q3]": "processes and threads"},
        needs_cgroup=True,
    ),
    Case(
        "os_exit_at_import",
        "m1_concepts",
        set_source("Q4", "import os\nos._exit(3)"),
        {"answer[Q4]"},
        feedback={"answer[Q4]": "exit code 3"},
    ),
    Case(
        "sys_exit_at_import",
        "m1_concepts",
        set_source("Q5", "import sys\nsys.exit(0)"),
        {"answer[Q5]"},
        feedback={"answer[Q5]": "SystemExit"},
    ),
    Case(
        "keyboard_interrupt_at_import",
        "m1_concepts",
        set_source("Q6", "raise KeyboardInterrupt"),
        {"answer[Q6]"},
        feedback={"answer[Q6]": "KeyboardInterrupt"},
    ),
    Case(
        "segfault_at_import",
        "m1_concepts",
        set_source("Q3", "import ctypes\nctypes.string_at(0)"),
        {"answer[Q3]"},
        feedback={"answer[Q3]": "SIGSEGV"},
    ),
    Case(
        "flood_of_output",
        "m1_concepts",
        set_source("Q7", "while True:\n    print('x' * 10000)"),
        {"answer[Q7]"},
        feedback={"answer[Q7]": "output limit"},
    ),
    Case(
        "disk_filler",
        "m1_concepts",
        set_source("Q11", "with open('/tmp/big', 'wb') as f:\n    while True:\n        f.write(b'0' * (1 << 20))"),
        {"answer[Q11]"},
        feedback={"answer[Q11]": "File too large"},
    ),
    Case(
        "reads_stdin",
        "m1_concepts",
        set_source("Q5", "Q5 = input('answer? ')"),
        {"answer[Q5]"},
        feedback={"answer[Q5]": "EOFError"},
    ),
    Case(
        "infinite_loop_in_function",
        "m2_vision",
        into_function("freeze_backbone", "while True:\n    pass"),
        {"torchvision_backbones_frozen", "timm_backbones_frozen_and_head_trainable"},
        statuses={"torchvision_backbones_frozen": "timeout"},
        feedback={"torchvision_backbones_frozen": LIMITS},
    ),
    Case(
        "memory_bomb_in_function",
        "m2_vision",
        into_function("count_parameters", "hog = []\nwhile True:\n    hog.append(b'x' * (1 << 30))"),
        {"counts_of_a_partly_frozen_resnet", "shared_weights_counted_once"},
        feedback={"counts_of_a_partly_frozen_resnet": "memory limit"},
        needs_cgroup=True,
    ),
    Case(
        "os_exit_in_function",
        "m2_vision",
        into_function("evaluate", "import os\nos._exit(0)"),
        {"confusion_matrix_rows_are_true_classes", "accuracy_and_per_class_accuracy", "dropout_off_and_no_gradients"},
        feedback={"confusion_matrix_rows_are_true_classes": "exit code 0"},
    ),
    # --- reaching for what it must not see or touch ------------------------------------------
    Case("reads_answer_keys_references_and_others", "m1_concepts", set_source("Q8", READ_SECRETS), {"answer[Q8]"}),
    Case("writes_into_grader_and_reports", "m1_concepts", set_source("Q9", WRITE_EVERYWHERE), set()),
    Case("network", "m1_concepts", set_source("Q10", NETWORK), set()),
    Case(
        "imports_the_grader",
        "m1_concepts",
        set_source("Q6", "import grader\nQ6 = 0.1418"),
        {"answer[Q6]"},
        feedback={"answer[Q6]": "No module named 'grader'"},
    ),
    Case(
        "environment_secrets",
        "m1_concepts",
        set_source("Q12", "import os\nseen = os.getenv('GRADER_SECRET', 'no secret ' + 'here')\nraise OSError(seen)"),
        {"answer[Q12]"},
        feedback={"answer[Q12]": "no secret here"},
    ),
    Case(
        # bubblewrap's own process is pid 1 inside: its environment must not be the grader's
        "environment_of_every_process_it_sees",
        "m1_concepts",
        set_source("Q12", PROC_ENVIRON),
        {"answer[Q12]"},
        feedback={"answer[Q12]": "no secret here"},
    ),
    Case(
        # bubblewrap's command line is pid 1's: its options (the sandbox's layout) come through a descriptor
        "command_line_of_every_process_it_sees",
        "m1_concepts",
        set_source("Q12", PROC_CMDLINE),
        {"answer[Q12]"},
        feedback={"answer[Q12]": "no mounts shown"},
    ),
    # --- gaming the score ------------------------------------------------------------------
    Case(
        "forged_result_messages",
        "m1_concepts",
        set_source("Q10", FORGED),
        {"answer[Q10]"},
        tamper={"grader_tampering"},
        feedback={"answer[Q10]": "out of turn"},
    ),
    Case(
        "deeply_nested_message",
        "m1_concepts",
        set_source("Q11", NESTED),
        {"answer[Q11]"},
        feedback={"answer[Q11]": "malformed"},
    ),
    Case("prints_fake_pass_lines", "m1_concepts", edit(_print_fake_results), {"answer[Q2]"}),
    Case(
        "rewrites_what_goes_back",
        "m2_lora",
        _rewrite_and_break_lora,
        {
            "initialisation_like_peft",
            "matches_peft_given_the_same_A_and_B",
            "merged_equals_unmerged",
            "only_A_and_B_train",
            "dropout_on_the_lora_branch_only",
        },
        tamper={"grader_tampering"},
        feedback={
            "initialisation_like_peft": "voided by tampering",
            "matches_peft_given_the_same_A_and_B": "differs from peft",
        },
    ),
    Case(
        "replaces_a_probe",
        "m1_concepts",
        set_source("Q10", REPLACE_PROBE),
        {"answer[Q10]"},
        tamper={"grader_tampering"},
    ),
    Case(
        "model_lies_about_its_parameters",
        "m2_vision",
        into_function("freeze_backbone", LYING_MODEL),
        {"torchvision_backbones_frozen", "timm_backbones_frozen_and_head_trainable"},
    ),
    Case(
        "reads_the_probes",
        "m2_vision",
        set_source("count_parameters", READ_PROBES),
        {"counts_of_a_partly_frozen_resnet", "shared_weights_counted_once"},
        feedback={"counts_of_a_partly_frozen_resnet": "RuntimeError"},
    ),
    Case(
        "str_subclass_equal_to_everything",
        "m1_concepts",
        set_source(
            "Q3",
            "class Anything(str):\n    def __eq__(self, other):\n        return True\n"
            "    __hash__ = str.__hash__\nQ3 = Anything('z')",
        ),
        {"answer[Q3]"},
        feedback={"answer[Q3]": "should be a letter"},
    ),
    Case(
        "object_lying_about_its_class",
        "m1_concepts",
        set_source(
            "Q4",
            "class Liar:\n    __class__ = str\n    def strip(self):\n        return self\n"
            "    def lower(self):\n        return 'a'\nQ4 = Liar()",
        ),
        {"answer[Q4]"},
        feedback={"answer[Q4]": "should be a letter"},
    ),
    Case(
        "tensor_subclass_equal_to_everything",
        "m2_vision",
        into_function(
            "evaluate",
            "class Agreeable(torch.Tensor):\n    def __eq__(self, other):\n        return True\n"
            "return {'accuracy': 1.0, 'per_class_accuracy': torch.ones(num_classes), "
            "'confusion': torch.eye(num_classes, dtype=torch.long).as_subclass(Agreeable)}",
        ),
        {"confusion_matrix_rows_are_true_classes", "accuracy_and_per_class_accuracy"},
    ),
    Case(
        "patches_torch_allclose",
        "m1_concepts",
        set_source("Q11", "import torch\ntorch.allclose = lambda *a, **k: True\nQ11 = 'd'"),
        {"answer[Q11]"},
        tamper={"monkeypatch"},
        feedback={"answer[Q11]": "voided"},
    ),
    Case(
        "patches_builtins",
        "m1_concepts",
        set_source("Q12", "import builtins\nbuiltins.AssertionError = Exception\nQ12 = 'c'"),
        {"answer[Q12]"},
        tamper={"monkeypatch"},
    ),
    Case(
        "patches_torch_at_run_time",
        "m2_vision",
        into_function(
            "count_parameters",
            "module = __import__('torch').nn.Module\noriginal = module.parameters\n"
            "[setattr(module, 'parameters', lambda self, recurse=True: original(self, recurse))]",
        ),
        {"counts_of_a_partly_frozen_resnet", "shared_weights_counted_once"},
        tamper={"monkeypatch"},
    ),
    Case("edited_test_cell", "m1_concepts", edit(_edit_test_cell), set(), tamper={"locked_cell_modified"}),
    Case("deleted_test_cell", "m1_concepts", edit(_delete_test_cell), set(), tamper={"locked_cell_deleted"}),
    Case("changed_points", "m1_concepts", edit(_points), set(), tamper={"metadata_changed"}),
    Case(
        "duplicated_graded_cell",
        "m1_concepts",
        edit(_duplicate_answer),
        {"answer[Q6]"},
        tamper={"duplicate_grade_id", "shadowed_function"},
    ),
    Case("shadowing_cell", "m1_concepts", edit(_shadow), {"answer[Q7]"}, tamper={"shadowed_function"}),
    # --- broken files ------------------------------------------------------------------------
    Case("invalid_json", "m1_concepts", raw(b'{"cells": [{"source": "Q1 = "b"'), "all", error="not valid JSON"),
    Case("non_utf8", "m1_concepts", raw('{"cells": [], "x": "caf\u00e9"}'.encode("latin-1")), "all", error="not UTF-8"),
    Case("empty_file", "m1_concepts", raw(b""), "all", error="empty"),
    Case(
        "nested_deeper_than_a_parser_recurses",
        "m1_concepts",
        raw(b'{"nbformat": 4, "cells": ' + b"[" * 200_000 + b"]" * 200_000 + b"}"),
        "all",
        error="nests deeper",
    ),
    Case(
        "empty_notebook",
        "m1_concepts",
        edit(_empty),
        "all",
        feedback={"answer[Q1]": "keep its cell"},
        tamper={"locked_cell_deleted"},
    ),
    Case("nbformat_3", "m1_concepts", _format_3, set()),
    Case("twenty_megabyte_output", "m1_concepts", edit(_huge_output), set()),
]
