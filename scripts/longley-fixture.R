# Longley's data and R's summary of its regression: the reference for the coefficient
# table (src/domain/inference.ts) on an ill-conditioned design, beside NIST StRD's
# certified values for the same regression (the test holds both).
#
# Run from anywhere (the output goes next to this script, in ../test/fixtures/r/):
#
#     LC_ALL=C Rscript scripts/longley-fixture.R
#
# Debian: apt-get install -y r-base-core (no CRAN packages). CI does not run R: the
# tests read the files this writes, under test/fixtures/r/:
#
#   longley.csv.txt       write.csv(df, file) of the data (R's defaults: the years as
#                         quoted row names under the header "")
#   longley.summary.json  R's fits of it (below)
#
# The CSV ends in .txt so that it is not taken for one of the data sets of
# scripts/r-fixtures.R, whose test wants every *.csv there to be one of theirs.
#
# The data is R's datasets::longley in NIST's units: R stores GNP, Population and
# Employed in thousands and Unemployed and Armed.Forces in tens of what NIST's
# Longley.dat holds, so those columns are scaled back (to the integers NIST lists) and
# the fit is the one NIST certifies, y = Employed on the six others with an intercept.
#
# longley.summary.json is {dataset, r, csv, nrow, columns, models: [fit, ...]}; a fit
# has formula, target, features, fitIntercept, n, coefficients, sigma, r.squared,
# adj.r.squared, df.residual, fstatistic {value, numdf, dendf}, f.p.value (its upper
# tail), logLik, logLik.df, AIC, BIC, and coefficientStats {name: {std.error, t.value,
# p.value, conf.low, conf.high, conf.low.99, conf.high.99}} (confint at 95% and 99%),
# every number with 17 significant digits.

script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(script_arg)) dirname(normalizePath(sub("^--file=", "", script_arg[1]))) else "scripts"
out_dir <- file.path(dirname(script_dir), "test", "fixtures", "r")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

num17 <- function(x) {
  stopifnot(length(x) == 1, is.finite(x))
  sprintf("%.17g", x)
}
str_json <- function(s) paste0("\"", s, "\"")
strs_json <- function(xs) paste0("[", paste(vapply(xs, str_json, ""), collapse = ", "), "]")
obj_inline <- function(values) paste0("{", paste0(str_json(names(values)), ": ", unlist(values), collapse = ", "), "}")

# ---- the data, in NIST's units ---------------------------------------------------

df <- longley
scale <- c(GNP = 1000, Unemployed = 10, Armed.Forces = 10, Population = 1000, Employed = 1000)
for (col in names(scale)) {
  scaled <- df[[col]] * scale[[col]]
  if (any(abs(scaled - round(scaled)) > 1e-6)) stop(col, ": not an integer in NIST's units")
  df[[col]] <- round(scaled)
}
# NIST's first and last rows (y, x1..x6).
stopifnot(
  identical(unname(unlist(df[1, c("Employed", "GNP.deflator", "GNP", "Unemployed", "Armed.Forces", "Population", "Year")])),
            c(60323, 83, 234289, 2356, 1590, 107608, 1947)),
  identical(unname(unlist(df[16, c("Employed", "GNP.deflator", "GNP", "Unemployed", "Armed.Forces", "Population", "Year")])),
            c(70551, 116.9, 554894, 4007, 2827, 130081, 1962))
)

csv <- file.path(out_dir, "longley.csv.txt")
write.csv(df, csv)
back <- read.csv(csv, row.names = 1, check.names = FALSE)
for (col in names(df)) if (!identical(as.numeric(back[[col]]), as.numeric(df[[col]]))) stop(col, ": CSV does not round-trip")

# ---- the fits --------------------------------------------------------------------

fit_json <- function(formula_text) {
  fit <- lm(as.formula(formula_text), data = df)
  cf <- coef(fit)
  s <- summary(fit)
  table <- coef(s)
  ci <- confint(fit, level = 0.95)
  ci99 <- confint(fit, level = 0.99)
  ll <- logLik(fit)
  f <- s$fstatistic
  tt <- terms(fit)
  stopifnot(identical(rownames(table), names(cf)), identical(rownames(ci), names(cf)))
  stats <- vapply(names(cf), function(k) obj_inline(list(
    std.error = num17(table[k, "Std. Error"]),
    t.value = num17(table[k, "t value"]),
    p.value = num17(table[k, "Pr(>|t|)"]),
    conf.low = num17(ci[k, 1]),
    conf.high = num17(ci[k, 2]),
    conf.low.99 = num17(ci99[k, 1]),
    conf.high.99 = num17(ci99[k, 2])
  )), "")
  c(
    "    {",
    paste0("      \"formula\": ", str_json(formula_text), ","),
    paste0("      \"target\": ", str_json(all.vars(formula(fit))[1]), ","),
    paste0("      \"features\": ", strs_json(attr(tt, "term.labels")), ","),
    paste0("      \"fitIntercept\": ", if (attr(tt, "intercept") == 1) "true" else "false", ","),
    paste0("      \"n\": ", nobs(fit), ","),
    paste0("      \"coefficients\": ", obj_inline(lapply(cf, num17)), ","),
    paste0("      \"sigma\": ", num17(s$sigma), ","),
    paste0("      \"r.squared\": ", num17(s$r.squared), ","),
    paste0("      \"adj.r.squared\": ", num17(s$adj.r.squared), ","),
    paste0("      \"df.residual\": ", fit$df.residual, ","),
    paste0("      \"fstatistic\": ", obj_inline(list(value = num17(f[["value"]]), numdf = num17(f[["numdf"]]), dendf = num17(f[["dendf"]]))), ","),
    paste0("      \"f.p.value\": ", num17(pf(f[["value"]], f[["numdf"]], f[["dendf"]], lower.tail = FALSE)), ","),
    paste0("      \"logLik\": ", num17(as.numeric(ll)), ","),
    paste0("      \"logLik.df\": ", attr(ll, "df"), ","),
    paste0("      \"AIC\": ", num17(AIC(fit)), ","),
    paste0("      \"BIC\": ", num17(BIC(fit)), ","),
    "      \"coefficientStats\": {",
    paste0("        ", str_json(names(cf)), ": ", stats, c(rep(",", length(cf) - 1), "")),
    "      }",
    "    }"
  )
}

formulas <- c("Employed ~ .", "Employed ~ . - 1")
fits <- lapply(formulas, fit_json)
for (i in seq_along(fits)[-length(fits)]) fits[[i]][length(fits[[i]])] <- "    },"

doc <- c(
  "{",
  "  \"dataset\": \"longley\",",
  paste0("  \"r\": ", str_json(R.version.string), ","),
  paste0("  \"csv\": ", str_json(basename(csv)), ","),
  paste0("  \"nrow\": ", nrow(df), ","),
  paste0("  \"columns\": ", strs_json(names(df)), ","),
  "  \"models\": [",
  unlist(fits),
  "  ]",
  "}"
)
out <- file.path(out_dir, "longley.summary.json")
writeLines(doc, out)
cat(sprintf("%s, %s: %d rows, %d model(s)\n", basename(csv), basename(out), nrow(df), length(fits)))
