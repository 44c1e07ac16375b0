"""scikit-learn's side of the benchmarks (run by bench/csv-train.ts).

Reads one CSV with pandas, fits LinearRegression, Ridge and Lasso on it with the
same objectives and defaults as docs/design.md (Numerics), and prints one JSON object: the
read and fit times, the coefficients, and the process's peak RSS. Each fit's time is its
first, as a script run once would see it; with --repeat N each model is fitted N times on
the same matrix, and its median fit (by wall time) is reported beside it as `warm`.

    /usr/bin/python3 bench/sklearn_compare.py FILE.csv --target y --ridge-alpha 1 --lasso-alpha 0.1 [--repeat 5]

Debian's python3-sklearn and python3-pandas (`apt-get install -y python3-sklearn
python3-pandas`); run with /usr/bin/python3, the interpreter they are installed for.
"""
import argparse
import json
import resource
import sys
import time

import numpy as np
import pandas as pd
import sklearn
from sklearn.linear_model import Lasso, LinearRegression, Ridge


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("path")
    parser.add_argument("--target", default="y")
    parser.add_argument("--ridge-alpha", type=float, default=1.0)
    parser.add_argument("--lasso-alpha", type=float, default=0.1)
    parser.add_argument("--no-intercept", action="store_true")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()

    started = time.perf_counter()
    cpu = time.process_time()
    frame = pd.read_csv(args.path, dtype=np.float64, engine="c")
    read_seconds = time.perf_counter() - started
    read_cpu_seconds = time.process_time() - cpu
    y = frame[args.target].to_numpy()
    x = frame.drop(columns=[args.target]).to_numpy()
    del frame

    fit_intercept = not args.no_intercept
    models = {
        "LINEAR": LinearRegression(fit_intercept=fit_intercept),
        "RIDGE": Ridge(alpha=args.ridge_alpha, fit_intercept=fit_intercept),
        "LASSO": Lasso(alpha=args.lasso_alpha, fit_intercept=fit_intercept),
    }
    fits = {}
    for kind, model in models.items():
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            cpu = time.process_time()
            model.fit(x, y)
            samples.append((time.perf_counter() - started, time.process_time() - cpu))
        warm_seconds, warm_cpu_seconds = sorted(samples)[len(samples) // 2]
        fits[kind] = {
            "seconds": samples[0][0],
            "cpuSeconds": samples[0][1],
            "warm": {"seconds": warm_seconds, "cpuSeconds": warm_cpu_seconds},
            "coefficients": [float(value) for value in model.coef_],
            "intercept": float(model.intercept_),
        }
    json.dump(
        {
            "rows": int(x.shape[0]),
            "features": int(x.shape[1]),
            "readSeconds": read_seconds,
            "readCpuSeconds": read_cpu_seconds,
            "fits": fits,
            # ru_maxrss is in KiB on Linux.
            "maxRssMB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "versions": {"python": sys.version.split()[0], "sklearn": sklearn.__version__, "pandas": pd.__version__, "numpy": np.__version__},
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
