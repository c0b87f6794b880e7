package consulfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/consul/api"
)

// configEntryNotFound is agent.ConfigEntryNotFoundErr.
const configEntryNotFound = "Config entry not found"

// knownKinds are the kinds structs.MakeConfigEntry accepts.
var knownKinds = map[string]bool{
	api.ServiceDefaults: true, api.ProxyDefaults: true, api.ServiceRouter: true,
	api.ServiceSplitter: true, api.ServiceResolver: true, api.IngressGateway: true,
	api.TerminatingGateway: true, api.ServiceIntentions: true, api.MeshConfig: true,
	api.ExportedServices: true, api.SamenessGroup: true, api.APIGateway: true,
	api.TCPRoute: true, api.HTTPRoute: true, api.InlineCertificate: true,
	api.FileSystemCertificate: true, api.JWTProvider: true, api.RateLimitIPConfig: true,
}

// modelledKinds are the kinds drover writes, the only ones the fake
// stores, normalizes and validates. A write of another known kind answers
// 501, so that a test notices.
var modelledKinds = map[string]bool{
	api.ServiceDefaults: true, api.ServiceRouter: true, api.ServiceIntentions: true,
	api.IngressGateway: true, api.TerminatingGateway: true,
}

func invalidKind(kind string) string { return "invalid config entry kind: " + kind }

func (s *Server) configApply(w http.ResponseWriter, r *http.Request, body []byte) {
	var raw map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		s.writeError(w, http.StatusBadRequest, "Request decoding failed: "+err.Error())
		return
	}
	kindVal, ok := raw["Kind"]
	if !ok {
		kindVal, ok = raw["kind"]
	}
	if !ok {
		s.writeError(w, http.StatusBadRequest, "Request decoding failed: Payload does not contain a kind/Kind key at the top level")
		return
	}
	kind, ok := kindVal.(string)
	if !ok {
		s.writeError(w, http.StatusBadRequest, "Request decoding failed: Kind value in payload is not a string")
		return
	}
	if !knownKinds[kind] {
		s.writeError(w, http.StatusBadRequest, "Request decoding failed: "+invalidKind(kind))
		return
	}
	if !modelledKinds[kind] {
		s.writeError(w, http.StatusNotImplemented, fmt.Sprintf("consulfake: config entries of kind %q are not modelled", kind))
		return
	}
	entry, err := api.DecodeConfigEntry(raw)
	if err != nil {
		s.writeError(w, http.StatusBadRequest, "Request decoding failed: "+err.Error())
		return
	}
	isCAS, casIndex := false, uint64(0)
	if c := r.URL.Query().Get("cas"); c != "" {
		v, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			s.writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		isCAS, casIndex = true, v
	}
	if err := normalize(entry); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	if err := validate(entry); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	kind, name := entry.GetKind(), entry.GetName()
	existing := s.entries[kind][name]
	// ConfigEntry.Apply skips a write that changes nothing and reports
	// success, whatever the CAS index (shouldSkipUpsertOperation).
	if existing != nil && sameEntry(existing, entry) {
		s.writeJSON(w, r, s.tableIndex(tableConfig), true)
		return
	}
	if isCAS {
		var cur uint64
		if existing != nil {
			cur = existing.GetModifyIndex()
		}
		if casIndex == 0 && existing != nil || casIndex != 0 && (existing == nil || casIndex != cur) {
			s.writeJSON(w, r, s.tableIndex(tableConfig), false)
			return
		}
	}
	if err := s.checkGraph(kind, name, entry); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	idx := s.bump(tableConfig)
	created := idx
	if existing != nil {
		created = existing.GetCreateIndex()
	}
	setIndexes(entry, created, idx)
	if s.entries[kind] == nil {
		s.entries[kind] = map[string]api.ConfigEntry{}
	}
	s.entries[kind][name] = entry
	s.writeJSON(w, r, idx, true)
}

func (s *Server) configGet(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/v1/config/"), "/", 2)
	q, ok := s.parseQuery(w, r)
	if !ok {
		return
	}
	if !knownKinds[parts[0]] {
		s.writeError(w, http.StatusInternalServerError, invalidKind(parts[0]))
		return
	}
	// Consul reports the config entries table index for every entry read.
	index := func() uint64 { return s.tableIndex(tableConfig) }
	s.block(r.Context(), q, index)

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(parts) == 2 {
		e := s.entries[parts[0]][parts[1]]
		if e == nil {
			s.writeError(w, http.StatusNotFound, fmt.Sprintf("%s for %q / %q", configEntryNotFound, parts[0], parts[1]))
			return
		}
		s.writeJSON(w, r, index(), e)
		return
	}
	out := []api.ConfigEntry{}
	for _, name := range sortedKeys(s.entries[parts[0]]) {
		out = append(out, s.entries[parts[0]][name])
	}
	s.writeJSON(w, r, index(), out)
}

