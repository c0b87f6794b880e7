package devenv

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// candidates are the binary names tried for each agent, preferred first.
var candidates = map[string][]string{
	Nomad:  {"nomad"},
	Consul: {"consul"},
	Vault:  {"vault", "bao"},
}

// findBinaries resolves the binary of every agent: an explicit path from
// bin, else the first candidate name that lookPath finds. Paths are made
// absolute, because Down later recognises the agents by the path they were
// started with. Everything missing is reported at once.
func findBinaries(bin map[string]string, lookPath func(string) (string, error)) (map[string]string, error) {
	out := map[string]string{}
	missErr := &MissingBinariesError{}
	for name := range bin {
		if _, ok := candidates[name]; !ok {
			missErr.Errs = append(missErr.Errs, fmt.Errorf("unknown agent %q in Options.Bin (want %s, %s or %s)", name, Nomad, Consul, Vault))
		}
	}
	for _, name := range startOrder {
		if p, ok := bin[name]; ok {
			if err := checkExecutable(p); err != nil {
				missErr.Errs = append(missErr.Errs, fmt.Errorf("%s: %w", name, err))
				continue
			}
			out[name] = absPath(p)
			continue
		}
		found := false
		for _, c := range candidates[name] {
			p, err := lookPath(c)
			if err == nil && p != "" {
				out[name] = absPath(p)
				found = true
				break
			}
		}
		if !found {
			alts := candidates[name]
			desc := alts[0]
			if len(alts) > 1 {
				desc += " (or " + strings.Join(alts[1:], ", ") + ")"
			}
			missErr.Missing = append(missErr.Missing, desc)
		}
	}
	if len(missErr.Missing) > 0 || len(missErr.Errs) > 0 {
		missErr.Searched = filepath.SplitList(os.Getenv("PATH"))
		slices.SortFunc(missErr.Errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
		return nil, missErr
	}
	return out, nil
}

// checkExecutable reports whether p is an executable regular file.
func checkExecutable(p string) error {
	fi, err := os.Stat(p)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s is not an executable file", p)
	}
	return nil
}

func absPath(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}
