package spec

import (
	"sort"
	"strings"
)

// PublicHost is one public host name and the apps it reaches.
type PublicHost struct {
	Host string
	// Default receives every request no longer path prefix matches: the app
	// exposed at "/", or the host's only app.
	Default *App
	// Paths are the other apps sharing the host, longest prefix first.
	Paths []PathRoute
}

// PathRoute sends requests under Prefix to App.
type PathRoute struct {
	Prefix string
	App    *App
}

// PublicHosts is the public routing table: every exposed host, sorted, with
// the apps it reaches. Hosts shared by several apps without a default (a
// validation error) are left out.
func (s *Set) PublicHosts() []PublicHost { return s.idx().publicHosts }

func (s *Set) computePublicHosts() []PublicHost {
	byHost := map[string][]PathRoute{}
	for _, app := range s.Apps {
		if app.Expose == nil {
			continue
		}
		for _, h := range app.Expose.Hosts.V {
			h = strings.ToLower(h)
			byHost[h] = append(byHost[h], PathRoute{Prefix: app.Expose.Path.V, App: app})
		}
	}
	var out []PublicHost
	for h, routes := range byHost {
		ph := PublicHost{Host: h}
		if len(routes) == 1 {
			ph.Default = routes[0].App
		}
		for _, r := range routes {
			switch {
			case ph.Default == r.App:
			case r.Prefix == "/" && ph.Default == nil:
				ph.Default = r.App
			default:
				ph.Paths = append(ph.Paths, r)
			}
		}
		if ph.Default == nil {
			continue
		}
		sort.Slice(ph.Paths, func(i, j int) bool {
			a, b := ph.Paths[i].Prefix, ph.Paths[j].Prefix
			if len(a) != len(b) {
				return len(a) > len(b)
			}
			return a < b
		})
		out = append(out, ph)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	return out
}

// PubliclyReachable reports whether requests from outside reach app, as a
// host's default or through a path route.
func (s *Set) PubliclyReachable(app *App) bool { return s.idx().public[app] }

// Callers returns the names of the apps that declare name as an upstream,
// sorted. The slice is shared: callers must not modify it.
func (s *Set) Callers(name string) []string { return s.idx().callers[name] }