func (s *Server) configDelete(w http.ResponseWriter, r *http.Request) {
	parts := strings.SplitN(strings.TrimPrefix(r.URL.Path, "/v1/config/"), "/", 2)
	if len(parts) != 2 {
		s.writeError(w, http.StatusNotFound, "Must provide both a kind and name to delete")
		return
	}
	kind, name := parts[0], parts[1]
	if !knownKinds[kind] {
		s.writeError(w, http.StatusBadRequest, invalidKind(kind))
		return
	}
	isCAS, casIndex := false, uint64(0)
	if c := r.URL.Query().Get("cas"); c != "" {
		v, err := strconv.ParseUint(c, 10, 64)
		if err != nil {
			s.writeError(w, http.StatusInternalServerError, err.Error())
			return
		}
		isCAS, casIndex = true, v
	}
	reply := func(deleted bool) {
		if isCAS {
			s.writeJSON(w, r, s.tableIndex(tableConfig), deleted)
			return
		}
		s.writeJSON(w, r, s.tableIndex(tableConfig), struct{}{})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	existing := s.entries[kind][name]
	if existing == nil {
		// ConfigEntry.Delete skips deleting what is not there, and says
		// it deleted it, CAS or not.
		reply(true)
		return
	}
	if isCAS && existing.GetModifyIndex() != casIndex {
		reply(false)
		return
	}
	if err := s.checkGraph(kind, name, nil); err != "" {
		s.writeError(w, http.StatusInternalServerError, err)
		return
	}
	delete(s.entries[kind], name)
	s.bump(tableConfig)
	reply(true)
}

// sameEntry reports whether two entries differ only in their raft indexes.
func sameEntry(a, b api.ConfigEntry) bool {
	x, y := copyEntry(a), copyEntry(b)
	setIndexes(x, 0, 0)
	setIndexes(y, 0, 0)
	jx, _ := json.Marshal(x)
	jy, _ := json.Marshal(y)
	return string(jx) == string(jy)
}

// copyEntry deep-copies a config entry through its JSON form.
func copyEntry(e api.ConfigEntry) api.ConfigEntry {
	b, err := json.Marshal(e)
	if err != nil {
		panic(fmt.Sprintf("consulfake: copy %T: %v", e, err)) // API types always marshal
	}
	c, err := api.DecodeConfigEntryFromJSON(b)
	if err != nil {
		panic(fmt.Sprintf("consulfake: copy %T: %v", e, err))
	}
	return c
}

// setIndexes sets the CreateIndex and ModifyIndex every entry type has.
func setIndexes(e api.ConfigEntry, create, modify uint64) {
	v := reflect.ValueOf(e).Elem()
	if f := v.FieldByName("CreateIndex"); f.IsValid() {
		f.SetUint(create)
	}
	if f := v.FieldByName("ModifyIndex"); f.IsValid() {
		f.SetUint(modify)
	}
}

// normalize is the Normalize step of ConfigEntry.Apply for the kinds drover
// writes; it returns an error text.
func normalize(entry api.ConfigEntry) string {
	switch e := entry.(type) {
	case *api.ServiceConfigEntry:
		e.Protocol = strings.ToLower(e.Protocol)
	case *api.IngressGatewayConfigEntry:
		for i := range e.Listeners {
			if e.Listeners[i].Protocol == "" {
				e.Listeners[i].Protocol = "tcp"
			}
			e.Listeners[i].Protocol = strings.ToLower(e.Listeners[i].Protocol)
		}
	case *api.ServiceRouterConfigEntry:
		for _, route := range e.Routes {
			if route.Match != nil && route.Match.HTTP != nil {
				for j, m := range route.Match.HTTP.Methods {
					route.Match.HTTP.Methods[j] = strings.ToUpper(m)
				}
			}
		}
	case *api.ServiceIntentionsConfigEntry:
		for _, src := range e.Sources {
			if src.Type == "" {
				src.Type = api.IntentionSourceConsul
			}
			src.Precedence = intentionPrecedence(e.Name, src.Name)
			for _, p := range src.Permissions {
				if p.HTTP != nil {
					for j, m := range p.HTTP.Methods {
						p.HTTP.Methods[j] = strings.ToUpper(m)
					}
				}
			}
		}
		// Closest to the head has the highest precedence; ties keep the
		// order they were written in.
		sort.SliceStable(e.Sources, func(i, j int) bool { return e.Sources[i].Precedence > e.Sources[j].Precedence })
	}
	return ""
}

// intentionPrecedence is computeIntentionPrecedence without namespaces:
// 9 for exact source and destination, 8 for a wildcard source on an exact
// destination, 6 and 5 for a wildcard destination.
func intentionPrecedence(dest, src string) int {
	exact := func(name string) int {
		if name == "*" {
			return 1
		}
		return 2
	}
	maximum := map[int]int{2: 9, 1: 6}[exact(dest)]
	return maximum - (2 - exact(src))
}

func wildcardErr(name string) string {
	if name != "*" && strings.Contains(name, "*") {
		return "Name: wildcard character '*' cannot be used with partial values"
	}
	return ""
}

// validate is the Validate step of ConfigEntry.Apply for the kinds drover
// writes.
func validate(entry api.ConfigEntry) string {
	switch e := entry.(type) {
	case *api.ServiceConfigEntry:
		if e.Name == "" {
			return "Name is required"
		}
		if e.Name == "*" {
			return "service-defaults name must be the name of a service, and not a wildcard"
		}
	case *api.ServiceRouterConfigEntry:
		if e.Name == "" {
			return "Name is required"
		}
		for i, route := range e.Routes {
			var m *api.ServiceRouteHTTPMatch
			if route.Match != nil {
				m = route.Match.HTTP
			}
			if m != nil {
				if m.PathExact != "" && !strings.HasPrefix(m.PathExact, "/") {
					return fmt.Sprintf("Route[%d] PathExact doesn't start with '/': %q", i, m.PathExact)
				}
				if m.PathPrefix != "" && !strings.HasPrefix(m.PathPrefix, "/") {
					return fmt.Sprintf("Route[%d] PathPrefix doesn't start with '/': %q", i, m.PathPrefix)
				}
				n := 0
				for _, p := range []string{m.PathExact, m.PathPrefix, m.PathRegex} {
					if p != "" {
						n++
					}
				}
				if n > 1 {
					return fmt.Sprintf("Route[%d] should only contain at most one of PathExact, PathPrefix, or PathRegex", i)
				}
			}
			if route.Destination != nil && route.Destination.PrefixRewrite != "" && (m == nil || m.PathExact == "" && m.PathPrefix == "") {
				return fmt.Sprintf("Route[%d] cannot make use of PrefixRewrite without configuring either PathExact or PathPrefix", i)
			}
		}
	case *api.IngressGatewayConfigEntry:
		return validateIngress(e)
	case *api.TerminatingGatewayConfigEntry:
		seen := map[string]bool{}
		for _, svc := range e.Services {
			if svc.Name == "" {
				return "Service name cannot be blank."
			}
			if seen[svc.Name] {
				return fmt.Sprintf("Service %q was specified more than once within a namespace", svc.Name)
			}
			seen[svc.Name] = true
			if (svc.CAFile != "" || svc.CertFile != "" || svc.KeyFile != "") && (svc.CAFile == "" || svc.CertFile == "" || svc.KeyFile == "") {
				if !(svc.CAFile != "" && svc.CertFile == "" && svc.KeyFile == "") {
					return fmt.Sprintf("Service %q must have a CertFile, CAFile, and KeyFile specified for TLS origination", svc.Name)
				}
			}
		}
	case *api.ServiceIntentionsConfigEntry:
		return validateIntentions(e)
	}
	return ""
}

func validateIngress(e *api.IngressGatewayConfigEntry) string {
	valid := map[string]bool{"tcp": true, "http": true, "http2": true, "grpc": true}
	ports := map[int]bool{}
	for _, l := range e.Listeners {
		if ports[l.Port] {
			return fmt.Sprintf("port %d declared on two listeners", l.Port)
		}
		ports[l.Port] = true
		if !valid[l.Protocol] {
			return fmt.Sprintf("protocol must be 'tcp', 'http', 'http2', or 'grpc'. '%s' is an unsupported protocol", l.Protocol)
		}
		if len(l.Services) == 0 {
			return fmt.Sprintf("No service declared for listener with port %d", l.Port)
		}
		if !httpLike(l.Protocol) && len(l.Services) > 1 {
			return fmt.Sprintf("Multiple services per listener are only supported for L7 protocols, 'http', 'grpc' and 'http2' (listener on port %d)", l.Port)
		}
		hosts := map[string]bool{}
		names := map[string]bool{}
		for _, svc := range l.Services {
			if l.Protocol == "tcp" {
				if svc.Name == "*" {
					return fmt.Sprintf("Wildcard service name is only valid for protocol = 'http' (listener on port %d)", l.Port)
				}
				if len(svc.Hosts) != 0 {
					return fmt.Sprintf("Associating hosts to a service is not supported for the %s protocol (listener on port %d)", l.Protocol, l.Port)
				}
			}
			if svc.Name == "" {
				return fmt.Sprintf("Service name cannot be blank (listener on port %d)", l.Port)
			}
			if svc.Name == "*" && len(svc.Hosts) != 0 {
				return fmt.Sprintf("Associating hosts to a wildcard service is not supported (listener on port %d)", l.Port)
			}
			if names[svc.Name] {
				return fmt.Sprintf("Service %s cannot be added multiple times (listener on port %d)", svc.Name, l.Port)
			}
			names[svc.Name] = true
			for _, h := range svc.Hosts {
				if hosts[h] {
					return fmt.Sprintf("Hosts must be unique within a specific listener (listener on port %d)", l.Port)
				}
				hosts[h] = true
				if err := validateHost(e.TLS.Enabled, h); err != "" {
					return err
				}
			}
		}
	}
	return ""
}

func validateHost(tls bool, host string) string {
	if host == "*" {
		if tls {
			return "Host '*' is not allowed when TLS is enabled, all hosts must be valid DNS records to add as a DNSSAN"
		}
		return ""
	}
	if !isDomainName(host) {
		return fmt.Sprintf("Host %q must be a valid DNS hostname", host)
	}
	if strings.ContainsRune(strings.TrimPrefix(host, "*."), '*') {
		return fmt.Sprintf("Host %q is not valid, a wildcard specifier is only allowed as the leftmost label", host)
	}
	return ""
}

// isDomainName is a loose version of miekg/dns.IsDomainName: labels of 1
// to 63 bytes, 255 bytes in all.
func isDomainName(s string) bool {
	s = strings.TrimSuffix(s, ".")
	if s == "" || len(s) > 255 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 {
			return false
		}
	}
	return true
}

