package app

import (
	"fmt"
	"io"
	"strings"
)

// WritePlan prints a plan for people, grouped by system in apply order:
//
//	vault
//	  + policy drover-api
//	consul
//	  ~ service-intentions api
//	      + Sources[worker].Action = "allow"
//	nomad
//	  ~ job api (1 to replace)
//	      ~ group api: task api: Config: image: "...:1.4.2" -> "...:1.4.3"
//
//	Plan: 1 to create, 2 to change, 0 to remove, 9 unchanged.
func WritePlan(w io.Writer, p *Plan) error {
	var b strings.Builder
	title := fmt.Sprintf("Plan for project %q", p.Project)
	if p.Environment != "" {
		title += fmt.Sprintf(" (environment %s)", p.Environment)
	}
	b.WriteString(title + ":\n")
	system := ""
	for _, c := range p.Changes {
		if c.Action == ActionNone {
			continue
		}
		if c.System != system {
			system = c.System
			b.WriteString("\n" + system + "\n")
		}
		line := fmt.Sprintf("  %s %s %s", actionSign(c.Action), c.label(), c.Name)
		if c.Note != "" {
			line += " (" + c.Note + ")"
		}
		b.WriteString(line + "\n")
		for _, d := range c.Details {
			b.WriteString("      " + d + "\n")
		}
		for _, warn := range c.Warnings {
			b.WriteString("      warning: " + warn + "\n")
		}
	}
	if !p.HasChanges() {
		b.WriteString("\nNo changes: Nomad, Consul and Vault match the specs.\n")
	}
	s := p.Summary
	fmt.Fprintf(&b, "\nPlan: %d to create, %d to change, %d to remove, %d unchanged.\n", s.Create, s.Update, s.Delete, s.Unchanged)
	_, err := io.WriteString(w, b.String())
	return err
}

func actionSign(a Action) string {
	switch a {
	case ActionCreate:
		return "+"
	case ActionDelete:
		return "-"
	case ActionUpdate:
		return "~"
	}
	return " "
}

// WriteOutcomes prints how each watched deployment ended, with the
// explanation of failures.
func WriteOutcomes(w io.Writer, outcomes []*DeploymentOutcome) error {
	var b strings.Builder
	for _, o := range outcomes {
		line := fmt.Sprintf("%s: %s", o.Job, o.Status)
		switch {
		case o.RevertedTo != nil:
			line += fmt.Sprintf(" (Nomad rolled the job back to version %d: the new version is NOT running)", *o.RevertedTo)
		case o.Status == StatusAwaitingPromotion:
			line += " (healthy canaries wait for promotion: drover deploy --promote)"
		case o.Description != "" && o.Status != StatusSuccessful:
			line += " (" + o.Description + ")"
		}
		b.WriteString(line + "\n")
		for _, e := range o.Explanation {
			if e != o.Description {
				b.WriteString("    " + e + "\n")
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}
