package scalebench

import (
	"strings"
	"unicode/utf8"
)

// Table is the benchmark's report: one row per measurement, with the
// target it is held against.
type Table struct {
	rows []row
}

type row struct {
	name, value, target, verdict string
}

// Add appends a row with no target.
func (t *Table) Add(name, value string) {
	t.rows = append(t.rows, row{name: name, value: value})
}

// AddMax appends a row whose value v must be at most limit; value is how v
// is shown and target how limit is.
func (t *Table) AddMax(name, value string, v float64, target string, limit float64) {
	verdict := "met"
	if v > limit {
		verdict = "MISSED"
	}
	t.rows = append(t.rows, row{name: name, value: value, target: target, verdict: verdict})
}

// AddNote appends a row whose value is a remark (an unsupported step, an
// error) held against a target that therefore is not met.
func (t *Table) AddNote(name, note, target string) {
	t.rows = append(t.rows, row{name: name, value: note, target: target, verdict: "n/a"})
}

// String formats the table with aligned columns.
func (t *Table) String() string {
	w := [3]int{len("measurement"), len("value"), len("target")}
	for _, r := range t.rows {
		w[0] = max(w[0], utf8.RuneCountInString(r.name))
		w[1] = max(w[1], utf8.RuneCountInString(r.value))
		w[2] = max(w[2], utf8.RuneCountInString(r.target))
	}
	pad := func(s string, n int) string {
		return s + strings.Repeat(" ", n-utf8.RuneCountInString(s)+2)
	}
	var sb strings.Builder
	line := func(a, b, c, d string) {
		l := pad(a, w[0]) + pad(b, w[1]) + pad(c, w[2]) + d
		sb.WriteString(strings.TrimRight(l, " "))
		sb.WriteByte('\n')
	}
	line("measurement", "value", "target", "")
	line(strings.Repeat("-", w[0]), strings.Repeat("-", w[1]), strings.Repeat("-", w[2]), "")
	for _, r := range t.rows {
		line(r.name, r.value, r.target, r.verdict)
	}
	return sb.String()
}
