import os
from pathlib import Path

os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from bayeslogreg.datasets import simulate  # noqa: E402

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"shared data folder {SHARED_DATA} is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def well_posed():
    """2000 rows, 4 standard-normal features (one with true coefficient 0)."""
    return simulate(2000, [1.0, -0.5, 0.25, 0.0], intercept=0.3, seed=1)


@pytest.fixture
def rng():
    return np.random.default_rng(12345)