func validateIntentions(e *api.ServiceIntentionsConfigEntry) string {
	if e.Name == "" {
		return "Name is required"
	}
	if err := wildcardErr(e.Name); err != "" {
		return err
	}
	if len(e.Sources) == 0 {
		return "At least one source is required"
	}
	seen := map[string]bool{}
	for i, src := range e.Sources {
		if src.Name == "" {
			return fmt.Sprintf("Sources[%d].Name is required", i)
		}
		if err := wildcardErr(src.Name); err != "" {
			return fmt.Sprintf("Sources[%d].%s", i, err)
		}
		if len(src.Permissions) == 0 && src.Action != api.IntentionActionAllow && src.Action != api.IntentionActionDeny {
			return fmt.Sprintf("Sources[%d].Action must be set to 'allow' or 'deny'", i)
		}
		if len(src.Permissions) > 0 && src.Action != "" {
			return fmt.Sprintf("Sources[%d].Action must be omitted if Permissions are specified", i)
		}
		if e.Name == "*" && len(src.Permissions) > 0 {
			return fmt.Sprintf("Sources[%d].Permissions cannot be specified on intentions with wildcarded destinations", i)
		}
		if src.Type != api.IntentionSourceConsul {
			return fmt.Sprintf("Sources[%d].Type must be set to 'consul'", i)
		}
		for j, p := range src.Permissions {
			if p.Action != api.IntentionActionAllow && p.Action != api.IntentionActionDeny {
				return fmt.Sprintf("Sources[%d].Permissions[%d].Action must be set to 'allow' or 'deny'", i, j)
			}
			if p.HTTP == nil {
				return fmt.Sprintf("Sources[%d].Permissions[%d].HTTP is required", i, j)
			}
		}
		key := src.Peer + "/" + src.Name
		if seen[key] {
			return fmt.Sprintf("Sources[%d] defines %q more than once", i, src.Name)
		}
		seen[key] = true
	}
	return ""
}

