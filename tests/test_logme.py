"""The reference LogME (the solution's) against answers computed independently.

- N > D: the evidence maximum found by a generic optimiser (Nelder-Mead over log alpha,
  log beta) on the evidence computed with a dense determinant, no eigendecomposition;
- N < D: the same fixed-point updates written with dense solves and slogdet, whose
  determinant counts every one of the D eigenvalues; the authors' later fast variant, which
  drops the zero eigenvalues, lands far away.
"""

import math

import nbformat
import numpy as np
import pytest
import torch
from conftest import ROOT
from scipy.optimize import minimize

from grader.examples import answer, cell_of


@pytest.fixture(scope="module")
def logme():
    source = nbformat.read(ROOT / "source" / "m3_evaluation" / "m3_evaluation.ipynb", as_version=4)
    namespace = {"torch": torch, "math": math}
    exec(answer(cell_of(source, "logme").source), namespace)
    return namespace["logme"]


def evidence(F, y, alpha, beta):
    """Log evidence per sample of Bayesian linear regression, with a dense determinant."""
    N, D = F.shape
    A = alpha * np.eye(D) + beta * F.T @ F
    m = beta * np.linalg.solve(A, F.T @ y)
    _, logdet = np.linalg.slogdet(A)
    return (
        D / 2 * np.log(alpha)
        + N / 2 * np.log(beta)
        - logdet / 2
        - beta / 2 * np.sum((y - F @ m) ** 2)
        - alpha / 2 * m @ m
        - N / 2 * np.log(2 * np.pi)
    ) / N


def dense_fixed_point(F, y):
    """(alpha, beta) at the fixed point of the paper's updates, written with dense solves."""
    N, D = F.shape
    alpha = beta = 1.0
    for _ in range(10_000):
        A = alpha * np.eye(D) + beta * F.T @ F
        m = beta * np.linalg.solve(A, F.T @ y)
        gamma = D - alpha * np.trace(np.linalg.inv(A))  # = sum beta s / (alpha + beta s) over all D
        new_alpha, new_beta = gamma / (m @ m + 1e-5), (N - gamma) / (np.sum((y - F @ m) ** 2) + 1e-5)
        done = abs(new_alpha / new_beta - alpha / beta) <= 1e-9 * alpha / beta
        alpha, beta = new_alpha, new_beta
        if done:
            return alpha, beta
    raise AssertionError("the fixed point did not converge")


def features(n, d, classes, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, n)
    return rng.normal(size=(n, d)) + 1.5 * np.eye(classes)[labels] @ rng.normal(size=(classes, d)), labels


def per_class(F, labels, score):
    return np.mean([score(F, (labels == c).astype(float)) for c in np.unique(labels)])


@pytest.mark.parametrize("n, d, classes", [(200, 12, 3), (150, 30, 2)])
def test_maximum_evidence_when_samples_exceed_features(logme, n, d, classes):
    F, labels = features(n, d, classes, seed=n)

    def optimum(F, y):
        found = minimize(
            lambda t: -evidence(F, y, math.exp(t[0]), math.exp(t[1])),
            x0=[0.0, 0.0],
            method="Nelder-Mead",
            options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20_000},
        )
        return -found.fun

    assert logme(F, labels) == pytest.approx(per_class(F, labels, optimum), rel=1e-6)


@pytest.mark.parametrize("n, d", [(40, 100), (30, 70)])
def test_every_eigenvalue_counts_when_features_exceed_samples(logme, n, d):
    F, labels = features(n, d, 2, seed=d)

    def exact(F, y):
        return evidence(F, y, *dense_fixed_point(F, y))

    def drops_zero_eigenvalues(F, y):
        # the fast variant's determinant runs over the non-zero spectrum only: (D - rank) log alpha fewer
        alpha, _ = dense_fixed_point(F, y)
        rank = np.linalg.matrix_rank(F)
        return exact(F, y) + (F.shape[1] - rank) * np.log(alpha) / (2 * F.shape[0])

    assert logme(F, labels) == pytest.approx(per_class(F, labels, exact), rel=1e-6)
    assert abs(per_class(F, labels, drops_zero_eigenvalues) - per_class(F, labels, exact)) > 0.1 * abs(
        per_class(F, labels, exact)
    )
