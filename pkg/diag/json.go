package diag

import "github.com/hashicorp/hcl/v2"

// JSONDiagnostic is the machine-readable form of one diagnostic, the shape
// `--json` prints. Field names are part of drover's CI contract.
type JSONDiagnostic struct {
	Severity string     `json:"severity"` // "error" or "warning"
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail,omitempty"`
	Range    *JSONRange `json:"range,omitempty"`
}

// JSONRange locates a diagnostic in a file; lines and columns start at 1.
type JSONRange struct {
	Filename string  `json:"filename"`
	Start    JSONPos `json:"start"`
	End      JSONPos `json:"end"`
}

// JSONPos is a position in a file.
type JSONPos struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}

// ToJSON converts diagnostics, sorted as Sorted does, to their JSON form.
// It never returns nil, so an empty result prints as [] rather than null.
func ToJSON(d hcl.Diagnostics) []JSONDiagnostic {
	out := make([]JSONDiagnostic, 0, len(d))
	for _, one := range Sorted(d) {
		j := JSONDiagnostic{Severity: "error", Summary: one.Summary, Detail: one.Detail}
		if one.Severity == hcl.DiagWarning {
			j.Severity = "warning"
		}
		if s := one.Subject; s != nil {
			j.Range = &JSONRange{
				Filename: s.Filename,
				Start:    JSONPos{Line: s.Start.Line, Column: s.Start.Column, Byte: s.Start.Byte},
				End:      JSONPos{Line: s.End.Line, Column: s.End.Column, Byte: s.End.Byte},
			}
		}
		out = append(out, j)
	}
	return out
}
