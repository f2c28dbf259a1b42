# Reference values for the judge's rank-sum test (packages/core/src/analysis/mann-whitney.ts).
# Each case stores the exact R call that produced it; the call holds its data literally (17
# significant digits), so the JSON can be checked against any R by re-running the command.
#   Rscript make-fixtures.R > wilcox-fixtures.json
# mann-whitney.test.ts reads the JSON; rscript.test.ts re-runs this script and compares.

set.seed(20261130)
num <- function(v) if (is.nan(v)) "NaN" else sprintf("%.17g", v)
vec <- function(v) if (length(v) == 0) "numeric(0)" else paste0("c(", paste(vapply(v, num, ""), collapse = ", "), ")")
json_num <- function(v) if (is.nan(v)) '"NaN"' else if (is.infinite(v)) (if (v > 0) '"Inf"' else '"-Inf"') else sprintf("%.17g", v)
json_vec <- function(v) paste0("[", paste(vapply(v, json_num, ""), collapse = ","), "]")
json_str <- function(s) paste0('"', gsub('"', '\\\\"', s), '"')

cases <- list(
  list("r-help example (10 vs 5)", c(0.8, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46), c(1.15, 0.88, 0.9, 0.74, 1.21)),
  list("normal, shifted +1 sd, n=30", round(rnorm(30, 11, 1), 4), round(rnorm(30, 10, 1), 4)),
  list("normal, no shift, n=50", round(rnorm(50, 10, 1), 4), round(rnorm(50, 10, 1), 4)),
  list("heavy ties, integers 0..4, n=40", as.numeric(sample(0:4, 40, replace = TRUE)), as.numeric(sample(0:3, 40, replace = TRUE))),
  list("ties with a shift, one decimal, n=25", round(rnorm(25, 2, 0.5), 1), round(rnorm(25, 1.5, 0.5), 1)),
  list("n=1 vs n=1, different", c(5), c(3)),
  list("n=1 vs n=5", c(2.5), c(1, 2, 3, 4, 5)),
  list("n=2 vs n=2", c(1.2, 3.4), c(0.5, 0.7)),
  list("n=2 vs n=3 with ties", c(1, 2), c(1, 2, 2)),
  list("x constant, y varying", c(5, 5, 5, 5), c(4.1, 4.9, 5.3, 6.2, 3.8)),
  list("both constant, different values", c(5, 5, 5), c(3, 3, 3)),
  list("both constant, same value", c(5, 5, 5), c(5, 5, 5)),
  list("empty x", numeric(0), c(1, 2, 3)),
  list("empty y", c(1, 2, 3), numeric(0)),
  list("NaN in x is removed", c(1.1, NaN, 2.3, 3.7, NaN, 4.2, 5.9), c(0.2, 1.4, 2.2, 2.8, 3.1)),
  list("all of y is NaN", c(1, 2, 3), c(NaN, NaN)),
  list("identical samples, n=20", (x20 <- round(runif(20), 3)), x20),
  list("large n=600, shifted +0.1 sd", round(rnorm(600, 100.1, 1), 4), round(rnorm(600, 100, 1), 4)),
  list("large n=600, no shift", round(rnorm(600, 0, 1), 4), round(rnorm(600, 0, 1), 4)),
  list("large n=600, many ties (one decimal)", round(rnorm(600, 0.05, 1), 1), round(rnorm(600, 0, 1), 1)),
  list("latency-like lognormal, 600 vs 300, canary +20%", round(1.2 * rlnorm(600, log(180), 0.3), 3), round(rlnorm(300, log(180), 0.3), 3)),
  list("success-rate-like, mostly 100, canary drops", c(rep(100, 40), round(runif(20, 90, 99.9), 2)), c(rep(100, 55), round(runif(5, 99, 99.99), 2))),
  list("negative values, shift down", round(rnorm(40, -3, 2), 3), round(rnorm(40, 0, 2), 3)),
  list("CPU-like, canary x1.9 (Descartes)", round(runif(20, 0.1, 0.3) * 1.9, 4), round(runif(20, 0.1, 0.3), 4)),
  list("memory-like bytes, canary +34%", round(rnorm(30, 2.5e8 * 1.34, 1e7)), round(rnorm(30, 2.5e8, 1e7))),
  list("tiny magnitudes (1e-6)", round(rnorm(30, 2e-6, 1e-6), 10), round(rnorm(30, 1e-6, 1e-6), 10)),
  list("x all above y, n=12", seq(10, 21), seq(0, 11) / 2)
)

out <- character(0)
for (case in cases) {
  cmd <- paste0("wilcox.test(x = ", vec(case[[2]]), ", y = ", vec(case[[3]]),
                ", exact = FALSE, correct = TRUE, conf.int = TRUE, conf.level = 0.98)")
  res <- tryCatch(suppressWarnings(eval(parse(text = cmd))), error = function(e) e)
  expected <- if (inherits(res, "error")) {
    paste0('{"error":', json_str(conditionMessage(res)), "}")
  } else {
    paste0('{"statistic":', json_num(unname(res$statistic)), ',"pValue":', json_num(res$p.value),
           ',"confInt":', json_vec(as.numeric(res$conf.int)), ',"estimate":', json_num(unname(res$estimate)), "}")
  }
  out <- c(out, paste0('    {"name":', json_str(case[[1]]), ',"command":', json_str(cmd),
                       ',"x":', json_vec(case[[2]]), ',"y":', json_vec(case[[3]]), ',"expected":', expected, "}"))
}
cat('{\n  "generatedBy": "packages/core/test-fixtures/wilcox/make-fixtures.R",\n')
cat('  "r": ', json_str(R.version.string), ',\n  "cases": [\n', sep = "")
cat(paste(out, collapse = ",\n"), "\n  ]\n}\n", sep = "")
