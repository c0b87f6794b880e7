package consulfake_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
)

func statusOf(t *testing.T, err error) (int, string) {
	t.Helper()
	var se api.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an api.StatusError", err)
	}
	return se.Code, se.Body
}

func set(t *testing.T, c *api.Client, e api.ConfigEntry) {
	t.Helper()
	ok, _, err := c.ConfigEntries().Set(e, nil)
	if err != nil || !ok {
		t.Fatalf("set %s/%s = %v, %v", e.GetKind(), e.GetName(), ok, err)
	}
}

func defaults(name, protocol string) *api.ServiceConfigEntry {
	return &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: name, Protocol: protocol}
}

func TestConfigEntryCRUD(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	ce := c.ConfigEntries()

	_, _, err := ce.Get(api.ServiceDefaults, "api", nil)
	status, body := statusOf(t, err)
	if status != 404 || body != `Config entry not found for "service-defaults" / "api"` {
		t.Errorf("missing entry: %d %q", status, body)
	}

	set(t, c, defaults("api", "HTTP"))
	e, meta, err := ce.Get(api.ServiceDefaults, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	sd := e.(*api.ServiceConfigEntry)
	if sd.Protocol != "http" || sd.CreateIndex == 0 || sd.ModifyIndex != sd.CreateIndex || meta.LastIndex != sd.ModifyIndex {
		t.Errorf("entry = %+v, index %d", sd, meta.LastIndex)
	}

	// Writing the same entry again changes nothing.
	set(t, c, defaults("api", "http"))
	if got := srv.ConfigEntry(api.ServiceDefaults, "api").GetModifyIndex(); got != sd.ModifyIndex {
		t.Errorf("ModifyIndex after a no-op write = %d, want %d", got, sd.ModifyIndex)
	}

	set(t, c, defaults("web", "http"))
	list, _, err := ce.List(api.ServiceDefaults, nil)
	if err != nil || len(list) != 2 || list[0].GetName() != "api" || list[1].GetName() != "web" {
		t.Errorf("list = %v, %v", list, err)
	}

	if _, err := ce.Delete(api.ServiceDefaults, "web", nil); err != nil {
		t.Fatal(err)
	}
	if srv.ConfigEntry(api.ServiceDefaults, "web") != nil {
		t.Errorf("deleted entry still there")
	}
	if w := len(srv.Writes()); w != 4 {
		t.Errorf("%d writes, want 4", w)
	}
}

func TestConfigEntryCAS(t *testing.T) {
	srv := consulfake.New(t)
	ce := srv.Client().ConfigEntries()

	ok, _, err := ce.CAS(defaults("api", "http"), 0, nil)
	if err != nil || !ok {
		t.Fatalf("create-only CAS = %v, %v", ok, err)
	}
	idx := srv.ConfigEntry(api.ServiceDefaults, "api").GetModifyIndex()
	if ok, _, _ := ce.CAS(defaults("api", "grpc"), 0, nil); ok {
		t.Errorf("create-only CAS over an existing entry succeeded")
	}
	if ok, _, _ := ce.CAS(defaults("api", "grpc"), idx+5, nil); ok {
		t.Errorf("CAS with a stale index succeeded")
	}
	if ok, _, _ := ce.CAS(defaults("other", "grpc"), 3, nil); ok {
		t.Errorf("CAS with an index on a missing entry succeeded")
	}
	if ok, _, err := ce.CAS(defaults("api", "grpc"), idx, nil); err != nil || !ok {
		t.Fatalf("CAS with the current index = %v, %v", ok, err)
	}
	idx = srv.ConfigEntry(api.ServiceDefaults, "api").GetModifyIndex()
	if ok, _, _ := ce.DeleteCAS(api.ServiceDefaults, "api", idx-1, nil); ok {
		t.Errorf("DeleteCAS with a stale index succeeded")
	}
	if ok, _, err := ce.DeleteCAS(api.ServiceDefaults, "api", idx, nil); err != nil || !ok {
		t.Errorf("DeleteCAS = %v, %v", ok, err)
	}
	// Consul skips deleting what is not there and reports success.
	if ok, _, err := ce.DeleteCAS(api.ServiceDefaults, "api", 12345, nil); err != nil || !ok {
		t.Errorf("DeleteCAS of a missing entry = %v, %v; want true", ok, err)
	}
}

func TestConfigEntryValidation(t *testing.T) {
	srv := consulfake.New(t)
	tests := []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"no kind", `{"Name":"api"}`, 400, "Request decoding failed: Payload does not contain a kind/Kind key at the top level"},
		{"unknown kind", `{"Kind":"nope","Name":"api"}`, 400, "Request decoding failed: invalid config entry kind: nope"},
		{"no name", `{"Kind":"service-defaults"}`, 500, "Name is required"},
		{"proxy-defaults name", `{"Kind":"proxy-defaults","Name":"x"}`, 500, `invalid name ("x"), only "global" is supported`},
		{"intention without action", `{"Kind":"service-intentions","Name":"api","Sources":[{"Name":"web"}]}`, 500, "Sources[0].Action must be set to 'allow' or 'deny'"},
		{"partial wildcard", `{"Kind":"service-intentions","Name":"a*","Sources":[{"Name":"web","Action":"allow"}]}`, 500, "Name: wildcard character '*' cannot be used with partial values"},
		{"duplicate port", `{"Kind":"ingress-gateway","Name":"gw","Listeners":[{"Port":80,"Protocol":"tcp","Services":[{"Name":"a"}]},{"Port":80,"Protocol":"tcp","Services":[{"Name":"b"}]}]}`, 500, "port 80 declared on two listeners"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPut, srv.URL()+"/v1/config", strings.NewReader(tt.body))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.status || string(b) != tt.want {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, b, tt.status, tt.want)
			}
		})
	}
}

