package render

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/jsonx"
)

// WriteHCL prints the bundle for people: each Nomad job as a jobspec that
// `nomad job run` accepts, each config entry and catalog registration in
// the HCL form `consul config write` reads, each Vault policy as is and
// each role as the attributes of its write body.
func (b *Bundle) WriteHCL(w io.Writer) error {
	var sections []string
	for _, j := range b.Jobs {
		sections = append(sections, fmt.Sprintf("# Nomad job %q (%s)\n%s", j.ID(), describeOwner(j.Owner), JobHCL(j.Readable())))
	}
	for _, ce := range b.ConfigEntries {
		note := ""
		if ce.WrittenByNomad {
			note = "; written by Nomad from the gateway job"
		}
		body, err := jsonToHCL(ce.Entry)
		if err != nil {
			return fmt.Errorf("consul %s %q: %w", ce.Kind(), ce.Name(), err)
		}
		sections = append(sections, fmt.Sprintf("# Consul %s %q (%s%s)\n%s", ce.Kind(), ce.Name(), describeOwner(ce.Owner), note, body))
	}
	for _, r := range b.Registrations {
		body, err := jsonToHCL(r.Registration)
		if err != nil {
			return fmt.Errorf("catalog registration %q: %w", r.Registration.Node, err)
		}
		sections = append(sections, fmt.Sprintf("# Consul catalog registration %q (%s)\n%s", r.Registration.Service.Service, describeOwner(r.Owner), body))
	}
	for _, p := range b.VaultPolicies {
		sections = append(sections, fmt.Sprintf("# Vault policy %q\n%s", p.Name, p.Policy))
	}
	for _, r := range b.VaultRoles {
		body, err := jsonToHCL(r.Data)
		if err != nil {
			return fmt.Errorf("vault role %q: %w", r.Name, err)
		}
		sections = append(sections, fmt.Sprintf("# Vault JWT role %q, written to %s\n%s", r.Name, r.Path(), body))
	}
	_, err := io.WriteString(w, strings.Join(sections, "\n"))
	return err
}

func describeOwner(o Owner) string {
	switch {
	case o.App != "":
		return fmt.Sprintf("app %q, %s", o.App, o.Spec)
	case o.Spec != "":
		return "project " + o.Project + ", " + o.Spec
	default:
		return "project " + o.Project
	}
}

// jsonToHCL prints a value's JSON encoding as HCL attributes, the form
// Consul's CLI reads for config entries. Zero values (the server-set
// indexes, empty strings, nulls) are left out, and Kind and Name come first.
func jsonToHCL(v any) (string, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var generic map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		return "", err
	}
	keys := sortedKeys(generic)
	sort.SliceStable(keys, func(i, j int) bool { return headRank(keys[i]) < headRank(keys[j]) })
	body := &hclBody{}
	for _, k := range keys {
		if pruned, keep := jsonx.Prune(generic[k]); keep {
			body.attr(k, pruned)
		}
	}
	return body.String(), nil
}

func headRank(k string) int {
	switch k {
	case "Kind":
		return 0
	case "Name":
		return 1
	}
	return 2
}

// JobHCL prints a job as a Nomad jobspec, covering the fields drover sets.
func JobHCL(job *nomadapi.Job) string {
	root := &hclBody{}
	jb := root.block("job", *job.ID)
	setString(jb, "type", job.Type)
	setString(jb, "region", job.Region)
	setString(jb, "namespace", job.Namespace)
	jb.attr("datacenters", job.Datacenters)
	mapBlock(jb, "meta", job.Meta)
	if u := job.Update; u != nil {
		ub := jb.block("update")
		setInt(ub, "max_parallel", u.MaxParallel)
		setInt(ub, "canary", u.Canary)
		setBool(ub, "auto_promote", u.AutoPromote)
		setBool(ub, "auto_revert", u.AutoRevert)
		setDuration(ub, "min_healthy_time", u.MinHealthyTime)
		setDuration(ub, "healthy_deadline", u.HealthyDeadline)
		setDuration(ub, "progress_deadline", u.ProgressDeadline)
	}
	if p := job.Periodic; p != nil {
		pb := jb.block("periodic")
		pb.attr("crons", p.Specs)
		setBool(pb, "prohibit_overlap", p.ProhibitOverlap)
		setString(pb, "time_zone", p.TimeZone)
	}
	for _, g := range job.TaskGroups {
		writeGroup(jb, g)
	}
	return root.String()
}

