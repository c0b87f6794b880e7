package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Secret is a credential. Its String, GoString, MarshalJSON and LogValue
// methods show only whether it is set, so a token cannot leak into output
// or logs by accident; Reveal returns the value for the one place that
// sends it.
type Secret string

const redacted = "<redacted>"

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// GoString hides the value from %#v too.
func (s Secret) GoString() string { return fmt.Sprintf("config.Secret(%q)", s.String()) }

// MarshalJSON encodes the redacted form.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(strconv.Quote(s.String())), nil }

// LogValue implements slog.LogValuer.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Reveal returns the credential itself.
func (s Secret) Reveal() string { return string(s) }

// TLS are the TLS settings of one endpoint.
type TLS struct {
	CACert     string `json:"ca_cert,omitempty"`
	CAPath     string `json:"ca_path,omitempty"`
	ClientCert string `json:"client_cert,omitempty"`
	ClientKey  string `json:"client_key,omitempty"`
	ServerName string `json:"tls_server_name,omitempty"`
	SkipVerify bool   `json:"skip_verify,omitempty"`
}

// Endpoint is how to reach one system.
type Endpoint struct {
	Address   string `json:"address"`
	Token     Secret `json:"token,omitempty"`
	Namespace string `json:"namespace,omitempty"`
	// Region is Nomad's region; Datacenter is Consul's.
	Region     string `json:"region,omitempty"`
	Datacenter string `json:"datacenter,omitempty"`
	TLS        TLS    `json:"tls"`
}

// Config is how drover reaches the three systems.
type Config struct {
	Nomad  Endpoint `json:"nomad"`
	Consul Endpoint `json:"consul"`
	Vault  Endpoint `json:"vault"`
	// Sources says where each setting came from, for `drover config`-style
	// explanations and error messages ("NOMAD_ADDR", "flag --nomad-addr").
	Sources map[string]string `json:"sources,omitempty"`
}

// Defaults are the addresses each system's own CLI assumes.
func Defaults() Config {
	return Config{
		Nomad:   Endpoint{Address: "http://127.0.0.1:4646"},
		Consul:  Endpoint{Address: "http://127.0.0.1:8500"},
		Vault:   Endpoint{Address: "https://127.0.0.1:8200"},
		Sources: map[string]string{"nomad.address": "default", "consul.address": "default", "vault.address": "default"},
	}
}

// Flags are command-line overrides; empty fields override nothing.
type Flags struct {
	NomadAddr, NomadNamespace, NomadRegion string
	NomadToken                             Secret
	ConsulAddr, ConsulNamespace            string
	ConsulToken                            Secret
	VaultAddr, VaultNamespace              string
	VaultToken                             Secret
	NomadCACert, ConsulCACert, VaultCACert string
	NomadSkipVerify, ConsulSkipVerify      bool
	VaultSkipVerify                        bool
}

// LoadOptions are the layers to combine.
type LoadOptions struct {
	// File is a config file; "" means $DROVER_CONFIG, else
	// ~/.config/drover/config.hcl when it exists.
	File string
	// Getenv is the environment: the variables each system's CLI reads,
	// and HOME, for ~/.config/drover/config.hcl and ~/.vault-token. Nil
	// is an empty environment (and so no home directory).
	Getenv func(string) string
	Flags  Flags
}

// Load combines defaults < file < environment < flags.
func Load(opts LoadOptions) (Config, error) {
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	c := Defaults()
	file := opts.File
	if file == "" {
		file = getenv("DROVER_CONFIG")
	}
	explicit := file != ""
	if home := homeDir(getenv); file == "" && home != "" {
		file = filepath.Join(home, ".config", "drover", "config.hcl")
	}
	if file != "" {
		if _, err := os.Stat(file); err == nil || explicit {
			if err := c.applyFile(file); err != nil {
				return c, err
			}
		}
	}
	if err := c.applyEnv(getenv); err != nil {
		return c, err
	}
	c.applyFlags(opts.Flags)
	c.Nomad.Address = withScheme(c.Nomad.Address, "http")
	c.Consul.Address = withScheme(c.Consul.Address, "http")
	c.Vault.Address = withScheme(c.Vault.Address, "https")
	return c, nil
}

// homeDir is the user's home directory as the environment names it (HOME,
// or USERPROFILE on Windows), like os.UserHomeDir but from getenv; "" when
// unset.
func homeDir(getenv func(string) string) string {
	if runtime.GOOS == "windows" {
		return getenv("USERPROFILE")
	}
	return getenv("HOME")
}

// withScheme adds a scheme to a bare host:port, as CONSUL_HTTP_ADDR often is.
func withScheme(addr, def string) string {
	if addr == "" || strings.Contains(addr, "://") {
		return addr
	}
	return def + "://" + addr
}