func TestIntentionsNormalized(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	set(t, c, &api.ServiceIntentionsConfigEntry{
		Kind: api.ServiceIntentions, Name: "api",
		Sources: []*api.SourceIntention{
			{Name: "*", Action: api.IntentionActionDeny},
			{Name: "web", Action: api.IntentionActionAllow, Precedence: 1},
		},
	})
	e, _, err := c.ConfigEntries().Get(api.ServiceIntentions, "api", nil)
	if err != nil {
		t.Fatal(err)
	}
	type src struct {
		Name       string
		Precedence int
		Type       api.IntentionSourceType
	}
	var got []src
	for _, s := range e.(*api.ServiceIntentionsConfigEntry).Sources {
		got = append(got, src{s.Name, s.Precedence, s.Type})
	}
	want := []src{{"web", 9, "consul"}, {"*", 8, "consul"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
}

func TestProtocolChecks(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	ce := c.ConfigEntries()
	ingress := &api.IngressGatewayConfigEntry{
		Kind: api.IngressGateway, Name: "gw",
		Listeners: []api.IngressListener{{Port: 8080, Protocol: "http", Services: []api.IngressService{{Name: "api"}}}},
	}

	_, _, err := ce.Set(ingress, nil)
	status, body := statusOf(t, err)
	if status != 500 || body != `service "api" has protocol "tcp", which does not match defined listener protocol "http"` {
		t.Errorf("http listener on a tcp service: %d %q", status, body)
	}

	set(t, c, defaults("api", "http"))
	set(t, c, ingress)

	// The ingress still needs http: Consul refuses to delete or downgrade
	// the service-defaults under it.
	_, err = ce.Delete(api.ServiceDefaults, "api", nil)
	if status, body := statusOf(t, err); status != 500 || !strings.Contains(body, `which does not match defined listener protocol "http"`) {
		t.Errorf("deleting service-defaults under an ingress: %d %q", status, body)
	}
	_, _, err = ce.Set(defaults("api", "tcp"), nil)
	if status, _ := statusOf(t, err); status != 500 {
		t.Errorf("downgrading the protocol: %d", status)
	}
	if _, err := ce.Delete(api.IngressGateway, "gw", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ce.Delete(api.ServiceDefaults, "api", nil); err != nil {
		t.Errorf("delete after the ingress is gone: %v", err)
	}

	router := &api.ServiceRouterConfigEntry{
		Kind: api.ServiceRouter, Name: "web",
		Routes: []api.ServiceRoute{{
			Match:       &api.ServiceRouteMatch{HTTP: &api.ServiceRouteHTTPMatch{PathPrefix: "/api"}},
			Destination: &api.ServiceRouteDestination{Service: "api"},
		}},
	}
	_, _, err = ce.Set(router, nil)
	if status, body := statusOf(t, err); status != 500 || body != `discovery chain "web" uses a protocol "tcp" that does not permit advanced routing or splitting behavior` {
		t.Errorf("router on tcp: %d %q", status, body)
	}
	set(t, c, defaults("web", "http"))
	_, _, err = ce.Set(router, nil)
	if status, body := statusOf(t, err); status != 500 || body != `discovery chain "web" uses inconsistent protocols; service "api" has "tcp" which is not "http"` {
		t.Errorf("router to a tcp destination: %d %q", status, body)
	}
	set(t, c, defaults("api", "http"))
	set(t, c, router)

	l7 := &api.ServiceIntentionsConfigEntry{Kind: api.ServiceIntentions, Name: "db", Sources: []*api.SourceIntention{{
		Name: "api", Permissions: []*api.IntentionPermission{{Action: api.IntentionActionAllow, HTTP: &api.IntentionHTTPPermission{PathPrefix: "/"}}},
	}}}
	_, _, err = ce.Set(l7, nil)
	if status, body := statusOf(t, err); status != 500 || body != `service "db" has protocol "tcp", which is incompatible with L7 intentions permissions` {
		t.Errorf("L7 intention on tcp: %d %q", status, body)
	}
}

func TestCatalog(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()

	n, _, err := c.Catalog().Node("example_com", nil)
	if err != nil || n != nil {
		t.Fatalf("missing node = %v, %v; want nil, nil", n, err)
	}
	reg := &api.CatalogRegistration{
		Node: "example_com", Address: "example.com",
		NodeMeta: map[string]string{"external-node": "true", "drover": "yes"},
		Service:  &api.AgentService{Service: "example-https", Address: "example.com", Port: 443},
	}
	if _, err := c.Catalog().Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	n, _, err = c.Catalog().Node("example_com", nil)
	if err != nil || n == nil || n.Services["example-https"] == nil || n.Services["example-https"].Port != 443 || n.Node.Meta["drover"] != "yes" {
		t.Fatalf("node = %+v, %v", n, err)
	}
	nodes, _, err := c.Catalog().Nodes(&api.QueryOptions{NodeMeta: map[string]string{"drover": "yes"}})
	if err != nil || len(nodes) != 1 || nodes[0].Node != "example_com" {
		t.Errorf("nodes by meta = %v, %v", nodes, err)
	}
	nodes, _, _ = c.Catalog().Nodes(&api.QueryOptions{NodeMeta: map[string]string{"drover": "no"}})
	if len(nodes) != 0 {
		t.Errorf("nodes with other meta = %v", nodes)
	}
	svcs, _, err := c.Catalog().Service("example-https", "", nil)
	if err != nil || len(svcs) != 1 || svcs[0].ServicePort != 443 || svcs[0].Node != "example_com" {
		t.Errorf("catalog service = %v, %v", svcs, err)
	}

	_, err = c.Catalog().Register(&api.CatalogRegistration{Node: "x"}, nil)
	if status, body := statusOf(t, err); status != 500 || body != "Must provide address if SkipNodeUpdate is not set" {
		t.Errorf("register without address: %d %q", status, body)
	}

	if _, err := c.Catalog().Deregister(&api.CatalogDeregistration{Node: "example_com"}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := c.Catalog().Node("example_com", nil); n != nil {
		t.Errorf("node after deregister = %+v", n)
	}
}

func TestHealth(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	srv.SetHealth("api", 2, 1, 1)
	all, _, err := c.Health().Service("api", "", false, nil)
	if err != nil || len(all) != 4 {
		t.Fatalf("all instances = %d, %v", len(all), err)
	}
	passing, _, err := c.Health().Service("api", "", true, nil)
	if err != nil || len(passing) != 2 {
		t.Errorf("passing instances = %d, %v", len(passing), err)
	}

	// Without an override, health comes from the catalog.
	_, err = c.Catalog().Register(&api.CatalogRegistration{
		Node: "n1", Address: "10.0.0.9",
		Service: &api.AgentService{ID: "web-1", Service: "web", Port: 80},
		Checks:  api.HealthChecks{{CheckID: "web-1-alive", Name: "alive", ServiceID: "web-1", Status: api.HealthPassing}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	entries, _, err := c.Health().Service("web", "", true, nil)
	if err != nil || len(entries) != 1 || entries[0].Checks[0].ServiceName != "web" {
		t.Errorf("catalog health = %+v, %v", entries, err)
	}
}

func TestBlockingQueries(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	set(t, c, defaults("api", "http"))
	_, meta, err := c.ConfigEntries().List(api.ServiceDefaults, nil)
	if err != nil {
		t.Fatal(err)
	}

	done := make(chan uint64, 1)
	go func() {
		_, m, err := c.ConfigEntries().List(api.ServiceDefaults, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
		}
		done <- m.LastIndex
	}()
	// A catalog write does not wake a config entry query.
	srv.SetHealth("x", 1, 0, 0)
	select {
	case <-done:
		t.Fatal("config query woke without a config write")
	case <-time.After(20 * time.Millisecond):
	}
	set(t, c, defaults("web", "http"))
	select {
	case idx := <-done:
		if idx <= meta.LastIndex {
			t.Errorf("woken query index %d, want > %d", idx, meta.LastIndex)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("config query did not wake on a write")
	}

	_, hm, err := c.Health().Service("x", "", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, hm2, err := c.Health().Service("x", "", false, &api.QueryOptions{WaitIndex: hm.LastIndex, WaitTime: 30 * time.Millisecond})
	if err != nil || hm2.LastIndex != hm.LastIndex || time.Since(start) < 30*time.Millisecond {
		t.Errorf("timed-out health query: %d (want %d) after %v, %v", hm2.LastIndex, hm.LastIndex, time.Since(start), err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, _, err = c.Health().Service("x", "", false, (&api.QueryOptions{WaitIndex: hm.LastIndex, WaitTime: time.Minute}).WithContext(ctx))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("cancelled query err = %v", err)
	}
}

func TestFaultInjection(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	srv.FailNext(http.MethodPut, "/v1/config", 500, "rpc error: No cluster leader", 1)
	_, _, err := c.ConfigEntries().Set(defaults("api", "http"), nil)
	if status, body := statusOf(t, err); status != 500 || body != "rpc error: No cluster leader" {
		t.Errorf("injected failure: %d %q", status, body)
	}
	if srv.ConfigEntry(api.ServiceDefaults, "api") != nil {
		t.Errorf("a failed write stored the entry")
	}
	srv.Hangup("/v1/config", 1)
	if _, _, err := c.ConfigEntries().Set(defaults("api", "http"), nil); err == nil {
		t.Errorf("write through a hangup succeeded")
	}
	srv.Delay("/v1/status/leader", time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(ctx)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("delayed leader err = %v", err)
	}
	srv.Delay("/v1/status/leader", 0)
	leader, err := c.Status().Leader()
	if err != nil || leader != "127.0.0.1:8300" {
		t.Errorf("leader = %q, %v", leader, err)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d requests logged, want 4 (failed, hung up, delayed, served)", n)
	}
}

func TestConcurrentWrites(t *testing.T) {
	srv := consulfake.New(t)
	c := srv.Client()
	var wg sync.WaitGroup
	for _, name := range []string{"a", "b", "c", "d", "e", "f"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, _, err := c.ConfigEntries().Set(defaults(name, "http"), nil); err != nil {
				t.Error(err)
			}
			if _, _, err := c.ConfigEntries().Get(api.ServiceDefaults, name, nil); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	list, _, err := c.ConfigEntries().List(api.ServiceDefaults, nil)
	if err != nil || len(list) != 6 {
		t.Errorf("list = %d, %v", len(list), err)
	}
}