func writeGroup(parent *hclBody, g *nomadapi.TaskGroup) {
	gb := parent.block("group", *g.Name)
	setInt(gb, "count", g.Count)
	for _, n := range g.Networks {
		nb := gb.block("network")
		nb.attr("mode", n.Mode)
		for _, p := range n.ReservedPorts {
			pb := nb.block("port", p.Label)
			pb.attr("static", p.Value)
			pb.attr("to", p.To)
		}
	}
	for _, s := range g.Services {
		writeService(gb, s)
	}
	if s := g.Scaling; s != nil {
		sb := gb.block("scaling")
		setBool(sb, "enabled", s.Enabled)
		sb.attr("min", *s.Min)
		sb.attr("max", *s.Max)
		if s.Policy != nil {
			writePolicyBody(sb.block("policy"), s.Policy)
		}
	}
	for _, t := range g.Tasks {
		writeTask(gb, t)
	}
}

func writeService(parent *hclBody, s *nomadapi.Service) {
	sb := parent.block("service")
	sb.attr("name", s.Name)
	if s.PortLabel != "" {
		sb.attr("port", s.PortLabel)
	}
	if s.Provider != "" {
		sb.attr("provider", s.Provider)
	}
	if len(s.Tags) > 0 {
		sb.attr("tags", s.Tags)
	}
	for _, c := range s.Checks {
		cb := sb.block("check")
		cb.attr("name", c.Name)
		cb.attr("type", c.Type)
		if c.Path != "" {
			cb.attr("path", c.Path)
		}
		if c.Method != "" {
			cb.attr("method", c.Method)
		}
		if c.AddressMode != "" {
			cb.attr("address_mode", c.AddressMode)
		}
		if c.Expose {
			cb.attr("expose", true)
		}
		cb.attr("interval", formatDuration(c.Interval))
		cb.attr("timeout", formatDuration(c.Timeout))
	}
	c := s.Connect
	if c == nil {
		return
	}
	cb := sb.block("connect")
	if ss := c.SidecarService; ss != nil {
		ssb := cb.block("sidecar_service")
		if p := ss.Proxy; p != nil {
			pb := ssb.block("proxy")
			for _, u := range p.Upstreams {
				ub := pb.block("upstreams")
				ub.attr("destination_name", u.DestinationName)
				ub.attr("local_bind_port", u.LocalBindPort)
			}
		}
	}
	if gw := c.Gateway; gw != nil {
		gb := cb.block("gateway")
		gb.block("proxy")
		if in := gw.Ingress; in != nil {
			ib := gb.block("ingress")
			for _, l := range in.Listeners {
				lb := ib.block("listener")
				lb.attr("port", l.Port)
				lb.attr("protocol", l.Protocol)
				for _, svc := range l.Services {
					svb := lb.block("service")
					svb.attr("name", svc.Name)
					if len(svc.Hosts) > 0 {
						svb.attr("hosts", svc.Hosts)
					}
				}
			}
		}
		if t := gw.Terminating; t != nil {
			tb := gb.block("terminating")
			for _, svc := range t.Services {
				tb.block("service").attr("name", svc.Name)
			}
		}
	}
}

