"""Start-up: what each quick command imports, and the lazily loaded command group.

A planner times whole commands, so ``orgsim --version``, ``--help``,
``validate``, ``schema`` and ``show`` must not load the simulation, the
statistics or plotting. Each case runs the command in a fresh interpreter
and checks ``sys.modules`` at exit: an import that creeps back fails here
(no timing in tests; benchmarks/startup.py measures the time).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from orgsim.cli import COMMANDS, main
from orgsim.cli._lazy import _docstring

ROOT = Path(__file__).resolve().parents[1]
JINAN = ROOT / "scenarios" / "jinan_hitech_2016.yaml"

#: Loaded only by the simulation, sweep and plotting commands.
SIMULATION = {
    "numpy", "scipy", "pandas", "simpy", "matplotlib", "holidays", "tqdm", "pyarrow", "dask", "openpyxl", "pm4py",
    "orgsim.sim", "orgsim.experiment", "orgsim.sweep", "orgsim.frontier", "orgsim.executors",
    "orgsim.plotting", "orgsim.report", "orgsim.theory",
    "orgsim.cli.simulate", "orgsim.cli.sweep", "orgsim.cli.present",
}
#: The web app and the animation (the app extra's framework, its server, matplotlib's animation).
WEB = {"shiny", "uvicorn", "starlette", "htmltools", "orgsim.app", "orgsim.animation", "orgsim.cli.app",
       "orgsim.cli.animate"}
#: Reading and reforming scenarios.
SCENARIOS = {"networkx", "yaml", "orgsim.scenario.loader", "orgsim.model", "orgsim.reforms"}
#: The scenario format.
SCHEMA = {"pydantic", "orgsim.scenario.schema", "orgsim.distributions"}

_PROBE = """
import atexit, json, sys
atexit.register(lambda: sys.__stderr__.write("\\nMODULES " + json.dumps(sorted(sys.modules)) + "\\n"))
from orgsim.cli import main
main(sys.argv[1:], prog_name="orgsim")
"""


def modules_loaded_by(*args: str) -> set[str]:
    """Top-level packages and orgsim modules in sys.modules after ``orgsim ARGS`` in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], capture_output=True, text=True, timeout=120,
                          cwd=ROOT)
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stderr.rsplit("MODULES ", 1)[1])
    return {name for name in names if name.startswith("orgsim.")} | {name.split(".")[0] for name in names}


@pytest.mark.slow  # a fresh interpreter
@pytest.mark.parametrize(("args", "forbidden"), [
    (["--version"], SIMULATION | SCENARIOS | SCHEMA | WEB),
    (["--help"], SIMULATION | SCENARIOS | SCHEMA | WEB),
    (["schema"], SIMULATION | SCENARIOS),
    (["validate", str(JINAN)], SIMULATION | WEB),
    (["show", str(JINAN)], SIMULATION),
    (["show", "--after", "--json", str(JINAN)], SIMULATION),
], ids=["version", "help", "schema", "validate", "show", "show-after-json"])
def test_quick_commands_load_no_heavy_modules(args: list[str], forbidden: set[str]) -> None:
    loaded = modules_loaded_by(*args)
    assert not loaded & forbidden, sorted(loaded & forbidden)
    assert {name for name in loaded if name.startswith("orgsim.sim.")} == set()


@pytest.mark.slow  # a fresh interpreter
def test_import_orgsim_is_cheap_and_its_names_come_on_first_use() -> None:
    code = (
        "import sys, orgsim\n"
        "heavy = {'numpy', 'pydantic', 'networkx', 'yaml', 'scipy', 'pandas'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
        "assert set(orgsim.__all__) <= set(dir(orgsim))\n"
        "from orgsim import *\n"
        "assert load_scenario is orgsim.scenario.loader.load_scenario and callable(simulate)\n"
        "assert {'pydantic', 'networkx', 'orgsim.experiment'} <= set(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=ROOT)


@pytest.mark.slow  # a fresh interpreter
def test_validate_does_load_what_it_needs() -> None:
    # The probe sees real imports: validate reads YAML, builds graphs and checks the schema.
    loaded = modules_loaded_by("validate", str(JINAN))
    assert loaded >= SCENARIOS | SCHEMA


@pytest.mark.slow  # a fresh interpreter
def test_a_simulation_command_loads_its_module_when_it_runs() -> None:
    loaded = modules_loaded_by("estimate", "--state", "after", str(ROOT / "scenarios" / "tutorial.yaml"))
    assert {"orgsim.cli.simulate", "orgsim.sim.estimate"} <= loaded
    assert "orgsim.cli.present" not in loaded and "matplotlib" not in loaded


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_read_from_the_source_is_the_commands_own(name: str) -> None:
    module, function = COMMANDS[name].split(":")
    command = main.get_command(click.Context(main), name)
    assert isinstance(command, click.Command) and command.name == name
    stand_in = click.Command(name, help=_docstring(module, function))
    for limit in (45, 70):
        assert stand_in.get_short_help_str(limit) == command.get_short_help_str(limit)
        assert stand_in.get_short_help_str(limit)


@pytest.mark.slow  # a fresh interpreter
def test_group_help_without_loading_equals_help_with_every_command_loaded() -> None:
    load_all = "import click; from orgsim.cli import main; ctx = click.Context(main)\n" \
               "[main.get_command(ctx, name) for name in main.list_commands(ctx)]\n"
    outputs = []
    for first in ("", load_all):
        code = first + "from orgsim.cli import main; main(['--help'], prog_name='orgsim')"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
        assert done.returncode == 0, done.stderr
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1]
    listed = [line.split()[0] for line in outputs[0].split("Commands:\n")[1].splitlines() if line]
    assert listed == sorted(COMMANDS)


@pytest.mark.slow  # a fresh interpreter
def test_every_command_module_imports_on_its_own() -> None:
    # No import cycle: each command module can be the first one imported.
    for module in sorted({path.split(":")[0] for path in COMMANDS.values()}):
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, timeout=120, cwd=ROOT)


def test_unknown_command_is_a_usage_error() -> None:
    result = CliRunner().invoke(main, ["simulate"])
    assert result.exit_code == 2
    assert "No such command 'simulate'" in result.output


@pytest.mark.parametrize("args", [["validate", "scenarios/tutorial.yaml"], ["validate", "no_such.yaml"],
                                  ["show", "--help"], ["schema"]])
def test_a_command_leaves_the_garbage_collector_as_it_found_it(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Imported objects are frozen while a command runs (start-up speed), and
    # given back to the collector afterwards, also after an error.
    import gc

    import orgsim.cli.structure as structure

    monkeypatch.chdir(ROOT)
    frozen_while_loading: list[int] = []
    load = structure.load_scenario

    def spy(path: str, **options: object) -> object:
        frozen_while_loading.append(gc.get_freeze_count())
        return load(path, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(structure, "load_scenario", spy)
    assert gc.get_freeze_count() == 0
    result = CliRunner().invoke(main, args)
    assert result.exit_code in (0, 2) and "Traceback" not in result.output
    assert gc.get_freeze_count() == 0
    if args[0] == "validate":
        assert frozen_while_loading[0] > 10_000


def test_a_callers_own_frozen_objects_stay_frozen(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    monkeypatch.chdir(ROOT)
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert CliRunner().invoke(main, ["validate", "scenarios/tutorial.yaml"]).exit_code == 0
        assert gc.get_freeze_count() > frozen // 2  # some died meanwhile; none was given back
    finally:
        gc.unfreeze()