func httpLike(protocol string) bool {
	switch protocol {
	case "http", "http2", "grpc":
		return true
	}
	return false
}

// ---- graph validation ----

// checkGraph is validateProposedConfigEntryInGraph: it checks, as if entry
// replaced kind/name (nil: deleted it), that gateways of each kind do not
// share a name, that every discovery chain touched compiles, that ingress
// listeners match their services' protocols and that L7 intentions point
// at HTTP services. The caller holds s.mu.
func (s *Server) checkGraph(kind, name string, entry api.ConfigEntry) string {
	switch kind {
	case api.IngressGateway, api.TerminatingGateway:
		other := api.TerminatingGateway
		if kind == api.TerminatingGateway {
			other = api.IngressGateway
		}
		if entry != nil && s.entries[other][name] != nil {
			return fmt.Sprintf("cannot create a %q config entry with name %q, a %q config entry with that name already exists", kind, name, other)
		}
	}
	view := s.proposed(kind, name, entry)
	chains := map[string]bool{}
	var ingress []*api.IngressGatewayConfigEntry
	var intentions []*api.ServiceIntentionsConfigEntry
	enforce := false
	allOf := func(k string) []api.ConfigEntry {
		var out []api.ConfigEntry
		for _, n := range sortedKeys(view[k]) {
			out = append(out, view[k][n])
		}
		return out
	}
	allIntentions := func() {
		for _, e := range allOf(api.ServiceIntentions) {
			intentions = append(intentions, e.(*api.ServiceIntentionsConfigEntry))
		}
	}

	switch kind {
	case api.TerminatingGateway:
		return ""
	case api.ServiceIntentions:
		if entry == nil {
			return ""
		}
		intentions = append(intentions, entry.(*api.ServiceIntentionsConfigEntry))
	case api.IngressGateway:
		if entry == nil {
			return ""
		}
		ingress = append(ingress, entry.(*api.IngressGatewayConfigEntry))
		enforce = true
	default: // one chain: service-defaults or router
		allIntentions()
		chains[name] = true
		for _, k := range []string{api.ServiceRouter, api.IngressGateway} {
			for _, e := range allOf(k) {
				if !contains(relatedServices(e), name) {
					continue
				}
				if ig, ok := e.(*api.IngressGatewayConfigEntry); ok {
					ingress = append(ingress, ig)
				} else {
					chains[e.GetName()] = true
				}
			}
		}
	}
	for _, ig := range ingress {
		for _, svc := range relatedServices(ig) {
			chains[svc] = true
		}
	}
	for _, ixn := range intentions {
		chains[ixn.Name] = true
	}

	protocols, routed := map[string]string{}, map[string]bool{}
	for _, svc := range sortedKeys(chains) {
		if svc == "*" {
			continue
		}
		p, err := compileChain(view, svc)
		if err != "" {
			return err
		}
		protocols[svc] = p
		_, routed[svc] = view[api.ServiceRouter][svc]
	}
	for _, ig := range ingress {
		for _, l := range ig.Listeners {
			for _, svc := range l.Services {
				if svc.Name == "*" {
					continue
				}
				got := protocols[svc.Name]
				if got != l.Protocol && (enforce || l.Protocol != "tcp" || routed[svc.Name]) {
					return fmt.Sprintf("service %q has protocol %q, which does not match defined listener protocol %q", svc.Name, got, l.Protocol)
				}
			}
		}
	}
	for _, ixn := range intentions {
		if ixn.Name == "*" || !hasPermissions(ixn) {
			continue
		}
		if p := protocols[ixn.Name]; !httpLike(p) {
			return fmt.Sprintf("service %q has protocol %q, which is incompatible with L7 intentions permissions", ixn.Name, p)
		}
	}
	return ""
}

