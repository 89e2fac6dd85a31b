package benchcmd

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot/plotter"
)

// A Comparison lines up the results of several reports (other machines,
// or before and after a change): each result of any report is a row, with
// the median throughput of every report and its ratio to the first.
type Comparison struct {
	Labels  []string // "A", "B", ...: the reports in the order given
	Names   []string // where each report came from (file names)
	Reports []*Report
	Rows    []CompareRow
}

// A CompareRow is one operation, key size, size and implementation.
type CompareRow struct {
	Op             string
	KeyBits, Size  int
	Implementation string
	// MBPerS holds each report's median throughput, NaN where the report
	// did not measure it; Ratio[i] = MBPerS[i] / MBPerS[0] (NaN where
	// either is missing; Ratio[0] is 1 where the first has it).
	MBPerS []float64
	Ratio  []float64
}

// Compare lines up reports; names says where each came from.
func Compare(names []string, reports []*Report) *Comparison {
	c := &Comparison{Names: names, Reports: reports}
	for i := range reports {
		c.Labels = append(c.Labels, label(i))
	}
	type key struct {
		op         string
		bits, size int
		impl       string
	}
	idx := map[key]int{}
	for i, r := range reports {
		for _, res := range r.Results {
			k := key{res.Op, res.KeyBits, res.Size, res.Implementation}
			j, ok := idx[k]
			if !ok {
				j = len(c.Rows)
				idx[k] = j
				row := CompareRow{Op: res.Op, KeyBits: res.KeyBits, Size: res.Size, Implementation: res.Implementation,
					MBPerS: make([]float64, len(reports)), Ratio: make([]float64, len(reports))}
				for x := range row.MBPerS {
					row.MBPerS[x] = math.NaN()
				}
				c.Rows = append(c.Rows, row)
			}
			c.Rows[j].MBPerS[i] = res.MBPerS.Median
		}
	}
	for i := range c.Rows {
		row := &c.Rows[i]
		for x, v := range row.MBPerS {
			row.Ratio[x] = v / row.MBPerS[0] // NaN if either is NaN
		}
	}
	implOrder := func(name string) int {
		if i := slices.Index(KnownImpls(), name); i >= 0 {
			return i
		}
		return len(KnownImpls())
	}
	slices.SortStableFunc(c.Rows, func(a, b CompareRow) int {
		for _, d := range []int{opIndex(a.Op) - opIndex(b.Op), a.KeyBits - b.KeyBits, a.Size - b.Size,
			implOrder(a.Implementation) - implOrder(b.Implementation)} {
			if d != 0 {
				return d
			}
		}
		return strings.Compare(a.Implementation, b.Implementation)
	})
	return c
}

// label names the i-th report: A, B, ..., Z, then R27, R28...
func label(i int) string {
	if i < 26 {
		return string(rune('A' + i))
	}
	return fmt.Sprintf("R%d", i+1)
}

// describe is one report's line in the header: its name, CPU and run.
func (c *Comparison) describe(i int) string {
	r := c.Reports[i]
	cpu := r.Host.CPUModel
	if r.Host.Microcode != "" {
		cpu += " (microcode " + r.Host.Microcode + ")"
	}
	var paths []string
	for _, im := range r.Implementations {
		if im.Path != "" {
			paths = append(paths, im.Name+" "+im.Path)
		}
	}
	s := fmt.Sprintf("%s: %s: %s, %d thread(s), %s", c.Labels[i], c.Names[i], cpu, r.Settings.Threads, r.Build.GoVersion)
	if len(paths) > 0 {
		s += ", " + strings.Join(paths, ", ")
	}
	if !r.Created.IsZero() {
		s += ", " + r.Created.Format("2006-01-02")
	}
	return s
}

