// Package templates holds the starter specs that `drover init` writes,
// embedded in the binary. Each starter is a complete, valid spec for an
// app named "myapp"; init replaces that name with the one the user picks.
package templates

import (
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.hcl
var files embed.FS

// Placeholder is the app name the starters use.
const Placeholder = "myapp"

// Names lists the starters, sorted.
func Names() []string {
	entries, _ := fs.ReadDir(files, ".")
	var out []string
	for _, e := range entries {
		out = append(out, strings.TrimSuffix(e.Name(), ".hcl"))
	}
	sort.Strings(out)
	return out
}

// Describe returns the first comment line of a starter, its summary.
func Describe(name string) string {
	data, err := files.ReadFile(name + ".hcl")
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(data), "\n")
	return strings.TrimSpace(strings.TrimPrefix(first, "#"))
}

// Render returns starter name with the placeholder replaced by app.
func Render(name, app string) ([]byte, error) {
	data, err := files.ReadFile(name + ".hcl")
	if err != nil {
		return nil, fmt.Errorf("no template named %q; the templates are %s", name, strings.Join(Names(), ", "))
	}
	return []byte(strings.ReplaceAll(string(data), Placeholder, app)), nil
}
