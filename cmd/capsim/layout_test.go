package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The layers import only downward: sim knows nothing of the model, the
// model nothing of files, TOML or rendering, and so on.
func TestImportLayers(t *testing.T) {
	const mod = "github.com/capsim/capsim/"
	forbidden := map[string][]string{
		"sim":                  {mod + "model", mod + "policies", mod + "experiments", mod + "output", "github.com/BurntSushi/toml", "gonum.org/v1/plot", "os"},
		"model":                {mod + "policies", mod + "experiments", mod + "output", "github.com/BurntSushi/toml", "gonum.org/v1/plot", "os"},
		"policies":             {mod + "experiments", mod + "output", "github.com/BurntSushi/toml", "os"},
		"experiments":          {mod + "output", "gonum.org/v1/plot"},
		"experiments/scenario": {mod + "output", "gonum.org/v1/plot"},
		"output":               {"os"},
	}
	for pkg, bad := range forbidden {
		// Module packages and libraries must not be reached at all; "os"
		// must not be imported directly (fmt reaches it anyway).
		deps, direct := goList(t, "-deps", mod+pkg), goList(t, "-f", "{{join .Imports \"\\n\"}}", mod+pkg)
		for _, b := range bad {
			if b == "os" && direct[b] || b != "os" && deps[b] {
				t.Errorf("%s depends on %s", pkg, b)
			}
		}
	}
}

func goList(t *testing.T, args ...string) map[string]bool {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	set := map[string]bool{}
	for _, d := range strings.Fields(string(out)) {
		set[d] = true
	}
	return set
}
