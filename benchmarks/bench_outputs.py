"""Cost of the safe model file and of exact, atomic RRUFF writes.

Usage::

    python benchmarks/bench_outputs.py

Trains a small SpectroGenRegressor (200 pairs, 1024 -> 1024 points, 2
epochs), then saves and loads it as a safe model file (zip of JSON and
safetensors, rebuilt on loading) and as a joblib pickle, the reference.
Writes 200 RRUFF files of 1024 points with :func:`write_rruff` (exact
floats, temporary file, fsync and rename), as the command line writes them
(all staged, one ``os.sync``, then renamed) and with a plain ``%.6g``
writer, the reference. Prints median times, sizes and the ratios against the reference
measured in the same run.
"""

import os
import statistics
import tempfile
import time

import joblib
import numpy as np

from sktransfer.cli._files import Outputs
from sktransfer.cli._model_file import load_model, save_model
from sktransfer.cross_modal import SpectroGenRegressor
from sktransfer.datasets import read_rruff, write_rruff


def _median_time(function, repeat=5):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _plain_writer(path, x, y):
    with open(path, "w") as f:
        f.writelines(f"{a:.6g}, {b:.9g}\n" for a, b in zip(x, y))


def _row(what, value, reference):
    print(f"{what:<15} {value:8.3f}  {reference:8.3f}  {value / reference:6.2f}")


def main():
    rng = np.random.default_rng(0)
    X, Y = rng.random((200, 1024)), rng.random((200, 1024))
    reg = SpectroGenRegressor(max_epochs=2, random_state=0).fit(X, Y)
    with tempfile.TemporaryDirectory() as tmp:
        safe, pickled = os.path.join(tmp, "m.skmodel"), os.path.join(tmp, "m.joblib")

        def save_safe():
            with open(safe, "wb") as f:
                save_model(f, reg, {"source_axis": np.arange(1024.0)})

        t_save = _median_time(save_safe)
        t_save_ref = _median_time(lambda: joblib.dump(reg, pickled))
        t_load = _median_time(lambda: load_model(safe))
        t_load_ref = _median_time(lambda: joblib.load(pickled))
        same = np.array_equal(load_model(safe)[0].predict(X), reg.predict(X))
        size, size_ref = os.path.getsize(safe) / 1e3, os.path.getsize(pickled) / 1e3
        print("model file          safe    joblib   ratio")
        _row("save (s)", t_save, t_save_ref)
        _row("load (s)", t_load, t_load_ref)
        _row("size (kB)", size, size_ref)
        print(f"identical predictions after loading: {same}")

        x = 2000.0 + 0.002 * np.arange(1024)
        rows = rng.random((200, 1024))

        def exact():
            for i, y in enumerate(rows):
                write_rruff(os.path.join(tmp, f"e{i}.txt"), x, y, overwrite=True)

        def plain():
            for i, y in enumerate(rows):
                _plain_writer(os.path.join(tmp, f"p{i}.txt"), x, y)

        def batch():
            outputs = Outputs(overwrite=True)
            for i, y in enumerate(rows):
                outputs.add_rruff(os.path.join(tmp, f"b{i}.txt"), x, y, {}, "bench")
            outputs.write()

        t_exact, t_plain = _median_time(exact, 3), _median_time(plain, 3)
        t_batch = _median_time(batch, 3)
        distinct = np.unique(read_rruff(os.path.join(tmp, "p0.txt")).x).size
        exact_back = np.array_equal(read_rruff(os.path.join(tmp, "e0.txt")).x, x)
        print()
        print("200 RRUFF files     exact    %.6g   ratio")
        _row("write_rruff (s)", t_exact, t_plain)
        _row("CLI batch (s)", t_batch, t_plain)
        print(f"axis read back exactly: {exact_back}; %.6g keeps {distinct} of 1024")


if __name__ == "__main__":
    main()
