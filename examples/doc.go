// Package examples embeds capsim's example scenarios, so that the binary can
// run and print them without any file on disk.
package examples

import (
	"embed"
	"io/fs"
	"sort"
	"strings"
)

//go:embed *.toml traces/*.csv.gz traces/README.md
var files embed.FS

// Files holds the examples and the data files they name (traces), for
// scenario.Parse.
func Files() fs.FS { return files }

// Default is the example `capsim run` runs without arguments.
const Default = "ticketing-onsale"

// Names lists the embedded examples, sorted.
func Names() []string {
	entries, _ := files.ReadDir(".")
	var names []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".toml") {
			names = append(names, strings.TrimSuffix(e.Name(), ".toml"))
		}
	}
	sort.Strings(names)
	return names
}

// Get returns the TOML text of the named example.
func Get(name string) ([]byte, bool) {
	b, err := files.ReadFile(name + ".toml")
	return b, err == nil
}
