package render

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"

	nomadapi "github.com/hashicorp/nomad/api"

	"github.com/drover-io/drover/internal/parallel"
)

// File is one rendered file: a path relative to the output directory and
// its contents.
type File struct {
	Path string
	Data []byte
	// SHA256 is the checksum of Data, as manifest.json records it.
	SHA256 [sha256.Size]byte
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
	data := encodeManifest(manifest)
	return append(files, File{Path: ManifestFileName, Data: data, SHA256: sha256.Sum256(data)}), nil
}

// serialize encodes every artifact and indexes it in a manifest.
func (b *Bundle) serialize(version string) ([]File, Manifest, error) {
	type pending struct {
		kind, name, path, writtenBy string
		owner                       Owner
		encode                      func() ([]byte, error)
	}
	var items []pending
	for _, j := range b.Jobs {
		items = append(items, pending{KindNomadJob, j.ID(), path.Join(nomadJobsDir, j.ID()+nomadJobExtension), writtenByDrover, j.Owner,
			func() ([]byte, error) { return marshalJSON(JobRegisterBody{Job: j.Job}) }})
	}
	for _, ce := range b.ConfigEntries {
		by := writtenByDrover
		if ce.WrittenByNomad {
			by = writtenByNomad
		}
		items = append(items, pending{ce.Kind(), ce.Name(), path.Join(consulDir, ce.Kind(), ce.Name()+".json"), by, ce.Owner,
			func() ([]byte, error) { return marshalJSON(ce.Entry) }})
	}
	for _, reg := range b.Registrations {
		name := reg.Registration.Service.Service
		items = append(items, pending{KindCatalog, name, path.Join(consulCatalogDir, name+".json"), writtenByDrover, reg.Owner,
			func() ([]byte, error) { return marshalJSON(reg.Registration) }})
	}
	for _, p := range b.VaultPolicies {
		items = append(items, pending{KindVaultPolicy, p.Name, path.Join(vaultPoliciesDir, p.Name+".hcl"), writtenByDrover, p.Owner,
			func() ([]byte, error) { return []byte(p.Policy), nil }})
	}
	for _, r := range b.VaultRoles {
		items = append(items, pending{KindVaultJWTRole, r.Name, path.Join(vaultRolesDir, r.Name+".json"), writtenByDrover, r.Owner,
			func() ([]byte, error) { return marshalJSON(r.Data) }})
	}

	// Encoding is most of the cost of writing a bundle; spread it over the
	// cores, keeping each result in its item's place.
	encoded := make([][]byte, len(items))
	errs := make([]error, len(items))
	parallel.ForEach(len(items), func(i int) { encoded[i], errs[i] = items[i].encode() })

	files := make([]File, 0, len(items))
	manifest := Manifest{Project: b.Project, DroverVersion: version, Artifacts: make([]ManifestEntry, 0, len(items))}
	for i, it := range items {
		if errs[i] != nil {
			return nil, manifest, fmt.Errorf("encode %s %q: %w", it.kind, it.name, errs[i])
		}
		sum := sha256.Sum256(encoded[i])
		files = append(files, File{Path: it.path, Data: encoded[i], SHA256: sum})
		manifest.Artifacts = append(manifest.Artifacts, ManifestEntry{
			Kind: it.kind, Name: it.name, Path: it.path, App: it.owner.App, Spec: it.owner.Spec, WrittenBy: it.writtenBy, SHA256: hex.EncodeToString(sum[:]),
		})
	}
	return files, manifest, nil
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
