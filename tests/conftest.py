"""Shared fixtures.

MNIST and Fashion-MNIST are read from ``../shared/data`` beside the checkout (or from the folder
named by ``GAN_ESTIMATORS_TEST_DATA``).  Tests that need them are skipped with a reason when the
files are absent, except under ``GAN_ESTIMATORS_REQUIRE_DATA=1`` (set by ``.ci/run``), where a
missing data folder is an error: CI must never pass by skipping.
"""

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


def _shared_data_dir():
    configured = os.environ.get("GAN_ESTIMATORS_TEST_DATA")
    return Path(configured) if configured else REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data_dir():
    """Folder holding ``mnist/`` and ``fashion/`` with the original IDX gzip files."""
    folder = _shared_data_dir()
    if not (folder / "mnist").is_dir() or not (folder / "fashion").is_dir():
        message = f"MNIST/Fashion-MNIST test data not found in {folder}"
        if os.environ.get("GAN_ESTIMATORS_REQUIRE_DATA") == "1":
            pytest.fail(message + " (GAN_ESTIMATORS_REQUIRE_DATA=1)")
        pytest.skip(message)
    return folder
