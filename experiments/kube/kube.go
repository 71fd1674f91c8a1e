package kube

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"
)

// File is one manifest file.
type File struct {
	Name string
	Data []byte
}

// maxManifest bounds what Import reads: manifests are small.
const maxManifest = 16 << 20

// object is what Import reads of any manifest.
type object struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	} `json:"metadata"`
	Spec json.RawMessage `json:"spec"`
	file string
	doc  int
}

// spec decodes the object's spec into v (none: v stays empty).
func (o *object) spec(v any) error {
	if len(o.Spec) == 0 || string(o.Spec) == "null" {
		return nil
	}
	if err := json.Unmarshal(o.Spec, v); err != nil {
		return fmt.Errorf("%s: spec: %v", o.where(), err)
	}
	return nil
}

func (o *object) where() string {
	return fmt.Sprintf("%s (document %d, %s %s)", o.file, o.doc, o.Kind, o.Metadata.Name)
}

type workloadSpec struct {
	Replicas *int `json:"replicas"`
	Template struct {
		Metadata struct {
			Labels map[string]string `json:"labels"`
		} `json:"metadata"`
		Spec struct {
			Containers []struct {
				Name      string `json:"name"`
				Resources struct {
					Requests map[string]string `json:"requests"`
					Limits   map[string]string `json:"limits"`
				} `json:"resources"`
			} `json:"containers"`
		} `json:"spec"`
	} `json:"template"`
}

type metricTarget struct {
	Type               string `json:"type"`
	AverageUtilization *int   `json:"averageUtilization"`
	AverageValue       string `json:"averageValue"`
	Value              string `json:"value"`
}

