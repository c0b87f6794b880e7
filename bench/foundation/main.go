// Command foundation is the start-up floor of drover's own foundation: a
// hello-world Go binary that links the libraries drover is built on
// (nomad/api, consul/api, vault/api, hcl/v2, urfave/cli/v2) and runs their
// package initializers, nothing else. What drover takes beyond it at
// start-up is drover's; what it takes beyond bench/hello is theirs.
package main

import (
	"fmt"

	_ "github.com/hashicorp/consul/api"
	_ "github.com/hashicorp/hcl/v2/hclsyntax"
	_ "github.com/hashicorp/nomad/api"
	_ "github.com/hashicorp/vault/api"
	_ "github.com/urfave/cli/v2"
)

func main() { fmt.Println("hello, world") }
