package spec

import (
	"time"

	"github.com/drover-io/drover/internal/hclbody"
	"github.com/hashicorp/hcl/v2"
)

// Project defaults.
const (
	DefaultProjectName  = "drover"
	DefaultKVMount      = "secret"
	DefaultAuthPath     = "jwt-nomad" // what `nomad setup vault` creates
	DefaultAudience     = "vault.io"
	DefaultTokenPeriod  = 30 * time.Minute
	DefaultPolicyPrefix = "drover-"
	DefaultIngressPort  = 8080
)

// decodeProject decodes the project block (nil when there is no drover.hcl)
// and applies the selected environment's overrides.
func decodeProject(block *hcl.Block, e *evaluator, env, file string) *Project {
	p := &Project{
		Name:         DefaultProjectName,
		Datacenters:  Val[[]string]{V: []string{"*"}},
		Environments: map[string]*ProjectEnvironment{},
		File:         file,
		Vault: VaultSettings{
			KVMount:      DefaultKVMount,
			AuthPath:     DefaultAuthPath,
			Audience:     []string{DefaultAudience},
			TokenPeriod:  DefaultTokenPeriod,
			PolicyPrefix: DefaultPolicyPrefix,
		},
	}
	if block != nil {
		p.Name = block.Labels[0]
		p.DeclRange = block.DefRange
		if !ValidName(p.Name) {
			e.errorf(block.LabelRanges[0], "Invalid project name", NameRule)
		}
		content, d := hclbody.Content(block.Body, projectSchema)
		e.add(d)
		a := content.Attributes
		blocks := content.Blocks.ByType()
		p.Region = e.str(a, "region", "", block.DefRange)
		p.Namespace = e.str(a, "namespace", "", block.DefRange)
		if dcs := e.strings(a, "datacenters", block.DefRange); dcs.Set {
			p.Datacenters = dcs
		}
		if b := e.onlyOne(blocks["vault"], "a project"); b != nil {
			decodeVaultSettings(&p.Vault, b, e)
		}
		p.Ingress = decodeGateway(e.onlyOne(blocks["ingress_gateway"], "a project"), e, p.Name+"-ingress", DefaultIngressPort)
		p.Terminating = decodeGateway(e.onlyOne(blocks["terminating_gateway"], "a project"), e, p.Name+"-egress", 0)
		for _, b := range e.uniqueLabels(blocks["environment"], "the project") {
			pe := decodeProjectEnvironment(b, e)
			p.Environments[pe.Name] = pe
		}
	} else {
		p.Ingress = decodeGateway(nil, e, p.Name+"-ingress", DefaultIngressPort)
		p.Terminating = decodeGateway(nil, e, p.Name+"-egress", 0)
	}
	if pe := p.Environments[env]; pe != nil {
		if pe.Region.Set {
			p.Region = pe.Region
		}
		if pe.Namespace.Set {
			p.Namespace = pe.Namespace
		}
		if pe.Datacenters.Set {
			p.Datacenters = pe.Datacenters
		}
	}
	return p
}

func decodeVaultSettings(v *VaultSettings, block *hcl.Block, e *evaluator) {
	content, d := hclbody.Content(block.Body, projectVaultSchema)
	e.add(d)
	a := content.Attributes
	r := block.DefRange
	v.KVMount = e.str(a, "kv_mount", v.KVMount, r).V
	v.AuthPath = e.str(a, "auth_path", v.AuthPath, r).V
	if aud := e.strings(a, "audience", r); aud.Set {
		v.Audience = aud.V
	}
	v.TokenPeriod = e.duration(a, "token_period", v.TokenPeriod, r).V
	v.PolicyPrefix = e.str(a, "policy_prefix", v.PolicyPrefix, r).V
}

func decodeGateway(block *hcl.Block, e *evaluator, defaultName string, defaultPort int) GatewaySettings {
	g := GatewaySettings{Name: defaultName, Port: defaultPort, Count: 1}
	if block == nil {
		return g
	}
	content, d := hclbody.Content(block.Body, gatewaySchema)
	e.add(d)
	a := content.Attributes
	g.DeclRange = block.DefRange
	name := e.str(a, "name", defaultName, block.DefRange)
	if name.Set && !ValidName(name.V) {
		e.errorf(name.Range, "Invalid gateway name", NameRule)
	}
	g.Name = name.V
	port := e.integer(a, "port", defaultPort, block.DefRange)
	if port.Set && block.Type != "ingress_gateway" {
		e.errorf(port.Range, "Unsupported argument", "Only the ingress gateway listens on a fixed port; a terminating gateway's port is allocated by Nomad.")
	} else if port.Set && (port.V < 1 || port.V > 65535) {
		e.errorf(port.Range, "Invalid port", "A port must be between 1 and 65535.")
	}
	g.Port = port.V
	count := e.integer(a, "count", 1, block.DefRange)
	if count.V < 1 {
		e.errorf(count.Range, "Invalid gateway count", "A gateway needs at least one instance.")
	}
	g.Count = count.V
	return g
}

func decodeProjectEnvironment(block *hcl.Block, e *evaluator) *ProjectEnvironment {
	content, d := hclbody.Content(block.Body, projectEnvironmentSchema)
	e.add(d)
	a := content.Attributes
	if !ValidName(block.Labels[0]) {
		e.errorf(block.LabelRanges[0], "Invalid environment name", NameRule)
	}
	return &ProjectEnvironment{
		Name:        block.Labels[0],
		DeclRange:   block.DefRange,
		Region:      e.str(a, "region", "", block.DefRange),
		Namespace:   e.str(a, "namespace", "", block.DefRange),
		Datacenters: e.strings(a, "datacenters", block.DefRange),
	}
}
