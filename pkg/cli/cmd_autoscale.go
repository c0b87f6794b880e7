package cli

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/scaling"
)

func autoscaleCommand(stdio IO) *ucli.Command {
	runFlags := []ucli.Flag{
		&ucli.StringFlag{Name: "policy-dir", Usage: "also run the Autoscaler policy files in `DIR` (reloaded on SIGHUP)"},
		&ucli.BoolFlag{Name: "no-nomad-policies", Usage: "do not run the scaling policies of Nomad's jobs (only --policy-dir)"},
		&ucli.StringFlag{Name: "prometheus-addr", EnvVars: []string{"PROMETHEUS_ADDR"}, Usage: "Prometheus `URL` for checks with source = \"prometheus\""},
		&ucli.BoolFlag{Name: "dry-run", Usage: "decide and log, never scale"},
		&ucli.StringFlag{Name: "semantics", Usage: "override every policy's: drover (rollout-aware, stabilized) or autoscaler (exactly the Nomad Autoscaler)"},
		&ucli.IntFlag{Name: "concurrency", Value: app.DefaultConcurrency, Usage: "evaluations running at once"},
		&ucli.StringFlag{Name: "listen", Value: ":9102", Usage: "`ADDRESS` serving /metrics and /healthz (empty: none)"},
		&ucli.BoolFlag{Name: "ha", Usage: "run several instances: only the one holding a Nomad variable lock acts"},
		&ucli.StringFlag{Name: "lock-path", Value: app.DefaultLockPath, Usage: "Nomad variable `PATH` of the HA lock"},
		&ucli.DurationFlag{Name: "lock-ttl", Value: app.DefaultLockTTL, Usage: "TTL of the HA lock"},
		&ucli.BoolFlag{Name: "metrics-per-policy", Usage: "add per-policy series to /metrics (about ten a policy; by default their number does not grow with the policies)"},
	}
	return &ucli.Command{
		Name:  "autoscale",
		Usage: "keep task-group counts right from metrics (Nomad Autoscaler policies)",
		Description: `Runs a reconciler over the scaling policies of Nomad's jobs (the scaling
blocks drover renders, in the Nomad Autoscaler's format), and of policy files
with --policy-dir: the same strategies, limits and check rules as the
official Autoscaler, so a policy behaves the same under either.

By default it adds what the Autoscaler lacks (a policy's drover block tunes
it, and --semantics autoscaler turns it off): no scaling while a deployment
runs or desired and running counts differ; stabilization windows (a
scale-down must hold for 5 minutes) and rate limits per direction, as the
Kubernetes HPA has; a failed metric never leads to a scale-down; cooldowns
continue across restarts from Nomad's scaling events; each action records its
reason and inputs in the event's meta.

Serves Prometheus metrics on /metrics and /healthz. With --ha, several
instances share a Nomad variable lock and one acts: it renews the lock
every third of --lock-ttl and stops acting as soon as a renew fails; a
standby tries for the lock every tenth of it, and takes over within that
of a release (on shutdown), or after the TTL and Nomad's lock delay when
the holder vanished.

Subcommands: explain (one evaluation, step by step), lint, simulate.

Examples:
  drover autoscale
  drover autoscale --prometheus-addr http://prometheus:9090 --dry-run
  drover autoscale --ha --policy-dir /etc/drover/policies
  drover autoscale explain api/api
  drover autoscale simulate --policy jobs/shop/api.hcl --trace spike --plot spike.png`,
		Flags: runFlags,
		Action: func(c *ucli.Context) error {
			// cmd/drover sets GOGC=400 for short renders; a long-running
			// reconciler holding thousands of policies wants the default,
			// unless GOGC says otherwise.
			if os.Getenv("GOGC") == "" {
				debug.SetGCPercent(100)
			}
			// A daemon logs what it does: info unless told otherwise.
			if !c.IsSet("log-level") {
				if err := c.Set("log-level", "info"); err != nil {
					return err
				}
			}
			opts, err := autoscaleOptions(c, stdio)
			if err != nil {
				return err
			}
			reload := make(chan struct{}, 1)
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			go func() {
				for range hup {
					select {
					case reload <- struct{}{}:
					default:
					}
				}
			}()
			opts.Reload = reload
			return app.Autoscale(c.Context, opts)
		},
		Subcommands: []*ucli.Command{
			{
				Name:      "explain",
				Usage:     "evaluate one live policy once and show every step",
				ArgsUsage: "POLICY",
				Description: `Evaluates a policy of Nomad (by policy ID, job/group, or a job with one
policy) once against the live group and metrics, without scaling, and shows
the data points, the strategy arithmetic (factor, dead band), capping to
min/max, which check won and why, rate limits and the remaining cooldown.

Examples:
  drover autoscale explain api/api
  drover autoscale explain 6c2f5a1e-... --json`,
				Flags: append(append([]ucli.Flag{}, runFlags[2], runFlags[4]), jsonFlag("print the evaluation as JSON")),
				Action: func(c *ucli.Context) error {
					if c.NArg() != 1 {
						return usagef("explain takes one policy: an ID, job/group, or a job")
					}
					opts, err := autoscaleOptions(c, stdio)
					if err != nil {
						return err
					}
					x, err := app.Explain(c.Context, app.ExplainOptions{AutoscaleOptions: opts, Policy: c.Args().First()})
					if err != nil {
						return err
					}
					return printResult(c, stdio, x, func() error { return app.WriteExplanation(stdio.Out, x) })
				},
			},
			{
				Name:      "lint",
				Usage:     "check scaling policies in specs and policy files",
				ArgsUsage: "[PATH...]",
				Description: `Checks the scaling policies of app specs (PATH) and of Autoscaler policy
files (--policy-dir): unknown strategy keys and wrong types (which the
Autoscaler silently ignores), threshold bands that can never fire, triggers a
source can never reach, checks that fight each other.

Examples:
  drover autoscale lint jobs/
  drover autoscale lint --policy-dir /etc/drover/policies`,
				Flags: append(specFlags(),
					&ucli.StringFlag{Name: "policy-dir", Usage: "lint the Autoscaler policy files in `DIR`"},
					jsonFlag("print the result and any warnings as JSON on stdout"),
				),
				Action: func(c *ucli.Context) error {
					if c.NArg() == 0 && c.String("policy-dir") == "" {
						return usagef("name specs to lint or give --policy-dir")
					}
					res, err := app.LintPolicies(app.LintOptions{Load: loadOptions(c, stdio), PolicyDir: c.String("policy-dir")})
					printDiagnostics(stdio, *res)
					if err != nil {
						return err
					}
					return printResult(c, stdio, lintOutput{Valid: true, Diagnostics: jsonDiagnostics(*res)}, func() error {
						_, err := fmt.Fprintln(stdio.Out, "The policies are valid.")
						return err
					})
				},
			},
			{
				Name:  "simulate",
				Usage: "replay a load trace through a policy, drover's way and the Autoscaler's",
				Description: `Replays a load trace through a policy in virtual time, with the reconciler's
cooldowns, stabilization windows and rate limits, twice: with drover's
defaults and with plain Autoscaler semantics. The simulated group's metric is
load / running instances; new instances run after --startup. Reports, for
each, seconds above target, instance-seconds used and scaling actions.

A trace is a CSV of seconds,load rows (load is the total demand in metric
units, so 140 is two instances at a target of 70), or a built-in one: ` + "step, ramp, spike, noisy" + ` (30 minutes each; copies are in traces/).

Examples:
  drover autoscale simulate --policy jobs/shop/api.hcl --trace spike
  drover autoscale simulate --policy api.hcl --trace load.csv --plot load.png --startup 45s`,
				Flags: []ucli.Flag{
					&ucli.StringFlag{Name: "policy", Usage: "app spec or Autoscaler policy `FILE` (required)"},
					&ucli.StringFlag{Name: "trace", Usage: "trace CSV `FILE` or built-in name (required)"},
					&ucli.StringFlag{Name: "plot", Usage: "also draw load, target and count over time to a PNG `FILE`"},
					&ucli.DurationFlag{Name: "startup", Value: 30 * time.Second, Usage: "how long a new instance takes to run"},
					&ucli.Int64Flag{Name: "initial", DefaultText: "the policy's min", Usage: "instances at the start, within the policy's bounds"},
					jsonFlag("print both runs as JSON"),
				},
				Action: func(c *ucli.Context) error {
					switch {
					case c.String("policy") == "" || c.String("trace") == "":
						return usagef("simulate needs --policy and --trace, such as 'drover autoscale simulate --policy api.hcl --trace spike'")
					case c.Duration("startup") < 0:
						return usagef("--startup must not be negative, not %s", c.Duration("startup"))
					}
					initial := c.Int64("initial")
					res, err := app.Simulate(app.SimulateOptions{Policy: c.String("policy"), Trace: c.String("trace"), Startup: c.Duration("startup"), Initial: initial})
					if err != nil {
						return err
					}
					if c.IsSet("initial") && (initial < res.Min || initial > res.Max) {
						return usagef("--initial must be within the policy's bounds [%d, %d], not %d", res.Min, res.Max, initial)
					}
					if path := c.String("plot"); path != "" {
						f, err := os.Create(path)
						if err != nil {
							return err
						}
						if err := app.PlotSimulation(f, res); err != nil {
							f.Close()
							return err
						}
						if err := f.Close(); err != nil {
							return err
						}
						fmt.Fprintf(stdio.Err, "Wrote %s.\n", path)
					}
					return printResult(c, stdio, res, func() error { return app.WriteSimulation(stdio.Out, res) })
				},
			},
		},
	}
}

