package consulfake_test

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/consul/api"

	"github.com/drover-io/drover/internal/fakes/consulfake"
	"github.com/drover-io/drover/internal/testutil"
)

// The contract: what drover relies on from Consul, stated as cases that
// run against the fake (TestContract) and, under the integration build
// tag, against a real agent (TestContractAgainstAgent in
// contract_integration_test.go), so that the fake is shown to answer as
// the agent does. A case sets up state through the API only, names what it
// creates with a unique fake-contract- prefix and removes it again. What
// only the fake can set up (SetHealth, seeded entries, injected faults) is
// tested in consulfake_test.go.

// target is what a contract case talks to.
type target struct {
	c *api.Client
	// addr and token are for the raw requests of a case.
	addr, token string
	// fake is the fake behind c; nil against a real agent.
	fake *consulfake.Server
	// prefix makes the names of what a case creates unique.
	prefix string
}

// name is a unique name for an object a case creates.
func (tg *target) name(s string) string { return tg.prefix + s }

// newTarget returns a target for the agent at cfg.Address (fake is the
// fake behind it, or nil).
func newTarget(t *testing.T, cfg *api.Config, fake *consulfake.Server) *target {
	t.Helper()
	c, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	scheme := cfg.Scheme
	if scheme == "" {
		scheme = "http"
	}
	addr := cfg.Address
	if !strings.Contains(addr, "://") {
		addr = scheme + "://" + addr
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return &target{c: c, addr: addr, token: cfg.Token, fake: fake, prefix: "fake-contract-" + hex.EncodeToString(b[:]) + "-"}
}

var contract = []testutil.ContractCase[*target]{
	{Name: "datacenters", Run: contractDatacenters},
	{Name: "config entry check-and-set", Run: contractConfigCAS},
	{Name: "config entry validation", Run: contractConfigValidation},
	{Name: "intentions normalized", Run: contractIntentions},
	{Name: "protocol checks", Run: contractProtocolChecks},
	{Name: "catalog", Run: contractCatalog},
	{Name: "blocking queries", Run: contractBlocking},
}

// runContract runs every contract case against a target from newTarget.
func runContract(t *testing.T, newTarget func(t *testing.T) *target) {
	testutil.RunContract(t, contract, newTarget)
}

func TestContract(t *testing.T) {
	runContract(t, func(t *testing.T) *target {
		srv := consulfake.New(t)
		return newTarget(t, &api.Config{Address: strings.TrimPrefix(srv.URL(), "http://"), Scheme: "http"}, srv)
	})
}

func statusOf(t *testing.T, err error) (int, string) {
	t.Helper()
	var se api.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v is not an api.StatusError", err)
	}
	return se.Code, se.Body
}

func defaults(name, protocol string) *api.ServiceConfigEntry {
	return &api.ServiceConfigEntry{Kind: api.ServiceDefaults, Name: name, Protocol: protocol}
}

// set writes a config entry and deletes it when the test ends.
func (tg *target) set(t *testing.T, e api.ConfigEntry) {
	t.Helper()
	tg.deleteAtEnd(t, e.GetKind(), e.GetName())
	ok, _, err := tg.c.ConfigEntries().Set(e, nil)
	if err != nil || !ok {
		t.Fatalf("set %s/%s = %v, %v", e.GetKind(), e.GetName(), ok, err)
	}
}

// deleteAtEnd deletes a config entry when the test ends. Cleanups run last
// first, so what a case wrote last (a router, an ingress) goes before what
// it depends on (service-defaults).
func (tg *target) deleteAtEnd(t *testing.T, kind, name string) {
	t.Cleanup(func() {
		if _, err := tg.c.ConfigEntries().Delete(kind, name, nil); err != nil {
			t.Logf("cleanup: delete %s/%s: %v", kind, name, err)
		}
	})
}

