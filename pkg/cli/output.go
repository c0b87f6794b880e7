package cli

import (
	"encoding/json"
	"io"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/diag"
)

// printDiagnostics writes diagnostics as text to stderr, coloured on a
// terminal unless NO_COLOR is set.
func printDiagnostics(stdio IO, d app.Diagnostics) {
	if len(d.Diags) == 0 {
		return
	}
	color := stdio.IsTerminal && stdio.Getenv("NO_COLOR") == ""
	_ = diag.Writer{Files: d.Files, Color: color}.Write(stdio.Err, d.Diags)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
