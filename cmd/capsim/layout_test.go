package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowedImports lists, for every package of the module, the module
// packages it may import directly. The layers import only downward: the
// engine (sim) knows nothing of the model; the model nothing of files,
// TOML or rendering; output renders experiments' results and never the
// model; the command is a thin shell over experiments, scenario and output.
// A new package must be added here, with its arrows (docs/architecture.md).
var allowedImports = map[string][]string{
	"sim":                    {},
	"model/dist":             {"sim"},
	"model/keycache":         {"sim"},
	"model":                  {"sim", "model/dist", "model/keycache"},
	"policies":               {"sim", "model"},
	"experiments/trace":      {"sim", "model"},
	"experiments/k6":         {"sim", "model", "model/dist", "experiments/scenario"},
	"experiments/measure":    {"sim", "experiments/spans"},
	"experiments/fit":        {"sim", "model", "experiments", "experiments/measure", "experiments/scenario"},
	"experiments/kube":       {},
	"experiments/prometheus": {},
	"experiments/spans":      {},
	"experiments/calibrate":  {"experiments/spans"},
	"experiments/scenario":   {"sim", "model", "model/dist", "model/keycache", "policies", "experiments/trace"},
	"experiments":            {"sim", "model", "experiments/scenario"},
	"output":                 {"experiments", "experiments/fit", "experiments/measure"},
	"examples":               {},
	"examples/gotest":        {},
	"cmd/capsim":             {"examples", "experiments", "experiments/calibrate", "experiments/fit", "experiments/k6", "experiments/kube", "experiments/measure", "experiments/prometheus", "experiments/scenario", "output"},
}

// Libraries kept out of layers that have no business with them ("os" only
// as a direct import: fmt reaches it anyway).
var forbiddenLibraries = map[string][]string{
	"sim":         {"os", "github.com/BurntSushi/toml", "gonum.org/v1/plot"},
	"model":       {"os", "github.com/BurntSushi/toml", "gonum.org/v1/plot"},
	"policies":    {"os", "github.com/BurntSushi/toml", "gonum.org/v1/plot"},
	"experiments": {"gonum.org/v1/plot"},
	"output":      {"os"},
	// The trace readers and the learner take readers, not files.
	"experiments/spans":     {"os", "github.com/BurntSushi/toml", "gonum.org/v1/plot"},
	"experiments/calibrate": {"os", "github.com/BurntSushi/toml", "gonum.org/v1/plot"},
	"experiments/measure":   {"os", "github.com/BurntSushi/toml", "gonum.org/v1/plot"},
	"experiments/fit":       {"os", "gonum.org/v1/plot"},
}

func TestImportLayers(t *testing.T) {
	const mod = "github.com/capsim/capsim/"
	pkgs := goList(t, mod+"...")
	for _, full := range pkgs {
		pkg := strings.TrimPrefix(full, mod)
		allowed, ok := allowedImports[pkg]
		if !ok {
			t.Errorf("package %s is not in the layering table: add it with the packages it may import", pkg)
			continue
		}
		for _, imp := range goList(t, "-f", "{{join .Imports \"\\n\"}}", full) {
			if dep, ok := strings.CutPrefix(imp, mod); ok && !slices.Contains(allowed, dep) {
				t.Errorf("%s imports %s; it may import only %v", pkg, dep, allowed)
			}
			if imp == "os" && slices.Contains(forbiddenLibraries[pkg], "os") {
				t.Errorf("%s imports os", pkg)
			}
		}
		deps := goList(t, "-deps", full)
		for _, lib := range forbiddenLibraries[pkg] {
			if lib != "os" && slices.Contains(deps, lib) {
				t.Errorf("%s depends on %s", pkg, lib)
			}
		}
	}
	for pkg := range allowedImports {
		if !slices.Contains(pkgs, mod+pkg) {
			t.Errorf("the layering table names %s, which does not exist", pkg)
		}
	}
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}
