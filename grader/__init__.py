"""The transfer-learning course's grader: `python -m grader --help`."""

__version__ = "0.1.0"