func hasPermissions(e *api.ServiceIntentionsConfigEntry) bool {
	for _, src := range e.Sources {
		if len(src.Permissions) > 0 {
			return true
		}
	}
	return false
}

// proposed is the config entries with kind/name replaced by entry.
func (s *Server) proposed(kind, name string, entry api.ConfigEntry) map[string]map[string]api.ConfigEntry {
	view := map[string]map[string]api.ConfigEntry{}
	for k, m := range s.entries {
		view[k] = map[string]api.ConfigEntry{}
		for n, e := range m {
			view[k][n] = e
		}
	}
	if view[kind] == nil {
		view[kind] = map[string]api.ConfigEntry{}
	}
	if entry == nil {
		delete(view[kind], name)
	} else {
		view[kind][name] = entry
	}
	return view
}

// relatedServices are the services an entry links to (ListRelatedServices).
func relatedServices(e api.ConfigEntry) []string {
	var out []string
	switch e := e.(type) {
	case *api.ServiceRouterConfigEntry:
		out = append(out, e.Name)
		for _, r := range e.Routes {
			if r.Destination != nil {
				out = append(out, defaultIfEmpty(r.Destination.Service, e.Name))
			}
		}
	case *api.IngressGatewayConfigEntry:
		for _, l := range e.Listeners {
			for _, svc := range l.Services {
				if svc.Name != "*" {
					out = append(out, svc.Name)
				}
			}
		}
	}
	return out
}

