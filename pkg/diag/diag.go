package diag

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Writer prints diagnostics as compiler-style text:
//
//	jobs/shop/api.hcl:12:3: error: Unsupported argument
//	   12 |   colour = "blue"
//	      |   ^^^^^^
//	   An argument named "colour" is not expected here.
//
// The first line is the one editors and CI annotators understand; the snippet
// and the detail are for people.
type Writer struct {
	// Files maps a diagnostic's filename to its parsed file, for snippets.
	// A file missing here simply gets no snippet.
	Files map[string]*hcl.File
	// Color adds ANSI colour to the severity word.
	Color bool
}

// Write prints every diagnostic in d, sorted by file and position so that
// output is stable whatever order the checks ran in.
func (w Writer) Write(out io.Writer, d hcl.Diagnostics) error {
	bw := bufio.NewWriter(out)
	for _, one := range Sorted(d) {
		w.writeOne(bw, one)
	}
	return bw.Flush()
}

func (w Writer) writeOne(out *bufio.Writer, d *hcl.Diagnostic) {
	severity := "error"
	colour := "\x1b[31m"
	if d.Severity == hcl.DiagWarning {
		severity, colour = "warning", "\x1b[33m"
	}
	if w.Color {
		severity = colour + severity + "\x1b[0m"
	}
	if d.Subject != nil {
		fmt.Fprintf(out, "%s:%d:%d: %s: %s\n", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column, severity, d.Summary)
		w.writeSnippet(out, d.Subject)
	} else {
		fmt.Fprintf(out, "%s: %s\n", severity, d.Summary)
	}
	if d.Detail != "" {
		for _, line := range strings.Split(d.Detail, "\n") {
			fmt.Fprintf(out, "   %s\n", line)
		}
	}
}

// writeSnippet prints the first source line of rng with a caret underline.
func (w Writer) writeSnippet(out *bufio.Writer, rng *hcl.Range) {
	file := w.Files[rng.Filename]
	if file == nil || rng.Start.Line < 1 {
		return
	}
	line := sourceLine(file.Bytes, rng.Start.Line)
	if line == nil {
		return
	}
	text := strings.ReplaceAll(string(line), "\t", " ")
	width := len(fmt.Sprint(rng.Start.Line))
	fmt.Fprintf(out, " %*d | %s\n", width+2, rng.Start.Line, text)
	start := rng.Start.Column - 1
	end := rng.End.Column - 1
	if rng.End.Line != rng.Start.Line || end > len(text) {
		end = len(text)
	}
	if start < 0 || start > len(text) {
		return
	}
	if end <= start {
		end = start + 1
	}
	fmt.Fprintf(out, " %*s | %s%s\n", width+2, "", strings.Repeat(" ", start), strings.Repeat("^", end-start))
}

func sourceLine(src []byte, n int) []byte {
	for i := 1; i < n; i++ {
		idx := bytes.IndexByte(src, '\n')
		if idx < 0 {
			return nil
		}
		src = src[idx+1:]
	}
	if idx := bytes.IndexByte(src, '\n'); idx >= 0 {
		src = src[:idx]
	}
	return bytes.TrimRight(src, "\r")
}

// Sorted returns the diagnostics ordered by file, line, column, then summary.
// Diagnostics without a subject come first.
func Sorted(d hcl.Diagnostics) hcl.Diagnostics {
	out := make(hcl.Diagnostics, len(d))
	copy(out, d)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i].Subject, out[j].Subject
		switch {
		case a == nil && b == nil:
			return out[i].Summary < out[j].Summary
		case a == nil:
			return true
		case b == nil:
			return false
		case a.Filename != b.Filename:
			return a.Filename < b.Filename
		case a.Start.Line != b.Start.Line:
			return a.Start.Line < b.Start.Line
		case a.Start.Column != b.Start.Column:
			return a.Start.Column < b.Start.Column
		default:
			return out[i].Summary < out[j].Summary
		}
	})
	return out
}

// Dedupe drops diagnostics that repeat an earlier one exactly (same severity,
// summary, detail and subject). Validating several environments of one spec
// reports a problem in shared text once, not once per environment.
func Dedupe(d hcl.Diagnostics) hcl.Diagnostics {
	type key struct {
		sev             hcl.DiagnosticSeverity
		summary, detail string
		rng             hcl.Range
	}
	seen := make(map[key]bool, len(d))
	out := d[:0:0]
	for _, one := range d {
		k := key{sev: one.Severity, summary: one.Summary, detail: one.Detail}
		if one.Subject != nil {
			k.rng = *one.Subject
		}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, one)
	}
	return out
}

// Counts returns the number of errors and warnings in d.
func Counts(d hcl.Diagnostics) (errors, warnings int) {
	for _, one := range d {
		if one.Severity == hcl.DiagError {
			errors++
		} else {
			warnings++
		}
	}
	return errors, warnings
}
