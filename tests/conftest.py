import os
from pathlib import Path

import pytest

from feint.studies.spec import load_study


@pytest.fixture
def real_data() -> Path:
    """The folder holding ships-dev and typesofships (FEINT_REAL_DATA); skips the test without it."""
    root = os.environ.get("FEINT_REAL_DATA")
    if not root or not Path(root).is_dir():
        pytest.skip("FEINT_REAL_DATA not set: real-data test skipped")
    return Path(root)


@pytest.fixture(scope="session")
def tiny_spec(tmp_path_factory, request):
    root = request.getfixturevalue("real_data_module")
    path = tmp_path_factory.mktemp("spec") / "tiny.yaml"
    path.write_text(f"""name: tiny
real: {root / "ships-dev"}
classes: [sailboat, submarine]
seeds: [0]
image_size: 64
synthetic: {{per_class: 10, size: 64, workers: 2}}
baseline_fractions: [0.3, 1.0]
finetune_fractions: [0.5]
grid_fractions: [0.0, 0.5]
grid_synthetic: [0, 10]
epochs: {{fractions: [0.3, 1.0], max_epochs: 6}}
""")
    return load_study(path)


@pytest.fixture(scope="session")
def real_data_module():
    import os

    root = os.environ.get("FEINT_REAL_DATA")
    if not root or not Path(root, "ships-dev").is_dir():
        pytest.skip("FEINT_REAL_DATA not set: real-data test skipped")
    return Path(root)


@pytest.fixture
def feint_cli(capsys):
    """Run `feint ARGS...` in this process through the real entry point (errors as one line, exit codes):
    returns (exit code, stdout, stderr)."""
    from feint.cli import main

    def run(*args: object) -> tuple[int, str, str]:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
        out, err = capsys.readouterr()
        return code, out, err

    return run
