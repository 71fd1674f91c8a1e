// Command capsim is a deterministic discrete-event capacity-planning
// simulator: describe a system in a TOML scenario, replay traffic against it,
// and read latency percentiles, errors, utilisation and cost.
//
// Usage:
//
//	capsim run [FILE|EXAMPLE] [flags]   run a scenario (default: the embedded ticketing-onsale)
//	capsim validate FILE                report every problem in a scenario
//	capsim examples [NAME]              list the embedded examples, or print one
//
// "capsim help COMMAND" (or COMMAND --help) prints a command's flags; "capsim
// --version" the version.
//
// Exit codes: 0 ok, 1 error (bad input, I/O), 2 usage (a bad flag or value,
// named on stderr with the usage), 3 SLO not met (with --check), 130
// interrupted (Ctrl-C; nothing is written).
package main

import (
	"os"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}