func writeTask(parent *hclBody, t *nomadapi.Task) {
	tb := parent.block("task", t.Name)
	tb.attr("driver", t.Driver)
	if lc := t.Lifecycle; lc != nil {
		lb := tb.block("lifecycle")
		lb.attr("hook", lc.Hook)
		if lc.Sidecar {
			lb.attr("sidecar", true)
		}
	}
	cb := tb.block("config")
	for _, k := range sortedKeys(t.Config) {
		cb.attr(k, t.Config[k])
	}
	mapBlock(tb, "env", t.Env)
	for _, tpl := range t.Templates {
		tplb := tb.block("template")
		setString(tplb, "destination", tpl.DestPath)
		setBool(tplb, "env", tpl.Envvars)
		setString(tplb, "change_mode", tpl.ChangeMode)
		setBool(tplb, "error_on_missing_key", tpl.ErrMissingKey)
		if tpl.EmbeddedTmpl != nil {
			tplb.rawAttr("data", hclHeredoc(*tpl.EmbeddedTmpl))
		}
	}
	if v := t.Vault; v != nil {
		vb := tb.block("vault")
		if v.Role != "" {
			vb.attr("role", v.Role)
		}
		setString(vb, "change_mode", v.ChangeMode)
	}
	if id := t.Identity; id != nil {
		ib := tb.block("identity")
		if id.Env {
			ib.attr("env", true)
		}
		if id.File {
			ib.attr("file", true)
		}
	}
	for _, id := range t.Identities {
		ib := tb.block("identity")
		ib.attr("name", id.Name)
		ib.attr("aud", id.Audience)
		ib.attr("ttl", formatDuration(id.TTL))
	}
	if r := t.Resources; r != nil {
		rb := tb.block("resources")
		setInt(rb, "cpu", r.CPU)
		setInt(rb, "memory", r.MemoryMB)
		setInt(rb, "memory_max", r.MemoryMaxMB)
	}
}

// writePolicyBody prints a policy map back as blocks: a list of one map is
// a block, and a map whose single value is such a list is a labeled block.
// Attributes come first, then blocks, as people write them.
func writePolicyBody(b *hclBody, m map[string]any) {
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		_, bi := m[keys[i]].([]any)
		_, bj := m[keys[j]].([]any)
		return !bi && bj
	})
	for _, k := range keys {
		list, isBlock := m[k].([]any)
		if !isBlock {
			b.attr(k, m[k])
			continue
		}
		for _, el := range list {
			inner, ok := el.(map[string]any)
			if !ok {
				continue
			}
			if label, body, ok := labeledBlock(inner); ok && labeledPolicyBlocks[k] {
				writePolicyBody(b.block(k, label), body)
			} else {
				writePolicyBody(b.block(k), inner)
			}
		}
	}
}

// labeledPolicyBlocks are the policy blocks that carry a label; any other
// block (schedule, drover, its scale_up and rate) is unlabeled, even when
// its body has a single nested block.
var labeledPolicyBlocks = map[string]bool{"check": true, "strategy": true, "target": true}

func labeledBlock(m map[string]any) (string, map[string]any, bool) {
	if len(m) != 1 {
		return "", nil, false
	}
	for label, v := range m {
		list, ok := v.([]any)
		if !ok || len(list) != 1 {
			return "", nil, false
		}
		body, ok := list[0].(map[string]any)
		return label, body, ok
	}
	return "", nil, false
}

func mapBlock(parent *hclBody, name string, m map[string]string) {
	if len(m) == 0 {
		return
	}
	b := parent.block(name)
	for _, k := range sortedKeys(m) {
		b.attr(k, m[k])
	}
}

func setString(b *hclBody, name string, v *string) {
	if v != nil && *v != "" {
		b.attr(name, *v)
	}
}

func setInt(b *hclBody, name string, v *int) {
	if v != nil {
		b.attr(name, *v)
	}
}

func setBool(b *hclBody, name string, v *bool) {
	if v != nil {
		b.attr(name, *v)
	}
}

func setDuration(b *hclBody, name string, v *time.Duration) {
	if v != nil {
		b.attr(name, formatDuration(*v))
	}
}

// formatDuration prints "5m" rather than Go's "5m0s".
func formatDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
