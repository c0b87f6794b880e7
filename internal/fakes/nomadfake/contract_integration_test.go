//go:build integration

package nomadfake_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/nomad/api"
)

// TestContractAgainstAgent runs the contract cases against the Nomad agent
// at NOMAD_ADDR (with NOMAD_TOKEN, if set), in the default namespace. It
// skips when no agent answers there.
func TestContractAgainstAgent(t *testing.T) {
	addr := os.Getenv("NOMAD_ADDR")
	if addr == "" {
		t.Skip("NOMAD_ADDR is not set: start a Nomad agent and export its address to run the contract against it")
	}
	cfg := api.DefaultConfig() // NOMAD_ADDR, NOMAD_TOKEN, TLS settings
	cfg.Namespace = ""         // the cases name their namespaces
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var regions []string
	if _, err := c.Raw().Query("/v1/regions", &regions, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		t.Skipf("NOMAD_ADDR=%s does not answer (%v): start the agent to run the contract against it", addr, err)
	}
	if self, err := c.Agent().Self(); err == nil {
		t.Logf("Nomad %s at %s", self.Member.Tags["build"], addr)
	}
	runContract(t, func(t *testing.T) *target { return newTarget(t, cfg, nil) })
}