// endpointSchema is the body of a nomad, consul or vault block of the
// config file. (An explicit schema, not gohcl: gohcl's dependencies cost
// every drover start time.)
var endpointSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "address"}, {Name: "token"}, {Name: "namespace"}, {Name: "region"}, {Name: "datacenter"},
	{Name: "ca_cert"}, {Name: "ca_path"}, {Name: "client_cert"}, {Name: "client_key"},
	{Name: "tls_server_name"}, {Name: "skip_verify"},
}}

var fileSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{{Type: "nomad"}, {Type: "consul"}, {Type: "vault"}}}

func (c *Config) applyFile(path string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	f, diags := hclsyntax.ParseConfig(src, path, hcl.InitialPos)
	if diags.HasErrors() {
		return fmt.Errorf("config file %s: %s", path, diags.Error())
	}
	content, diags := f.Body.Content(fileSchema)
	if diags.HasErrors() {
		return fmt.Errorf("config file %s: %s", path, diags.Error())
	}
	src2 := "file " + path
	for _, b := range content.Blocks {
		e := map[string]*Endpoint{"nomad": &c.Nomad, "consul": &c.Consul, "vault": &c.Vault}[b.Type]
		body, diags := b.Body.Content(endpointSchema)
		if diags.HasErrors() {
			return fmt.Errorf("config file %s: %s", path, diags.Error())
		}
		for name, attr := range body.Attributes {
			v, diags := attr.Expr.Value(nil)
			if diags.HasErrors() {
				return fmt.Errorf("config file %s: %s", path, diags.Error())
			}
			setting := b.Type + "." + name
			if name == "skip_verify" {
				if v.Type() != cty.Bool || v.IsNull() {
					return fmt.Errorf("config file %s: %s must be true or false", path, setting)
				}
				e.TLS.SkipVerify = v.True()
				continue
			}
			if v.Type() != cty.String || v.IsNull() {
				return fmt.Errorf("config file %s: %s must be a string", path, setting)
			}
			str := v.AsString()
			switch name {
			case "token":
				c.setSecret(setting, &e.Token, Secret(str), src2)
			default:
				dst := map[string]*string{
					"address": &e.Address, "namespace": &e.Namespace, "region": &e.Region, "datacenter": &e.Datacenter,
					"ca_cert": &e.TLS.CACert, "ca_path": &e.TLS.CAPath, "client_cert": &e.TLS.ClientCert,
					"client_key": &e.TLS.ClientKey, "tls_server_name": &e.TLS.ServerName,
				}[name]
				c.set(setting, dst, str, src2)
			}
		}
	}
	return nil
}

