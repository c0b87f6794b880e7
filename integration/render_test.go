//go:build integration

package integration

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/jsonx"
	"github.com/drover-io/drover/pkg/render"
	"github.com/drover-io/drover/pkg/spec"
)

func renderExamples(t *testing.T, env string) *render.Bundle {
	t.Helper()
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{"../jobs"}, Environment: env})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	b, err := render.Render(set, render.Options{Version: "integration"})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRenderedJobsPassNomadPlan: every job drover renders for jobs/ is
// accepted by a real Nomad's admission hooks and scheduler dry run.
func TestRenderedJobsPassNomadPlan(t *testing.T) {
	nomad := nomadClient(t)
	for _, j := range renderExamples(t, "").Jobs {
		t.Run(j.ID(), func(t *testing.T) {
			job := *j.Job
			job.Datacenters = []string{"*"} // whatever the dev agent's datacenter
			resp, _, err := nomad.Jobs().Plan(&job, false, nil)
			if err != nil {
				t.Fatalf("nomad rejected the job: %v", err)
			}
			if resp.Annotations == nil {
				t.Error("plan returned no annotations")
			}
		})
	}
}

// TestHCLRenderingMatchesJSON: the readable HCL drover prints, parsed by
// Nomad's own jobspec parser, is exactly the canonical JSON it writes: for
// the examples and for what production jobs carry (typed blocks and the
// nomad block).
func TestHCLRenderingMatchesJSON(t *testing.T) {
	nomad := nomadClient(t)
	jobs := renderExamples(t, "prod").Jobs
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{"../pkg/spec/testdata/valid/production.hcl"}})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	prod, err := render.Render(set, render.Options{Version: "integration"})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range append(jobs, prod.Jobs...) {
		t.Run(j.ID(), func(t *testing.T) {
			parsed, err := nomad.Jobs().ParseHCLOpts(&nomadapi.JobsParseRequest{JobHCL: render.JobHCL(j.Readable()), Canonicalize: true})
			if err != nil {
				t.Fatalf("nomad could not parse drover's HCL: %v", err)
			}
			// Compare as JSON: the parser types config lists as []any. Empty
			// and absent lists are the same job (the parser turns an unnamed
			// identity block into Identity plus an empty Identities).
			if diff := cmp.Diff(dropEmpty(asJSON(t, j.Job)), dropEmpty(asJSON(t, parsed))); diff != "" {
				t.Errorf("HCL and JSON renderings differ (-json +hcl):\n%s", diff)
			}
		})
	}
}

func asJSON(t *testing.T, v any) any {
	t.Helper()
	out, err := jsonx.Generic(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// dropEmpty removes null, empty-list and empty-object members from decoded
// JSON, recursively: Nomad reads them all as "not set".
func dropEmpty(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, el := range x {
			el = dropEmpty(el)
			switch e := el.(type) {
			case nil:
				delete(x, k)
				continue
			case []any:
				if len(e) == 0 {
					delete(x, k)
					continue
				}
			case map[string]any:
				if len(e) == 0 {
					delete(x, k)
					continue
				}
			}
			x[k] = el
		}
	case []any:
		for i := range x {
			x[i] = dropEmpty(x[i])
		}
	}
	return v
}
