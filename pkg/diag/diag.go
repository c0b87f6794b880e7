package diag

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// DefaultLimit is how many diagnostics Writer prints before it sums up the
// rest in one line: past that, more output buries the first problems, which
// usually cause the others.
const DefaultLimit = 50

// maxExcerptWidth is the widest source excerpt printed, in columns; a longer
// line is cut around the part the diagnostic points at.
const maxExcerptWidth = 200

// Writer prints diagnostics as compiler-style text:
//
//	jobs/shop/api.hcl:12:3: error: Unsupported argument
//	   12 |   colour = "blue"
//	      |   ^^^^^^
//	   An argument named "colour" is not expected here.
//
// The first line is the one editors and CI annotators understand; the snippet
// and the detail are for people. Control characters in any of it are printed
// escaped (\x1b), never raw, so a stray byte in a spec cannot drive the
// terminal.
type Writer struct {
	// Files maps a diagnostic's filename to its parsed file, for snippets.
	// A file missing here simply gets no snippet.
	Files map[string]*hcl.File
	// Color adds ANSI colour to the severity word.
	Color bool
	// Limit is how many diagnostics to print before summing up the rest as
	// "... and N more errors"; 0 means DefaultLimit, a negative value no limit.
	Limit int
}

// Write prints the diagnostics in d, sorted by file and position so that
// output is stable whatever order the checks ran in, up to the limit.
func (w Writer) Write(out io.Writer, d hcl.Diagnostics) error {
	bw := bufio.NewWriter(out)
	shown := Sorted(d)
	limit := w.Limit
	if limit == 0 {
		limit = DefaultLimit
	}
	var rest hcl.Diagnostics
	if limit > 0 && len(shown) > limit {
		shown, rest = shown[:limit], shown[limit:]
	}
	for _, one := range shown {
		w.writeOne(bw, one)
	}
	if len(rest) > 0 {
		fmt.Fprintf(bw, "... and %s\n", moreCount(rest))
	}
	return bw.Flush()
}

// moreCount says how many errors and warnings rest holds: "3 more errors",
// "1 more error and 2 more warnings".
func moreCount(rest hcl.Diagnostics) string {
	errs, warns := Counts(rest)
	var parts []string
	if errs > 0 {
		parts = append(parts, plural(errs, "more error"))
	}
	if warns > 0 {
		parts = append(parts, plural(warns, "more warning"))
	}
	return strings.Join(parts, " and ")
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
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
		fmt.Fprintf(out, "%s:%d:%d: %s: %s\n", escape(d.Subject.Filename), d.Subject.Start.Line, d.Subject.Start.Column, severity, escape(d.Summary))
		w.writeSnippet(out, d.Subject)
	} else {
		fmt.Fprintf(out, "%s: %s\n", severity, escape(d.Summary))
	}
	if d.Detail != "" {
		for _, line := range strings.Split(d.Detail, "\n") {
			fmt.Fprintf(out, "   %s\n", escape(line))
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
	end := rng.End.Column
	if rng.End.Line != rng.Start.Line {
		end = len(line) + 1 // to the end of the line, whatever its width
	}
	text, from, to := excerpt(line, rng.Start.Column, end)
	if to <= from {
		to = from + 1
	}
	width := len(fmt.Sprint(rng.Start.Line))
	fmt.Fprintf(out, " %*d | %s\n", width+2, rng.Start.Line, text)
	fmt.Fprintf(out, " %*s | %s%s\n", width+2, "", strings.Repeat(" ", from), strings.Repeat("^", to-from))
}

// ellipsis marks where excerpt cut a long line.
const ellipsis = "..."

// excerpt prepares a source line for printing: control characters and bytes
// that are not UTF-8 escaped, tabs shown as one space, and a line wider than
// maxExcerptWidth cut to a window around the highlighted columns [start,
// end) (1-based, as in hcl.Pos), marked with ellipses. It returns the text
// and the highlight's offsets in it.
func excerpt(line []byte, start, end int) (text string, from, to int) {
	var cells []string // one per source character, as printed
	for len(line) > 0 {
		r, size := utf8.DecodeRune(line)
		switch {
		case r == '\t':
			cells = append(cells, " ")
		case r == utf8.RuneError && size == 1:
			cells = append(cells, fmt.Sprintf("\\x%02x", line[0]))
		default:
			cells = append(cells, escape(string(line[:size])))
		}
		line = line[size:]
	}
	// at[i] is the printed offset of character i; every cell is ASCII or
	// one printable character wide.
	at := make([]int, len(cells)+1)
	for i, c := range cells {
		at[i+1] = at[i] + utf8.RuneCountInString(c)
	}
	n := len(cells)
	s := min(max(start-1, 0), n)
	e := min(max(end-1, s), n)
	if at[n] <= maxExcerptWidth {
		return strings.Join(cells, ""), at[s], at[e]
	}
	// Keep some context before the highlight, then fill the window.
	width := maxExcerptWidth - 2*len(ellipsis)
	lo := s
	for lo > 0 && at[s]-at[lo-1] <= width/4 {
		lo--
	}
	hi := lo
	for hi < n && at[hi+1]-at[lo] <= width {
		hi++
	}
	for lo > 0 && at[hi]-at[lo-1] <= width {
		lo--
	}
	var b strings.Builder
	shift := -at[lo]
	if lo > 0 {
		b.WriteString(ellipsis)
		shift += len(ellipsis)
	}
	b.WriteString(strings.Join(cells[lo:hi], ""))
	if hi < n {
		b.WriteString(ellipsis)
	}
	return b.String(), at[s] + shift, min(at[e], at[hi]) + shift
}

// escape replaces the characters a terminal would act on instead of
// showing (control characters other than tab, bidirectional overrides) and
// bytes that are not UTF-8 with Go-style escapes.
func escape(s string) string {
	if !strings.ContainsFunc(s, mustEscape) && utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	for i, r := range s {
		switch {
		case r == utf8.RuneError && !strings.HasPrefix(s[i:], string(utf8.RuneError)):
			fmt.Fprintf(&b, "\\x%02x", s[i])
		case mustEscape(r) && r < 0x80:
			fmt.Fprintf(&b, "\\x%02x", r)
		case mustEscape(r):
			fmt.Fprintf(&b, "\\u%04x", r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func mustEscape(r rune) bool {
	return unicode.IsControl(r) && r != '\t' || unicode.Is(unicode.Bidi_Control, r)
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
