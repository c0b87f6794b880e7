// Package diag owns how drover reports problems in user input: the
// hcl.Diagnostics that the spec language produces, printed in the
// compiler-style "file:line:col: severity: summary" form with a source
// snippet, or as JSON for CI.
//
// It does not decide what is wrong (pkg/spec does) and it never prints on its
// own: callers pass the writer. The entry points are Writer for text output
// and ToJSON for machine-readable output. Text output is safe for a
// terminal whatever the input: control characters are escaped, long source
// lines are cut around the range, and past Writer.Limit diagnostics the rest
// is one count line. JSON output is complete.
package diag
