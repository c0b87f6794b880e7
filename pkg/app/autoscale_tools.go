package app

import (
	"context"
	"errors"
	"fmt"
	nomadapi "github.com/hashicorp/nomad/api"
	"image/color"
	"io"
	"math"
	"os"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-io/drover/internal/pngplot"
	"github.com/drover-io/drover/pkg/autoscale"
	"github.com/drover-io/drover/pkg/scaling"
	"github.com/drover-io/drover/pkg/spec"
)

// ExplainOptions select a live policy to explain.
type ExplainOptions struct {
	AutoscaleOptions
	// Policy is a Nomad scaling policy ID, "job/group", or a job with one
	// scaling policy.
	Policy string
}

// Explanation is one evaluation of a live policy, with what it was based on.
type Explanation struct {
	Policy     *scaling.Policy     `json:"-"`
	PolicyID   string              `json:"policy_id"`
	Target     scaling.Target      `json:"target"`
	Semantics  string              `json:"semantics"`
	Evaluation *scaling.Evaluation `json:"evaluation"`
	// Cooldown is how long the last scaling event's cooldown still runs.
	Cooldown time.Duration `json:"cooldown_remaining"`
	// Problems are what is wrong with the policy: the whole policy or a
	// check cannot run, or a warning.
	Problems scaling.Problems `json:"problems,omitempty"`
}

// Explain evaluates one policy once against the live target and metrics,
// scaling nothing, and returns every step: data points, arithmetic, dead
// band, capping, the winning check, cooldown. Stabilization has no history
// in a single evaluation; the live reconciler's may differ.
func Explain(ctx context.Context, opts ExplainOptions) (*Explanation, error) {
	opts.NomadPolicies = true
	a, err := newAutoscaler(opts.AutoscaleOptions)
	if err != nil {
		return nil, err
	}
	p, err := a.findPolicy(ctx, opts.Policy)
	if err != nil {
		return nil, err
	}
	ev, err := a.evaluator()
	if err != nil {
		return nil, err
	}
	// The target reads Nomad on every Status until its Run follows the
	// event stream: one evaluation needs no cache.
	scaler := autoscale.NewTarget(a.nomad, autoscale.TargetOptions{Retry: a.opts.Retry})
	status, err := scaler.Status(ctx, p.Target)
	if err != nil {
		return nil, err
	}
	st := &scaling.State{}
	if p.Behavior.Drover() {
		st.ObserveEvent(p, status.LastEvent)
	}
	now := time.Now()
	e := ev.Evaluate(ctx, p, st, status, now)
	x := &Explanation{Policy: p, PolicyID: p.ID, Target: p.Target, Semantics: p.Behavior.Semantics, Evaluation: e, Problems: p.Problems}
	if st.CooldownUntil.After(now) {
		x.Cooldown = st.CooldownUntil.Sub(now).Round(time.Second)
	}
	return x, nil
}

// findPolicy finds a Nomad policy by ID, "job/group" or job.
//
// It looks in every namespace, so that a job is found in its project's
// namespace whatever NOMAD_NAMESPACE says; a name found in several
// namespaces is narrowed to the configured one.
func (a *autoscaler) findPolicy(ctx context.Context, ref string) (*scaling.Policy, error) {
	all := a.nomad.X.InNamespace("*")
	stubs, _, err := all.ScalingPolicies(ctx, 0)
	if err != nil {
		return nil, err
	}
	job, group, _ := strings.Cut(ref, "/")
	var matches []*nomadapi.ScalingPolicyListStub
	for _, st := range stubs {
		if st.ID == ref || st.Target["Job"] == job && (group == "" || st.Target["Group"] == group) {
			matches = append(matches, st)
		}
	}
	if len(matches) > 1 {
		var here []*nomadapi.ScalingPolicyListStub
		for _, m := range matches {
			if m.Target["Namespace"] == a.nomad.X.Namespace() {
				here = append(here, m)
			}
		}
		if len(here) > 0 {
			matches = here
		}
	}
	switch len(matches) {
	case 0:
		return nil, fmt.Errorf("no scaling policy matches %q in any namespace (give a policy ID, job/group, or a job with one policy)", ref)
	case 1:
	default:
		return nil, fmt.Errorf("%q matches %d policies; name one as job/group, or its namespace with --nomad-namespace", ref, len(matches))
	}
	np, err := a.nomad.X.InNamespace(matches[0].Target["Namespace"]).ScalingPolicy(ctx, matches[0].ID)
	if err != nil {
		return nil, err
	}
	p := autoscale.FromNomad(np)
	a.prepare(p)
	return p, nil
}

