"""Packaging a maintainer would ship: one version source, license metadata, a complete sdist, a
wheel whose long description stands on its own, and a wheel that works in a fresh environment."""

import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import keraslike

ROOT = Path(__file__).resolve().parents[2]


def test_version_has_one_source():
    from keraslike import _version

    assert keraslike.__version__ == _version.__version__
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert 'dynamic = ["version"]' in pyproject
    assert "keraslike._version.__version__" in pyproject
    assert "\nversion =" not in pyproject.split("[tool.setuptools.dynamic]")[0]


def test_license_and_typing_marker_exist():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert (ROOT / "keraslike" / "py.typed").exists()


def test_long_description_stands_alone():
    text = (ROOT / "docs" / "pypi.md").read_text()
    assert "./scripts" not in text and "](docs/" not in text and "](examples/" not in text
    assert "import keraslike as keras" in text


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist and wheel, built from this checkout with the installed setuptools (offline)."""
    out = tmp_path_factory.mktemp("dist")
    source = tmp_path_factory.mktemp("source") / "keraslike"
    # A copy, so building leaves no build/ or egg-info behind in the checkout.
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info", "__pycache__", ".pytest_cache"),
    )
    code = textwrap.dedent(
        f"""
        from setuptools import build_meta
        sdist = build_meta.build_sdist({str(out)!r})
        wheel = build_meta.build_wheel({str(out)!r})
        print("BUILT", sdist, wheel)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=source
    )
    assert result.returncode == 0, result.stderr[-3000:]
    line = next(l for l in result.stdout.splitlines() if l.startswith("BUILT "))
    _, sdist_name, wheel_name = line.split()
    return out / sdist_name, out / wheel_name


@pytest.mark.slow
def test_sdist_carries_tests_docs_examples_changelog(built):
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for required in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "docs/porting.md",
        "examples/demo_mnist.py",
        "tests/conftest.py",
        "keraslike/py.typed",
    ):
        assert required in names, required
    assert not any("__pycache__" in name or name.startswith(".venv") for name in names)


@pytest.mark.slow
def test_wheel_metadata(built):
    _, wheel = built
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        metadata = Parser().parsestr(archive.read(metadata_name).decode())
    assert "keraslike/py.typed" in names
    assert metadata["Version"] == keraslike.__version__
    assert metadata["License-Expression"] == "MIT"
    assert any("Typing :: Typed" == c for c in metadata.get_all("Classifier"))
    description = metadata.get_payload()
    assert "import keraslike as keras" in description and "./scripts" not in description
    assert not any(n.startswith("tests/") for n in names)


@pytest.mark.slow
def test_wheel_runs_in_fresh_environment_with_torch_only(built, tmp_path):
    """Installs the wheel where only torch (and the declared dependencies) exist, then trains."""
    _, wheel = built
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    torch_version = os.environ.get("KERASLIKE_TORCH_VERSION", "2.13.0")
    install = subprocess.run(
        # --no-compile: byte-compiling all of torch's sources is most of the install time;
        # the program below compiles what it imports.
        [str(python), "-m", "pip", "install", "--quiet", "--no-compile", f"torch=={torch_version}", str(wheel)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    program = textwrap.dedent(
        """
        import numpy as np, importlib.util
        import keraslike as keras
        assert importlib.util.find_spec("keras") is None  # nothing but the declared dependencies
        inputs = keras.Input(shape=(4,))
        outputs = keras.layers.Dense(1)(keras.layers.Dense(8, activation="relu")(inputs))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="mse")
        x = np.random.rand(64, 4).astype("float32"); y = x.sum(1, keepdims=True)
        history = model.fit(x, y, epochs=20, verbose=0)
        assert history.history["loss"][-1] < history.history["loss"][0]
        print("ok", keras.__version__)
        """
    )
    run = subprocess.run(
        [str(python), "-c", program], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.split() == ["ok", keraslike.__version__]
