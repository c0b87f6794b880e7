// Package lazyregexp compiles regular expressions on first use.
//
// A package-level regexp.MustCompile runs at start-up in every drover
// command, whether or not the command ever matches it; drover version and
// validate pay for each one. A pattern held here is compiled by the first
// call that needs it, once.
package lazyregexp

import (
	"regexp"
	"sync"
)

// New returns a function that compiles pattern on its first call (and
// panics there if it does not compile, as regexp.MustCompile does) and
// returns the same *regexp.Regexp on every call.
func New(pattern string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })
}
