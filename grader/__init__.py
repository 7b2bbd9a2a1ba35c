"""The transfer-learning course's grader: `python -m grader --help`."""

__version__ = "0.2.0"
