"""`python -m transfer_course prepare`: one-time set-up of what the notebooks load (run by `make venv`)."""

import sys

from . import models


def main(argv: list[str]) -> int:
    if argv != ["prepare"]:
        print("usage: python -m transfer_course prepare", file=sys.stderr)
        return 2
    print(f"SmolLM2-135M-Instruct dequantised in {models.prepare()}")
    return 0


sys.exit(main(sys.argv[1:]))
