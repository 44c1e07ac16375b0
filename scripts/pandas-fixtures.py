#!/usr/bin/python3
"""pandas copies of the R fixtures, and a statsmodels cross-check of R's fits.

Run after scripts/r-fixtures.R:

    apt-get install -y python3-pandas python3-statsmodels   # Debian's pandas / statsmodels
    /usr/bin/python3 scripts/pandas-fixtures.py             # /usr/bin: the python3 that has them

For every test/fixtures/r/<name>.r.csv it reads the file back the way R would
(read_csv with index_col=0: the first, unnamed column is the row names; "NA" is
missing) and writes <name>.pandas.csv with pandas' defaults (df.to_csv(path): the
index as a first column under an empty header, NaN as an empty field).

Then it refits every model of <name>.lm.json with statsmodels' ols(formula, data,
missing='drop'), category columns as C(column, levels=sorted(levels)), i.e. treatment
coding with the first level by code point as the reference, and compares the
coefficients with R's by name (patsy puts category terms before numeric ones, R keeps
formula order). It prints the largest relative difference and exits 1 if that is
above 1e-9 (iris and airquality must be present). It also checks that <name>.r2.csv
(write.csv2) and <name>.pandas.csv read back as exactly the same frame as <name>.r.csv.
"""
import json
import pathlib
import re
import sys

import pandas as pd
import statsmodels
import statsmodels.formula.api as smf

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "test" / "fixtures" / "r"
TOLERANCE = 1e-9
REQUIRED = {"iris", "airquality"}


def read_r_csv(path, **kwargs):
    return pd.read_csv(path, index_col=0, **kwargs)


def term(column, levels):
    quoted = f"Q({column!r})"
    if column not in levels:
        return quoted
    # Treatment coding (patsy's default for C()) with the levels sorted by code point
    # (Python compares str by code point): the first is the reference, as in R under
    # LC_ALL=C. Spelled with levels= rather than Treatment(reference=...) because a
    # column may be called Treatment (CO2 has one) and would shadow patsy's name.
    return f"C({quoted}, levels={sorted(levels[column])!r})"


def r_name(statsmodels_name):
    """statsmodels' coefficient name -> R's (Intercept, Q('x') -> x, C(Q('f'), ...)[T.lvl] -> flvl)."""
    if statsmodels_name == "Intercept":
        return "(Intercept)"
    m = re.fullmatch(r"Q\('(.*)'\)", statsmodels_name)
    if m:
        return m.group(1)
    m = re.fullmatch(r"C\(Q\('(.*?)'\), .*\)\[T\.(.*)\]", statsmodels_name)
    if m:
        return m.group(1) + m.group(2)
    raise ValueError(f"unexpected statsmodels name {statsmodels_name!r}")


def check_model(df, model):
    levels = model["levels"]
    for column, expected in levels.items():
        found = sorted(df[column].dropna().unique())
        if found != expected:
            raise SystemExit(f"{model['formula']}: levels of {column} are {found}, R has {expected}")
    rhs = " + ".join(term(c, levels) for c in model["features"])
    formula = f"Q({model['target']!r}) ~ {rhs}" + ("" if model["fitIntercept"] else " - 1")
    fit = smf.ols(formula, data=df, missing="drop").fit()
    ours = {r_name(k): v for k, v in fit.params.items()}
    r = model["coefficients"]
    if sorted(ours) != sorted(r):
        raise SystemExit(f"{model['formula']}: statsmodels has {list(ours)}, R has {list(r)}")
    if int(fit.nobs) != model["n"]:
        raise SystemExit(f"{model['formula']}: statsmodels used {fit.nobs} rows, R {model['n']}")
    rel = max(abs(ours[k] - r[k]) / max(abs(r[k]), 1e-300) for k in r)
    se = {r_name(k): v for k, v in fit.bse.items()}
    rel_se = max(abs(se[k] - s["std.error"]) / s["std.error"] for k, s in model["coefficientStats"].items())
    return rel, rel_se


def main():
    print(f"pandas {pd.__version__}, statsmodels {statsmodels.__version__}")
    worst = 0.0
    seen = set()
    for csv in sorted(FIXTURES.glob("*.r.csv")):
        name = csv.name[: -len(".r.csv")]
        df = read_r_csv(csv)
        df.to_csv(FIXTURES / f"{name}.pandas.csv")
        pd.testing.assert_frame_equal(read_r_csv(FIXTURES / f"{name}.pandas.csv"), df, check_exact=True)

        csv2 = FIXTURES / f"{name}.r2.csv"
        if csv2.exists():
            pd.testing.assert_frame_equal(read_r_csv(csv2, sep=";", decimal=","), df, check_exact=True)

        spec = json.loads((FIXTURES / f"{name}.lm.json").read_text())
        for model in spec["models"]:
            rel, rel_se = check_model(df, model)
            worst = max(worst, rel)
            seen.add(name)
            print(f"  {name:<12} {model['formula']:<52} coef max rel diff {rel:.3g}  (std.error {rel_se:.3g})")

    missing = REQUIRED - seen
    if missing:
        raise SystemExit(f"no models for {sorted(missing)}")
    print(f"max relative difference statsmodels vs R: {worst:.3g} (tolerance {TOLERANCE:g})")
    if worst > TOLERANCE:
        sys.exit(1)


if __name__ == "__main__":
    main()
