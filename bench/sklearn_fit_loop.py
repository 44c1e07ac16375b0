"""scikit-learn's side of bench/fit.ts: fits on a matrix already in memory.

Loads X (rows x features, row-major float64) and y from the raw files bench/fit.ts
wrote, then for each line read from stdin (LINEAR, RIDGE or LASSO) fits that model
and prints one JSON line: the fit's wall and CPU time (all threads) and the
coefficients. Reading the files is not timed, as the Node side's data is generated
in memory.

    /usr/bin/python3 bench/sklearn_fit_loop.py X.f64 y.f64 ROWS FEATURES --ridge-alpha 1 --lasso-alpha 0.01
"""
import argparse
import json
import sys
import time

import numpy as np
import sklearn
from sklearn.linear_model import Lasso, LinearRegression, Ridge


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("x_path")
    parser.add_argument("y_path")
    parser.add_argument("rows", type=int)
    parser.add_argument("features", type=int)
    parser.add_argument("--ridge-alpha", type=float, default=1.0)
    parser.add_argument("--lasso-alpha", type=float, default=0.01)
    args = parser.parse_args()
    x = np.fromfile(args.x_path, dtype="<f8").reshape(args.rows, args.features)
    y = np.fromfile(args.y_path, dtype="<f8")
    makers = {
        "LINEAR": lambda: LinearRegression(),
        "RIDGE": lambda: Ridge(alpha=args.ridge_alpha),
        "LASSO": lambda: Lasso(alpha=args.lasso_alpha),
    }
    print(json.dumps({"ready": True, "sklearn": sklearn.__version__, "numpy": np.__version__}), flush=True)
    for line in sys.stdin:
        kind = line.strip()
        model = makers[kind]()
        wall = time.perf_counter()
        cpu = time.process_time()
        model.fit(x, y)
        cpu = time.process_time() - cpu
        wall = time.perf_counter() - wall
        reply = {"kind": kind, "wall": wall, "cpu": cpu, "coefficients": [float(v) for v in model.coef_], "intercept": float(model.intercept_)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main()
