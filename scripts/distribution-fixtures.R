# Reference values of the distribution functions behind the coefficient table
# (src/domain/distributions.ts), from R's own pt, pf and qt.
#
# Run from anywhere (the output goes next to this script, in ../test/fixtures/r/):
#
#     LC_ALL=C Rscript scripts/distribution-fixtures.R
#
# Debian: apt-get install -y r-base-core (no CRAN packages). CI does not run R: the
# tests read the file this writes, test/fixtures/r/distributions.json:
#
#   {r, studentT: [{t, df, p}], fisherF: [{f, d1, d2, p}], studentTQuantile: [{p, df, q}]}
#
# with p = 2*pt(-abs(t), df) (two-sided), p = pf(f, d1, d2, lower.tail = FALSE) and
# q = qt(p, df), every number with 17 significant digits (the exact double). The grids
# reach p-values near 1e-300 and below (the tests hold R's answers above 1e-300 to
# relative accuracy), degrees of freedom from 1 to 1e6 (to 1e8 for t and qt), and the
# quantiles behind confidence levels from 0 to 0.999999.

script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(script_arg)) dirname(normalizePath(sub("^--file=", "", script_arg[1]))) else "scripts"
out_dir <- file.path(dirname(script_dir), "test", "fixtures", "r")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

num17 <- function(x) {
  stopifnot(length(x) == 1, is.finite(x))
  sprintf("%.17g", x)
}

row_json <- function(values) {
  paste0("{", paste0("\"", names(values), "\": ", vapply(values, num17, ""), collapse = ", "), "}")
}

array_json <- function(rows) paste0("[\n    ", paste(rows, collapse = ",\n    "), "\n  ]")

dfs <- c(1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 15, 20, 25, 30, 40, 50, 75, 100, 150, 200, 500, 1000, 2000, 5000,
         1e4, 5e4, 1e5, 4e5, 5e5, 1e6, 1e7, 1e8, 2.5, 17.5)

# Student's t, two-sided: t from 0 to 40. For large df the tail near t = 37 is about
# 1e-299, the range where a p-value computed as 1 - cdf would long have become 0.
ts <- c(0, 1e-10, 1e-4, 0.01, 0.1, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 1.96, 2, 2.5, 3, 3.5, 4, 5, 6, 7, 8, 10,
        12, 15, 20, 25, 30, 33, 35, 36, 36.5, 37, 37.5, 38, 40)
student <- character()
for (df in dfs) for (t in ts) {
  student <- c(student, row_json(c(t = t, df = df, p = 2 * pt(-abs(t), df))))
}

# Fisher's F, upper tail. d1 = 1 is t² (so f up to 1600 reaches the same 1e-300 tail);
# larger d1 reach it at smaller f.
d1s <- c(1, 2, 3, 4, 5, 7, 10, 20, 50, 100)
d2s <- c(1, 2, 3, 5, 10, 20, 30, 50, 100, 500, 1000, 1e4, 1e5, 1e6)
fs <- c(0, 1e-8, 0.01, 0.1, 0.5, 0.9, 1, 1.1, 1.5, 2, 3, 4, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300,
        500, 1000, 1369, 1400, 1600, 1e4, 1e6)
fisher <- character()
for (d1 in d1s) for (d2 in d2s) for (f in fs) {
  fisher <- c(fisher, row_json(c(f = f, d1 = d1, d2 = d2, p = pf(f, d1, d2, lower.tail = FALSE))))
}

# Quantiles: p = (1 + level) / 2 for the levels of confint, 0 to 0.999999.
ps <- c(0.5, 0.55, 0.6, 0.75, 0.8, 0.9, 0.95, 0.975, 0.99, 0.995, 0.9975, 0.999, 0.9995, 0.9999, 0.99995,
        0.99999, 0.999995, 0.9999995)
quantiles <- character()
for (df in dfs) for (p in ps) {
  quantiles <- c(quantiles, row_json(c(p = p, df = df, q = qt(p, df))))
}

doc <- c(
  "{",
  paste0("  \"r\": \"", R.version.string, "\","),
  paste0("  \"studentT\": ", array_json(student), ","),
  paste0("  \"fisherF\": ", array_json(fisher), ","),
  paste0("  \"studentTQuantile\": ", array_json(quantiles)),
  "}"
)
out <- file.path(out_dir, "distributions.json")
writeLines(doc, out)
cat(sprintf("%s: %d t, %d F, %d quantile values\n", basename(out), length(student), length(fisher), length(quantiles)))
