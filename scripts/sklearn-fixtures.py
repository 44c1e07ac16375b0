#!/usr/bin/python3
"""Reference cases for the regression engine, computed with scikit-learn.

Re-run after changing a case (Debian's scikit-learn: apt-get install python3-sklearn):

    /usr/bin/python3 scripts/sklearn-fixtures.py

It writes test/fixtures/sklearn/<group>.json; the unit tests compare the engine with
them, so CI needs no Python. Every case is seeded: the output is reproducible.
"""
import json
import pathlib

import numpy as np
import sklearn
from sklearn.linear_model import Lasso, LinearRegression, Ridge

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "sklearn"


def design(rng, n, d, scale=1.0, offset=0.0, cond=None):
    X = rng.normal(size=(n, d))
    if cond is not None and d > 1:
        # Singular values spread geometrically from 1 to 1/cond.
        u, _, vt = np.linalg.svd(X, full_matrices=False)
        X = u @ np.diag(np.geomspace(1.0, 1.0 / cond, d)) @ vt * np.sqrt(n)
    return X * scale + offset


def target(rng, X, noise=0.1, sparse=False):
    d = X.shape[1]
    w = rng.normal(size=d) * 3
    if sparse:
        w[rng.permutation(d)[: d // 2]] = 0.0
    return X @ w + 1.5 + noise * rng.normal(size=X.shape[0])


DATASETS = []


def dataset(X, y):
    """Stores each design once; cases name it by index (keeps the fixtures small)."""
    for index, (known_X, known_y) in enumerate(DATASETS):
        if known_X is X and known_y is y:
            return index
    DATASETS.append((X, y))
    return len(DATASETS) - 1


def case(name, kind, X, y, alpha, fit_intercept):
    if kind == "LINEAR":
        model = LinearRegression(fit_intercept=fit_intercept)
    elif kind == "RIDGE":
        model = Ridge(alpha=alpha, fit_intercept=fit_intercept)
    else:
        model = Lasso(alpha=alpha, fit_intercept=fit_intercept)
    model.fit(X, y)
    residual = y - model.predict(X)
    entry = {
        "name": name,
        "kind": kind,
        "alpha": alpha,
        "fitIntercept": fit_intercept,
        "dataset": dataset(X, y),
        "coef": np.atleast_1d(model.coef_).tolist(),
        "intercept": float(model.intercept_),
        "r2": float(model.score(X, y)),
        "rmse": float(np.sqrt(np.mean(residual**2))),
    }
    if kind == "LASSO":
        entry["nIter"] = int(model.n_iter_)
    return entry


def main():
    rng = np.random.default_rng(20261122)
    groups = {"linear": [], "ridge": [], "lasso": []}
    shapes = [(5, 1), (20, 3), (200, 5), (1000, 10), (300, 20)]
    for fit_intercept in (True, False):
        tag = "icpt" if fit_intercept else "noicpt"
        for n, d in shapes:
            X = design(rng, n, d)
            y = target(rng, X)
            groups["linear"].append(case(f"linear {n}x{d} {tag}", "LINEAR", X, y, None, fit_intercept))
            for alpha in (0.01, 0.1, 1.0, 10.0):
                groups["ridge"].append(case(f"ridge {n}x{d} a={alpha} {tag}", "RIDGE", X, y, alpha, fit_intercept))
            for alpha in (0.01, 0.1, 1.0):
                groups["lasso"].append(case(f"lasso {n}x{d} a={alpha} {tag}", "LASSO", X, y, alpha, fit_intercept))
        for scale, offset in ((1e-3, 0.0), (1e6, 0.0), (1.0, 1e4)):
            X = design(rng, 100, 4, scale=scale, offset=offset)
            y = target(rng, X, noise=0.01 * scale)
            label = f"scale={scale:g} offset={offset:g} {tag}"
            groups["linear"].append(case(f"linear {label}", "LINEAR", X, y, None, fit_intercept))
            groups["ridge"].append(case(f"ridge {label}", "RIDGE", X, y, 1.0, fit_intercept))
            groups["lasso"].append(case(f"lasso {label}", "LASSO", X, y, 0.01 * scale, fit_intercept))
        for cond in (1e3, 1e5):
            X = design(rng, 150, 6, cond=cond)
            y = target(rng, X, noise=0.01)
            groups["linear"].append(case(f"linear cond={cond:g} {tag}", "LINEAR", X, y, None, fit_intercept))
            groups["ridge"].append(case(f"ridge cond={cond:g} {tag}", "RIDGE", X, y, 0.1, fit_intercept))
    # Rank-deficient LINEAR: the minimum-norm least-squares answer, as lstsq gives.
    base = design(rng, 40, 2)
    collinear = np.column_stack([base, 2.0 * base[:, 0] - base[:, 1]])
    groups["linear"].append(case("linear collinear", "LINEAR", collinear, target(rng, collinear), None, True))
    constant = np.column_stack([base, np.full(40, 3.0)])
    groups["linear"].append(case("linear constant column", "LINEAR", constant, target(rng, constant), None, True))
    wide = design(rng, 6, 10)
    wide_y = target(rng, wide)
    groups["linear"].append(case("linear fewer rows than features", "LINEAR", wide, wide_y, None, True))
    groups["ridge"].append(case("ridge fewer rows than features", "RIDGE", wide, wide_y, 0.5, True))
    sparse_X = design(rng, 200, 12)
    sparse_y = target(rng, sparse_X, sparse=True)
    groups["lasso"].append(case("lasso many zeros", "LASSO", sparse_X, sparse_y, 0.5, True))
    groups["lasso"].append(case("lasso all zeros", "LASSO", sparse_X, sparse_y, 1e3, True))

    OUT.mkdir(parents=True, exist_ok=True)
    data = [{"X": X.tolist(), "y": y.tolist()} for X, y in DATASETS]
    path = OUT / "datasets.json"
    path.write_text(json.dumps({"sklearn": sklearn.__version__, "datasets": data}))
    print(f"wrote {len(data)} datasets to {path.name} ({path.stat().st_size // 1024} KiB)")
    for group, cases in groups.items():
        path = OUT / f"{group}.json"
        path.write_text(json.dumps({"sklearn": sklearn.__version__, "cases": cases}, indent=1))
        print(f"wrote {len(cases)} cases to {path.name} ({path.stat().st_size // 1024} KiB)")


if __name__ == "__main__":
    main()
