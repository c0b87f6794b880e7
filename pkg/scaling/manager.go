package scaling

import (
	"context"
	"log/slog"
	"reflect"
	"sort"
	"sync"
)

// PolicySource produces the current set of policies, again whenever it
// changes: Nomad's scaling policies through blocking queries, or a
// directory of policy files reloaded on SIGHUP.
type PolicySource interface {
	// Name identifies the source in logs.
	Name() string
	// Watch sends the complete set of enabled policies whenever it
	// changes, until ctx ends. It retries its own failures.
	Watch(ctx context.Context, out chan<- []*Policy)
}

// Manager keeps one handler per policy across every source: new policies
// start a handler, changed ones update it, removed ones stop it.
type Manager struct {
	Sources []PolicySource
	// NewHandler builds the handler of a policy.
	NewHandler func(*Policy) *Handler
	Logger     *slog.Logger
	// Problems, when set, is told the problems of every policy each time
	// the set of policies changes (for /metrics); refused are the policies
	// that cannot run at all.
	Problems func(running, refused []*Policy)

	mu      sync.Mutex
	running map[string]*runningHandler
	// refused are the policies that cannot run, by ID, and logged the
	// problems already logged, so that each is logged once.
	refused map[string]*Policy
	logged  map[string]string
}

type runningHandler struct {
	h      *Handler
	policy *Policy
	cancel context.CancelFunc
	done   chan struct{}
}

// Run watches every source and supervises the handlers until ctx ends, then
// stops them all and returns.
func (m *Manager) Run(ctx context.Context) {
	log := m.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m.running = map[string]*runningHandler{}
	m.refused = map[string]*Policy{}
	m.logged = map[string]string{}
	type update struct {
		source   int
		policies []*Policy
	}
	updates := make(chan update)
	var sources sync.WaitGroup
	for i, s := range m.Sources {
		ch := make(chan []*Policy)
		sources.Add(2)
		go func() {
			defer sources.Done()
			s.Watch(ctx, ch)
		}()
		go func() {
			defer sources.Done()
			for {
				select {
				case <-ctx.Done():
					return
				case ps := <-ch:
					select {
					case updates <- update{source: i, policies: ps}:
					case <-ctx.Done():
						return
					}
				}
			}
		}()
	}
	bySource := make([][]*Policy, len(m.Sources))
	for {
		select {
		case <-ctx.Done():
			m.stopAll()
			sources.Wait()
			return
		case u := <-updates:
			bySource[u.source] = u.policies
			var all []*Policy
			for _, ps := range bySource {
				all = append(all, ps...)
			}
			m.reconcile(ctx, all, log)
		}
	}
}

// reconcile starts, updates and stops handlers to match policies.
func (m *Manager) reconcile(ctx context.Context, policies []*Policy, log *slog.Logger) {
	m.mu.Lock()
	defer m.mu.Unlock()
	want := map[string]*Policy{}
	refused := map[string]*Policy{}
	for _, p := range policies {
		if !p.Enabled {
			continue
		}
		m.logProblems(p, log)
		if len(p.Problems.Fatal()) > 0 {
			refused[p.ID] = p
			continue
		}
		want[p.ID] = p
	}
	for id := range m.logged {
		if want[id] == nil && refused[id] == nil {
			delete(m.logged, id)
		}
	}
	m.refused = refused
	for id, r := range m.running {
		if _, ok := want[id]; !ok {
			r.cancel()
			<-r.done
			delete(m.running, id)
			log.Info("policy removed", "policy_id", id)
		}
	}
	ids := make([]string, 0, len(want))
	for id := range want {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := want[id]
		if r, ok := m.running[id]; ok {
			if !reflect.DeepEqual(r.policy, p) {
				r.policy = p
				r.h.Update(p)
			}
			continue
		}
		h := m.NewHandler(p)
		hctx, cancel := context.WithCancel(ctx)
		r := &runningHandler{h: h, policy: p, cancel: cancel, done: make(chan struct{})}
		m.running[id] = r
		go func() {
			defer close(r.done)
			h.Run(hctx)
		}()
		log.Info("policy added", "policy_id", id, "job", p.Target.Job, "group", p.Target.Group)
	}
	if m.Problems != nil {
		run := make([]*Policy, 0, len(m.running))
		for _, r := range m.running {
			run = append(run, r.policy)
		}
		ref := make([]*Policy, 0, len(refused))
		for _, p := range refused {
			ref = append(ref, p)
		}
		m.Problems(run, ref)
	}
}

// logProblems logs a policy's problems once: again only when they change.
func (m *Manager) logProblems(p *Policy, log *slog.Logger) {
	text := p.Problems.Error()
	if m.logged[p.ID] == text {
		return
	}
	m.logged[p.ID] = text
	for _, pr := range p.Problems {
		attrs := []any{"policy_id", p.ID, "job", p.Target.Job, "group", p.Target.Group, "problem", pr.Error()}
		switch pr.Level {
		case LevelPolicy:
			log.Error("policy cannot run", attrs...)
		case LevelCheck:
			log.Warn("check cannot run; each evaluation handles it with its on_error", append(attrs, "check", pr.Check())...)
		default:
			log.Warn("policy warning", attrs...)
		}
	}
}

// Refused lists the policies that cannot run, by ID, sorted.
func (m *Manager) Refused() []*Policy {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Policy, 0, len(m.refused))
	for _, p := range m.refused {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (m *Manager) stopAll() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, r := range m.running {
		r.cancel()
		<-r.done
		delete(m.running, id)
	}
}

// Running lists the IDs of the policies with a running handler, sorted.
func (m *Manager) Running() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.running))
	for id := range m.running {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}
