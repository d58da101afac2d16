"""Runs the ported keras-io examples (tests/ports/) on Keras 3 (torch backend) and on keraslike.

Usage:

    KERAS_BACKEND=torch python scripts/run_ports_on_keras.py [name ...]

Prints a table: example, whether it runs on Keras, whether it runs on keraslike, and the final
training loss of each (synthetic data and different initial weights, so losses agree only in
size, not digit for digit). Keras is the control: an example that fails on both is a broken
port, one that fails only on keraslike is a keraslike bug.
"""

import importlib
import os
import sys
import traceback

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def _run(module, lib):
    try:
        history = module.run(lib)
        return True, history.history["loss"][-1], ""
    except Exception as e:  # report, do not stop the table
        return False, None, f"{type(e).__name__}: {str(e).splitlines()[0][:100]}" if str(e) else type(e).__name__


def main(argv=None):
    import keras

    import keraslike
    from tests.ports.registry import PORTS

    names = (argv if argv else None) or PORTS
    rows = []
    for name in names:
        module = importlib.import_module(f"tests.ports.{name}")
        k_ok, k_loss, k_err = _run(module, keras)
        o_ok, o_loss, o_err = _run(module, keraslike)
        rows.append((name, k_ok, o_ok, k_loss, o_loss, k_err or o_err))
    fmt = "{:<45} {:>8} {:>10} {:>12} {:>12}  {}"
    print(fmt.format("example", "keras", "keraslike", "loss keras", "loss ours", "error"))
    for name, k_ok, o_ok, k_loss, o_loss, err in rows:
        show = lambda v: "-" if v is None else f"{v:.4f}"  # noqa: E731
        print(fmt.format(name, "ok" if k_ok else "FAIL", "ok" if o_ok else "FAIL", show(k_loss), show(o_loss), err))
    both = sum(1 for r in rows if r[1] and r[2])
    print(f"\n{sum(r[1] for r in rows)}/{len(rows)} run on Keras, {sum(r[2] for r in rows)}/{len(rows)} "
          f"on keraslike, {both} on both")
    return 0 if all(r[2] or not r[1] for r in rows) else 1


if __name__ == "__main__":
    if "--traceback" in sys.argv:
        traceback.print_exc()
    sys.exit(main([a for a in sys.argv[1:] if not a.startswith("--")]))
