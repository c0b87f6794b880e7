package render

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"

	nomadapi "github.com/hashicorp/nomad/api"
)

// File is one rendered file: a path relative to the output directory and
// its contents.
type File struct {
	Path string
	Data []byte
}

// ManifestEntry describes one artifact in manifest.json, the index later
// commands use to diff and prune what drover owns.
type ManifestEntry struct {
	// Kind is nomad-job, a Consul config entry kind (service-defaults, ...),
	// consul-catalog, vault-policy or vault-jwt-role.
	Kind string `json:"kind"`
	Name string `json:"name"`
	Path string `json:"path"`
	// App is empty for project-wide artifacts such as gateways.
	App  string `json:"app,omitempty"`
	Spec string `json:"spec,omitempty"`
	// WrittenBy is "nomad" for gateway config entries, which Nomad writes
	// from the gateway job, and "drover" for everything else.
	WrittenBy string `json:"written_by"`
	SHA256    string `json:"sha256"`
}

// Manifest is the content of manifest.json.
type Manifest struct {
	Project       string          `json:"project"`
	DroverVersion string          `json:"drover_version"`
	Artifacts     []ManifestEntry `json:"artifacts"`
}

// Artifact kinds that are not Consul config entry kinds.
const (
	KindNomadJob      = "nomad-job"
	KindCatalog       = "consul-catalog"
	KindVaultPolicy   = "vault-policy"
	KindVaultJWTRole  = "vault-jwt-role"
	ManifestFileName  = "manifest.json"
	writtenByDrover   = "drover"
	writtenByNomad    = "nomad"
	jsonIndent        = "  "
	nomadJobsDir      = "nomad"
	consulDir         = "consul"
	consulCatalogDir  = "consul/catalog"
	vaultPoliciesDir  = "vault/policy"
	vaultRolesDir     = "vault/role"
	nomadJobExtension = ".json"
)

// JobRegisterBody is what PUT /v1/jobs takes: the job under "Job".
type JobRegisterBody struct {
	Job *nomadapi.Job
}

// Files serializes every artifact in its native format, the way each
// system's own CLI or API takes it, plus manifest.json. The result is
// deterministic: same bundle, same bytes.
func (b *Bundle) Files(version string) ([]File, error) {
	files, manifest, err := b.serialize(version)
	if err != nil {
		return nil, err
	}
	data, err := marshalJSON(manifest)
	if err != nil {
		return nil, fmt.Errorf("encode manifest: %w", err)
	}
	return append(files, File{Path: ManifestFileName, Data: data}), nil
}

// serialize encodes every artifact and indexes it in a manifest.
func (b *Bundle) serialize(version string) ([]File, Manifest, error) {
	var files []File
	manifest := Manifest{Project: b.Project, DroverVersion: version, Artifacts: []ManifestEntry{}}
	add := func(kind, name, p string, owner Owner, writtenBy string, data []byte) {
		sum := sha256.Sum256(data)
		files = append(files, File{Path: p, Data: data})
		manifest.Artifacts = append(manifest.Artifacts, ManifestEntry{
			Kind: kind, Name: name, Path: p, App: owner.App, Spec: owner.Spec, WrittenBy: writtenBy, SHA256: hex.EncodeToString(sum[:]),
		})
	}
	for _, j := range b.Jobs {
		data, err := marshalJSON(JobRegisterBody{Job: j.Job})
		if err != nil {
			return nil, manifest, fmt.Errorf("encode nomad job %q: %w", j.ID(), err)
		}
		add(KindNomadJob, j.ID(), path.Join(nomadJobsDir, j.ID()+nomadJobExtension), j.Owner, writtenByDrover, data)
	}
	for _, ce := range b.ConfigEntries {
		data, err := marshalJSON(ce.Entry)
		if err != nil {
			return nil, manifest, fmt.Errorf("encode consul %s %q: %w", ce.Kind(), ce.Name(), err)
		}
		by := writtenByDrover
		if ce.WrittenByNomad {
			by = writtenByNomad
		}
		add(ce.Kind(), ce.Name(), path.Join(consulDir, ce.Kind(), ce.Name()+".json"), ce.Owner, by, data)
	}
	for _, reg := range b.Registrations {
		data, err := marshalJSON(reg.Registration)
		if err != nil {
			return nil, manifest, fmt.Errorf("encode catalog registration %q: %w", reg.Registration.Node, err)
		}
		name := reg.Registration.Service.Service
		add(KindCatalog, name, path.Join(consulCatalogDir, name+".json"), reg.Owner, writtenByDrover, data)
	}
	for _, p := range b.VaultPolicies {
		add(KindVaultPolicy, p.Name, path.Join(vaultPoliciesDir, p.Name+".hcl"), p.Owner, writtenByDrover, []byte(p.Policy))
	}
	for _, r := range b.VaultRoles {
		data, err := marshalJSON(r.Data)
		if err != nil {
			return nil, manifest, fmt.Errorf("encode vault role %q: %w", r.Name, err)
		}
		add(KindVaultJWTRole, r.Name, path.Join(vaultRolesDir, r.Name+".json"), r.Owner, writtenByDrover, data)
	}
	return files, manifest, nil
}

// marshalJSON encodes v indented, without HTML escaping (templates contain
// '<' and '&' that should stay readable), ending in a newline.
func marshalJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", jsonIndent)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Document is the whole bundle as one JSON document, for `render --format
// json` to stdout.
type Document struct {
	Project       string          `json:"project"`
	DroverVersion string          `json:"drover_version"`
	Jobs          []any           `json:"nomad_jobs"`
	ConfigEntries []any           `json:"consul_config_entries"`
	Registrations []any           `json:"consul_catalog_registrations"`
	VaultPolicies []DocumentText  `json:"vault_policies"`
	VaultRoles    []DocumentRole  `json:"vault_jwt_roles"`
	Manifest      []ManifestEntry `json:"manifest"`
}

// DocumentText is a named text artifact.
type DocumentText struct {
	Name string `json:"name"`
	Text string `json:"policy"`
}

// DocumentRole is a Vault role with its API path.
type DocumentRole struct {
	Name string         `json:"name"`
	Path string         `json:"path"`
	Data map[string]any `json:"data"`
}

// JSON returns the bundle as one indented JSON document.
func (b *Bundle) JSON(version string) ([]byte, error) {
	_, manifest, err := b.serialize(version)
	if err != nil {
		return nil, err
	}
	doc := Document{Project: b.Project, DroverVersion: version, Jobs: []any{}, ConfigEntries: []any{}, Registrations: []any{},
		VaultPolicies: []DocumentText{}, VaultRoles: []DocumentRole{}, Manifest: manifest.Artifacts}
	for _, j := range b.Jobs {
		doc.Jobs = append(doc.Jobs, JobRegisterBody{Job: j.Job})
	}
	for _, ce := range b.ConfigEntries {
		doc.ConfigEntries = append(doc.ConfigEntries, ce.Entry)
	}
	for _, r := range b.Registrations {
		doc.Registrations = append(doc.Registrations, r.Registration)
	}
	for _, p := range b.VaultPolicies {
		doc.VaultPolicies = append(doc.VaultPolicies, DocumentText{Name: p.Name, Text: p.Policy})
	}
	for _, r := range b.VaultRoles {
		doc.VaultRoles = append(doc.VaultRoles, DocumentRole{Name: r.Name, Path: r.Path(), Data: r.Data})
	}
	return marshalJSON(doc)
}