func (tg *target) get(t *testing.T, kind, name string) (api.ConfigEntry, *api.QueryMeta) {
	t.Helper()
	e, meta, err := tg.c.ConfigEntries().Get(kind, name, nil)
	if err != nil {
		t.Fatalf("get %s/%s: %v", kind, name, err)
	}
	return e, meta
}

// raw sends a request with body and returns the status and body of the
// answer.
func (tg *target) raw(t *testing.T, method, path, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, tg.addr+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if tg.token != "" {
		req.Header.Set("X-Consul-Token", tg.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// ---- cases ----

func contractDatacenters(t *testing.T, tg *target) {
	// (Not a blocking query: Consul sends no index with it.)
	dcs, err := tg.c.Catalog().Datacenters()
	if err != nil {
		t.Fatal(err)
	}
	if len(dcs) == 0 {
		t.Errorf("datacenters = %v, want at least the agent's", dcs)
	}
}

func contractConfigCAS(t *testing.T, tg *target) {
	ce := tg.c.ConfigEntries()
	name, other := tg.name("api"), tg.name("other")
	tg.deleteAtEnd(t, api.ServiceDefaults, name)
	tg.deleteAtEnd(t, api.ServiceDefaults, other)

	_, _, err := ce.Get(api.ServiceDefaults, name, nil)
	want := `Config entry not found for "service-defaults" / "` + name + `"`
	if status, body := statusOf(t, err); status != 404 || body != want {
		t.Errorf("missing entry: %d %q, want 404 %q", status, body, want)
	}

	// Create only: CAS at index 0. The protocol is lower-cased.
	e := defaults(name, "HTTP")
	e.Meta = map[string]string{"drover.managed": "true"}
	if ok, _, err := ce.CAS(e, 0, nil); err != nil || !ok {
		t.Fatalf("create-only CAS = %v, %v", ok, err)
	}
	got, meta := tg.get(t, api.ServiceDefaults, name)
	sd := got.(*api.ServiceConfigEntry)
	if sd.Protocol != "http" || sd.Meta["drover.managed"] != "true" || sd.CreateIndex == 0 || sd.ModifyIndex != sd.CreateIndex || meta.LastIndex < sd.ModifyIndex {
		t.Errorf("entry = %+v, index %d", sd, meta.LastIndex)
	}
	idx := sd.ModifyIndex

	if ok, _, _ := ce.CAS(defaults(name, "grpc"), 0, nil); ok {
		t.Errorf("create-only CAS over an existing entry succeeded")
	}
	if ok, _, _ := ce.CAS(defaults(name, "grpc"), idx+5, nil); ok {
		t.Errorf("CAS with a stale index succeeded")
	}
	if ok, _, _ := ce.CAS(defaults(other, "grpc"), 3, nil); ok {
		t.Errorf("CAS with an index on a missing entry succeeded")
	}
	// A write that changes nothing succeeds and moves nothing, whatever
	// its index.
	same := defaults(name, "http")
	same.Meta = map[string]string{"drover.managed": "true"}
	if ok, _, err := ce.CAS(same, idx+5, nil); err != nil || !ok {
		t.Errorf("no-op CAS = %v, %v; want true", ok, err)
	}
	if got, _ := tg.get(t, api.ServiceDefaults, name); got.GetModifyIndex() != idx {
		t.Errorf("ModifyIndex after a no-op write = %d, want %d", got.GetModifyIndex(), idx)
	}

	if ok, _, err := ce.CAS(defaults(name, "grpc"), idx, nil); err != nil || !ok {
		t.Fatalf("CAS with the current index = %v, %v", ok, err)
	}
	got, _ = tg.get(t, api.ServiceDefaults, name)
	if got.(*api.ServiceConfigEntry).Protocol != "grpc" || got.GetCreateIndex() != sd.CreateIndex || got.GetModifyIndex() <= idx {
		t.Errorf("entry after CAS = %+v", got)
	}
	idx = got.GetModifyIndex()

	list, _, err := ce.List(api.ServiceDefaults, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range list {
		if strings.HasPrefix(e.GetName(), tg.prefix) {
			names = append(names, e.GetName())
		}
	}
	if diff := cmp.Diff([]string{name}, names); diff != "" {
		t.Errorf("listed entries (-want +got):\n%s", diff)
	}

	if ok, _, _ := ce.DeleteCAS(api.ServiceDefaults, name, idx-1, nil); ok {
		t.Errorf("DeleteCAS with a stale index succeeded")
	}
	if ok, _, err := ce.DeleteCAS(api.ServiceDefaults, name, idx, nil); err != nil || !ok {
		t.Errorf("DeleteCAS = %v, %v", ok, err)
	}
	if _, _, err := ce.Get(api.ServiceDefaults, name, nil); err == nil {
		t.Errorf("deleted entry still readable")
	}
	// Consul skips deleting what is not there and reports success.
	if ok, _, err := ce.DeleteCAS(api.ServiceDefaults, name, 12345, nil); err != nil || !ok {
		t.Errorf("DeleteCAS of a missing entry = %v, %v; want true", ok, err)
	}
	if _, err := ce.Delete(api.ServiceDefaults, name, nil); err != nil {
		t.Errorf("Delete of a missing entry: %v", err)
	}
}

func contractConfigValidation(t *testing.T, tg *target) {
	name := tg.name("api")
	for _, tc := range []struct {
		name   string
		body   string
		status int
		want   string
	}{
		{"no kind", `{"Name":"` + name + `"}`, 400, "Request decoding failed: Payload does not contain a kind/Kind key at the top level"},
		{"unknown kind", `{"Kind":"nope","Name":"` + name + `"}`, 400, "Request decoding failed: invalid config entry kind: nope"},
		{"no name", `{"Kind":"service-defaults"}`, 500, "Name is required"},
		{"intention without action", `{"Kind":"service-intentions","Name":"` + name + `","Sources":[{"Name":"web"}]}`, 500, "Sources[0].Action must be set to 'allow' or 'deny'"},
		{"partial wildcard", `{"Kind":"service-intentions","Name":"a*","Sources":[{"Name":"web","Action":"allow"}]}`, 500, "Name: wildcard character '*' cannot be used with partial values"},
		{"duplicate port", `{"Kind":"ingress-gateway","Name":"` + name + `","Listeners":[{"Port":80,"Protocol":"tcp","Services":[{"Name":"a"}]},{"Port":80,"Protocol":"tcp","Services":[{"Name":"b"}]}]}`, 500, "port 80 declared on two listeners"},
		{"router path", `{"Kind":"service-router","Name":"` + name + `","Routes":[{"Match":{"HTTP":{"PathPrefix":"api"}}}]}`, 500, `Route[0] PathPrefix doesn't start with '/': "api"`},
	} {
		status, body := tg.raw(t, http.MethodPut, "/v1/config", tc.body)
		if status != tc.status || body != tc.want {
			t.Errorf("%s: got %d %q, want %d %q", tc.name, status, body, tc.status, tc.want)
		}
	}
	if _, _, err := tg.c.ConfigEntries().Get(api.ServiceDefaults, name, nil); err == nil {
		t.Errorf("a rejected entry was stored")
	}
}

func contractIntentions(t *testing.T, tg *target) {
	dest, src := tg.name("api"), tg.name("web")
	tg.set(t, &api.ServiceIntentionsConfigEntry{
		Kind: api.ServiceIntentions, Name: dest,
		Meta: map[string]string{"drover.managed": "true"},
		Sources: []*api.SourceIntention{
			{Name: "*", Action: api.IntentionActionDeny},
			{Name: src, Action: api.IntentionActionAllow, Precedence: 1},
		},
	})
	e, _ := tg.get(t, api.ServiceIntentions, dest)
	type source struct {
		Name       string
		Action     api.IntentionAction
		Precedence int
		Type       api.IntentionSourceType
	}
	var got []source
	for _, s := range e.(*api.ServiceIntentionsConfigEntry).Sources {
		got = append(got, source{s.Name, s.Action, s.Precedence, s.Type})
	}
	want := []source{{src, "allow", 9, "consul"}, {"*", "deny", 8, "consul"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("sources (-want +got):\n%s", diff)
	}
	if m := e.GetMeta(); m["drover.managed"] != "true" {
		t.Errorf("meta = %v", m)
	}
}

func contractProtocolChecks(t *testing.T, tg *target) {
	ce := tg.c.ConfigEntries()
	api1, web, db, gw := tg.name("api"), tg.name("web"), tg.name("db"), tg.name("gw")
	// Cleanups run last first: what depends on service-defaults goes first.
	tg.deleteAtEnd(t, api.ServiceDefaults, api1)
	tg.deleteAtEnd(t, api.ServiceDefaults, web)
	tg.deleteAtEnd(t, api.ServiceRouter, web)
	tg.deleteAtEnd(t, api.ServiceRouter, db)
	tg.deleteAtEnd(t, api.IngressGateway, gw)
	tg.deleteAtEnd(t, api.TerminatingGateway, gw)
	tg.deleteAtEnd(t, api.ServiceIntentions, db)

	ingress := &api.IngressGatewayConfigEntry{
		Kind: api.IngressGateway, Name: gw,
		Listeners: []api.IngressListener{{Port: 8080, Protocol: "http", Services: []api.IngressService{{Name: api1}}}},
	}
	_, _, err := ce.Set(ingress, nil)
	want := `service "` + api1 + `" has protocol "tcp", which does not match defined listener protocol "http"`
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("http listener on a tcp service: %d %q, want 500 %q", status, body, want)
	}

	if ok, _, err := ce.Set(defaults(api1, "http"), nil); err != nil || !ok {
		t.Fatalf("set defaults: %v, %v", ok, err)
	}
	if ok, _, err := ce.Set(ingress, nil); err != nil || !ok {
		t.Fatalf("set ingress: %v, %v", ok, err)
	}
	// A terminating gateway may not share the ingress gateway's name.
	_, _, err = ce.Set(&api.TerminatingGatewayConfigEntry{Kind: api.TerminatingGateway, Name: gw, Services: []api.LinkedService{{Name: db}}}, nil)
	want = `cannot create a "terminating-gateway" config entry with name "` + gw + `", a "ingress-gateway" config entry with that name already exists`
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("terminating gateway named like an ingress: %d %q, want 500 %q", status, body, want)
	}

	// The ingress still needs http: Consul refuses to delete or downgrade
	// the service-defaults under it.
	_, err = ce.Delete(api.ServiceDefaults, api1, nil)
	if status, body := statusOf(t, err); status != 500 || !strings.Contains(body, `which does not match defined listener protocol "http"`) {
		t.Errorf("deleting service-defaults under an ingress: %d %q", status, body)
	}
	_, _, err = ce.Set(defaults(api1, "tcp"), nil)
	if status, _ := statusOf(t, err); status != 500 {
		t.Errorf("downgrading the protocol: %d", status)
	}
	if _, err := ce.Delete(api.IngressGateway, gw, nil); err != nil {
		t.Fatal(err)
	}

	router := &api.ServiceRouterConfigEntry{
		Kind: api.ServiceRouter, Name: web,
		Routes: []api.ServiceRoute{{
			Match:       &api.ServiceRouteMatch{HTTP: &api.ServiceRouteHTTPMatch{PathPrefix: "/api", Methods: []string{"get"}}},
			Destination: &api.ServiceRouteDestination{Service: api1},
		}},
	}
	_, _, err = ce.Set(router, nil)
	want = `discovery chain "` + web + `" uses inconsistent protocols; service "` + api1 + `" has "http" which is not "tcp"`
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("router on tcp to an http service: %d %q, want 500 %q", status, body, want)
	}
	_, _, err = ce.Set(&api.ServiceRouterConfigEntry{Kind: api.ServiceRouter, Name: db, Routes: []api.ServiceRoute{{
		Match: &api.ServiceRouteMatch{HTTP: &api.ServiceRouteHTTPMatch{PathPrefix: "/"}},
	}}}, nil)
	want = `discovery chain "` + db + `" uses a protocol "tcp" that does not permit advanced routing or splitting behavior`
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("router on tcp: %d %q, want 500 %q", status, body, want)
	}
	if ok, _, err := ce.Set(defaults(web, "http"), nil); err != nil || !ok {
		t.Fatalf("set defaults: %v, %v", ok, err)
	}
	if ok, _, err := ce.Set(router, nil); err != nil || !ok {
		t.Fatalf("set router: %v, %v", ok, err)
	}
	got, _ := tg.get(t, api.ServiceRouter, web)
	if m := got.(*api.ServiceRouterConfigEntry).Routes[0].Match.HTTP.Methods; !cmp.Equal(m, []string{"GET"}) {
		t.Errorf("router methods = %v, want them upper-cased", m)
	}
	// A destination under a router must keep speaking its protocol.
	_, _, err = ce.Set(defaults(api1, "tcp"), nil)
	if status, _ := statusOf(t, err); status != 500 {
		t.Errorf("downgrading a router's destination: %d", status)
	}

	l7 := &api.ServiceIntentionsConfigEntry{Kind: api.ServiceIntentions, Name: db, Sources: []*api.SourceIntention{{
		Name: api1, Permissions: []*api.IntentionPermission{{Action: api.IntentionActionAllow, HTTP: &api.IntentionHTTPPermission{PathPrefix: "/"}}},
	}}}
	_, _, err = ce.Set(l7, nil)
	want = `service "` + db + `" has protocol "tcp", which is incompatible with L7 intentions permissions`
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("L7 intention on tcp: %d %q, want 500 %q", status, body, want)
	}
}

