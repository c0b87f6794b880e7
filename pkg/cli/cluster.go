package cli

import (
	"log/slog"
	"strings"
	"time"

	ucli "github.com/urfave/cli/v2"

	"github.com/drover-io/drover/pkg/app"
	"github.com/drover-io/drover/pkg/config"
	"github.com/drover-io/drover/pkg/version"
)

const connectionCategory = "Cluster connection (each also read from the usual NOMAD_*, CONSUL_HTTP_*, VAULT_* variables)"

// globalFlags are accepted anywhere on the command line.
func globalFlags() []ucli.Flag {
	str := func(name, usage string) ucli.Flag {
		return &ucli.StringFlag{Name: name, Usage: usage, Category: connectionCategory}
	}
	boolean := func(name, usage string) ucli.Flag {
		return &ucli.BoolFlag{Name: name, Usage: usage, Category: connectionCategory}
	}
	return []ucli.Flag{
		str("nomad-addr", "Nomad `URL` (NOMAD_ADDR)"),
		str("nomad-token", "Nomad ACL token (NOMAD_TOKEN; prefer the variable: flags show in process lists)"),
		str("nomad-namespace", "Nomad namespace (NOMAD_NAMESPACE)"),
		str("nomad-region", "Nomad region (NOMAD_REGION)"),
		str("nomad-ca-cert", "CA certificate `FILE` for Nomad (NOMAD_CACERT)"),
		boolean("nomad-skip-verify", "do not verify Nomad's TLS certificate (NOMAD_SKIP_VERIFY)"),
		str("consul-addr", "Consul `URL` or host:port (CONSUL_HTTP_ADDR)"),
		str("consul-token", "Consul ACL token (CONSUL_HTTP_TOKEN)"),
		str("consul-namespace", "Consul namespace (CONSUL_NAMESPACE)"),
		str("consul-ca-cert", "CA certificate `FILE` for Consul (CONSUL_CACERT)"),
		boolean("consul-skip-verify", "do not verify Consul's TLS certificate (CONSUL_HTTP_SSL_VERIFY=false)"),
		str("vault-addr", "Vault `URL` (VAULT_ADDR)"),
		str("vault-token", "Vault token (VAULT_TOKEN)"),
		str("vault-namespace", "Vault namespace (VAULT_NAMESPACE)"),
		str("vault-ca-cert", "CA certificate `FILE` for Vault (VAULT_CACERT)"),
		boolean("vault-skip-verify", "do not verify Vault's TLS certificate (VAULT_SKIP_VERIFY)"),
		&ucli.StringFlag{Name: "config", Usage: "drover config `FILE` with nomad {}, consul {} and vault {} blocks (DROVER_CONFIG; default ~/.config/drover/config.hcl)", Category: connectionCategory},
		&ucli.DurationFlag{Name: "timeout", Usage: "give up on a cluster command after `DURATION` (DROVER_TIMEOUT; default 30m for deploy, 15m for destroy, 5m for the others)", EnvVars: []string{"DROVER_TIMEOUT"}, Category: connectionCategory},
		&ucli.StringFlag{Name: "log-level", Value: "warn", Usage: "log level on stderr: debug, info, warn or error", EnvVars: []string{"DROVER_LOG_LEVEL"}},
		&ucli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text or json"},
	}
}

// clusterOptions builds the options every cluster command shares.
func clusterOptions(c *ucli.Context, stdio IO) (app.ClusterOptions, error) {
	cfg, err := config.Load(config.LoadOptions{
		File:   c.String("config"),
		Getenv: stdio.Getenv,
		Flags: config.Flags{
			NomadAddr: c.String("nomad-addr"), NomadToken: config.Secret(c.String("nomad-token")),
			NomadNamespace: c.String("nomad-namespace"), NomadRegion: c.String("nomad-region"),
			NomadCACert: c.String("nomad-ca-cert"), NomadSkipVerify: c.Bool("nomad-skip-verify"),
			ConsulAddr: c.String("consul-addr"), ConsulToken: config.Secret(c.String("consul-token")),
			ConsulNamespace: c.String("consul-namespace"), ConsulCACert: c.String("consul-ca-cert"),
			ConsulSkipVerify: c.Bool("consul-skip-verify"),
			VaultAddr:        c.String("vault-addr"), VaultToken: config.Secret(c.String("vault-token")),
			VaultNamespace: c.String("vault-namespace"), VaultCACert: c.String("vault-ca-cert"),
			VaultSkipVerify: c.Bool("vault-skip-verify"),
		},
	})
	if err != nil {
		return app.ClusterOptions{}, usageError{err: err}
	}
	log, err := newLogger(c, stdio)
	if err != nil {
		return app.ClusterOptions{}, err
	}
	opts := app.ClusterOptions{
		Config:   cfg,
		Version:  version.Version,
		Logger:   log,
		Progress: stdio.Err,
		TTY:      stdio.IsTerminal,
		Timeout:  commandTimeout(c),
	}
	if c.Command != nil && hasFlag(c.Command.Flags, flagEnv) {
		opts.Load = loadOptions(c, stdio)
	} else {
		opts.Load.Paths = c.Args().Slice()
	}
	return opts, nil
}

func newLogger(c *ucli.Context, stdio IO) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(c.String("log-level"))); err != nil {
		return nil, usagef("--log-level must be debug, info, warn or error, not %q", c.String("log-level"))
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch c.String("log-format") {
	case "json":
		return slog.New(slog.NewJSONHandler(stdio.Err, hopts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(stdio.Err, hopts)), nil
	}
	return nil, usagef("--log-format must be text or json, not %q", c.String("log-format"))
}

// varFlags returns --var name=value pairs as a map, for the job submission.
func varFlags(c *ucli.Context) map[string]string {
	out := map[string]string{}
	for _, kv := range c.StringSlice(flagVar) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			out[k] = v
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// commandTimeout is --timeout, or the command's own bound: a deploy watches
// rollouts that take minutes, a status that waits that long is broken.
func commandTimeout(c *ucli.Context) time.Duration {
	if d := c.Duration("timeout"); d > 0 {
		return d
	}
	name := ""
	if c.Command != nil {
		name = c.Command.Name
	}
	switch name {
	case "deploy":
		return 30 * time.Minute
	case "destroy":
		return 15 * time.Minute
	}
	return 5 * time.Minute
}