// WriteTable writes the header (one line per report) and the rows: each
// report's MB/s and, for every report after the first, its ratio to the
// first ("-" where a report lacks the row).
func (c *Comparison) WriteTable(w io.Writer) error {
	for i := range c.Reports {
		fmt.Fprintln(w, c.describe(i))
	}
	fmt.Fprintln(w, "MB/s: the median of each report; ratios: the other report's median over "+c.Labels[0]+"'s (greater is faster).")
	fmt.Fprintln(w)
	t := &table{head: []string{"op", "key", "size", "implementation"}, right: []bool{false, true, true, false}}
	for i, l := range c.Labels {
		t.head, t.right = append(t.head, l+" MB/s"), append(t.right, true)
		if i > 0 {
			t.head, t.right = append(t.head, l+"/"+c.Labels[0]), append(t.right, true)
		}
	}
	prev := ""
	for _, row := range c.Rows {
		if prev != "" && row.Op != prev {
			t.blank()
		}
		prev = row.Op
		cells := []string{row.Op, strconv.Itoa(row.KeyBits), SizeLabel(row.Size), row.Implementation}
		for i := range c.Labels {
			cells = append(cells, num(row.MBPerS[i], "%.0f"))
			if i > 0 {
				cells = append(cells, num(row.Ratio[i], "%.2fx"))
			}
		}
		t.add(cells...)
	}
	return t.write(w)
}

func num(v float64, format string) string {
	if math.IsNaN(v) {
		return "-"
	}
	return fmt.Sprintf(format, v)
}

// WriteChart draws the comparison to w in format ("svg" or "png", as
// ChartFormat names them): throughput against size, one panel per
// operation and key size, one color per implementation and one line style
// per report.
func (c *Comparison) WriteChart(w io.Writer, format string) error {
	return c.chart().writeTo(w, format)
}

func (c *Comparison) chart() *chart {
	ch := &chart{title: "aeskl bench compare: " + strings.Join(c.Labels, ", ")}
	type panelKey struct {
		op   string
		bits int
	}
	var keys []panelKey
	for _, row := range c.Rows {
		k := panelKey{row.Op, row.KeyBits}
		if !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	// Rows are sorted by operation, then key size: key sizes down, operations across.
	slices.SortStableFunc(keys, func(a, b panelKey) int {
		if a.bits != b.bits {
			return a.bits - b.bits
		}
		return opIndex(a.op) - opIndex(b.op)
	})
	var impls []string
	for _, k := range keys {
		p := panel{title: fmt.Sprintf("%s, AES-%d", k.op, k.bits)}
		for i := range c.Reports {
			byImpl := map[string]plotter.XYs{}
			var order []string
			for _, row := range c.Rows {
				if row.Op != k.op || row.KeyBits != k.bits || math.IsNaN(row.MBPerS[i]) {
					continue
				}
				if _, ok := byImpl[row.Implementation]; !ok {
					order = append(order, row.Implementation)
				}
				byImpl[row.Implementation] = append(byImpl[row.Implementation], plotter.XY{X: float64(row.Size), Y: row.MBPerS[i]})
				if !slices.Contains(impls, row.Implementation) {
					impls = append(impls, row.Implementation)
				}
			}
			for _, name := range order {
				p.series = append(p.series, series{color: implColor(name), dash: i, pts: byImpl[name]})
			}
		}
		ch.panels = append(ch.panels, p)
	}
	ops := map[string]bool{}
	for _, k := range keys {
		ops[k.op] = true
	}
	ch.cols = max(1, min(5, len(ops)))
	slices.SortStableFunc(impls, func(a, b string) int { return implColor(a) - implColor(b) })
	for _, name := range impls {
		ch.legend = append(ch.legend, legendEntry{label: name, color: implColor(name)})
	}
	for i := range c.Reports {
		ch.legend = append(ch.legend, legendEntry{label: c.Labels[i] + ": " + c.Reports[i].Host.CPUModel + " (" + c.Names[i] + ")",
			color: colorBlack, dash: i})
	}
	return ch
}
