package nomadfake

import (
	"fmt"
	"net/http"
	"regexp"
	"time"
)

type varKey struct{ ns, path string }

type variable struct {
	ns, path                 string
	items                    map[string]string
	lock                     *varLock
	createIndex, modifyIndex uint64
	createTime, modifyTime   int64
}

// varLock is a lock held on a variable. Nomad's server lets a holder renew
// until twice the TTL after the last acquire or renew (expires), then keeps
// the lock for LockDelay more before removing it (releaseAt):
//
//	free ─ acquire ─> held ─ renew before expires ─> held
//	                   │ ╰─ release by the holder ─> free
//	                   ╰─ expires (or ExpireLockTTL) ─> lingering: renew and
//	                        others' acquire get 409 ─ releaseAt (or ExpireLock) ─> free
type varLock struct {
	id         string
	ttl, delay time.Duration
	expires    time.Time
	releaseAt  time.Time
	timer      *time.Timer
}

// Lock limits and defaults from nomad/structs/variables.go.
const (
	minLockTTL       = 10 * time.Second
	maxLockTTL       = 24 * time.Hour
	defaultLockTTL   = 15 * time.Second
	defaultLockDelay = 15 * time.Second
)

var validVariablePath = regexp.MustCompile("^[a-zA-Z0-9-_~/]{1,128}$")

// Nomad's variable errors (nomad/variables_endpoint.go and the state store).
const (
	errVarNotFound     = "variable doesn't exist"
	errLockNotFound    = "variable doesn't hold a lock"
	errVarIsLocked     = "attempting to modify locked variable"
	errMissingLockInfo = "missing lock information"
	errItemsOnRelease  = "lock release operation doesn't take variable items"
)

// wireVariable is structs.VariableDecrypted as the agent encodes it.
type wireVariable struct {
	Namespace   string
	Path        string
	Lock        *wireLock `json:",omitempty"`
	CreateIndex uint64
	CreateTime  int64
	ModifyIndex uint64
	ModifyTime  int64
	Items       map[string]string `json:",omitempty"`
}

// wireLock is structs.VariableLock: durations travel as strings.
type wireLock struct {
	ID        string
	TTL       string
	LockDelay string
}

// inVariable is a variable as a client sends it; TTL and LockDelay may be
// duration strings or nanoseconds, as VariableLock.UnmarshalJSON accepts.
type inVariable struct {
	Namespace string
	Path      string
	Items     map[string]string
	Lock      *struct {
		ID        string
		TTL       any
		LockDelay any
	}
}

func parseDuration(v any) (time.Duration, error) {
	switch d := v.(type) {
	case nil:
		return 0, nil
	case string:
		if d == "" {
			return 0, nil
		}
		return time.ParseDuration(d)
	case float64:
		return time.Duration(d), nil
	}
	return 0, fmt.Errorf("invalid duration %v", v)
}

func (v *variable) wire(withItems bool) wireVariable {
	out := wireVariable{
		Namespace: v.ns, Path: v.path,
		CreateIndex: v.createIndex, CreateTime: v.createTime,
		ModifyIndex: v.modifyIndex, ModifyTime: v.modifyTime,
	}
	if withItems {
		out.Items = v.items
	}
	if l := v.lock; l != nil {
		out.Lock = &wireLock{ID: l.id, TTL: l.ttl.String(), LockDelay: l.delay.String()}
		if l.delay == 0 {
			out.Lock.LockDelay = ""
		}
	}
	return out
}

// conflict is the zero-valued variable Nomad sends with a 409.
func conflict(ns, path string, withLock bool) wireVariable {
	out := wireVariable{Namespace: ns, Path: path}
	if withLock {
		out.Lock = &wireLock{TTL: "0s"}
	}
	return out
}

// expireLocks removes the locks whose delay has run out, as the server's
// TTL timers do. The caller holds s.mu.
func (s *Server) expireLocks() {
	now := s.now()
	for _, v := range s.vars {
		if l := v.lock; l != nil && !now.Before(l.releaseAt) {
			s.dropLock(v)
		}
	}
}

func (s *Server) dropLock(v *variable) {
	if v.lock.timer != nil {
		v.lock.timer.Stop()
	}
	v.lock = nil
	v.modifyIndex = s.bump(tableVariables)
	v.modifyTime = s.now().UnixNano()
}

