package importer

//lint:file-ignore SA1019 the server still fills in deprecated fields; they are taken out here, not used

import (
	"fmt"
	"strings"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/lazyregexp"
)

// What Nomad adds to a job when it registers it, and `nomad job inspect`
// (or a live import) therefore shows: implicit constraints, the Connect
// sidecar tasks and their ports, the expose paths and check ports of
// exposed checks, the default workload identity, zero values of fields a
// job file leaves out. Registering the rendered job makes Nomad add them
// again, so the importer takes them out of the input first.
const whyServer = "Nomad adds it when it registers the job, and will again"

// implicitConstraint matches the constraints Nomad's job mutators add
// (consul, vault and nomad versions, CNI plugins, service discovery).
var implicitConstraint = lazyregexp.New(`^\$\{attr\.(consul\.version|consul\.[a-z_.]+|vault\.version|nomad\.version|nomad\.service_discovery|plugins\.cni\.version\.[a-z_-]+)\}$`)

// generatedPort matches the ports Nomad adds: a sidecar's public listener
// and an exposed check's listener.
var generatedPort = lazyregexp.New(`^(connect-proxy-.+|svc_.+_ck_[0-9a-f]+)$`)

// unserver removes what Nomad added from a canonicalized job, recording
// the fields it had in the input as ignored.
func unserver(j *nomadapi.Job, r *report) {
	for _, g := range j.TaskGroups {
		gp := "group[" + *g.Name + "]"
		g.Constraints = keepConstraints(g.Constraints, gp+".constraint", r)
		var tasks []*nomadapi.Task
		for _, t := range g.Tasks {
			tp := gp + ".task[" + t.Name + "]"
			if isGeneratedTask(t) {
				r.addAll(tp, ClassIgnored, "", "the Connect sidecar task, which "+whyServer)
				continue
			}
			t.Constraints = keepConstraints(t.Constraints, tp+".constraint", r)
			if id := t.Identity; id != nil && id.Name == "default" && !id.Env && !id.File && id.TTL == 0 && id.Filepath == "" &&
				len(id.Audience) == 1 && id.Audience[0] == "nomadproject.io" && id.ChangeMode == "" && len(id.ExtraClaims) == 0 {
				r.addAll(tp+".Identity", ClassIgnored, "", "the default workload identity, which "+whyServer)
				t.Identity = nil
			}
			if res := t.Resources; res != nil {
				for _, p := range []**int{&res.DiskMB, &res.IOPS, &res.SecretsMB, &res.MemoryMaxMB} {
					if *p != nil && **p == 0 {
						*p = nil
					}
				}
			}
			tasks = append(tasks, t)
		}
		g.Tasks = tasks
		if g.PreventRescheduleOnLost != nil && !*g.PreventRescheduleOnLost {
			g.PreventRescheduleOnLost = nil
		}
		for ni, n := range g.Networks {
			np := fmt.Sprintf("%s.network[%d]", gp, ni)
			n.DynamicPorts = keepPorts(n.DynamicPorts, np+".port", r)
			n.ReservedPorts = keepPorts(n.ReservedPorts, np+".reserved_ports", r)
		}
		for si, s := range g.Services {
			sp := fmt.Sprintf("%s.service[%d]", gp, si)
			for ci := range s.Checks {
				if generatedPort().MatchString(s.Checks[ci].PortLabel) && s.Checks[ci].Expose {
					r.addAll(fmt.Sprintf("%s.check[%d].port", sp, ci), ClassIgnored, "", "the exposed check's listener port, which "+whyServer)
					s.Checks[ci].PortLabel = ""
				}
			}
			if c := s.Connect; c != nil && c.SidecarService != nil && c.SidecarService.Proxy != nil {
				p := c.SidecarService.Proxy
				if p.Expose != nil && generatedExpose(p.Expose) {
					r.addAll(sp+".connect.sidecar_service.proxy.expose", ClassIgnored, "", "the expose paths of exposed checks, which "+whyServer)
					p.Expose = nil
				}
				for _, u := range p.Upstreams {
					if u.MeshGateway != nil && u.MeshGateway.Mode == "" {
						u.MeshGateway = nil
					}
				}
			}
		}
	}
}

func isGeneratedTask(t *nomadapi.Task) bool {
	for _, k := range []string{"connect-proxy:", "connect-ingress:", "connect-terminating:", "connect-mesh:", "connect-api-gateway:"} {
		if strings.HasPrefix(t.Kind, k) {
			return true
		}
	}
	return false
}

func generatedExpose(e *nomadapi.ConsulExposeConfig) bool {
	if len(e.Paths) == 0 && len(e.Path) == 0 {
		return true
	}
	for _, p := range append(append([]*nomadapi.ConsulExposePath(nil), e.Path...), e.Paths...) {
		if !generatedPort().MatchString(p.ListenerPort) {
			return false
		}
	}
	return true
}

// keepConstraints drops implicit constraints. Nomad appends them, so the
// indices of the others stay those of the input.
func keepConstraints(cs []*nomadapi.Constraint, path string, r *report) []*nomadapi.Constraint {
	var out []*nomadapi.Constraint
	for i, c := range cs {
		if implicitConstraint().MatchString(c.LTarget) && (c.Operand == "semver" || c.Operand == "=" || c.Operand == ">=" || c.Operand == "version") {
			r.addAll(fmt.Sprintf("%s[%d]", path, i), ClassIgnored, "", "an implicit constraint, which "+whyServer)
			continue
		}
		out = append(out, c)
	}
	return out
}

func keepPorts(ps []nomadapi.Port, path string, r *report) []nomadapi.Port {
	var out []nomadapi.Port
	for i, p := range ps {
		if generatedPort().MatchString(p.Label) && p.To == -1 {
			r.addAll(fmt.Sprintf("%s[%d]", path, i), ClassIgnored, "", "a port for the Connect sidecar, which "+whyServer)
			continue
		}
		if p.HostNetwork == "default" {
			p.HostNetwork = ""
		}
		out = append(out, p)
	}
	return out
}
