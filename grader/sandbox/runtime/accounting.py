"""CPU time of a process tree, read from /proc (psutil): used by the executor inside the sandbox and
by the grader outside it where no cgroup accounts for the tree. Imports nothing from the grader."""

from __future__ import annotations


def tree_cpu_seconds(pid: int) -> float:
    """User and system time of a process, its live descendants, and the children they reaped."""
    import psutil

    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for process in tree:
        try:
            times = process.cpu_times()
            total += times.user + times.system + times.children_user + times.children_system
        except psutil.Error:
            pass
    return total
