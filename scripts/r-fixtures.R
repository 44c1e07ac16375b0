# Reference CSV files and reference `lm` fits from R's own `datasets` package.
#
# Run from anywhere (the output goes next to this script, in ../test/fixtures/r/):
#
#     LC_ALL=C Rscript scripts/r-fixtures.R
#
# and then `/usr/bin/python3 scripts/pandas-fixtures.py` for the pandas copies.
# Debian: apt-get install -y r-base-core (no CRAN packages are needed; JSON is
# written by hand below). CI does not run R: the tests read the files this writes.
#
# LC_ALL=C: R sorts factor levels with sort() in the current locale. The product
# orders category levels by code point, which is the C locale's order, so the
# script must run with LC_ALL=C. To make the output independent of how it is
# started, it also sets LC_COLLATE=C itself and builds levels with the radix
# sort, which always compares strings in the C locale.
#
# For every dataset it writes, under test/fixtures/r/:
#   <name>.r.csv   write.csv(df, file): R defaults (quoted row names under an empty
#                  header "", NA for missing, strings and factor labels quoted)
#   <name>.r2.csv  write.csv2(df, file) (";" delimiter, "," decimal), iris and
#                  airquality only
#   <name>.lm.json reference fits (format described in test/fixtures/r/README.md)
# The CSV is written from the same data frame the models are fitted on, and the
# script checks that read.csv gives back exactly the values that were fitted.

invisible(Sys.setlocale("LC_COLLATE", "C"))
options(stringsAsFactors = FALSE)

script_arg <- grep("^--file=", commandArgs(trailingOnly = FALSE), value = TRUE)
script_dir <- if (length(script_arg)) dirname(normalizePath(sub("^--file=", "", script_arg[1]))) else "scripts"
out_dir <- file.path(dirname(script_dir), "test", "fixtures", "r")
dir.create(out_dir, recursive = TRUE, showWarnings = FALSE)

# Factor levels as the product sees them: the labels read from the CSV, sorted by
# code point. R's built-in factors carry their own stored level order (e.g.
# warpbreaks$tension is L < M < H, CO2$Type is Quebec < Mississippi), which the
# product cannot know, so every factor is rebuilt from its labels before fitting.
# Ordered factors become plain factors (lm would otherwise use polynomial contrasts).
code_point_factors <- function(df) {
  for (col in names(df)) {
    if (is.factor(df[[col]])) {
      labels <- as.character(df[[col]])
      df[[col]] <- factor(labels, levels = sort(unique(labels[!is.na(labels)]), method = "radix"))
    }
  }
  df
}

# ---- JSON, by hand -----------------------------------------------------------

json_str <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  paste0("\"", s, "\"")
}

# Fit results: 17 significant digits, enough to give back the exact double.
json_num17 <- function(x) {
  stopifnot(length(x) == 1, is.finite(x))
  sprintf("%.17g", x)
}

# Data values: the shortest form (15..17 significant digits) that reads back as the
# same double, so that 5.1 is written 5.1 and matches the CSV.
json_data_num <- function(x) {
  if (is.na(x)) return("null")
  if (is.integer(x)) return(sprintf("%d", x))
  for (d in 15:17) {
    s <- sprintf(paste0("%.", d, "g"), x)
    if (as.numeric(s) == x) return(s)
  }
}

json_data_value <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (is.na(x)) return("null")
  if (is.character(x)) return(json_str(x))
  if (is.logical(x)) return(if (x) "true" else "false")
  json_data_num(x)
}

# A JSON value is built as a character vector of lines; objects and arrays indent
# their members by two spaces.
json_obj <- function(members, inline = FALSE) {
  if (!length(members)) return("{}")
  keys <- names(members)
  if (inline) {
    return(paste0("{", paste0(json_str(keys), ": ", unlist(members), collapse = ", "), "}"))
  }
  out <- "{"
  for (i in seq_along(members)) {
    value <- members[[i]]
    sep <- if (i < length(members)) "," else ""
    first <- paste0("  ", json_str(keys[i]), ": ", value[1])
    lines <- c(first, if (length(value) > 1) paste0("  ", value[-1]))
    lines[length(lines)] <- paste0(lines[length(lines)], sep)
    out <- c(out, lines)
  }
  c(out, "}")
}

json_arr <- function(items, inline = FALSE) {
  if (!length(items)) return("[]")
  if (inline) return(paste0("[", paste(unlist(items), collapse = ", "), "]"))
  out <- "["
  for (i in seq_along(items)) {
    value <- items[[i]]
    sep <- if (i < length(items)) "," else ""
    lines <- paste0("  ", value)
    lines[length(lines)] <- paste0(lines[length(lines)], sep)
    out <- c(out, lines)
  }
  c(out, "]")
}

json_strs <- function(xs) json_arr(lapply(xs, json_str), inline = TRUE)
named <- function(values, keys) setNames(as.list(values), keys)

# ---- fits ----------------------------------------------------------------------