// WriteExplanation prints an explanation for people.
func WriteExplanation(w io.Writer, x *Explanation) error {
	var b strings.Builder
	e := x.Evaluation
	fmt.Fprintf(&b, "Policy %s: job %q group %q, %s semantics, bounds [%d, %d]\n", x.PolicyID, x.Target.Job, x.Target.Group, x.Semantics, x.Policy.Min, x.Policy.Max)
	if s := e.Status; s != nil {
		fmt.Fprintf(&b, "Target: %d desired, %d running, deployment active: %v\n", s.Desired, s.Running, s.DeploymentActive)
	}
	for _, pr := range x.Problems {
		what := map[scaling.Level]string{scaling.LevelPolicy: "Policy cannot run", scaling.LevelCheck: "Check cannot run", scaling.LevelWarning: "Warning"}[pr.Level]
		fmt.Fprintf(&b, "%s: %s: %s\n", what, pr.Summary, pr.Error())
	}
	if e.Skipped != "" {
		fmt.Fprintf(&b, "Skipped: %s\n", e.Skipped)
	}
	if e.Err != "" {
		fmt.Fprintf(&b, "Error: %s\n", e.Err)
	}
	for _, c := range e.Checks {
		fmt.Fprintf(&b, "\nCheck %q, strategy %s", c.Check, c.Strategy)
		if c.Query != "" {
			fmt.Fprintf(&b, " on %s: %s", c.Source, c.Query)
		}
		if c.Group != "" {
			fmt.Fprintf(&b, " in group %q", c.Group)
		}
		b.WriteString("\n")
		if len(c.Points) > 0 {
			first, last := c.Points[0], c.Points[len(c.Points)-1]
			fmt.Fprintf(&b, "  %d data point(s) from %s to %s; latest %g\n", len(c.Points), first.Time.Format(time.TimeOnly), last.Time.Format(time.TimeOnly), last.Value)
		}
		if c.Skipped != "" {
			fmt.Fprintf(&b, "  skipped: %s\n", c.Skipped)
		}
		if c.Err != "" {
			fmt.Fprintf(&b, "  error: %s\n", c.Err)
		}
		for _, t := range c.Decision.Trace {
			fmt.Fprintf(&b, "  %s\n", t)
		}
		if c.Skipped == "" && c.Err == "" {
			fmt.Fprintf(&b, "  -> %s to %d: %s\n", c.Decision.Direction, c.Decision.Count, c.Decision.Reason)
		}
	}
	if len(e.Trace) > 0 {
		b.WriteString("\n")
		for _, t := range e.Trace {
			fmt.Fprintf(&b, "%s\n", t)
		}
	}
	fmt.Fprintf(&b, "\nDecision: %s", e.Final.Direction)
	if e.Final.Direction != scaling.None {
		fmt.Fprintf(&b, " from %d to %d", e.Current, e.Final.Count)
	}
	fmt.Fprintf(&b, " (%s)\n", e.Final.Reason)
	if x.Cooldown > 0 {
		fmt.Fprintf(&b, "Cooldown: %s remain since the last scaling event; a scale would wait.\n", x.Cooldown)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// LintOptions select the policies to lint.
type LintOptions struct {
	// Load lints the policies of app specs (when Paths are given).
	Load spec.LoadOptions
	// PolicyDir lints Autoscaler policy files.
	PolicyDir string
}

// LintPolicies checks scaling policies, in specs and in policy files: unknown
// strategy keys, wrong types, bands that never fire, triggers a source can
// never reach. It returns every diagnostic; an *InputError when some are
// errors.
func LintPolicies(opts LintOptions) (*Diagnostics, error) {
	res := &Diagnostics{Files: map[string]*hcl.File{}}
	if len(opts.Load.Paths) > 0 {
		set, diags := spec.Load(opts.Load)
		res.Diags = append(res.Diags, diags...)
		if set != nil {
			for k, f := range set.Files {
				res.Files[k] = f
			}
		}
	}
	if opts.PolicyDir != "" {
		if _, err := os.Stat(opts.PolicyDir); err != nil {
			return res, err
		}
		pf, diags := spec.LoadPolicyFiles(opts.PolicyDir)
		res.Diags = append(res.Diags, diags...)
		if pf != nil {
			for k, f := range pf.Files {
				res.Files[k] = f
			}
		}
	}
	return res, inputError(res.Diags, res.Files)
}

// SimulateOptions select a policy, a trace and the simulated group.
type SimulateOptions struct {
	// Policy is an app spec (its first app with a scaling policy) or an
	// Autoscaler policy file.
	Policy string
	// Trace is a CSV file of seconds,load rows, or the name of a built-in
	// trace (step, ramp, spike, noisy).
	Trace   string
	Startup time.Duration
	Initial int64
}

// SimulateResult holds a simulation under drover's semantics and under
// the Autoscaler's, side by side.
type SimulateResult struct {
	Policy string `json:"policy"`
	Trace  string `json:"trace"`
	// Min and Max are the policy's bounds on the count.
	Min        int64              `json:"min"`
	Max        int64              `json:"max"`
	Drover     *scaling.SimResult `json:"drover"`
	Autoscaler *scaling.SimResult `json:"autoscaler"`
	trace      scaling.Trace
}

// Simulate replays a load trace through the policy twice: with drover's
// defaults and with plain Autoscaler semantics.
func Simulate(opts SimulateOptions) (*SimulateResult, error) {
	p, err := loadOnePolicy(opts.Policy)
	if err != nil {
		return nil, err
	}
	trace, err := loadTrace(opts.Trace)
	if err != nil {
		return nil, err
	}
	res := &SimulateResult{Policy: opts.Policy, Trace: opts.Trace, Min: p.Min, Max: p.Max, trace: trace}
	so := scaling.SimOptions{Startup: opts.Startup, Initial: opts.Initial}
	// Each run resolves the policy for its semantics: cooldowns, strategy
	// parsing and check errors differ (scaling.ApplySemantics).
	drover := *p
	drover.ApplySemantics(scaling.SemanticsDrover)
	if res.Drover, err = scaling.Simulate(&drover, trace, so); err != nil {
		return nil, err
	}
	plain := *p
	plain.ApplySemantics(scaling.SemanticsAutoscaler)
	if res.Autoscaler, err = scaling.Simulate(&plain, trace, so); err != nil {
		return nil, err
	}
	return res, nil
}

// loadOnePolicy reads a policy file or the first scaling policy of a spec.
func loadOnePolicy(path string) (*scaling.Policy, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		// An Autoscaler policy file has top-level scaling blocks.
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), "scaling \"") && !strings.Contains(string(data), "app \"") {
			pf, diags := spec.LoadPolicyFilesFrom([]string{path})
			if diags.HasErrors() {
				return nil, &InputError{Diagnostics{Diags: diags, Files: pf.Files}}
			}
			if len(pf.Policies) == 0 {
				return nil, fmt.Errorf("%s has no scaling policy", path)
			}
			return pf.Policies[0], nil
		}
	}
	set, diags := spec.Load(spec.LoadOptions{Paths: []string{path}})
	if diags.HasErrors() {
		var files map[string]*hcl.File
		if set != nil {
			files = set.Files
		}
		return nil, &InputError{Diagnostics{Diags: diags, Files: files}}
	}
	for _, app := range set.Apps {
		if set.Selected[app.Name] && app.Scaling != nil && app.Scaling.Policy != nil {
			return app.Scaling.Policy.Model, nil
		}
	}
	return nil, fmt.Errorf("%s has no app with a scaling policy", path)
}

