#!/usr/bin/python3
"""Reference cases for the regression engine (src/domain/regression.ts).

The unit tests (test/unit/regression.test.ts) fit every case and compare with the
answers stored here, so running the tests needs no Python. To regenerate:

    apt-get install -y python3-sklearn python3-pandas   # Debian's scikit-learn 1.2.1
    /usr/bin/python3 scripts/sklearn-fixtures.py        # /usr/bin: the python3 that has it

It writes test/fixtures/sklearn/<group>.json and prints what it wrote. Every design
comes from one seeded generator, so the output is reproducible; floats are stored
in full (shortest round-trip repr), never rounded.

A file is {"sklearn": version, "designs": [{"name", "X", "y", "fits": [fit, ...]}]}
and a fit is {"kind", "alpha", "fitIntercept", "coef", "intercept", "r2", "rmse"}
plus "rank" (LINEAR: lstsq's rank), "nIter" and "converged" (LASSO).
Storing each design once with all its fits keeps the files small.

golden.json holds known answers worked out by hand (exact rationals), not by
scikit-learn; the script only checks that scikit-learn agrees with them.
"""
import json
import pathlib
import warnings
from fractions import Fraction

import numpy as np
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso, LinearRegression, Ridge

OUT = pathlib.Path(__file__).resolve().parent.parent / "test" / "fixtures" / "sklearn"
SEED = 20261122
ALPHAS = (0.01, 0.1, 1.0, 10.0)
rng = np.random.default_rng(SEED)


def gaussian_design(n, d, scales=1.0, offset=0.0):
    return rng.normal(size=(n, d)) * scales + offset


def conditioned_design(n, d, cond):
    """Singular values spread geometrically from 1 to 1/cond, then scaled to O(1) entries."""
    u, _, vt = np.linalg.svd(rng.normal(size=(n, d)), full_matrices=False)
    return u @ np.diag(np.geomspace(1.0, 1.0 / cond, d)) @ vt * np.sqrt(n)


