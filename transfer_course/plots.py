"""The plots the notebooks show after each experiment."""

from __future__ import annotations

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch


def _show(fig) -> None:
    # In a notebook the inline backend renders the figure; in scripts (Agg) there is nothing to show.
    # Returning nothing keeps Jupyter from showing the figure a second time as the cell's value.
    if matplotlib.get_backend().lower() == "agg":
        plt.close(fig)
    else:
        plt.show()


def _per_seed(value) -> np.ndarray:
    """One value, or one per seed, as an array."""
    return np.atleast_1d(np.asarray(value, dtype=float))


def _spread(runs: np.ndarray) -> float | None:
    """The sample standard deviation over seeds; None for a single run, which has no spread to draw."""
    return float(runs.std(ddof=1)) if len(runs) > 1 else None


def image_grid(images, labels, classes=None, columns: int = 10, title: str = ""):
    """A grid of images with their labels."""
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * 1.1, rows * 1.25), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for ax, image, label in zip(axes.flat, images, labels):
        ax.imshow(image, cmap="gray" if np.ndim(image) == 2 else None)
        ax.set_title(classes[label] if classes else str(label), fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    _show(fig)


def training_curves(histories, title: str = "Training"):
    """Training loss per epoch. Runs that share a name (seeds of one strategy) are drawn as their mean,
    with a band from the lowest to the highest run."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    by_name: dict[str, list] = {}
    for h in histories:
        by_name.setdefault(h.name, []).append(h)
    for name, runs in by_name.items():
        losses = np.array([h.loss for h in runs])
        line = ax.plot(
            runs[0].epochs, losses.mean(axis=0), label=name + (f" ({len(runs)} runs)" if len(runs) > 1 else "")
        )
        if len(runs) > 1:
            ax.fill_between(
                runs[0].epochs, losses.min(axis=0), losses.max(axis=0), color=line[0].get_color(), alpha=0.2
            )
    ax.set(xlabel="epoch", ylabel="training loss", title=title, ylim=(0, None))
    ax.legend()
    fig.tight_layout()
    _show(fig)


def confusion_matrix(confusion, classes, title: str = "Confusion matrix (rows: true, columns: predicted)"):
    confusion = torch.as_tensor(confusion).cpu().numpy()
    fig, ax = plt.subplots(figsize=(4.5, 4))
    image = ax.imshow(confusion, cmap="Blues")
    ax.set(
        xticks=range(len(classes)),
        yticks=range(len(classes)),
        xticklabels=classes,
        yticklabels=classes,
        xlabel="predicted",
        ylabel="true",
        title=title,
    )
    for (i, j), count in np.ndenumerate(confusion):
        ax.text(
            j,
            i,
            int(count),
            ha="center",
            va="center",
            fontsize=7,
            color="white" if count > confusion.max() / 2 else "black",
        )
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    _show(fig)


def bars(values: dict, ylabel: str, title: str = "", fmt: str = "{:.3f}", log: bool = False):
    """One bar per named value, the value written above it. A list of values (one per seed) draws their
    mean, a standard-deviation error bar and each seed as a dot, and writes "mean ± sd"."""
    fig, ax = plt.subplots(figsize=(1.6 * len(values) + 1.5, 3.6))
    names = list(values)
    runs = [_per_seed(v) for v in values.values()]
    means, spreads = [r.mean() for r in runs], [_spread(r) for r in runs]
    ax.bar(names, means, yerr=[sd or 0.0 for sd in spreads], capsize=4, color=plt.cm.tab10.colors[: len(names)])
    for i, (m, sd, r) in enumerate(zip(means, spreads, runs)):
        if len(r) > 1:
            ax.scatter(np.full(len(r), i), r, color="black", s=10, zorder=3)
        # above the error bar and the highest seed, which a label on the bar's top would cover
        ax.annotate(
            fmt.format(m) + (f" ± {fmt.format(sd)}" if sd is not None else ""),
            (i, max(m + (sd or 0.0), r.max())),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.margins(y=0.12)  # room for the labels below the title
    ax.set(ylabel=ylabel, title=title)
    if max(len(n) for n in names) > 12:  # long names would run into each other
        ax.tick_params(axis="x", labelrotation=20)
        plt.setp(ax.get_xticklabels(), ha="right")
    if log:
        ax.set_yscale("log")
    fig.tight_layout()
    _show(fig)


def feature_map(features_by_name: dict, labels, title: str = "Features, first two principal components"):
    """Features projected on their first two principal components, coloured by class, one panel per model."""
    from sklearn.decomposition import PCA

    labels = torch.as_tensor(labels).cpu().numpy()
    fig, axes = plt.subplots(1, len(features_by_name), figsize=(4.2 * len(features_by_name), 3.8), squeeze=False)
    for ax, (name, features) in zip(axes.flat, features_by_name.items()):
        points = PCA(n_components=2).fit_transform(torch.as_tensor(features).cpu().numpy())
        scatter = ax.scatter(points[:, 0], points[:, 1], c=labels, cmap="tab10", s=6)
        ax.set(title=name, xticks=[], yticks=[])
    fig.legend(*scatter.legend_elements(), loc="center right", title="class", fontsize=7)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0, 0.93, 1))
    _show(fig)


def learning_curves(curves: dict, title: str = "Learning curves"):
    """Accuracy against labels per class (log scale), mean and spread over seeds, one line per strategy.

    `curves` maps strategy -> {labels per class: [accuracy of each seed]}."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for strategy, by_size in curves.items():
        sizes = sorted(by_size, key=float)
        values = [np.asarray(by_size[n], dtype=float) for n in sizes]
        x = [float(n) for n in sizes]
        mean = np.array([v.mean() for v in values])
        spread = np.array([v.std() for v in values])
        ax.plot(x, mean, marker="o", label=strategy)
        ax.fill_between(x, mean - spread, mean + spread, alpha=0.2)
    ax.set(xscale="log", xlabel="labelled examples per class", ylabel="test accuracy", title=title)
    ax.legend()
    fig.tight_layout()
    _show(fig)


def grouped_bars(groups: dict, ylabel: str, title: str = "", fmt: str = "{:.2f}"):
    """Bars grouped by the outer key, one colour per inner key: {group: {series: value}}."""
    series = list(next(iter(groups.values())))
    fig, ax = plt.subplots(figsize=(1.8 * len(groups) + 3.2, 3.4))
    width = 0.8 / len(series)
    for i, name in enumerate(series):
        heights = [float(groups[g][name]) for g in groups]
        drawn = ax.bar(np.arange(len(groups)) + i * width, heights, width, label=name)
        ax.bar_label(drawn, labels=[fmt.format(h) for h in heights], fontsize=7)
    ax.set_xticks(np.arange(len(groups)) + width * (len(series) - 1) / 2, list(groups))
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # outside: inside it hid bars' labels
    fig.tight_layout()
    _show(fig)


def scatter(points: dict, xlabel: str, ylabel: str, title: str = ""):
    """One labelled point per name: {name: (x, y)}. Where x and y are lists (one value per seed),
    the point is their mean, with standard-deviation error bars."""
    fig, ax = plt.subplots(figsize=(6, 4.2))
    for i, (name, (x, y)) in enumerate(points.items()):
        xs, ys = _per_seed(x), _per_seed(y)
        ax.errorbar(xs.mean(), ys.mean(), xerr=_spread(xs), yerr=_spread(ys), fmt="o", capsize=3)
        # labels alternate above and below their points, so that neighbours do not write over each other
        ax.annotate(
            name, (xs.mean(), ys.mean()), textcoords="offset points", xytext=(5, 4 if i % 2 else -11), fontsize=8
        )
    ax.margins(x=0.25, y=0.1)  # room for the labels of the outermost points
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    fig.tight_layout()
    _show(fig)


def stacked_bars(parts: dict, ylabel: str, title: str = "", fmt: str = "{:.0f}"):
    """One bar per name, stacked from its parts: {name: {part: value}}, the same parts for every name.
    Each bar's total is written on top; the legend names the parts."""
    fig, ax = plt.subplots(figsize=(1.8 * len(parts) + 3.2, 3.6))
    names = list(parts)
    bottom = np.zeros(len(names))
    for part in next(iter(parts.values())):
        heights = np.array([float(parts[n][part]) for n in names])
        ax.bar(names, heights, bottom=bottom, label=part)
        bottom += heights
    for i, total in enumerate(bottom):
        ax.annotate(fmt.format(total), (i, total), textcoords="offset points", xytext=(0, 2), ha="center", fontsize=8)
    ax.set(ylabel=ylabel, title=title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.tight_layout()
    _show(fig)
