package app

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/drover-io/drover/pkg/spec"
	"github.com/drover-io/drover/templates"
)

// InitOptions say which starter to write, for which app, where.
type InitOptions struct {
	Name     string
	Template string
	// Dir is where <name>.hcl is written.
	Dir string
	// Force overwrites an existing file.
	Force bool
}

// ErrExists is returned when init would overwrite a file without Force.
var ErrExists = errors.New("file exists")

// Init writes a starter spec for a new app and returns its path. Every
// starter is a valid spec (a test proves it for each), so init never leaves
// a broken one.
func Init(opts InitOptions) (string, error) {
	if !spec.ValidName(opts.Name) {
		return "", fmt.Errorf("invalid app name %q: %s", opts.Name, spec.NameRule)
	}
	data, err := templates.Render(opts.Template, opts.Name)
	if err != nil {
		return "", err
	}
	path := filepath.Join(opts.Dir, opts.Name+".hcl")
	if _, err := os.Stat(path); err == nil && !opts.Force {
		return "", fmt.Errorf("%s: %w; pass --force to overwrite it", path, ErrExists)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.MkdirAll(opts.Dir, 0o755); err != nil {
		return "", err
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		return "", err
	}
	return path, nil
}
