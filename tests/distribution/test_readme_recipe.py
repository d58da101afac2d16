"""The README's torchrun recipe, run as written under `torchrun --nproc_per_node=2` (gloo on
CPU), trains exactly like one process."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.distribution._launch import TIMEOUT_S, _env, free_port

pytestmark = pytest.mark.slow

README = Path(__file__).resolve().parents[2] / "README.md"

PRELUDE = '''
import json, os, sys
import numpy as np
keras.utils.set_random_seed(0)  # the same seed in every run: shuffles (drawn on rank 0) match

def make_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)])
    rng = np.random.default_rng(1)
    model.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in model.get_weights()])
    model.compile(keras.optimizers.Adam(0.01), "mse", metrics=["mae"])
    return model

rng = np.random.default_rng(0)
x = rng.normal(size=(100, 4)).astype("float32")
y = x.sum(axis=1, keepdims=True)
'''

EPILOGUE = '''
rank = keras.distribution.rank()
with open(os.path.join(sys.argv[1], f"result_{rank}.json"), "w") as f:
    json.dump({"weights": [w.tolist() for w in model.get_weights()],
               "loss": model.history.history["loss"]}, f)
'''


def _recipe():
    text = README.read_text(encoding="utf-8")
    section = text[text.index("## Data-parallel training with torchrun"):]
    block = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    lines = block.strip().splitlines()
    assert len(lines) <= 5, "the README promises five lines"
    imports = [line for line in lines if line.startswith("import ")]
    rest = [line for line in lines if not line.startswith("import ")]
    return "\n".join(imports) + PRELUDE + "\n".join(rest) + EPILOGUE


def test_readme_torchrun_recipe_trains_like_one_process(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_recipe())
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir(), two.mkdir()
    env = _env(CUDA_VISIBLE_DEVICES="")
    subprocess.run([sys.executable, str(script), str(one)], env=env, check=True, timeout=TIMEOUT_S)
    for _ in range(3):  # again on a new port if another program took the free one meanwhile
        proc = subprocess.run(
            [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2",
             f"--master_port={free_port()}", str(script), str(two)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=TIMEOUT_S,
        )
        if proc.returncode == 0 or b"address already in use" not in proc.stdout.lower():
            break
    assert proc.returncode == 0, proc.stdout.decode(errors="replace")[-3000:]
    single = json.loads((one / "result_0.json").read_text())
    ranks = [json.loads((two / f"result_{r}.json").read_text()) for r in range(2)]
    assert ranks[0] == ranks[1]
    np.testing.assert_allclose(ranks[0]["loss"], single["loss"], rtol=1e-5)
    for a, b in zip(ranks[0]["weights"], single["weights"]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