func contractCatalog(t *testing.T, tg *target) {
	cat := tg.c.Catalog()
	node, svc := tg.name("node"), tg.name("db")
	t.Cleanup(func() {
		if _, err := cat.Deregister(&api.CatalogDeregistration{Node: node}, nil); err != nil {
			t.Logf("cleanup: deregister %s: %v", node, err)
		}
	})

	n, _, err := cat.Node(node, nil)
	if err != nil || n != nil {
		t.Fatalf("missing node = %+v, %v; want nil, nil", n, err)
	}
	_, err = cat.Register(&api.CatalogRegistration{Node: node}, nil)
	if status, body := statusOf(t, err); status != 500 || body != "Must provide address if SkipNodeUpdate is not set" {
		t.Errorf("register without address: %d %q", status, body)
	}

	// An external service as drover registers it: a node of its own
	// carrying drover's meta, one service, no checks.
	reg := &api.CatalogRegistration{
		Node: node, Address: "db.example.com",
		NodeMeta: map[string]string{"external-node": "true", "drover.contract": tg.prefix},
		Service:  &api.AgentService{ID: svc, Service: svc, Address: "db.example.com", Port: 5432, Meta: map[string]string{"drover.app": "db"}},
	}
	// Service meta keys are checked (node meta keys are not).
	_, err = cat.Register(reg, nil)
	want := "failed inserting service: Invalid Service Meta for node " + node + " and serviceID " + svc +
		": Couldn't load metadata pair ('drover.app', 'db'): Key contains invalid characters"
	if status, body := statusOf(t, err); status != 500 || body != want {
		t.Errorf("register with a dotted service meta key: %d %q, want 500 %q", status, body, want)
	}
	if n, _, _ := cat.Node(node, nil); n != nil {
		t.Errorf("a rejected register created node %+v", n.Node)
	}
	reg.Service.Meta = map[string]string{"drover-app": "db"}
	if _, err := cat.Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	n, meta, err := cat.Node(node, nil)
	if err != nil || n == nil {
		t.Fatalf("node = %+v, %v", n, err)
	}
	s := n.Services[svc]
	if n.Node.Address != "db.example.com" || n.Node.Meta["drover.contract"] != tg.prefix || n.Node.Datacenter == "" || meta.LastIndex == 0 ||
		s == nil || s.Port != 5432 || s.Address != "db.example.com" || s.Meta["drover-app"] != "db" || s.Service != svc ||
		!cmp.Equal(s.Tags, []string{}) || s.Weights != (api.AgentWeights{Passing: 1, Warning: 1}) {
		t.Errorf("node = %+v, services %+v (index %d)", n.Node, n.Services, meta.LastIndex)
	}
	created := n.Node.CreateIndex

	nodes, _, err := cat.Nodes(&api.QueryOptions{NodeMeta: map[string]string{"drover.contract": tg.prefix}})
	if err != nil || len(nodes) != 1 || nodes[0].Node != node || nodes[0].Meta["external-node"] != "true" {
		t.Errorf("nodes by meta = %+v, %v", nodes, err)
	}
	nodes, _, _ = cat.Nodes(&api.QueryOptions{NodeMeta: map[string]string{"drover.contract": tg.prefix + "x"}})
	if len(nodes) != 0 {
		t.Errorf("nodes with other meta = %+v", nodes)
	}
	entries, _, err := tg.c.Health().Service(svc, "", false, nil)
	if err != nil || len(entries) != 1 || entries[0].Node.Node != node || entries[0].Service.Port != 5432 || len(entries[0].Checks) != 0 {
		t.Errorf("health of the external service = %+v, %v", entries, err)
	}
	if none, _, err := tg.c.Health().Service(tg.name("nope"), "", false, nil); err != nil || len(none) != 0 {
		t.Errorf("health of a missing service = %+v, %v", none, err)
	}

	// Registering again updates in place.
	reg.Service.Port = 5433
	if _, err := cat.Register(reg, nil); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := cat.Node(node, nil); n == nil || n.Node.CreateIndex != created || n.Services[svc].Port != 5433 {
		t.Errorf("node after re-register = %+v", n)
	}

	if _, err := cat.Deregister(&api.CatalogDeregistration{Node: node}, nil); err != nil {
		t.Fatal(err)
	}
	if n, _, _ := cat.Node(node, nil); n != nil {
		t.Errorf("node after deregister = %+v", n)
	}
	if _, err := cat.Deregister(&api.CatalogDeregistration{Node: node}, nil); err != nil {
		t.Errorf("deregister of a missing node: %v", err)
	}
}