fit_json <- function(df, formula_text) {
  fit <- lm(as.formula(formula_text), data = df)
  cf <- coef(fit)
  if (anyNA(cf)) stop(formula_text, ": aliased coefficients")
  tt <- terms(fit)
  features <- attr(tt, "term.labels")
  if (!all(features %in% names(df))) stop(formula_text, ": keep formulas to columns as written")
  target <- all.vars(formula(fit))[1]
  s <- summary(fit)
  table <- coef(s)
  ci <- confint(fit, level = 0.95)
  stopifnot(identical(rownames(table), names(cf)), identical(rownames(ci), names(cf)))

  factor_features <- features[vapply(features, function(f) is.factor(df[[f]]), logical(1))]
  levels_json <- json_obj(named(lapply(factor_features, function(f) json_strs(levels(df[[f]]))), factor_features))

  per_coef <- lapply(names(cf), function(k) {
    json_obj(list(
      std.error = json_num17(table[k, "Std. Error"]),
      t.value = json_num17(table[k, "t value"]),
      p.value = json_num17(table[k, "Pr(>|t|)"]),
      conf.low = json_num17(ci[k, 1]),
      conf.high = json_num17(ci[k, 2])
    ), inline = TRUE)
  })

  newdata <- head(df, 3)
  predicted <- predict(fit, newdata = newdata)
  predictions <- lapply(seq_len(nrow(newdata)), function(i) {
    values <- lapply(names(newdata), function(col) json_data_value(newdata[[col]][i]))
    json_obj(list(
      rowName = json_str(rownames(newdata)[i]),
      values = json_obj(named(values, names(newdata)), inline = TRUE),
      predicted = if (is.na(predicted[i])) "null" else json_num17(predicted[i])
    ))
  })

  json_obj(list(
    formula = json_str(formula_text),
    target = json_str(target),
    features = json_strs(features),
    fitIntercept = if (attr(tt, "intercept") == 1) "true" else "false",
    levels = levels_json,
    n = sprintf("%d", as.integer(nobs(fit))),
    rowsDropped = sprintf("%d", as.integer(nrow(df) - nobs(fit))),
    coefficients = json_obj(named(lapply(cf, json_num17), names(cf))),
    sigma = json_num17(s$sigma),
    r.squared = json_num17(s$r.squared),
    adj.r.squared = json_num17(s$adj.r.squared),
    df.residual = sprintf("%d", as.integer(fit$df.residual)),
    coefficientStats = json_obj(named(per_coef, names(cf))),
    predictions = json_arr(predictions)
  ))
}

# ---- datasets ------------------------------------------------------------------

plain <- function(df) {
  # CO2 is a nlme groupedData; keep only the columns and row names.
  out <- data.frame(lapply(df, identity), check.names = FALSE)
  rownames(out) <- rownames(df)
  out
}

# iris with a few values missing, a factor's among them: what the end-to-end test uploads (row names, NA, a factor).
iris_na <- iris
iris_na$Sepal.Width[c(3, 40, 88)] <- NA
iris_na$Petal.Length[7] <- NA
iris_na$Species[120] <- NA

specs <- list(
  list(name = "iris_na", data = iris_na, formulas = c(
    "Sepal.Length ~ Sepal.Width + Petal.Length + Species" # na.omit: 5 rows dropped
  )),
  list(name = "iris", data = iris, csv2 = TRUE, formulas = c(
    "Sepal.Length ~ Sepal.Width + Petal.Length + Species",
    "Petal.Width ~ Species"
  )),
  list(name = "airquality", data = airquality, csv2 = TRUE, formulas = c(
    "Ozone ~ Solar.R + Wind + Temp", # drops rows with NA in Ozone or Solar.R
    "Ozone ~ Wind + Temp" # drops rows with NA in Ozone only
  )),
  list(name = "mtcars", data = mtcars, formulas = c(
    "mpg ~ wt + hp",
    "mpg ~ wt + hp + qsec + am"
  )),
  list(name = "ToothGrowth", data = ToothGrowth, formulas = c(
    "len ~ supp + dose"
  )),
  list(name = "warpbreaks", data = warpbreaks, formulas = c(
    "breaks ~ wool + tension" # tension reference becomes H (code point), not R's L
  )),
  list(name = "CO2", data = CO2, formulas = c(
    "uptake ~ conc + Type + Treatment" # references become Mississippi and chilled
  )),
  list(name = "swiss", data = swiss, formulas = c(
    "Fertility ~ ."
  )),
  list(name = "trees", data = trees, formulas = c(
    "Volume ~ Girth + Height",
    "Volume ~ Girth + Height - 1" # no intercept: R's r.squared is then uncentered
  ))
)

for (spec in specs) {
  df <- code_point_factors(plain(spec$data))
  csv <- file.path(out_dir, paste0(spec$name, ".r.csv"))
  write.csv(df, csv)

  # The file must give back exactly what was fitted (labels, NA, every double).
  back <- read.csv(csv, row.names = 1, check.names = FALSE)
  back <- code_point_factors(as.data.frame(lapply(back, function(x) if (is.character(x)) factor(x) else x), check.names = FALSE))
  for (col in names(df)) {
    a <- df[[col]]
    b <- back[[col]]
    same <- if (is.factor(a)) identical(as.character(a), as.character(b)) && identical(levels(a), levels(b)) else identical(as.numeric(a), as.numeric(b))
    if (!same) stop(spec$name, ".", col, ": CSV does not round-trip")
  }

  if (isTRUE(spec$csv2)) write.csv2(df, file.path(out_dir, paste0(spec$name, ".r2.csv")))

  fits <- lapply(spec$formulas, function(f) fit_json(df, f))
  doc <- json_obj(list(
    dataset = json_str(spec$name),
    r = json_str(R.version.string),
    csv = json_str(basename(csv)),
    nrow = sprintf("%d", nrow(df)),
    columns = json_strs(names(df)),
    models = json_arr(fits)
  ))
  json <- file.path(out_dir, paste0(spec$name, ".lm.json"))
  writeLines(doc, json)
  cat(sprintf("%-12s %4d rows  %d model(s)  %s\n", spec$name, nrow(df), length(fits), paste(basename(c(csv, json)), collapse = " ")))
}
