// Command foundation is the start-up floor of drover's own foundation: a
// hello-world Go binary that links the libraries drover is built on
// (nomad/api, consul/api, vault/api, hcl/v2, urfave/cli/v2) and runs their
// package initializers, nothing else. What drover takes beyond it at
// start-up is drover's; what it takes beyond bench/hello is theirs.
//
// Given a directory, it also stats every *.hcl file under it: the least a
// correct call on one spec of a project does, since it must see whether
// any other spec changed.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	_ "github.com/hashicorp/consul/api"
	_ "github.com/hashicorp/hcl/v2/hclsyntax"
	_ "github.com/hashicorp/nomad/api"
	_ "github.com/hashicorp/vault/api"
	_ "github.com/urfave/cli/v2"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Println("hello, world")
		return
	}
	n := 0
	err := filepath.WalkDir(os.Args[1], func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".hcl") {
			return err
		}
		if _, err := os.Stat(path); err != nil {
			return err
		}
		n++
		return nil
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "foundation:", err)
		os.Exit(1)
	}
	fmt.Println(n, "files")
}
