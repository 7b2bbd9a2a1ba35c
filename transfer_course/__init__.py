"""Helpers for the transfer-learning notebooks: offline data and models, training runs, plots.

Student-facing: nothing here imports the grader, and nothing here solves a graded task.
"""

__version__ = "0.1.0"
