package app

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"strings"

	"github.com/drover-io/drover/pkg/devenv"
)

// DevOptions configure the local dev stack.
type DevOptions struct {
	// StateDir holds the agents' configs, logs and pid files;
	// devenv.DefaultStateDir() when empty.
	StateDir string
	// Docker enables the docker driver when dockerd answers.
	Docker bool
	Logger *slog.Logger
}

func (o DevOptions) stateDir() (string, error) {
	if o.StateDir != "" {
		return o.StateDir, nil
	}
	return devenv.DefaultStateDir()
}

// DevUp starts (or finds running) dev Nomad, Consul and Vault agents from
// the binaries on PATH, wired together, and returns their addresses.
func DevUp(ctx context.Context, o DevOptions) (*devenv.Env, error) {
	dir, err := o.stateDir()
	if err != nil {
		return nil, err
	}
	docker := o.Docker
	if !docker {
		// Use docker when it is there: drover's apps are Docker tasks.
		_, err := exec.LookPath("docker")
		docker = err == nil
	}
	return devenv.Up(ctx, devenv.Options{StateDir: dir, Docker: docker, Logger: o.Logger})
}

// DevDown stops the dev agents.
func DevDown(ctx context.Context, o DevOptions) error {
	dir, err := o.stateDir()
	if err != nil {
		return err
	}
	return devenv.Stop(ctx, devenv.StopOptions{StateDir: dir, Logger: o.Logger})
}

// DevStatus reports the dev agents.
func DevStatus(ctx context.Context, o DevOptions) ([]devenv.AgentStatus, error) {
	dir, err := o.stateDir()
	if err != nil {
		return nil, err
	}
	return devenv.Status(ctx, dir)
}

// WriteExports prints the shell lines that point drover (and the agents'
// own CLIs) at the dev stack.
func WriteExports(w io.Writer, env *devenv.Env) error {
	_, err := io.WriteString(w, strings.Join(env.Exports(), "\n")+"\n")
	return err
}
