package app

import (
	"encoding/binary"
	"errors"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"

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
	// Replayed: nothing had changed since a validation of the same inputs
	// that found nothing at all, which stands for this one (see
	// spec.Outcome).
	Replayed bool
}

// Validate checks the specs offline, for the base spec and every
// environment (or only Load.Environment when one is given), so that a
// mistake in any overlay fails CI before it reaches a cluster. What only
// rendering finds (a nomad block outside Nomad's vocabulary) is checked by
// rendering each selected app's job once per environment as it loads,
// without keeping or encoding it.
func Validate(opts ValidateOptions) (*ValidateResult, error) {
	var mu sync.Mutex
	checks := map[string][]renderCheck{}
	check := func(set *spec.Set, app *spec.App) ([]byte, bool) {
		if err := render.Check(set, app); err != nil {
			mu.Lock()
			checks[set.Environment] = append(checks[set.Environment], renderCheck{app: app.Name, err: err})
			mu.Unlock()
			return nil, false
		}
		return nil, true
	}
	// A spec that passed every check, unchanged since, in the same
	// context, passes again without being read (see spec.StreamOptions.Memo).
	passed := func(*spec.Set, *spec.App, []byte) (func(), bool) { return func() {}, true }
	// And a validation of the same inputs as one that found nothing at all
	// finds nothing again: what it reported stands.
	var replayed *ValidateResult
	// (Its apps' memos hold nothing: the outcome's memo is all it needs.)
	outcome := &spec.Outcome{Replay: func(memo []byte, _ bool) bool {
		replayed = decodeValidated(memo)
		return replayed != nil
	}}
	load := spec.StreamOptions{LoadOptions: opts.Load, AllEnvironments: opts.Load.Environment == "", Index: useIndex(),
		Memo: check, Replay: passed, MemoKey: "validate", Outcome: outcome}
	restore := boundMemory(&load)
	defer restore()
	sets, diags := spec.Stream(load)
	if outcome.Replayed() {
		return replayed, nil
	}
	res := ValidateResult{Diagnostics: Diagnostics{Diags: diags}}
	for i, set := range sets {
		res.Files = set.Files
		if !res.Diags.HasErrors() {
			if err := renderOutcome(checks[set.Environment]); err != nil {
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
	err := inputError(res.Diags, res.Files)
	if err == nil && len(res.Diags) == 0 {
		outcome.Keep(encodeValidated(&res))
	}
	return &res, err
}

// encodeValidated is the outcome memo of a validation that found nothing:
// what it names (apps, externals, environments), each a count and then
// strings, uvarint lengths first.
func encodeValidated(res *ValidateResult) []byte {
	var b []byte
	for _, list := range [][]string{res.Apps, res.Externals, res.Environments} {
		b = binary.AppendUvarint(b, uint64(len(list)))
		for _, s := range list {
			b = binary.AppendUvarint(b, uint64(len(s)))
			b = append(b, s...)
		}
	}
	return b
}

// decodeValidated reads what encodeValidated wrote, as a replayed
// result; nil when b is not that.
func decodeValidated(b []byte) *ValidateResult {
	uvarint := func() (int, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > uint64(len(b)) {
			return 0, false
		}
		b = b[n:]
		return int(v), true
	}
	res := &ValidateResult{Replayed: true}
	for _, list := range []*[]string{&res.Apps, &res.Externals, &res.Environments} {
		n, ok := uvarint()
		if !ok {
			return nil
		}
		for range n {
			size, ok := uvarint()
			if !ok || size > len(b) {
				return nil
			}
			*list = append(*list, string(b[:size]))
			b = b[size:]
		}
	}
	if len(b) != 0 {
		return nil
	}
	return res
}

// renderCheck is what rendering one app found.
type renderCheck struct {
	app string
	err error
}

// renderOutcome is what render.Render returns for an environment whose
// apps' checks found checks: the error of the first app in name order
// that is not diagnostics, or every app's diagnostics.
func renderOutcome(checks []renderCheck) error {
	sort.SliceStable(checks, func(i, j int) bool { return checks[i].app < checks[j].app })
	var diags hcl.Diagnostics
	for _, c := range checks {
		var de *render.DiagnosticsError
		if !errors.As(c.err, &de) {
			return c.err
		}
		diags = append(diags, de.Diags...)
	}
	if diags.HasErrors() {
		return &render.DiagnosticsError{Diags: diags}
	}
	return nil
}
