package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"

	"github.com/drover-io/drover/internal/parallel"
	"github.com/drover-io/drover/pkg/apierr"
)

// Results of checking one secret.
const (
	SecretOK         = "ok"
	SecretMissing    = "missing-secret"
	SecretKeyMissing = "missing-key"
	SecretForbidden  = "permission-denied"
	SecretError      = "error"
)

// SecretCheck is the result for one secret reference of one task.
type SecretCheck struct {
	App    string `json:"app"`
	Task   string `json:"task"`
	Env    string `json:"env"`
	Path   string `json:"path"`
	Key    string `json:"key"`
	Status string `json:"status"`
	Detail string `json:"detail,omitempty"`
}

// SecretsResult is every check, and the problems with Vault itself. Its
// JSON form has only the checks and the problems: the diagnostics (and the
// parsed specs they point into) are not part of it.
type SecretsResult struct {
	Diagnostics `json:"-"`
	Checks      []SecretCheck `json:"checks"`
	// Problems are failures that affect every secret (the KV mount, the
	// JWT auth method).
	Problems []string `json:"problems"`
}

// OK reports whether every secret resolves.
func (r *SecretsResult) OK() bool {
	if len(r.Problems) > 0 {
		return false
	}
	for _, c := range r.Checks {
		if c.Status != SecretOK {
			return false
		}
	}
	return true
}

// ErrSecretsMissing is returned when some secret would not resolve at run
// time.
var ErrSecretsMissing = errors.New("some secrets would not resolve")

// CheckSecrets proves that every secret the selected specs reference
// exists in Vault with the key they name, that the KV mount is version 2,
// and that the JWT auth method the roles live under exists. It reads each
// secret once to see its keys and never returns, prints or logs a value.
func CheckSecrets(ctx context.Context, opts ClusterOptions) (res *SecretsResult, err error) {
	ctx, timedOut, cancel := opts.deadline(ctx)
	defer cancel()
	defer func() { err = timedOut(err, "checking secrets") }()
	l, d, err := opts.load()
	res = &SecretsResult{Diagnostics: d, Checks: []SecretCheck{}, Problems: []string{}}
	if err != nil {
		return res, err
	}
	c, err := opts.connect(ctx, l, systems{vault: true})
	if err != nil {
		return res, err
	}
	v := l.set.Project.Vault
	// Only a "not there" is a finding; any other failure (a refused token,
	// a lost connection) means the check could not be made.
	if ver, err := c.Vault.KVVersion(ctx, v.KVMount); errors.Is(err, apierr.ErrNotFound) {
		res.Problems = append(res.Problems, fmt.Sprintf("no KV secrets engine at %s/", v.KVMount))
	} else if err != nil {
		return res, err
	} else if ver != 2 {
		res.Problems = append(res.Problems, fmt.Sprintf("the KV secrets engine at %s/ is version %d; drover's templates read version 2", v.KVMount, ver))
	}
	if len(l.bundle.VaultRoles) > 0 {
		if typ, err := c.Vault.AuthMethod(ctx, v.AuthPath); errors.Is(err, apierr.ErrNotFound) {
			res.Problems = append(res.Problems, fmt.Sprintf("no auth method at auth/%s", v.AuthPath))
		} else if err != nil {
			return res, err
		} else if typ != "jwt" {
			res.Problems = append(res.Problems, fmt.Sprintf("the auth method at auth/%s is %s, not jwt", v.AuthPath, typ))
		}
	}
	for _, app := range l.set.Apps {
		if !l.set.Selected[app.Name] {
			continue
		}
		for _, t := range app.Tasks() {
			for _, s := range t.Secrets {
				res.Checks = append(res.Checks, SecretCheck{App: app.Name, Task: t.Name, Env: s.EnvName, Path: s.Path.V, Key: s.Key.V})
			}
		}
	}
	// Read each path once.
	paths := map[string]bool{}
	for _, ch := range res.Checks {
		paths[ch.Path] = true
	}
	unique := sortedKeys(paths)
	keys := make([][]string, len(unique))
	errs := make([]error, len(unique))
	parallel.ForEachLimit(len(unique), defaultWorkers, func(i int) {
		keys[i], errs[i] = c.Vault.SecretKeys(ctx, v.KVMount, unique[i])
	})
	byPath := map[string]int{}
	for i, p := range unique {
		byPath[p] = i
	}
	for i := range res.Checks {
		ch := &res.Checks[i]
		idx := byPath[ch.Path]
		switch err := errs[idx]; {
		case errors.Is(err, apierr.ErrNotFound):
			ch.Status, ch.Detail = SecretMissing, fmt.Sprintf("no secret at %s/data/%s", v.KVMount, ch.Path)
		case errors.Is(err, apierr.ErrPermission):
			ch.Status, ch.Detail = SecretForbidden, "drover's Vault token may not read it (the app's own role may still)"
		case err != nil:
			ch.Status, ch.Detail = SecretError, err.Error()
		case sort.SearchStrings(keys[idx], ch.Key) < len(keys[idx]) && keys[idx][sort.SearchStrings(keys[idx], ch.Key)] == ch.Key:
			ch.Status = SecretOK
		default:
			ch.Status, ch.Detail = SecretKeyMissing, fmt.Sprintf("the secret has no key %q (it has %d other key(s))", ch.Key, len(keys[idx]))
		}
	}
	if !res.OK() {
		return res, ErrSecretsMissing
	}
	return res, nil
}

// WriteSecrets prints the checks as a table. Values never appear: there are
// none to print.
func WriteSecrets(w io.Writer, r *SecretsResult) error {
	for _, p := range r.Problems {
		fmt.Fprintf(w, "problem: %s\n", p)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "APP\tTASK\tENV\tPATH\tKEY\tSTATUS")
	for _, c := range r.Checks {
		status := c.Status
		if c.Detail != "" {
			status += ": " + c.Detail
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", c.App, c.Task, c.Env, c.Path, c.Key, status)
	}
	return tw.Flush()
}