// compileChain is the part of the discovery chain compiler that decides a
// chain's protocol: a router's service and every destination must agree,
// and a router needs an HTTP-like one. Splitters and resolvers are not
// modelled: a chain is a router and its destinations, or the service.
func compileChain(view map[string]map[string]api.ConfigEntry, svc string) (string, string) {
	protocol := protocolOf(view, svc)
	r, ok := view[api.ServiceRouter][svc].(*api.ServiceRouterConfigEntry)
	if !ok {
		return protocol, ""
	}
	for _, route := range r.Routes {
		if route.Destination == nil {
			continue
		}
		dest := defaultIfEmpty(route.Destination.Service, svc)
		if p := protocolOf(view, dest); p != protocol {
			return "", fmt.Sprintf("discovery chain %q uses inconsistent protocols; service %q has %q which is not %q", svc, dest, p, protocol)
		}
	}
	if !httpLike(protocol) {
		return "", fmt.Sprintf("discovery chain %q uses a protocol %q that does not permit advanced routing or splitting behavior", svc, protocol)
	}
	return protocol, ""
}

// protocolOf is a service's protocol: its service-defaults', else tcp
// (proxy-defaults are not modelled).
func protocolOf(view map[string]map[string]api.ConfigEntry, svc string) string {
	if sd, ok := view[api.ServiceDefaults][svc].(*api.ServiceConfigEntry); ok {
		return defaultIfEmpty(strings.ToLower(sd.Protocol), "tcp")
	}
	return "tcp"
}

func defaultIfEmpty(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// ---- test helpers ----

// ConfigEntry returns a copy of a config entry, or nil.
func (s *Server) ConfigEntry(kind, name string) api.ConfigEntry {
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[kind][name]
	if e == nil {
		return nil
	}
	return copyEntry(e)
}

// ConfigEntryNames lists the names of the entries of a kind, sorted.
func (s *Server) ConfigEntryNames(kind string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sortedKeys(s.entries[kind])
}

// SeedConfigEntry stores an entry as if written with PUT /v1/config,
// normalized and checked the same way; a rejected entry fails the test.
func (s *Server) SeedConfigEntry(entry api.ConfigEntry) {
	s.t.Helper()
	b, err := json.Marshal(entry)
	if err != nil {
		s.t.Fatalf("consulfake: SeedConfigEntry: %v", err)
	}
	e, err := api.DecodeConfigEntryFromJSON(b)
	if err != nil {
		s.t.Fatalf("consulfake: SeedConfigEntry: %v", err)
	}
	if !modelledKinds[e.GetKind()] {
		s.t.Fatalf("consulfake: SeedConfigEntry: kind %q is not modelled", e.GetKind())
	}
	if msg := normalize(e); msg != "" {
		s.t.Fatalf("consulfake: SeedConfigEntry: %s", msg)
	}
	if msg := validate(e); msg != "" {
		s.t.Fatalf("consulfake: SeedConfigEntry: %s", msg)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kind, name := e.GetKind(), e.GetName()
	if msg := s.checkGraph(kind, name, e); msg != "" {
		s.t.Fatalf("consulfake: SeedConfigEntry: %s", msg)
	}
	idx := s.bump(tableConfig)
	created := idx
	if old := s.entries[kind][name]; old != nil {
		created = old.GetCreateIndex()
	}
	setIndexes(e, created, idx)
	if s.entries[kind] == nil {
		s.entries[kind] = map[string]api.ConfigEntry{}
	}
	s.entries[kind][name] = e
}