func contractBlocking(t *testing.T, tg *target) {
	name := tg.name("api")
	tg.set(t, defaults(name, "http"))
	_, meta := tg.get(t, api.ServiceDefaults, name)

	// Nothing changes: the query returns after its wait, at the same index.
	start := time.Now()
	_, m2, err := tg.c.ConfigEntries().Get(api.ServiceDefaults, name, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: 300 * time.Millisecond})
	if err != nil || m2.LastIndex != meta.LastIndex || time.Since(start) < 300*time.Millisecond {
		t.Errorf("timed-out query: index %d (want %d), err %v, after %v", m2.LastIndex, meta.LastIndex, err, time.Since(start))
	}

	done := make(chan uint64, 1)
	go func() {
		_, m, err := tg.c.ConfigEntries().Get(api.ServiceDefaults, name, &api.QueryOptions{WaitIndex: meta.LastIndex, WaitTime: time.Minute})
		if err != nil {
			t.Error(err)
			done <- 0
			return
		}
		done <- m.LastIndex
	}()
	select {
	case <-done:
		t.Fatal("blocking query returned before any write")
	case <-time.After(100 * time.Millisecond):
	}
	tg.set(t, defaults(name, "grpc"))
	select {
	case idx := <-done:
		if idx <= meta.LastIndex {
			t.Errorf("woken query index %d, want > %d", idx, meta.LastIndex)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocking query did not return after a write")
	}
}