type hpaSpec struct {
	ScaleTargetRef struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"scaleTargetRef"`
	MinReplicas                    *int `json:"minReplicas"`
	MaxReplicas                    int  `json:"maxReplicas"`
	TargetCPUUtilizationPercentage *int `json:"targetCPUUtilizationPercentage"` // autoscaling/v1
	Metrics                        []struct {
		Type     string `json:"type"`
		Resource *struct {
			Name   string       `json:"name"`
			Target metricTarget `json:"target"`
		} `json:"resource"`
		Pods *struct {
			Metric struct {
				Name string `json:"name"`
			} `json:"metric"`
			Target metricTarget `json:"target"`
		} `json:"pods"`
	} `json:"metrics"`
	Behavior *struct {
		ScaleUp   *scalingRules `json:"scaleUp"`
		ScaleDown *scalingRules `json:"scaleDown"`
	} `json:"behavior"`
}

type scalingRules struct {
	StabilizationWindowSeconds *int   `json:"stabilizationWindowSeconds"`
	SelectPolicy               string `json:"selectPolicy"`
	Policies                   []struct {
		Type          string `json:"type"`
		Value         int    `json:"value"`
		PeriodSeconds int    `json:"periodSeconds"`
	} `json:"policies"`
}

type serviceSpec struct {
	Selector map[string]string `json:"selector"`
	Type     string            `json:"type"`
}

// documents splits a multi-document YAML stream at its "---" lines.
func documents(data []byte) [][]byte {
	var docs [][]byte
	var cur bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if t := bytes.TrimRight(line, "\r\n"); bytes.Equal(t, []byte("---")) || bytes.HasPrefix(t, []byte("--- ")) {
			docs = append(docs, bytes.Clone(cur.Bytes()))
			cur.Reset()
			continue
		}
		cur.Write(line)
	}
	return append(docs, cur.Bytes())
}

// workload is a Deployment or StatefulSet on its way to a service table.
type workload struct {
	obj      *object
	name     string
	spec     workloadSpec
	cpu      float64 // requested by the pod, cores
	memoryGB float64 // GiB
	notes    []string
	hpa      *object
	hpaSpec  hpaSpec
}

// Import reads the manifests and returns the scenario tables they map to.
// Kinds it does not model are listed in a comment; an unreadable document
// is an error naming its file and place.
func Import(files []File) ([]byte, error) {
	var objs []*object
	for _, f := range files {
		if len(f.Data) > maxManifest {
			return nil, fmt.Errorf("%s: %d bytes: a manifest over 16 MB is not one", f.Name, len(f.Data))
		}
		for i, doc := range documents(f.Data) {
			if len(bytes.TrimSpace(doc)) == 0 {
				continue
			}
			o := &object{file: f.Name, doc: i + 1}
			if err := yaml.Unmarshal(doc, o); err != nil {
				return nil, fmt.Errorf("%s: document %d: %v", f.Name, i+1, err)
			}
			if o.Kind == "List" { // kubectl get -o yaml
				var list struct {
					Items []json.RawMessage `json:"items"`
				}
				if err := yaml.Unmarshal(doc, &list); err != nil {
					return nil, fmt.Errorf("%s: document %d: %v", f.Name, i+1, err)
				}
				for _, it := range list.Items {
					item := &object{file: f.Name, doc: i + 1}
					if err := json.Unmarshal(it, item); err != nil {
						return nil, fmt.Errorf("%s: document %d: %v", f.Name, i+1, err)
					}
					objs = append(objs, item)
				}
				continue
			}
			objs = append(objs, o)
		}
	}
	var (
		loads    []*workload
		byName   = map[string]*workload{}
		hpas     []*object
		services []*object
		skipped  []string
	)
	for _, o := range objs {
		switch o.Kind {
		case "Deployment", "StatefulSet":
			w := &workload{obj: o, name: o.Metadata.Name}
			if err := o.spec(&w.spec); err != nil {
				return nil, err
			}
			if err := w.requests(); err != nil {
				return nil, err
			}
			w.name = capsimName(w.name)
			if _, dup := byName[w.name]; dup {
				return nil, fmt.Errorf("%s: a second workload named %q", o.where(), w.name)
			}
			byName[w.name] = w
			loads = append(loads, w)
		case "HorizontalPodAutoscaler":
			hpas = append(hpas, o)
		case "Service":
			services = append(services, o)
		case "":
			return nil, fmt.Errorf("%s: document %d has no kind", o.file, o.doc)
		default:
			skipped = append(skipped, o.Kind+" "+o.Metadata.Name)
		}
	}
	for _, h := range hpas {
		var spec hpaSpec
		if err := h.spec(&spec); err != nil {
			return nil, err
		}
		w, ok := byName[spec.ScaleTargetRef.Name]
		if !ok {
			skipped = append(skipped, fmt.Sprintf("HorizontalPodAutoscaler %s (its target %s %s is not in these files)", h.Metadata.Name, spec.ScaleTargetRef.Kind, spec.ScaleTargetRef.Name))
			continue
		}
		if w.hpa != nil {
			return nil, fmt.Errorf("%s: %s already has the HPA %s", h.where(), w.name, w.hpa.Metadata.Name)
		}
		w.hpa, w.hpaSpec = h, spec
	}
	var b strings.Builder
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	fmt.Fprintf(&b, "# Imported by capsim import kubernetes from %s.\n", strings.Join(names, ", "))
	b.WriteString("# Add [traffic.NAME] and each service's steps (the work of one request) before running.\n")
	if len(skipped) > 0 {
		sort.Strings(skipped)
		fmt.Fprintf(&b, "# Not modelled: %s.\n", strings.Join(skipped, "; "))
	}
	taken := map[string]bool{}
	for _, w := range loads {
		taken[w.name] = true
	}
	for _, w := range loads {
		if err := w.write(&b); err != nil {
			return nil, err
		}
	}
	for _, s := range services {
		var spec serviceSpec
		if err := s.spec(&spec); err != nil {
			return nil, err
		}
		var to *workload
		for _, w := range loads {
			if len(spec.Selector) > 0 && matches(spec.Selector, w.spec.Template.Metadata.Labels) {
				to = w
				break
			}
		}
		if to == nil {
			fmt.Fprintf(&b, "\n# Service %s selects no workload in these files: not modelled.\n", s.Metadata.Name)
			continue
		}
		name := capsimName(s.Metadata.Name)
		if taken[name] {
			name += "-svc" // a Service usually shares its Deployment's name
		}
		taken[name] = true
		fmt.Fprintf(&b, "\n[balancer.%s]  # Service %s\n", name, s.Metadata.Name)
		fmt.Fprintf(&b, "to = %q\n", to.name)
		b.WriteString("algorithm = \"random\"  # kube-proxy in iptables mode picks a ready endpoint at random (IPVS: round_robin)\n")
	}
	return []byte(b.String()), nil
}

// requests sums the pod's container requests (limits where a request is
// missing, as Kubernetes defaults them).
func (w *workload) requests() error {
	for _, c := range w.spec.Template.Spec.Containers {
		for _, res := range []string{"cpu", "memory"} {
			q, ok := c.Resources.Requests[res]
			if !ok {
				q, ok = c.Resources.Limits[res]
			}
			if !ok {
				continue
			}
			v, err := quantity(q)
			if err != nil {
				return fmt.Errorf("%s: container %s: resources.requests.%s: %v", w.obj.where(), c.Name, res, err)
			}
			if res == "cpu" {
				w.cpu += v
			} else {
				w.memoryGB += v / (1 << 30)
			}
		}
	}
	return nil
}

var quantityRE = regexp.MustCompile(`^([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$`)

// quantity parses a Kubernetes resource quantity ("500m", "2", "1.5Gi").
func quantity(s string) (float64, error) {
	m := quantityRE.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, fmt.Errorf("%q is not a quantity such as 500m, 2 or 512Mi", s)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("%q: %v", s, err)
	}
	mult := map[string]float64{"": 1, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12, "P": 1e15, "E": 1e18,
		"Ki": 1 << 10, "Mi": 1 << 20, "Gi": 1 << 30, "Ti": 1 << 40, "Pi": 1 << 50, "Ei": 1 << 60}[m[2]]
	return v * mult, nil
}

// write writes the workload's service table.
func (w *workload) write(b *strings.Builder) error {
	o := w.obj
	fmt.Fprintf(b, "\n[service.%s]  # %s %s\n", w.name, o.Kind, o.Metadata.Name)
	replicas := 1
	if w.spec.Replicas != nil {
		replicas = *w.spec.Replicas
	}
	if replicas < 0 || replicas > 100_000 {
		return fmt.Errorf("%s: spec.replicas = %d: want 0 to 100000", o.where(), replicas)
	}
	cores := 1
	switch {
	case w.cpu <= 0:
		b.WriteString("# no cpu request: one core per pod assumed\n")
	case w.cpu != math.Trunc(w.cpu):
		cores = int(math.Ceil(w.cpu))
		fmt.Fprintf(b, "# the pod requests %s cpu: capsim's instances have whole cores (%d); on a node pool give pod = { cpu = %s }\n", trim(w.cpu), cores, trim(w.cpu))
	default:
		cores = int(w.cpu)
	}
	fmt.Fprintf(b, "instances = %d  # spec.replicas\ncores = %d  # resources.requests.cpu\n", replicas, cores)
	if w.memoryGB > 0 {
		fmt.Fprintf(b, "# the pod requests %s GiB of memory: it counts only on a node pool (nodepool = \"NAME\", pod = { cpu = %s, memory_gb = %s })\n",
			trim(w.memoryGB), trim(math.Max(w.cpu, 1)), trim(w.memoryGB))
	}
	b.WriteString("# steps = [ { cpu = \"exp(10ms)\" } ]  # the work of one request: measure it\n")
	if w.hpa == nil {
		return nil
	}
	return w.writeHPA(b, replicas)
}

// writeHPA writes the workload's autoscale table from its HPA.
func (w *workload) writeHPA(b *strings.Builder, replicas int) error {
	h, spec := w.hpa, w.hpaSpec
	min := 1
	if spec.MinReplicas != nil {
		min = *spec.MinReplicas
	}
	if spec.MaxReplicas < 1 || min < 1 || min > spec.MaxReplicas {
		return fmt.Errorf("%s: minReplicas %d, maxReplicas %d: want 1 ≤ min ≤ max", h.where(), min, spec.MaxReplicas)
	}
	fmt.Fprintf(b, "\n[service.%s.autoscale]  # HorizontalPodAutoscaler %s\n", w.name, h.Metadata.Name)
	fmt.Fprintf(b, "policy = \"hpa\"\nmin = %d\nmax = %d\n", min, spec.MaxReplicas)
	var targets []string
	if spec.TargetCPUUtilizationPercentage != nil {
		targets = append(targets, fmt.Sprintf("{ metric = \"cpu\", target = %s }", trim(float64(*spec.TargetCPUUtilizationPercentage)/100)))
	}
	for i, m := range spec.Metrics {
		switch {
		case m.Type == "Resource" && m.Resource != nil && m.Resource.Name == "cpu":
			t := m.Resource.Target
			switch {
			case t.AverageUtilization != nil:
				targets = append(targets, fmt.Sprintf("{ metric = \"cpu\", target = %s }", trim(float64(*t.AverageUtilization)/100)))
			case t.AverageValue != "" && w.cpu > 0:
				v, err := quantity(t.AverageValue)
				if err != nil {
					return fmt.Errorf("%s: metrics[%d].resource.target.averageValue: %v", h.where(), i, err)
				}
				targets = append(targets, fmt.Sprintf("{ metric = \"cpu\", target = %s }  # averageValue %s of a %s-cpu request", trim(v/w.cpu), t.AverageValue, trim(w.cpu)))
			default:
				fmt.Fprintf(b, "# metrics[%d]: a cpu target of type %s is not mapped\n", i, t.Type)
			}
		case m.Type == "Pods" && m.Pods != nil && m.Pods.Target.AverageValue != "":
			v, err := quantity(m.Pods.Target.AverageValue)
			if err != nil {
				return fmt.Errorf("%s: metrics[%d].pods.target.averageValue: %v", h.where(), i, err)
			}
			name := strings.ToLower(m.Pods.Metric.Name)
			switch {
			case strings.Contains(name, "request") && (strings.Contains(name, "second") || strings.Contains(name, "rps") || strings.Contains(name, "rate")):
				targets = append(targets, fmt.Sprintf("{ metric = \"rps\", target = %s }  # Pods metric %s", trim(v), m.Pods.Metric.Name))
			case strings.Contains(name, "inflight") || strings.Contains(name, "in_flight") || strings.Contains(name, "concurren") || strings.Contains(name, "active"):
				targets = append(targets, fmt.Sprintf("{ metric = \"concurrency\", target = %s }  # Pods metric %s", trim(v), m.Pods.Metric.Name))
			default:
				fmt.Fprintf(b, "# metrics[%d]: Pods metric %s is not one capsim measures (cpu, rps, concurrency)\n", i, m.Pods.Metric.Name)
			}
		default:
			what := m.Type
			if m.Resource != nil {
				what += " " + m.Resource.Name
			}
			fmt.Fprintf(b, "# metrics[%d]: %s is not mapped (capsim scales on cpu, rps and concurrency; queues: policy = \"keda\")\n", i, what)
		}
	}
	if len(spec.Metrics) == 0 && spec.TargetCPUUtilizationPercentage == nil {
		targets = append(targets, "{ metric = \"cpu\", target = 0.8 }  # Kubernetes' default: 80 % cpu")
	}
	if len(targets) == 0 {
		return fmt.Errorf("%s: no metric capsim can scale on (cpu, rps, concurrency)", h.where())
	}
	b.WriteString("metrics = [\n")
	for _, t := range targets {
		code, comment, ok := strings.Cut(t, "  #")
		if ok {
			comment = "  #" + comment
		}
		fmt.Fprintf(b, "  %s,%s\n", code, comment)
	}
	b.WriteString("]\n")
	if spec.Behavior != nil {
		for _, r := range []struct {
			key   string
			rules *scalingRules
		}{{"scale_up", spec.Behavior.ScaleUp}, {"scale_down", spec.Behavior.ScaleDown}} {
			if r.rules == nil {
				continue
			}
			line, err := rules(r.rules)
			if err != nil {
				return fmt.Errorf("%s: behavior.%s: %v", h.where(), r.key, err)
			}
			fmt.Fprintf(b, "%s = %s\n", r.key, line)
		}
	}
	if replicas < min || replicas > spec.MaxReplicas {
		fmt.Fprintf(b, "# spec.replicas (%d) is outside [%d, %d]: the HPA brings it within at once\n", replicas, min, spec.MaxReplicas)
	}
	return nil
}

// rules writes one direction's behavior as an inline table.
func rules(r *scalingRules) (string, error) {
	var parts []string
	if r.StabilizationWindowSeconds != nil {
		if *r.StabilizationWindowSeconds < 0 || *r.StabilizationWindowSeconds > 3600 {
			return "", fmt.Errorf("stabilizationWindowSeconds %d: want 0 to 3600", *r.StabilizationWindowSeconds)
		}
		parts = append(parts, fmt.Sprintf("stabilization = \"%ds\"", *r.StabilizationWindowSeconds))
	}
	if r.SelectPolicy != "" {
		sel := map[string]string{"Max": "max", "Min": "min", "Disabled": "disabled"}[r.SelectPolicy]
		if sel == "" {
			return "", fmt.Errorf("selectPolicy %q: want Max, Min or Disabled", r.SelectPolicy)
		}
		parts = append(parts, fmt.Sprintf("select = %q", sel))
	}
	if len(r.Policies) > 0 {
		var ps []string
		for _, p := range r.Policies {
			typ := map[string]string{"Pods": "pods", "Percent": "percent"}[p.Type]
			if typ == "" || p.Value <= 0 || p.PeriodSeconds <= 0 || p.PeriodSeconds > 1800 {
				return "", fmt.Errorf("policy %+v: want type Pods or Percent, a value > 0 and periodSeconds from 1 to 1800", p)
			}
			ps = append(ps, fmt.Sprintf("{ type = %q, value = %d, period = \"%ds\" }", typ, p.Value, p.PeriodSeconds))
		}
		parts = append(parts, "policies = [ "+strings.Join(ps, ", ")+" ]")
	}
	return "{ " + strings.Join(parts, ", ") + " }", nil
}

func matches(selector, labels map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func validName(n string) bool {
	if n == "" {
		return false
	}
	for _, c := range n {
		if !(c == '_' || c == '-' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// capsimName turns a Kubernetes name (a DNS subdomain: dots allowed) into
// a capsim one.
func capsimName(n string) string {
	return strings.Map(func(r rune) rune {
		if validName(string(r)) {
			return r
		}
		return '_'
	}, n)
}

func trim(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }
