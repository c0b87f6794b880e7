package devenv

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

const (
	stateFile = "devenv.json"
	tokenFile = "vault-token"
	lockName  = "lock"
)

// state is what Up records in StateDir/devenv.json for Status and Down.
type state struct {
	Ports Ports `json:"ports"`
	// Binaries maps agent name to the absolute binary path it was started
	// with; Down signals a pid only when its command line names it.
	Binaries map[string]string `json:"binaries"`
	// NomadTmp is the TMPDIR of the running Nomad (its client data and
	// allocation directories), fresh for each start; empty when Nomad uses
	// the system's.
	NomadTmp string `json:"nomad_tmp,omitempty"`
}

func pidPath(dir, name string) string { return filepath.Join(dir, name+".pid") }
func logPath(dir, name string) string { return filepath.Join(dir, name+".log") }

// readState reads StateDir/devenv.json; a missing file is an error wrapping
// fs.ErrNotExist.
func readState(dir string) (*state, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s state
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

func writeState(dir string, s *state) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, stateFile), append(b, '\n'), 0o600)
}

// readPid returns the pid in name's pid file; 0 and nil when there is none.
func readPid(dir, name string) (int, error) {
	b, err := os.ReadFile(pidPath(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 {
		return 0, fmt.Errorf("%s: not a pid: %q", pidPath(dir, name), strings.TrimSpace(string(b)))
	}
	return pid, nil
}

func writePid(dir, name string, pid int) error {
	return writeFileAtomic(pidPath(dir, name), []byte(strconv.Itoa(pid)+"\n"), 0o644)
}

func removePid(dir, name string) error {
	if err := os.Remove(pidPath(dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// rootToken returns the Vault root token kept in StateDir/vault-token,
// creating a random one (mode 0600) when there is none. Reusing it keeps
// the token exported in a shell valid across restarts of the dev server.
func rootToken(dir string) (string, error) {
	p := filepath.Join(dir, tokenFile)
	b, err := os.ReadFile(p)
	switch {
	case err == nil && strings.TrimSpace(string(b)) != "":
		if err := os.Chmod(p, 0o600); err != nil {
			return "", err
		}
		return strings.TrimSpace(string(b)), nil
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return "", err
	}
	tok := "drover-dev-" + rand.Text() // no "." : Vault refuses it in custom token IDs
	if err := writeFileAtomic(p, []byte(tok+"\n"), 0o600); err != nil {
		return "", err
	}
	return tok, nil
}

// readToken returns the token in StateDir/vault-token, or "".
func readToken(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, tokenFile))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// writeFileAtomic writes data to a temporary file next to p, then renames
// it over p, so readers never see a half-written file.
func writeFileAtomic(p string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp, perm)); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, p); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}