// applyEnv reads the variables each system's own CLI reads.
func (c *Config) applyEnv(getenv func(string) string) error {
	env := func(key string) (string, string) { return getenv(key), key }
	type binding struct {
		setting string
		dst     *string
		key     string
	}
	for _, b := range []binding{
		{"nomad.address", &c.Nomad.Address, "NOMAD_ADDR"},
		{"nomad.namespace", &c.Nomad.Namespace, "NOMAD_NAMESPACE"},
		{"nomad.region", &c.Nomad.Region, "NOMAD_REGION"},
		{"nomad.ca_cert", &c.Nomad.TLS.CACert, "NOMAD_CACERT"},
		{"nomad.ca_path", &c.Nomad.TLS.CAPath, "NOMAD_CAPATH"},
		{"nomad.client_cert", &c.Nomad.TLS.ClientCert, "NOMAD_CLIENT_CERT"},
		{"nomad.client_key", &c.Nomad.TLS.ClientKey, "NOMAD_CLIENT_KEY"},
		{"nomad.tls_server_name", &c.Nomad.TLS.ServerName, "NOMAD_TLS_SERVER_NAME"},
		{"consul.address", &c.Consul.Address, "CONSUL_HTTP_ADDR"},
		{"consul.namespace", &c.Consul.Namespace, "CONSUL_NAMESPACE"},
		{"consul.ca_cert", &c.Consul.TLS.CACert, "CONSUL_CACERT"},
		{"consul.ca_path", &c.Consul.TLS.CAPath, "CONSUL_CAPATH"},
		{"consul.client_cert", &c.Consul.TLS.ClientCert, "CONSUL_CLIENT_CERT"},
		{"consul.client_key", &c.Consul.TLS.ClientKey, "CONSUL_CLIENT_KEY"},
		{"consul.tls_server_name", &c.Consul.TLS.ServerName, "CONSUL_TLS_SERVER_NAME"},
		{"vault.address", &c.Vault.Address, "VAULT_ADDR"},
		{"vault.namespace", &c.Vault.Namespace, "VAULT_NAMESPACE"},
		{"vault.ca_cert", &c.Vault.TLS.CACert, "VAULT_CACERT"},
		{"vault.ca_path", &c.Vault.TLS.CAPath, "VAULT_CAPATH"},
		{"vault.client_cert", &c.Vault.TLS.ClientCert, "VAULT_CLIENT_CERT"},
		{"vault.client_key", &c.Vault.TLS.ClientKey, "VAULT_CLIENT_KEY"},
		{"vault.tls_server_name", &c.Vault.TLS.ServerName, "VAULT_TLS_SERVER_NAME"},
	} {
		v, key := env(b.key)
		c.set(b.setting, b.dst, v, key)
	}
	c.setSecret("nomad.token", &c.Nomad.Token, Secret(getenv("NOMAD_TOKEN")), "NOMAD_TOKEN")
	c.setSecret("consul.token", &c.Consul.Token, Secret(getenv("CONSUL_HTTP_TOKEN")), "CONSUL_HTTP_TOKEN")
	if c.Consul.Token == "" {
		if path := getenv("CONSUL_HTTP_TOKEN_FILE"); path != "" {
			data, err := os.ReadFile(path)
			if err != nil {
				return fmt.Errorf("CONSUL_HTTP_TOKEN_FILE: %w", err)
			}
			c.setSecret("consul.token", &c.Consul.Token, Secret(strings.TrimSpace(string(data))), "CONSUL_HTTP_TOKEN_FILE")
		}
	}
	c.setSecret("vault.token", &c.Vault.Token, Secret(getenv("VAULT_TOKEN")), "VAULT_TOKEN")
	if c.Vault.Token == "" {
		// The Vault CLI's token helper file, as `vault login` leaves it.
		if home := homeDir(getenv); home != "" {
			if data, err := os.ReadFile(filepath.Join(home, ".vault-token")); err == nil {
				c.setSecret("vault.token", &c.Vault.Token, Secret(strings.TrimSpace(string(data))), "~/.vault-token")
			}
		}
	}
	// Consul's scheme and verification switches.
	if v := getenv("CONSUL_HTTP_SSL"); v != "" {
		if on, err := strconv.ParseBool(v); err == nil && on && !strings.Contains(c.Consul.Address, "://") {
			c.Consul.Address = "https://" + c.Consul.Address
		}
	}
	for key, dst := range map[string]*bool{"NOMAD_SKIP_VERIFY": &c.Nomad.TLS.SkipVerify, "VAULT_SKIP_VERIFY": &c.Vault.TLS.SkipVerify} {
		if v := getenv(key); v != "" {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%s=%q is not a boolean", key, v)
			}
			*dst = b
		}
	}
	if v := getenv("CONSUL_HTTP_SSL_VERIFY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("CONSUL_HTTP_SSL_VERIFY=%q is not a boolean", v)
		}
		c.Consul.TLS.SkipVerify = !b
	}
	return nil
}

func (c *Config) applyFlags(f Flags) {
	c.set("nomad.address", &c.Nomad.Address, f.NomadAddr, "flag --nomad-addr")
	c.set("nomad.namespace", &c.Nomad.Namespace, f.NomadNamespace, "flag --nomad-namespace")
	c.set("nomad.region", &c.Nomad.Region, f.NomadRegion, "flag --nomad-region")
	c.setSecret("nomad.token", &c.Nomad.Token, f.NomadToken, "flag --nomad-token")
	c.set("nomad.ca_cert", &c.Nomad.TLS.CACert, f.NomadCACert, "flag --nomad-ca-cert")
	c.set("consul.address", &c.Consul.Address, f.ConsulAddr, "flag --consul-addr")
	c.set("consul.namespace", &c.Consul.Namespace, f.ConsulNamespace, "flag --consul-namespace")
	c.setSecret("consul.token", &c.Consul.Token, f.ConsulToken, "flag --consul-token")
	c.set("consul.ca_cert", &c.Consul.TLS.CACert, f.ConsulCACert, "flag --consul-ca-cert")
	c.set("vault.address", &c.Vault.Address, f.VaultAddr, "flag --vault-addr")
	c.set("vault.namespace", &c.Vault.Namespace, f.VaultNamespace, "flag --vault-namespace")
	c.setSecret("vault.token", &c.Vault.Token, f.VaultToken, "flag --vault-token")
	c.set("vault.ca_cert", &c.Vault.TLS.CACert, f.VaultCACert, "flag --vault-ca-cert")
	if f.NomadSkipVerify {
		c.Nomad.TLS.SkipVerify = true
	}
	if f.ConsulSkipVerify {
		c.Consul.TLS.SkipVerify = true
	}
	if f.VaultSkipVerify {
		c.Vault.TLS.SkipVerify = true
	}
}

func (c *Config) set(setting string, dst *string, value, source string) {
	if value == "" {
		return
	}
	*dst = value
	if c.Sources == nil {
		c.Sources = map[string]string{}
	}
	c.Sources[setting] = source
}

func (c *Config) setSecret(setting string, dst *Secret, value Secret, source string) {
	if value == "" {
		return
	}
	*dst = value
	if c.Sources == nil {
		c.Sources = map[string]string{}
	}
	c.Sources[setting] = source
}
