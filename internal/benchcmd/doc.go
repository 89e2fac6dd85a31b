// Package benchcmd is the engine of `aeskl bench`: it measures every
// implementation that runs here (aeskl's and the peers crypto/aes and
// golang.org/x/crypto/xts) over the modes in both directions, sizes, key
// sizes and goroutines asked for, as medians of interleaved repetitions
// with their spread, ratios to the peer and fractions of the raw AES peak
// (internal/asm/peak) taken in the same repetitions. It writes the Report
// as a table, as JSON (schema aeskl-bench/1, documented on Report's types
// and in the README) and as a chart (gonum.org/v1/plot, SVG or PNG), and
// lines up several reports (Compare). The aeskl command's bench.go only
// parses flags and prints.
package benchcmd