// armLock (re)starts the real-time timer that removes an expired lock, so
// that blocked readers see it go without another request.
func (s *Server) armLock(l *varLock) {
	if l.timer != nil {
		l.timer.Stop()
	}
	l.timer = time.AfterFunc(time.Until(l.releaseAt), func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.raft.Closed() {
			s.expireLocks()
		}
	})
}

// variableSpecific serves the lock operations on /v1/var/:path (what the
// client's Locks sends) and DELETE. Reads, plain writes and check-and-set
// are not modelled: drover only locks.
func (s *Server) variableSpecific(w http.ResponseWriter, r *http.Request, body []byte, path string) {
	if path == "" {
		s.writeError(w, http.StatusBadRequest, "missing variable path")
		return
	}
	v := r.URL.Query()
	switch r.Method {
	case http.MethodPut, http.MethodPost:
		var ops []string
		for _, op := range []string{"lock-renew", "lock-acquire", "lock-release"} {
			if _, ok := v[op]; ok {
				ops = append(ops, op)
			}
		}
		if len(ops) > 1 {
			s.writeError(w, http.StatusBadRequest, "multiple lock operations")
			return
		}
		if len(ops) == 0 || v.Get("cas") != "" {
			s.writeError(w, http.StatusNotImplemented, "nomadfake: only lock operations write variables")
			return
		}
		var in inVariable
		if err := decodeBody(body, &in); err != nil {
			s.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		switch ops[0] {
		case "lock-renew":
			s.variableLockRenew(w, r, path, in)
		case "lock-acquire":
			s.variableLockAcquire(w, r, path, in)
		default:
			s.variableLockRelease(w, r, path, in)
		}
	case http.MethodDelete:
		if v.Get("cas") != "" {
			s.writeError(w, http.StatusNotImplemented, "nomadfake: check-and-set deletes are not modelled")
			return
		}
		s.variableDelete(w, r, path)
	default:
		s.writeError(w, http.StatusNotImplemented, "nomadfake: only lock operations and DELETE are served on variables")
	}
}

// variableDelete deletes a variable, lock or not (as a management token
// may); deleting a missing variable succeeds.
func (s *Server) variableDelete(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := varKey{namespace(r), path}
	idx := s.raft.Current()
	if v := s.vars[key]; v != nil {
		if v.lock != nil && v.lock.timer != nil {
			v.lock.timer.Stop()
		}
		delete(s.vars, key)
		idx = s.bump(tableVariables)
	}
	s.setMeta(w, idx)
	w.WriteHeader(http.StatusNoContent)
}

func validatePath(path string) string {
	if !validVariablePath.MatchString(path) {
		return fmt.Sprintf("invalid path %q", path)
	}
	return ""
}

// badVariable is how a validation error reaches the client: coded twice
// on the way (canonicalizeAndValidate, then Apply), so one prefix remains.
func (s *Server) badVariable(w http.ResponseWriter, msg string) {
	s.writeError(w, http.StatusBadRequest, "RPC Error:: 400,"+msg)
}

func (s *Server) variableLockAcquire(w http.ResponseWriter, r *http.Request, path string, in inVariable) {
	id := ""
	var ttl, delay time.Duration
	var errs []string
	if in.Lock != nil {
		id = in.Lock.ID
		var err error
		if ttl, err = parseDuration(in.Lock.TTL); err != nil {
			s.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		if delay, err = parseDuration(in.Lock.LockDelay); err != nil {
			s.writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	if ttl == 0 {
		ttl = defaultLockTTL
	}
	if delay == 0 {
		delay = defaultLockDelay
	}
	if msg := validatePath(path); msg != "" {
		s.badVariable(w, msg)
		return
	}
	if ttl < 0 || delay < 0 {
		errs = append(errs, "Lock delay and TTL must be positive")
	}
	if ttl > maxLockTTL || ttl < minLockTTL {
		errs = append(errs, "TTL must be between 10 seconds and 24 hours")
	}
	if len(errs) > 0 {
		s.badVariable(w, multiError(errs))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocks()
	key := varKey{namespace(r), path}
	v := s.vars[key]
	if v != nil && v.lock != nil && v.lock.id != id {
		s.writeJSONStatus(w, http.StatusConflict, s.raft.Current(), conflict(key.ns, path, false))
		return
	}
	idx := s.bump(tableVariables)
	now := s.now()
	if v == nil {
		v = &variable{ns: key.ns, path: path, createIndex: idx, createTime: now.UnixNano()}
		s.vars[key] = v
	}
	if id == "" {
		id = uuid()
	}
	v.items = copyItems(in.Items)
	v.modifyIndex, v.modifyTime = idx, now.UnixNano()
	if v.lock == nil {
		// A holder re-acquiring keeps its timer; Nomad does not reset it.
		v.lock = &varLock{id: id, ttl: ttl, delay: delay, expires: now.Add(2 * ttl), releaseAt: now.Add(2*ttl + delay)}
		s.armLock(v.lock)
	}
	s.writeJSON(w, idx, v.wire(true))
}

func (s *Server) variableLockRenew(w http.ResponseWriter, r *http.Request, path string, in inVariable) {
	id := ""
	if in.Lock != nil {
		id = in.Lock.ID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocks()
	if id == "" {
		// VariablesRenewLockRequest.Validate returns an uncoded error.
		s.writeError(w, http.StatusInternalServerError, multiError([]string{"missing lock ID"}))
		return
	}
	v := s.vars[varKey{namespace(r), path}]
	switch {
	case v == nil:
		s.writeError(w, http.StatusNotFound, errVarNotFound)
		return
	case v.lock == nil:
		s.writeError(w, http.StatusConflict, errLockNotFound)
		return
	case v.lock.id != id, !s.now().Before(v.lock.expires):
		// A lock past its TTL lingers for LockDelay but can no longer be renewed.
		s.writeError(w, http.StatusConflict, errVarIsLocked)
		return
	}
	now := s.now()
	v.lock.expires, v.lock.releaseAt = now.Add(2*v.lock.ttl), now.Add(2*v.lock.ttl+v.lock.delay)
	s.armLock(v.lock)
	out := v.wire(false)
	s.writeJSON(w, v.modifyIndex, out)
}

func (s *Server) variableLockRelease(w http.ResponseWriter, r *http.Request, path string, in inVariable) {
	if in.Lock == nil || in.Lock.ID == "" {
		s.writeError(w, http.StatusBadRequest, "RPC Error:: 400,"+errMissingLockInfo)
		return
	}
	if in.Items != nil {
		s.writeError(w, http.StatusBadRequest, "RPC Error:: 400,"+errItemsOnRelease)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocks()
	key := varKey{namespace(r), path}
	v := s.vars[key]
	switch {
	// The state store's errors, uncoded (unlike renew's).
	case v == nil:
		s.writeError(w, http.StatusInternalServerError, errVarNotFound)
		return
	case v.lock == nil:
		s.writeError(w, http.StatusInternalServerError, errLockNotFound)
		return
	case v.lock.id != in.Lock.ID:
		s.writeJSONStatus(w, http.StatusConflict, s.raft.Current(), conflict(key.ns, path, true))
		return
	}
	s.dropLock(v)
	s.writeJSON(w, v.modifyIndex, v.wire(true))
}

func copyItems(in map[string]string) map[string]string {
	if in == nil {
		return nil
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// ---- test helpers ----

// VariableLock describes the lock on a variable, for assertions.
type VariableLock struct {
	ID        string
	TTL       time.Duration
	LockDelay time.Duration
}

// LockHolder returns the lock on a variable in the default namespace, or
// nil when it is not locked.
func (s *Server) LockHolder(path string) *VariableLock {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.expireLocks()
	v := s.vars[varKey{"default", path}]
	if v == nil || v.lock == nil {
		return nil
	}
	return &VariableLock{ID: v.lock.id, TTL: v.lock.ttl, LockDelay: v.lock.delay}
}

// ExpireLock makes the lock on a variable expire, TTL and lock delay
// both, as if its holder had stopped renewing long ago.
func (s *Server) ExpireLock(path string) {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	v := s.vars[varKey{"default", path}]
	if v == nil || v.lock == nil {
		s.t.Fatalf("nomadfake: ExpireLock: variable %q holds no lock", path)
		return
	}
	s.dropLock(v)
}