def linear_target(X, intercept=1.5, noise=0.1, sparse=False):
    w = rng.normal(size=X.shape[1]) * 3
    if sparse:
        w[rng.permutation(X.shape[1])[: X.shape[1] * 2 // 3]] = 0.0
    return X @ w + intercept + noise * rng.normal(size=X.shape[0])


def fit(kind, X, y, alpha, fit_intercept):
    if kind == "LINEAR":
        model = LinearRegression(fit_intercept=fit_intercept)
    elif kind == "RIDGE":
        model = Ridge(alpha=alpha, fit_intercept=fit_intercept)
    else:
        model = Lasso(alpha=alpha, fit_intercept=fit_intercept)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y)
    entry = {
        "kind": kind,
        "alpha": alpha,
        "fitIntercept": fit_intercept,
        "coef": np.atleast_1d(model.coef_).tolist(),
        "intercept": float(model.intercept_),
        "r2": float(model.score(X, y)),
        "rmse": float(np.sqrt(np.mean((y - model.predict(X)) ** 2))),
    }
    if kind == "LINEAR":
        entry["rank"] = int(model.rank_)
    if kind == "LASSO":
        entry["nIter"] = int(model.n_iter_)
        entry["converged"] = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return entry


def design(name, X, y, kinds=("LINEAR", "RIDGE", "LASSO"), alphas=ALPHAS, lasso_alphas=None):
    """One design with every requested fit, with and without an intercept.
    `alphas` apply to RIDGE, and to LASSO unless `lasso_alphas` are given."""
    per_kind = {"LINEAR": [None], "RIDGE": alphas, "LASSO": alphas if lasso_alphas is None else lasso_alphas}
    fits = []
    for fit_intercept in (True, False):
        for kind in kinds:
            fits.extend(fit(kind, X, y, alpha, fit_intercept) for alpha in per_kind[kind])
    return {"name": name, "X": X.tolist(), "y": y.tolist(), "fits": fits}


def minimum_norm_design(name, X, y, ranks):
    """A rank-deficient LINEAR design: check scikit-learn found the true rank (with, without
    an intercept) and so gave the minimum-norm answer, before storing it."""
    entry = design(name, X, y, alphas=(0.1, 1.0))
    for f in entry["fits"]:
        if f["kind"] != "LINEAR":
            continue
        Xc = X - X.mean(axis=0) if f["fitIntercept"] else X
        yc = y - y.mean() if f["fitIntercept"] else y
        rank = ranks[0] if f["fitIntercept"] else ranks[1]
        assert f["rank"] == rank, f"{name}: lstsq found rank {f['rank']}, expected {rank}"
        reference = np.linalg.pinv(Xc, rcond=1e-10) @ yc
        assert np.allclose(f["coef"], reference, rtol=1e-9, atol=1e-9 * np.abs(reference).max()), name
    return entry


def shapes():
    cases = [(5, 1), (12, 3), (60, 5), (400, 8), (2000, 10), (300, 20)]
    designs = []
    for n, d in cases:
        X = gaussian_design(n, d)
        designs.append(design(f"gaussian {n}x{d}", X, linear_target(X)))
    return designs


def scales():
    designs = []
    for scale in (1e-3, 1e6):
        # Coefficients ~ 1/scale keep y ~ 1; penalties scaled so they shrink without zeroing everything
        # (ridge's penalty compares with XᵀX ~ n·scale², lasso's with Xᵀy/n ~ scale).
        X = gaussian_design(100, 4, scales=scale)
        y = linear_target(X / scale, noise=0.01)
        alphas = (0.01 * scale**2, scale**2)
        designs.append(design(f"features ~ {scale:g}", X, y, alphas=alphas, lasso_alphas=(0.01 * scale, scale)))
    mixed = gaussian_design(120, 4, scales=np.array([1e-3, 1.0, 1e3, 1e6]))
    y = mixed @ np.array([2e3, -1.5, 4e-3, 3e-6]) + 0.5 + 0.01 * rng.normal(size=120)
    designs.append(design("mixed feature scales 1e-3..1e6", mixed, y, alphas=(0.01, 0.1)))
    offset = gaussian_design(100, 3, offset=1e4)
    designs.append(design("features ~ 1e4 + noise", offset, linear_target(offset, intercept=-2e4), alphas=(0.01, 1.0)))
    big_y = gaussian_design(80, 3)
    designs.append(design("target ~ 1e6 + noise", big_y, linear_target(big_y, intercept=1e6), alphas=(0.1, 10.0)))
    return designs


def conditioning():
    designs = []
    for cond in (1e3, 1e4, 1e5):
        X = conditioned_design(150, 6, cond)
        designs.append(design(f"cond(X) = {cond:g}", X, linear_target(X, noise=0.01), alphas=(0.01, 0.1)))
    # Two nearly equal columns and a tiny penalty: coordinate descent crawls, and does
    # not converge in 1000 sweeps; both sides must return the same last iterate.
    base = gaussian_design(100, 3)
    X = np.column_stack([base, base[:, 0] + 1e-3 * rng.normal(size=100)])
    designs.append(design("two nearly equal columns", X, linear_target(X), kinds=("LASSO",), alphas=(1e-4, 1e-2)))
    return designs


def degenerate():
    designs = []
    base = gaussian_design(40, 3)
    collinear = np.column_stack([base, 2.0 * base[:, 0] - base[:, 1]])
    designs.append(minimum_norm_design("collinear column", collinear, linear_target(base), (3, 3)))
    duplicate = np.column_stack([base, base[:, 2]])
    designs.append(minimum_norm_design("duplicated column", duplicate, linear_target(base), (3, 3)))
    # Constant columns are rank-deficient only once centred; without an intercept they are ordinary columns.
    constant = np.column_stack([base[:, :2], np.full(40, 3.7), base[:, 2]])
    designs.append(minimum_norm_design("constant column", constant, linear_target(base), (3, 4)))
    wide = gaussian_design(6, 10)
    designs.append(minimum_norm_design("fewer rows than features 6x10", wide, linear_target(wide), (5, 6)))
    sparse_wide = gaussian_design(40, 60)
    designs.append(design("lasso fewer rows than features 40x60", sparse_wide, linear_target(sparse_wide, sparse=True), kinds=("RIDGE", "LASSO"), alphas=(0.1, 1.0)))
    two = np.array([[1.0, 2.0], [3.0, -1.0]])
    designs.append(minimum_norm_design("two rows", two, np.array([1.0, 4.0]), (1, 2)))
    constant_y = gaussian_design(10, 2)
    designs.append(design("constant target", constant_y, np.full(10, 4.0), alphas=(0.1,)))
    return designs


def sparse():
    X = gaussian_design(200, 12)
    y = linear_target(X, sparse=True)
    entry = design("sparse truth 200x12", X, y, kinds=("LASSO",), alphas=(0.1, 0.5, 2.0, 1e3))
    zeros = [sum(c == 0.0 for c in f["coef"]) for f in entry["fits"]]
    assert max(zeros) == 12 and sorted(zeros)[len(zeros) // 2] >= 6, f"expected many exact zeros, got {zeros}"
    return [entry]


def golden():
    """Exact answers from closed forms; scikit-learn must agree to 1e-12."""

    def known(name, X, y, kind, alpha, fit_intercept, coef, intercept):
        X = [[Fraction(v) for v in row] for row in X]
        y = [Fraction(v) for v in y]
        n = len(y)
        predictions = [intercept + sum(c * v for c, v in zip(coef, row)) for row in X]
        sse = sum((a - p) ** 2 for a, p in zip(y, predictions))
        mean = sum(y) / n
        sst = sum((a - mean) ** 2 for a in y)
        exact = {
            "kind": kind,
            "alpha": None if alpha is None else float(alpha),
            "fitIntercept": fit_intercept,
            "coef": [float(c) for c in coef],
            "intercept": float(intercept),
            "r2": float(1 - sse / sst),
            "rmse": float(sse / n) ** 0.5,
        }
        Xf = np.array(X, dtype=float)
        yf = np.array(y, dtype=float)
        reference = fit(kind, Xf, yf, exact["alpha"], fit_intercept)
        for key in ("coef", "intercept", "r2", "rmse"):
            assert np.allclose(reference[key], exact[key], rtol=1e-12, atol=1e-12), (name, key, reference[key], exact[key])
        return {"name": name, "X": Xf.tolist(), "y": yf.tolist(), "fits": [exact]}

    F = Fraction
    line = [[0], [1], [2], [3], [4]]
    plane = [[0, 0, 1], [1, 0, 0], [0, 1, 2], [2, 3, 1], [3, 1, 0], [1, 2, 3], [4, 0, 2], [2, 2, 2]]
    # Ridge and lasso on x = -1, 0, 1 (sxx = 2, sxy = 4 for y = 3, 5, 7):
    # ridge w = sxy / (sxx + alpha); lasso w = (sxy/n - alpha) / (sxx/n) when alpha < sxy/n.
    centred = [[-1], [0], [1]]
    return [
        known("y = 3 + 2x", line, [3 + 2 * x for [x] in line], "LINEAR", None, True, [F(2)], F(3)),
        known("y = 1 + 2a - 3b + 0.5c", plane, [1 + 2 * a - 3 * b + F(1, 2) * c for a, b, c in plane], "LINEAR", None, True, [F(2), F(-3), F(1, 2)], F(1)),
        known("y = 2.5x through the origin", line[1:], [F(5, 2) * x for [x] in line[1:]], "LINEAR", None, False, [F(5, 2)], F(0)),
        known("ridge shrinks by sxx / (sxx + alpha)", centred, [3, 5, 7], "RIDGE", F(2), True, [F(4, 4)], F(5)),
        known("lasso soft-thresholds sxy / n by alpha", centred, [3, 5, 7], "LASSO", F(1, 3), True, [F(3, 2)], F(5)),
    ]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    groups = {
        "golden": golden(),
        "shapes": shapes(),
        "scales": scales(),
        "conditioning": conditioning(),
        "degenerate": degenerate(),
        "sparse": sparse(),
    }
    total = 0
    for group, designs in groups.items():
        path = OUT / f"{group}.json"
        path.write_text(json.dumps({"sklearn": sklearn.__version__, "designs": designs}) + "\n")
        fits = sum(len(d["fits"]) for d in designs)
        size = path.stat().st_size
        total += size
        print(f"wrote {path.relative_to(OUT.parent.parent.parent)}: {len(designs)} designs, {fits} fits, {size / 1024:.0f} KiB")
    print(f"total {total / 1024:.0f} KiB, scikit-learn {sklearn.__version__}")


if __name__ == "__main__":
    main()
