"""Dataset tests run against a private datasets folder and can never reach the network."""

import pytest


@pytest.fixture(autouse=True)
def _offline_datasets_dir(tmp_path, monkeypatch):
    """Points `KERASLIKE_DATASETS_DIR` at an empty folder and turns any real download into a failure."""
    from keraslike.utils import file_utils

    def no_network(url, destination):
        raise AssertionError(f"a test tried to download {url}")

    folder = tmp_path / "datasets"
    folder.mkdir()
    monkeypatch.setenv("KERASLIKE_DATASETS_DIR", str(folder))
    monkeypatch.setattr(file_utils, "download_file", no_network)
    return folder


@pytest.fixture
def datasets_folder(_offline_datasets_dir):
    return _offline_datasets_dir


@pytest.fixture(scope="session")
def keras_datasets():
    """Keras (the oracle) for dataset parity; no session state is involved, so no clear_session."""
    return pytest.importorskip("keras")