// loadTrace reads a trace file or builds a built-in trace.
func loadTrace(name string) (scaling.Trace, error) {
	if t, ok := scaling.BuiltinTrace(name); ok {
		return t, nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("trace %q is neither a file nor a built-in trace (%s): %w", name, strings.Join(scaling.BuiltinTraces(), ", "), err)
	}
	defer f.Close()
	return scaling.ParseTrace(f)
}

// WriteSimulation prints both runs' totals side by side and their actions.
func WriteSimulation(w io.Writer, r *SimulateResult) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Policy %s, trace %s (%s), bounds [%d, %d], target %g per instance\n\n", r.Policy, r.Trace, r.trace.Duration(), r.Min, r.Max, r.Drover.Target)
	fmt.Fprintf(&b, "%-28s %12s %12s\n", "", "drover", "autoscaler")
	row := func(name string, a, c float64, format string) {
		fmt.Fprintf(&b, "%-28s %12s %12s\n", name, fmt.Sprintf(format, a), fmt.Sprintf(format, c))
	}
	d, a := r.Drover.Summary, r.Autoscaler.Summary
	row("seconds above target", d.SecondsAboveTarget, a.SecondsAboveTarget, "%.0f")
	row("instance-seconds", d.InstanceSeconds, a.InstanceSeconds, "%.0f")
	row("scaling actions", float64(d.Actions), float64(a.Actions), "%.0f")
	row("peak count", float64(d.PeakCount), float64(a.PeakCount), "%.0f")
	for _, run := range []*scaling.SimResult{r.Drover, r.Autoscaler} {
		fmt.Fprintf(&b, "\n%s actions:\n", run.Semantics)
		for _, act := range run.Actions {
			fmt.Fprintf(&b, "  %6s  %d -> %d  %s\n", act.At, act.From, act.To, act.Reason)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// PlotSimulation draws both runs as PNG: the per-instance metric against
// the target, and the instance count against the ideal count.
func PlotSimulation(w io.Writer, r *SimulateResult) error {
	series := func(run *scaling.SimResult, name string, c color.RGBA, y func(scaling.SimSample) float64) pngplot.Series {
		s := pngplot.Series{Name: name, Color: c}
		for i, smp := range run.Samples {
			if i%5 != 0 && i != len(run.Samples)-1 {
				continue // 5s resolution is plenty for a 1000px chart
			}
			s.X = append(s.X, smp.At.Minutes())
			s.Y = append(s.Y, y(smp))
		}
		return s
	}
	metric := func(s scaling.SimSample) float64 { return s.Metric }
	count := func(s scaling.SimSample) float64 { return float64(s.Desired) }
	target := r.Drover.Target
	flat := series(r.Drover, fmt.Sprintf("target %g", target), pngplot.Gray, func(scaling.SimSample) float64 { return target })
	flat.Dashed = true
	ideal := series(r.Drover, "load / target", pngplot.Gray, func(s scaling.SimSample) float64 { return math.Ceil(s.Load / target) })
	ideal.Dashed = true
	chart := pngplot.Chart{
		Title:  fmt.Sprintf("drover autoscale simulate: %s on %s", r.Policy, r.Trace),
		XLabel: "minutes",
		Panels: []pngplot.Panel{
			{Title: "load per instance", YLabel: "metric", Series: []pngplot.Series{
				series(r.Drover, "drover", pngplot.Blue, metric), series(r.Autoscaler, "autoscaler", pngplot.Orange, metric), flat}},
			{Title: "instances", YLabel: "desired count", Series: []pngplot.Series{
				series(r.Drover, "drover", pngplot.Blue, count), series(r.Autoscaler, "autoscaler", pngplot.Orange, count), ideal}},
		},
	}
	if len(r.Drover.Samples) == 0 {
		return errors.New("no samples to plot")
	}
	return chart.Write(w)
}
