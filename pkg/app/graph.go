package app

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/drover-io/drover/pkg/spec"
)

// Graph formats.
const (
	GraphMermaid = "mermaid"
	GraphDOT     = "dot"
	GraphJSON    = "json"
)

// GraphOptions select the specs and the output format.
type GraphOptions struct {
	Load   spec.LoadOptions
	Format string
	Stdout io.Writer
}

// Graph is who is reachable from outside and who calls whom.
type Graph struct {
	Nodes []GraphNode `json:"nodes"`
	Edges []GraphEdge `json:"edges"`
}

// GraphNode is the internet, an app or an external.
type GraphNode struct {
	Name string `json:"name"`
	// Kind is "internet", "app" or "external".
	Kind string `json:"kind"`
	// Public is true for apps reachable from outside.
	Public bool `json:"public,omitempty"`
}

// GraphEdge is a permitted call.
type GraphEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
	// Kind is "public" (through the ingress gateway), "mesh" (an upstream),
	// "remote" (an upstream in another drover project, named
	// "project/app") or "egress" (to an external, through the terminating
	// gateway).
	Kind string `json:"kind"`
	// Label is the host and path for public edges, the local port for
	// upstreams.
	Label string `json:"label,omitempty"`
}

const internetNode = "internet"

// BuildGraph derives the call graph of a set: exactly the edges that the
// rendered intentions allow.
func BuildGraph(set *spec.Set) *Graph {
	g := &Graph{Nodes: []GraphNode{}, Edges: []GraphEdge{}}
	hosts := set.PublicHosts()
	if len(hosts) > 0 {
		g.Nodes = append(g.Nodes, GraphNode{Name: internetNode, Kind: internetNode})
	}
	for _, a := range set.Apps {
		g.Nodes = append(g.Nodes, GraphNode{Name: a.Name, Kind: "app", Public: set.PubliclyReachable(a)})
	}
	for _, e := range set.Externals {
		g.Nodes = append(g.Nodes, GraphNode{Name: e.Name, Kind: "external"})
	}
	for _, h := range hosts {
		g.Edges = append(g.Edges, GraphEdge{From: internetNode, To: h.Default.Name, Kind: "public", Label: h.Host})
		for _, p := range h.Paths {
			g.Edges = append(g.Edges, GraphEdge{From: internetNode, To: p.App.Name, Kind: "public", Label: h.Host + p.Prefix})
		}
	}
	remote := map[string]bool{}
	for _, a := range set.Apps {
		if a.Service == nil {
			continue
		}
		for _, u := range a.Service.Upstreams {
			kind, to := "mesh", u.Name
			switch {
			case u.Remote():
				kind, to = "remote", u.Project+"/"+u.Name
				if !remote[to] {
					remote[to] = true
					g.Nodes = append(g.Nodes, GraphNode{Name: to, Kind: "remote"})
				}
			case set.External(u.Name) != nil:
				kind = "egress"
			}
			g.Edges = append(g.Edges, GraphEdge{From: a.Name, To: to, Kind: kind, Label: fmt.Sprintf(":%d", u.LocalPort.V)})
		}
	}
	sort.SliceStable(g.Edges, func(i, j int) bool {
		a, b := g.Edges[i], g.Edges[j]
		if a.From != b.From {
			return a.From < b.From
		}
		if a.To != b.To {
			return a.To < b.To
		}
		return a.Label < b.Label
	})
	return g
}

// RenderGraph loads the specs and prints their graph.
func RenderGraph(opts GraphOptions) (*Diagnostics, error) {
	set, diags := spec.Load(opts.Load)
	res := &Diagnostics{Diags: diags}
	if set != nil {
		res.Files = set.Files
	}
	if err := inputError(diags, res.Files); err != nil {
		return res, err
	}
	g := BuildGraph(set)
	var err error
	switch opts.Format {
	case GraphMermaid, "":
		_, err = io.WriteString(opts.Stdout, g.Mermaid())
	case GraphDOT:
		_, err = io.WriteString(opts.Stdout, g.DOT())
	case GraphJSON:
		enc := json.NewEncoder(opts.Stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(g)
	default:
		err = fmt.Errorf("unknown graph format %q: use mermaid, dot or json", opts.Format)
	}
	return res, err
}

// Mermaid renders the graph as a Mermaid flowchart: the mesh in a box,
// public edges from the internet in, externals as cylinders.
func (g *Graph) Mermaid() string {
	var b strings.Builder
	b.WriteString("flowchart LR\n")
	id := func(n string) string { return "n_" + strings.NewReplacer("-", "_", "/", "__").Replace(n) }
	for _, n := range g.Nodes {
		if n.Kind == internetNode {
			fmt.Fprintf(&b, "  %s((internet))\n", id(n.Name))
		}
	}
	b.WriteString("  subgraph mesh [service mesh]\n")
	for _, n := range g.Nodes {
		if n.Kind == "app" {
			shape := "[%s]"
			if n.Public {
				shape = "[/%s/]"
			}
			fmt.Fprintf(&b, "    %s"+shape+"\n", id(n.Name), n.Name)
		}
	}
	b.WriteString("  end\n")
	for _, n := range g.Nodes {
		switch n.Kind {
		case "external":
			fmt.Fprintf(&b, "  %s[(%s)]\n", id(n.Name), n.Name)
		case "remote":
			fmt.Fprintf(&b, "  %s{{%s}}\n", id(n.Name), n.Name)
		}
	}
	for _, e := range g.Edges {
		arrow := "-->"
		if e.Kind == "egress" {
			arrow = "-.->"
		}
		fmt.Fprintf(&b, "  %s %s|%q| %s\n", id(e.From), arrow, e.Label, id(e.To))
	}
	return b.String()
}

// DOT renders the graph for Graphviz.
func (g *Graph) DOT() string {
	var b strings.Builder
	b.WriteString("digraph drover {\n  rankdir=LR;\n")
	for _, n := range g.Nodes {
		attrs := "shape=box"
		switch {
		case n.Kind == internetNode:
			attrs = "shape=circle"
		case n.Kind == "external":
			attrs = "shape=cylinder"
		case n.Kind == "remote":
			attrs = "shape=hexagon"
		case n.Public:
			attrs = "shape=box, style=bold"
		}
		fmt.Fprintf(&b, "  %q [%s];\n", n.Name, attrs)
	}
	for _, e := range g.Edges {
		style := ""
		if e.Kind == "egress" {
			style = ", style=dashed"
		}
		fmt.Fprintf(&b, "  %q -> %q [label=%q%s];\n", e.From, e.To, e.Label, style)
	}
	b.WriteString("}\n")
	return b.String()
}
