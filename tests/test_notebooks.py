"""The notebooks in notebooks/ run top to bottom in a fresh kernel, and are committed without outputs.

Each notebook is executed with nbclient in a new ``python3`` kernel (the one
ipykernel installs in this environment), with ``notebooks/`` as the working
directory, as Jupyter runs it. A cell that raises fails the test, naming the
cell. The notebooks keep themselves quick (few replications, short horizons).

The committed files must hold no outputs, no execution counts and no saved
widget state, so that diffs show only what someone wrote. To clear outputs and
execution counts before committing:
``jupyter nbconvert --clear-output --inplace notebooks/*.ipynb``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

# Each notebook runs in a fresh Jupyter kernel: seconds to tens of seconds apiece.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
#: Seconds a single cell may take before the run is failed.
CELL_TIMEOUT = 300
#: The text a figure shows when no image formatter is active: "<Figure size 800x460 with 1 Axes>".
FIGURE_TEXT = re.compile(r"<?(matplotlib\.figure\.)?Figure\b")


def test_the_notebooks_the_readme_links_are_there() -> None:
    linked = set(re.findall(r"\(notebooks/([^)]+\.ipynb)\)", (ROOT / "README.md").read_text(encoding="utf-8")))
    assert linked == {
        "01_quickstart.ipynb",
        "02_big_department_reform.ipynb",
        "03_sensitivity_and_frontier.ipynb",
        "04_training_demo.ipynb",
        "05_timeline.ipynb",
    }
    assert linked <= {p.name for p in NOTEBOOKS}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path: Path) -> None:
    """Plain JSON, so this check needs none of the notebook tools."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["nbformat"] == 4
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3", "the notebook must use the python3 kernel"
    assert "widgets" not in nb["metadata"], (
        f"{path.name}: saved widget state in the notebook's metadata; delete metadata.widgets "
        "(JupyterLab saves it when Settings > Save Widget State Automatically is on)"
    )
    dirty = [
        i for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name}: code cells {dirty} have outputs or an execution count; clear them with "
        "`jupyter nbconvert --clear-output --inplace notebooks/*.ipynb`"
    )
    attachments = [i for i, cell in enumerate(nb["cells"]) if cell.get("attachments")]
    assert not attachments, f"{path.name}: cells {attachments} carry attachments"


def _cell_errors(nb: Any) -> list[str]:
    out = []
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                out.append(f"cell {i}: {output['ename']}: {output['evalue']}")
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_runs_top_to_bottom(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    nbformat = pytest.importorskip("nbformat", reason="the test extra installs nbformat")
    nbclient = pytest.importorskip("nbclient", reason="the test extra installs nbclient")
    pytest.importorskip("ipykernel", reason="the test extra installs ipykernel (the notebooks' kernel)")

    # Prefer the kernel of this environment to one of the same name in the user's Jupyter folders.
    monkeypatch.setenv("JUPYTER_PREFER_ENV_PATH", "1")

    files_before = sorted(p.name for p in NOTEBOOK_DIR.iterdir())
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},
    )
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        pytest.fail(f"{path.name}: a cell failed:\n{exc}", pytrace=False)
    assert not _cell_errors(nb), _cell_errors(nb)

    # Figures come out as images (the inline backend is on), not as "<Figure size ...>" text.
    outputs = [o for cell in nb.cells for o in cell.get("outputs", []) if "data" in o]
    images = [o for o in outputs if "image/png" in o["data"]]
    bare = [
        o["data"]["text/plain"] for o in outputs
        if "image/png" not in o["data"] and FIGURE_TEXT.match(o["data"].get("text/plain", ""))
    ]
    assert images, f"{path.name}: no figure came out as an image"
    assert not bare, f"{path.name}: figures shown only as text (is `%matplotlib inline` missing?): {bare}"
    assert sorted(p.name for p in NOTEBOOK_DIR.iterdir()) == files_before, "the notebook wrote files in notebooks/"
