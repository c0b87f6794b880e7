package app

import (
	"errors"
	"fmt"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/pkg/diag"
	"github.com/drover-io/drover/pkg/render"
)

// Diagnostics are problems found in the specs, with the parsed files needed
// to print source snippets.
type Diagnostics struct {
	Diags hcl.Diagnostics
	Files map[string]*hcl.File
}

// InputError is returned when the specs (or variables, or flags naming
// specs) are invalid. The CLI prints its diagnostics and exits with the
// invalid-input code.
type InputError struct {
	Diagnostics
}

func (e *InputError) Error() string {
	errs, warns := diag.Counts(e.Diags)
	return fmt.Sprintf("the specs have %d error(s) and %d warning(s)", errs, warns)
}

// inputError returns an *InputError when diags hold errors, else nil.
func inputError(diags hcl.Diagnostics, files map[string]*hcl.File) error {
	if !diags.HasErrors() {
		return nil
	}
	return &InputError{Diagnostics{Diags: diags, Files: files}}
}

// renderError turns what render found wrong in the specs (a nomad block
// outside Nomad's vocabulary) into an *InputError with their diagnostics,
// added to d; other errors pass unchanged.
func renderError(err error, d *Diagnostics) error {
	var de *render.DiagnosticsError
	if !errors.As(err, &de) {
		return err
	}
	d.Diags = append(d.Diags, de.Diags...)
	return &InputError{*d}
}
