//go:build integration

package consulfake_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// TestContractAgainstAgent runs the contract cases against the Consul agent
// at CONSUL_HTTP_ADDR (with CONSUL_HTTP_TOKEN, if set). It skips when no
// agent answers there.
func TestContractAgainstAgent(t *testing.T) {
	addr := os.Getenv("CONSUL_HTTP_ADDR")
	if addr == "" {
		t.Skip("CONSUL_HTTP_ADDR is not set: start a Consul agent and export its address to run the contract against it")
	}
	cfg := api.DefaultConfig() // CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN, TLS settings
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if _, err := c.Raw().Query("/v1/catalog/datacenters", new([]string), (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		t.Skipf("CONSUL_HTTP_ADDR=%s does not answer (%v): start the agent to run the contract against it", addr, err)
	}
	if self, err := c.Agent().Self(); err == nil {
		t.Logf("Consul %v at %s", self["Config"]["Version"], addr)
	}
	runContract(t, func(t *testing.T) *target { return newTarget(t, cfg, nil) })
}
