//go:build integration

package vaultfake_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"
)

// TestContractAgainstAgent runs the contract cases against the Vault or
// OpenBao server at VAULT_ADDR with VAULT_TOKEN, which must be allowed to
// enable and disable mounts and to write policies and JWT roles (a root
// token on a test bed). It skips when either is unset or nothing answers.
func TestContractAgainstAgent(t *testing.T) {
	addr, token := os.Getenv("VAULT_ADDR"), os.Getenv("VAULT_TOKEN")
	if addr == "" || token == "" {
		t.Skip("VAULT_ADDR or VAULT_TOKEN is not set: start a Vault or OpenBao server and export its address and a root token to run the contract against it")
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	r := call(t, ctx, addr, "GET", "/v1/sys/health", "", nil)
	if r.status == -1 {
		t.Skipf("VAULT_ADDR=%s does not answer (%s): start the server to run the contract against it", addr, r.raw)
	}
	t.Logf("%v %v at %s", r.body["cluster_name"], r.body["version"], addr)
	runContract(t, func(t *testing.T) *target { return newTarget(addr, token, nil) })
}
