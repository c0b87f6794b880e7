package app

import (
	"errors"

	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

// ValidateOptions select the specs to validate.
type ValidateOptions struct {
	Load spec.LoadOptions
}

// ValidateResult summarises a validation. Warnings are in Diags even when
// validation passes.
type ValidateResult struct {
	Diagnostics
	Apps         []string
	Externals    []string
	Environments []string
}

// Validate checks the specs offline, for the base spec and every
// environment (or only Load.Environment when one is given), so that a
// mistake in any overlay fails CI before it reaches a cluster.
func Validate(opts ValidateOptions) (*ValidateResult, error) {
	var sets []*spec.Set
	var res ValidateResult
	if opts.Load.Environment != "" {
		set, diags := spec.Load(opts.Load)
		res.Diags = diags
		if set != nil {
			sets = append(sets, set)
		}
	} else {
		sets, res.Diags = spec.LoadEnvironments(opts.Load)
	}
	for i, set := range sets {
		res.Files = set.Files
		if !res.Diags.HasErrors() {
			// A nomad block is checked against Nomad's vocabulary by render.
			if _, err := render.Render(set, render.Options{}); err != nil {
				if err = renderError(err, &res.Diagnostics); !errors.As(err, new(*InputError)) {
					return &res, err
				}
			}
		}
		if i == 0 {
			for _, a := range set.Apps {
				res.Apps = append(res.Apps, a.Name)
			}
			for _, e := range set.Externals {
				res.Externals = append(res.Externals, e.Name)
			}
		}
		if set.Environment != "" {
			res.Environments = append(res.Environments, set.Environment)
		}
	}
	return &res, inputError(res.Diags, res.Files)
}
