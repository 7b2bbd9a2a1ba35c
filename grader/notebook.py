"""Reading a submitted notebook defensively, and finding its graded cells and recorded results.

A submission may be anything: not UTF-8, not JSON, an old format, huge. Every
such problem becomes a `NotebookError` whose message tells the student what to
do, never a traceback.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

MAX_BYTES = 64 << 20
RESULTS_MIME_TYPE = "application/vnd.transfer-course.results+json"


class NotebookError(Exception):
    pass


@dataclass
class Cell:
    index: int
    cell_type: str
    source: str
    nbgrader: dict = field(default_factory=dict)
    outputs: list = field(default_factory=list)

    @property
    def grade_id(self) -> str | None:
        value = self.nbgrader.get("grade_id")
        return value if isinstance(value, str) else None


@dataclass
class Notebook:
    path: Path
    sha256: str
    cells: list[Cell]
    data: dict  # the notebook as parsed JSON, format 4

    def text(self) -> str:
        return json.dumps(self.data)

    def with_grade_id(self, grade_id: str) -> list[Cell]:
        return [c for c in self.cells if c.grade_id == grade_id]


def _text(value) -> str:
    if isinstance(value, list):
        return "".join(v for v in value if isinstance(v, str))
    return value if isinstance(value, str) else ""


def read(path: Path) -> Notebook:
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise NotebookError(f"cannot read {path}: {exc.strerror}") from None
    if size > MAX_BYTES:
        raise NotebookError(
            f"the notebook is {size >> 20} MiB, over the limit of {MAX_BYTES >> 20} MiB: "
            "clear large outputs (Kernel > Restart & Clear Output) and save again"
        )
    raw = path.read_bytes()
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> Notebook:
    digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        raise NotebookError("the notebook file is empty: save the notebook in Jupyter and submit it again")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookError(
            f"the notebook is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start}): "
            "submit the .ipynb file Jupyter saved, not a copy edited elsewhere"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotebookError(
            f"the notebook is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}): "
            "it was damaged; download it again from Jupyter"
        ) from None
    except RecursionError:  # nesting deeper than the parser recurses: not a JSONDecodeError
        raise NotebookError(
            "the notebook's JSON nests deeper than any notebook Jupyter writes: it was damaged or built by hand"
        ) from None
    if not isinstance(data, dict) or "nbformat" not in data:
        raise NotebookError("the file is JSON but not a Jupyter notebook (no 'nbformat' field)")
    major = data.get("nbformat")
    if major not in (3, 4):
        raise NotebookError(f"notebook format {major!r} is not supported: open and save it with Jupyter 4 or later")
    if major == 3:
        # nbformat is imported only here: importing it costs seconds (its JSON-schema stack)
        import nbformat

        try:
            data = json.loads(nbformat.writes(nbformat.reads(text, as_version=4)))
        except Exception as exc:  # nbformat raises many kinds on malformed content
            raise NotebookError(
                f"the format-3 notebook could not be converted ({type(exc).__name__}: "
                f"{str(exc)[:200]}): open and save it with Jupyter 4 or later"
            ) from None
    if not isinstance(data.get("cells", []), list):
        raise NotebookError("the notebook's structure is damaged ('cells' is not a list)")
    cells = []
    for index, cell in enumerate(data.get("cells", [])):
        if not isinstance(cell, dict):
            continue
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader_meta = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else {}
        outputs = cell.get("outputs") if isinstance(cell.get("outputs"), list) else []
        cells.append(Cell(index, str(cell.get("cell_type", "")), _text(cell.get("source", "")), nbgrader_meta, outputs))
    return Notebook(path, digest, cells, data)


def recorded_results(notebook: Notebook) -> dict[str, dict]:
    """Results that `transfer_course.results.record` attached to outputs, by name; the last one wins."""
    found = {}
    for cell in notebook.cells:
        for output in cell.outputs:
            data = output.get("data") if isinstance(output, dict) else None
            payload = data.get(RESULTS_MIME_TYPE) if isinstance(data, dict) else None
            if isinstance(payload, str):
                try:
                    payload = json.loads(payload)
                except (json.JSONDecodeError, RecursionError):
                    continue
            if (
                isinstance(payload, dict)
                and isinstance(payload.get("name"), str)
                and isinstance(payload.get("values"), dict)
            ):
                found[payload["name"]] = payload["values"]
    return found


def raised_errors(notebook: Notebook) -> list[str]:
    """'cell N (grade id): Error: message' for every code cell whose outputs hold an error."""
    found = []
    for cell in notebook.cells:
        for output in cell.outputs:
            if isinstance(output, dict) and output.get("output_type") == "error":
                where = f"cell {cell.index + 1}" + (f" ({cell.grade_id})" if cell.grade_id else "")
                message = " ".join(str(output.get("evalue", "")).split())[:300]
                found.append(f"{where} raised {output.get('ename', 'an error')}: {message}")
    return found


def code_without_magics(source: str) -> str:
    """Cell source runnable as plain Python: IPython magics and shell escapes are commented out."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append(line.replace(stripped, "# " + stripped, 1) if stripped[:1] in ("%", "!") else line)
    return "\n".join(lines)