func autoscaleOptions(c *ucli.Context, stdio IO) (app.AutoscaleOptions, error) {
	base, err := clusterOptions(c, stdio)
	if err != nil {
		return app.AutoscaleOptions{}, err
	}
	switch s := c.String("semantics"); s {
	case "", scaling.SemanticsDrover, scaling.SemanticsAutoscaler:
	default:
		return app.AutoscaleOptions{}, usagef("--semantics must be drover or autoscaler, not %q", s)
	}
	return app.AutoscaleOptions{
		ClusterOptions: base,
		PolicyDir:      c.String("policy-dir"),
		NomadPolicies:  !c.Bool("no-nomad-policies"),
		PrometheusAddr: c.String("prometheus-addr"),
		DryRun:         c.Bool("dry-run"),
		Semantics:      c.String("semantics"),
		Concurrency:    c.Int("concurrency"),
		Listen:         c.String("listen"),
		HA:             c.Bool("ha"),
		LockPath:       c.String("lock-path"),
		LockTTL:        c.Duration("lock-ttl"),
		// Only the run command has the flag; explain leaves it false.
		MetricsPerPolicy: c.Bool("metrics-per-policy"),
	}, nil
}

// lintOutput is the document of `autoscale lint --json`: Valid is always
// true (invalid policies print the error document) and Diagnostics are the
// warnings.
type lintOutput struct {
	Valid       bool             `json:"valid"`
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
}
