"""One command-line convention across feint (as git and Ultralytics' `yolo` keep one): `-h` and `--help`
everywhere, fixed vocabularies listed in the help, one error style, the same name and default for the same
option, `-q/--quiet` on every long command, NO_COLOR respected, shell completion, `--version`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata

import pytest
import typer
from typer.core import TyperGroup, TyperOption

from feint.cli import _register, app

_register()
ROOT = typer.main.get_command(app)


def commands(group: object = ROOT, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], object]]:
    """Every command and group, with its words after `feint`."""
    yield path, group
    if isinstance(group, TyperGroup):
        for name, sub in group.commands.items():
            yield from commands(sub, (*path, name))


LEAVES = [(path, cmd) for path, cmd in commands() if not isinstance(cmd, TyperGroup)]
# Commands that take minutes on big inputs and draw progress bars.
LONG = [
    ("render",),
    ("train",),
    ("eval",),
    ("predict",),
    ("tune",),
    ("ablate",),
    ("study", "run"),
    ("detect", "train"),
    ("detect", "eval"),
    ("detect", "predict"),
]
# Options that mean the same everywhere they appear: the same flags and default (the help says what the
# seed seeds, or which output --overwrite replaces, in each command's own words).
SHARED = ("seed", "overwrite", "quiet", "device", "tracker", "resume", "out")
SGR_COLOUR = re.compile(r"\x1b\[(?:\d+;)*(?:3[0-9]|9[0-7]|4[0-9]|10[0-7])(?:;\d+)*m")


def options(cmd: object) -> dict[str, TyperOption]:
    return {p.name: p for p in getattr(cmd, "params", []) if isinstance(p, TyperOption) and p.name}


@pytest.mark.parametrize("path", [p for p, _ in commands()], ids=lambda p: " ".join(p) or "feint")
def test_every_command_answers_h_and_help_alike(path, feint_cli):
    short, long_ = feint_cli(*path, "-h"), feint_cli(*path, "--help")
    assert short[0] == 0 and short == long_, short[2]
    assert "Usage: feint" in " ".join(short[1].split())


def test_a_usage_error_is_one_line_naming_the_command_and_exit_2(feint_cli):
    for args, words in [
        (("data", "split", "x", "--bogus"), "No such option: --bogus"),
        (("render", "marine", "-n", "many"), "Invalid value for '-n'"),
        (("nocommand",), "No such command 'nocommand'"),
    ]:
        code, out, err = feint_cli(*args)
        lines = err.strip().splitlines()
        assert code == 2 and len(lines) == 1 and lines[0].startswith("feint: error: "), err
        assert words in lines[0] and "-h'" in lines[0], lines[0]


def test_fixed_vocabularies_are_listed_in_the_help(feint_cli):
    code, out, _ = feint_cli("render", "-h")
    assert code == 0 and "<local|ray>" in out
    code, out, err = feint_cli("render", "marine", "-n", "1", "-o", "x", "--executor", "slurm")
    assert code == 2 and "'slurm' is not one of 'local', 'ray'" in err


@pytest.mark.parametrize("path", LONG, ids=" ".join)
def test_long_commands_take_quiet(path):
    cmd = dict(LEAVES)[path]
    assert {"-q", "--quiet"} <= set(options(cmd)["quiet"].opts)


@pytest.mark.parametrize("name", SHARED)
def test_an_option_shared_by_commands_has_one_name_and_default(name):
    uses = {path: options(cmd)[name] for path, cmd in LEAVES if name in options(cmd)}
    assert uses, f"no command has --{name}"
    seen = {(tuple(sorted(o.opts)), repr(o.default)) for o in uses.values()}
    assert len(seen) == 1, {" ".join(p): (o.opts, o.help, o.default) for p, o in uses.items()}


def _feint(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "feint.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "100", **env},
    )


def test_no_color_keeps_colour_out_of_the_help_even_when_colour_is_forced():
    coloured = _feint("render", "-h", FORCE_COLOR="1")
    assert SGR_COLOUR.search(coloured.stdout), "the check below would pass for a help that is never coloured"
    plain = _feint("render", "-h", FORCE_COLOR="1", NO_COLOR="1")
    assert plain.returncode == 0 and not SGR_COLOUR.search(plain.stdout)


def test_shell_completion_can_be_shown_and_completes_commands():
    script = _feint("--show-completion", "bash")
    assert script.returncode == 0 and "_FEINT_COMPLETE" in script.stdout
    completion = _feint(_FEINT_COMPLETE="complete_bash", COMP_WORDS="feint gra", COMP_CWORD="1")
    assert completion.stdout.split() == ["graph"]


def test_version_names_feint_blender_and_torch(feint_cli):
    code, out, _ = feint_cli("--version")
    import feint

    assert code == 0
    assert out.strip() == (
        f"feint {feint.__version__} (Blender {metadata.version('bpy')}, torch {metadata.version('torch')})"
    )
