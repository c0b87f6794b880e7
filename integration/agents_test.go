//go:build integration

package integration

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"
)

// requireAgent skips the test unless the agent named by envVar answers its
// health endpoint.
func requireAgent(t *testing.T, envVar, healthPath string) string {
	t.Helper()
	addr := os.Getenv(envVar)
	if addr == "" {
		t.Skipf("%s is not set: start agents (../shared/testbed/up.sh or drover dev) and export it to run this test", envVar)
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	client := &http.Client{Timeout: 3 * time.Second}
	resp, err := client.Get(strings.TrimSuffix(addr, "/") + healthPath)
	if err != nil {
		t.Skipf("%s=%s does not answer (%v): start the agent to run this test", envVar, addr, err)
	}
	resp.Body.Close()
	return addr
}

func nomadClient(t *testing.T) *nomadapi.Client {
	t.Helper()
	requireAgent(t, "NOMAD_ADDR", "/v1/agent/health")
	c, err := nomadapi.NewClient(nomadapi.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	return c
}
