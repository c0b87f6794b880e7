// Command hello is the start-up floor of bench/: a hello-world Go binary,
// built as drover is.
package main

import "fmt"

func main() { fmt.Println("hello, world") }
