package scenario

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/model/dist"
	"github.com/capsim/capsim/policies"
	"github.com/capsim/capsim/sim"
)

// Scenario is a decoded scenario file.
type Scenario struct {
	Config   *model.Config
	SLO      SLO
	Warnings []Problem
	Source   []byte // the file as given (for reports)
}

// Load reads and parses a scenario file; files it names (empirical
// distributions, traces) are read relative to the file's directory.
func Load(path string, overrides []string, allow ...string) (*Scenario, error) {
	data, err := readLimited(path, MaxScenarioBytes)
	if err != nil {
		return nil, err
	}
	return Parse(path, data, overrides, confinedFS{root: filepath.Dir(path), allow: allow})
}

// maxSampleFile bounds a file of samples for empirical().
const maxSampleFile = 64 << 20

// MaxScenarioBytes bounds a scenario file: a scenario is text a person
// writes; /dev/zero is not one.
const MaxScenarioBytes = 16 << 20

// readLimited reads a file of at most limit bytes, or says it is larger.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d MB: not a scenario", path, limit>>20)
	}
	return data, nil
}

// confinedFS opens the files a scenario names (traces, empirical
// distributions) relative to its folder, and only inside it or inside a
// folder of allow (--allow-path): "../", absolute paths and symbolic links
// may not lead elsewhere, so that running someone else's scenario reads
// nothing else of the machine.
type confinedFS struct {
	root  string
	allow []string
}

func (c confinedFS) Open(name string) (fs.File, error) {
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(c.root, p)
	}
	// Resolve without opening: opening a FIFO or a device outside the
	// folder could block or read the machine before the check below.
	real, err := filepath.EvalSymlinks(p)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, &fs.PathError{Op: "open", Path: p, Err: pe.Err}
		}
		return nil, err
	}
	for _, dir := range append([]string{c.root}, c.allow...) {
		base, err := filepath.EvalSymlinks(dir)
		if err != nil {
			continue
		}
		if base, err = filepath.Abs(base); err != nil {
			continue
		}
		abs, err := filepath.Abs(real)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(base, abs); err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			if fi, err := os.Stat(real); err == nil && !fi.Mode().IsRegular() {
				return nil, fmt.Errorf("%s is not a regular file", name)
			}
			return os.Open(real)
		}
	}
	return nil, fmt.Errorf("%s is outside the scenario's folder: capsim reads only files under it (give --allow-path DIR to allow another folder)", name)
}

// Parse parses scenario data. name is used in messages; overrides are
// "PATH=VALUE" strings applied before decoding; files holds the files the
// scenario may name (nil: none).
func Parse(name string, data []byte, overrides []string, files fs.FS) (*Scenario, error) {
	var open dist.Opener
	if files != nil {
		open = func(n string) ([]byte, error) { // an empirical distribution's samples
			f, err := files.Open(n)
			if err != nil {
				return nil, err
			}
			defer f.Close()
			data, err := io.ReadAll(io.LimitReader(f, maxSampleFile+1))
			if err == nil && len(data) > maxSampleFile {
				err = fmt.Errorf("%s: larger than %d MB", n, maxSampleFile>>20)
			}
			return data, err
		}
	}
	tree := map[string]any{}
	if _, err := toml.Decode(string(data), &tree); err != nil {
		return nil, &Error{Problems: []Problem{syntaxProblem(name, err)}}
	}
	d := &decoder{file: name, pos: scanPositions(string(data)), open: open, files: files}
	for _, o := range overrides {
		if err := Set(tree, o); err != nil {
			d.errs = append(d.errs, Problem{File: "--set", Key: o, Msg: err.Error()})
		}
	}
	sc := &Scenario{Source: data}
	sc.Config, sc.SLO = d.scenario(tree)
	if len(d.errs) == 0 {
		d.check(sc.Config)
	}
	if len(d.errs) > 0 {
		sortProblems(d.errs)
		return nil, &Error{Problems: d.errs}
	}
	d.plausibility(sc.Config)
	sortProblems(d.warns)
	sc.Warnings = d.warns
	return sc, nil
}

func syntaxProblem(name string, err error) Problem {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		msg := pe.Message
		if pe.Usage != "" {
			msg += "; " + strings.TrimSpace(pe.Usage)
		}
		return Problem{File: name, Line: pe.Position.Line, Msg: "TOML syntax: " + msg}
	}
	return Problem{File: name, Msg: err.Error()}
}

// planned explains keys of features capsim will have but this version lacks.
var planned = map[string]string{
	"sweep": "[sweep] defaults are not available in this version yet",
}

var plannedService = map[string]string{
	"drain": "removed instances always drain (they finish their requests and take no new ones); a drain timeout is not available yet",
}

func (d *decoder) scenario(tree map[string]any) (*model.Config, SLO) {
	top := d.table("", tree)
	cfg := &model.Config{}
	cfg.Name = top.str("name", "scenario")
	cfg.Description = top.str("description", "")
	d.run(top.sub("run"), cfg)
	slo := d.slo(top.sub("slo"))
	cfg.Network = d.network(top.sub("network"))
	for _, kind := range componentKinds {
		for _, t := range top.named(kind.table) {
			cfg.Components = append(cfg.Components, kind.decode(d, t))
		}
	}
	sort.SliceStable(cfg.Components, func(i, j int) bool {
		return cfg.Components[i].ComponentName() < cfg.Components[j].ComponentName()
	})
	for _, t := range top.named("traffic") {
		cfg.Traffic = append(cfg.Traffic, d.traffic(t, cfg.Duration))
	}
	d.keySpaces(cfg)
	d.faults(top, cfg)
	d.checkPools(cfg)
	d.checkZones(cfg)
	d.checkSizes(cfg)
	d.checkTrafficZones(cfg)
	d.sloScopes(&slo, cfg)
	top.done(planned)
	if len(cfg.Traffic) == 0 {
		d.errorf("traffic", "no traffic: add a [traffic.NAME] table with to = … and rate = …")
	}
	return cfg, slo
}

// defaultWindow picks a time-series resolution giving 100–250 rows.
func defaultWindow(run sim.Time) sim.Time {
	for _, w := range []sim.Time{100 * sim.Millisecond, 250 * sim.Millisecond, 500 * sim.Millisecond,
		sim.Second, 2 * sim.Second, 5 * sim.Second, 10 * sim.Second, 15 * sim.Second, 30 * sim.Second,
		sim.Minute, 2 * sim.Minute, 5 * sim.Minute, 10 * sim.Minute, 15 * sim.Minute, 30 * sim.Minute} {
		if run/w <= 250 {
			return w
		}
	}
	return sim.Hour
}

func (d *decoder) run(t *table, cfg *model.Config) {
	cfg.Duration, cfg.Seed = sim.Minute, 1
	if t == nil {
		cfg.Window = defaultWindow(cfg.Duration)
		return
	}
	cfg.Duration = t.duration("duration", cfg.Duration)
	if cfg.Duration <= 0 {
		d.errorf(t.key("duration"), "must be greater than 0")
		cfg.Duration = sim.Minute
	}
	cfg.Warmup = t.duration("warmup", 0)
	if cfg.Warmup >= cfg.Duration {
		d.errorf(t.key("warmup"), "warm-up (%v) must be shorter than the duration (%v)", cfg.Warmup, cfg.Duration)
	}
	cfg.Seed = uint64(t.integer("seed", 1, 0, math.MaxInt64, false))
	cfg.MaxInFlight = int(t.integer("max_in_flight", 0, 1, 1_000_000_000, true))
	cfg.Window = t.duration("window", defaultWindow(cfg.Duration))
	if cfg.Window <= 0 {
		d.errorf(t.key("window"), "must be greater than 0")
		cfg.Window = defaultWindow(cfg.Duration)
	} else if cfg.Duration/cfg.Window > 100_000 {
		d.errorf(t.key("window"), "%v gives more than 100000 time-series rows for %v; use a longer window", cfg.Window, cfg.Duration)
	}
	t.done(nil)
}

// quantileKey turns "p99" into 0.99, "p999" into 0.999, "p50" into 0.5.
func quantileKey(k string) (float64, bool) {
	if len(k) < 2 || k[0] != 'p' {
		return 0, false
	}
	digits := k[1:]
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	if digits == "100" {
		return 1, true
	}
	if len(digits) == 1 {
		digits = "0" + digits
	}
	q, err := strconv.ParseFloat("0."+digits, 64)
	return q, err == nil && q > 0
}

func (d *decoder) picker(t *table, key, def string) (string, func() model.Picker) {
	alg := t.str(key, def)
	f, err := policies.NewBalancer(alg)
	if err != nil {
		msg := err.Error()
		if s := suggest(alg, policies.BalancerNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		d.errorf(t.key(key), "%s", msg)
		f, _ = policies.NewBalancer(def)
		alg = def
	}
	if alg == "consistent_hash" {
		v := int(t.integer("virtual_nodes", policies.DefaultVirtualNodes, 1, 100_000, false))
		f = func() model.Picker { return policies.NewConsistentHash(v) }
	} else if t.has("virtual_nodes") {
		t.known = append(t.known, "virtual_nodes")
		d.errorf(t.key("virtual_nodes"), "virtual_nodes goes with %s = \"consistent_hash\"", key)
	}
	return alg, f
}

func (d *decoder) price(t *table) float64 {
	return d.nonNegative(t, "price_per_hour", "US dollars per hour")
}

func (d *decoder) nonNegative(t *table, key, unit string) float64 {
	p, ok := t.number(key)
	if ok && p < 0 {
		d.errorf(t.key(key), "must be ≥ 0 (%s), got %v", unit, p)
		return 0
	}
	return p
}

// componentKinds are the component tables a scenario may have, each with
// its decoder (in its own file). A new kind registers here.
var componentKinds = []struct {
	table  string
	decode func(*decoder, *table) model.ComponentConfig
}{
	{"service", (*decoder).service},
	{"balancer", (*decoder).balancer},
	{"cache", (*decoder).cache},
	{"database", (*decoder).database},
	{"queue", (*decoder).queue},
	{"function", (*decoder).function},
	{"nodepool", (*decoder).nodepool},
}

// minInstances is 1, or 0 for a fleet KEDA scales, which may start empty.
func minInstances(t *table) int64 {
	if a, ok := t.get("autoscale"); ok {
		if m, ok := a.(map[string]any); ok && m["policy"] == "keda" {
			return 0
		}
	}
	return 1
}

// fleet reads the keys every fleet of instances has.
func (d *decoder) fleet(t *table, f *model.Fleet, defCores, defConcurrency int) {
	f.Instances = int(t.integer("instances", 1, minInstances(t), 100_000, false))
	f.Cores = int(t.integer("cores", int64(defCores), 1, 4096, false))
	f.Concurrency = int(t.integer("concurrency", int64(defConcurrency), 1, 10_000_000, true))
	f.Queue = int(t.integer("queue", model.Unlimited, 0, 100_000_000, true))
	f.Algorithm, f.NewPicker = d.picker(t, "balancer", "round_robin")
	f.PricePerHour = d.price(t)
	f.PricePerCoreHour = d.nonNegative(t, "price_per_core_hour", "US dollars per core per hour")
	if rl := t.sub("rate_limit"); rl != nil {
		f.RateLimit.Rate, _ = rl.rate("rate")
		if !(f.RateLimit.Rate > 0) {
			d.errorf(rl.key("rate"), "want the calls per second an instance admits, greater than 0")
		}
		f.RateLimit.Burst = float64(rl.integer("burst", int64(max(1, f.RateLimit.Rate/10)), 1, 1_000_000_000, false))
		rl.done(nil)
	}
	if u := t.sub("usl"); u != nil {
		for _, k := range []string{"contention", "coherency"} {
			v, ok := u.number(k)
			switch {
			case ok && (v < 0 || v >= 1):
				d.errorf(u.key(k), "must be from 0 to below 1 (a fraction of the work per extra core), got %v", v)
			case k == "contention":
				f.USL.Contention = v
			default:
				f.USL.Coherency = v
			}
		}
		u.done(nil)
	}
	d.zones(t, f)
	f.MaxWait = t.duration("max_wait", 0)
	if t.has("max_wait") && f.Concurrency == model.Unlimited {
		d.warnf(t.key("max_wait"), "max_wait sheds calls waiting for a concurrency slot, and concurrency is unlimited: nothing ever waits for one")
	}
}

func (d *decoder) service(t *table) model.ComponentConfig {
	s := &model.ServiceConfig{Name: t.name()}
	d.fleet(t, &s.Fleet, 1, model.Unlimited)
	if ws := t.list("weights"); ws != nil {
		for i, w := range ws {
			var f float64
			switch x := w.(type) {
			case int64:
				f = float64(x)
			case float64:
				f = x
			default:
				d.errorf(elem(t.key("weights"), i), "want a number, got %s", typeName(w))
				continue
			}
			if !(f > 0) || math.IsInf(f, 0) {
				d.errorf(elem(t.key("weights"), i), "weights must be greater than 0, got %v", f)
			}
			s.Weights = append(s.Weights, f)
		}
		if len(s.Weights) != s.Instances {
			d.errorf(t.key("weights"), "has %d weights for %d instances: give one per instance", len(s.Weights), s.Instances)
		}
	}
	d.pod(t, &s.Fleet)
	s.StartDelay = t.duration("start_delay", 0)
	s.Warmup = t.duration("warmup", 0)
	s.WarmupSpeed = 0.5
	if v, ok := t.number("warmup_speed"); ok {
		if !(v > 0 && v <= 1) {
			d.errorf(t.key("warmup_speed"), "must be greater than 0 and at most 1 (the fraction of full cpu speed while warming up), got %v", v)
		} else {
			s.WarmupSpeed = v
		}
	}
	if a := t.sub("autoscale"); a != nil {
		s.Autoscale = d.autoscale(a, s.Instances)
	}
	// request_kb and response_kb on the service are every endpoint's,
	// unless the endpoint gives its own.
	var all model.EndpointConfig
	d.payload(t, &all)
	if t.has("steps") {
		ep := model.EndpointConfig{Name: "default", Steps: d.steps(t, "steps"), RequestKB: all.RequestKB, ResponseKB: all.ResponseKB}
		s.Endpoints = append(s.Endpoints, ep)
	}
	for _, e := range t.named("endpoint") {
		ep := model.EndpointConfig{Name: e.name(), Steps: d.steps(e, "steps"), Write: e.boolean("write", false), RequestKB: all.RequestKB, ResponseKB: all.ResponseKB}
		if e.has("request_kb") {
			ep.RequestKB = d.nonNegative(e, "request_kb", "KB a call sends")
		}
		if e.has("response_kb") {
			ep.ResponseKB = d.nonNegative(e, "response_kb", "KB a call answers")
		}
		s.Endpoints = append(s.Endpoints, ep)
		e.done(nil)
	}
	if t.has("steps") && t.has("endpoint") {
		d.errorf(t.key("steps"), "give either steps (one endpoint) or [%s.endpoint.NAME] tables, not both", t.path)
	}
	if len(s.Endpoints) == 0 {
		d.errorf(t.path, "has no work: add steps = [ { cpu = \"exp(5ms)\" } ] or [%s.endpoint.NAME] tables", t.path)
	}
	t.done(plannedService)
	return s
}

func (d *decoder) balancer(t *table) model.ComponentConfig {
	b := &model.BalancerConfig{Name: t.name()}
	b.To = t.str("to", "")
	if b.To == "" {
		d.errorf(t.key("to"), "missing: name the component behind the balancer (a service, cache or database)")
	}
	b.Algorithm, b.NewPicker = d.picker(t, "algorithm", "round_robin")
	b.Latency = t.distribution("latency")
	b.PricePerHour = d.price(t)
	b.ZoneAware = t.boolean("zone_aware", false)
	b.MinClusterSize = int(t.integer("min_cluster_size", 6, 1, 1_000_000, false))
	b.PreferRegion = t.boolean("prefer_region", false)
	if b.PreferRegion && b.ZoneAware {
		d.errorf(t.key("prefer_region"), "give zone_aware or prefer_region, not both")
	}
	b.Timeout = t.duration("timeout", 0)
	b.Retries = int(t.integer("retries", 0, 0, 100, false))
	b.Redispatch = t.boolean("redispatch", false)
	if t.has("retry_on") {
		for i, v := range t.list("retry_on") {
			switch v {
			case "connect": // always: haproxy's retries
			case "timeout":
				b.RetryTimeout = true
			case "error":
				b.RetryError = true
			default:
				d.errorf(elem(t.key("retry_on"), i), "want \"connect\", \"timeout\" or \"error\", got %s", quoted(v))
			}
		}
	}
	if h := t.sub("health_check"); h != nil {
		b.HealthCheck = d.healthCheck(h)
	}
	if o := t.sub("outlier"); o != nil {
		b.Outlier = &model.Outlier{
			ConsecutiveErrors: int(o.integer("consecutive_errors", 5, 1, 1_000_000, false)),
			Ejection:          d.positiveDuration(o, "ejection", 30*sim.Second),
			MaxEjectionTime:   o.duration("max_ejection", 300*sim.Second),
			MaxEjected:        0.1,
		}
		if v, ok := o.number("max_ejected"); ok {
			if v < 0 || v > 1 {
				d.errorf(o.key("max_ejected"), "want the share of instances that may be ejected at once, from 0 to 1, got %v", v)
			} else {
				b.Outlier.MaxEjected = v
			}
		}
		o.done(nil)
	}
	t.done(nil)
	return b
}

// healthCheck reads health_check = { type, interval, timeout, fall, rise },
// with haproxy's defaults: inter 2s, a timeout of inter (haproxy uses inter
// when "timeout check" is unset), fall 3, rise 2.
func (d *decoder) healthCheck(t *table) *model.HealthCheck {
	h := &model.HealthCheck{}
	switch typ := t.str("type", "http"); typ {
	case "http":
		h.HTTP = true
	case "tcp":
	default:
		d.errorf(t.key("type"), "want \"tcp\" (sees crashed instances) or \"http\" (also hung and erroring ones), got %q", typ)
	}
	h.Interval = d.positiveDuration(t, "interval", 2*sim.Second)
	h.Timeout = d.positiveDuration(t, "timeout", h.Interval)
	h.Fall = int(t.integer("fall", 3, 1, 1000, false))
	h.Rise = int(t.integer("rise", 2, 1, 1000, false))
	t.done(nil)
	return h
}

func (d *decoder) traffic(t *table, runEnd sim.Time) model.TrafficConfig {
	c := model.TrafficConfig{Name: t.name()}
	c.To = t.str("to", "")
	if c.To == "" {
		d.errorf(t.key("to"), "missing: name the component that receives this traffic")
	}
	c.Start = t.duration("start", 0)
	c.Stop = t.duration("stop", 0)
	if t.has("stop") && c.Stop <= 0 {
		d.errorf(t.key("stop"), "must be greater than 0: no arrivals at or after it (leave stop out to send until the end of the run)")
	}
	if c.Stop > 0 && c.Stop <= c.Start {
		d.errorf(t.key("stop"), "stop (%v) must be after start (%v)", c.Stop, c.Start)
	}
	c.Timeout = t.duration("timeout", 0)

	d.arrivals(t, &c)

	c.Endpoint = t.str("endpoint", "")
	if mix := t.sub("mix"); mix != nil {
		names := make([]string, 0, len(mix.m))
		for n := range mix.m {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			w, ok := mix.number(n)
			if ok && !(w > 0) {
				d.errorf(mix.key(n), "weight must be greater than 0")
				continue
			}
			if ok {
				c.Mix = append(c.Mix, model.MixEntry{Endpoint: n, Weight: w})
			}
		}
		if len(c.Mix) == 0 {
			d.errorf(t.key("mix"), "empty: give endpoint weights, e.g. mix = { browse = 0.9, buy = 0.1 }")
		}
	}
	for _, st := range d.tables(t, "session", `{ endpoint = "browse", think = "exp(5s)" }`) {
		s := model.SessionStep{Endpoint: st.str("endpoint", ""), Think: st.distribution("think")}
		st.done(nil)
		c.Session = append(c.Session, s)
	}
	n := 0
	for _, k := range []string{"endpoint", "mix", "session"} {
		if t.has(k) {
			n++
		}
	}
	if n > 1 {
		d.errorf(t.path, "give at most one of endpoint, mix or session")
	}
	if ks := t.str("keys", ""); ks != "" {
		k, err := dist.ParseKeys(ks)
		if err != nil {
			d.errorf(t.key("keys"), "%v", err)
		}
		c.Keys = k
	}
	c.Zones = d.trafficZones(t)
	t.done(nil)
	return c
}

// check validates what crosses tables: names, and the call graph (targets,
// endpoints, cycles, cache conditions), with the model's own resolver.
func (d *decoder) check(cfg *model.Config) {
	kind := map[string]string{}
	for _, c := range cfg.Components {
		if prev, dup := kind[c.ComponentName()]; dup {
			d.errorf(model.Label(c), "name %q is already used by a %s; component names must be unique", c.ComponentName(), prev)
			continue
		}
		kind[c.ComponentName()] = string(c.Kind())
	}
	if len(d.errs) > 0 {
		return
	}
	var names []string
	for n := range kind {
		names = append(names, n)
	}
	sort.Strings(names)
	d.checkFaults(cfg)
	d.checkScalers(cfg)
	for _, p := range model.NewGraph(cfg).Problems {
		msg := p.Msg
		if p.Unknown != "" {
			if s := suggest(p.Unknown, names); s != "" {
				head := fmt.Sprintf("no component named %q", p.Unknown)
				msg = strings.Replace(msg, head, fmt.Sprintf("%s; did you mean %q?", head, s), 1)
			}
		}
		d.errorf(placePath(cfg, p.Place), "%s", msg)
	}
}

// placePath is the key path in the scenario file of a place in the model.
func placePath(cfg *model.Config, p model.Place) string {
	var path string
	switch {
	case p.Traffic != "":
		path = "traffic." + p.Traffic
	case p.Step >= 0:
		path = elem(stepsPath(cfg, p.Component, p.Endpoint), p.Step)
		if p.Branch >= 0 {
			path = elem(path+".parallel", p.Branch)
		}
	default:
		path = p.Component
	}
	if p.Key != "" {
		path += "." + p.Key
	}
	return path
}

// stepsPath is the key path of an endpoint's steps in the file, for the
// component labelled label.
func stepsPath(cfg *model.Config, label, endpoint string) string {
	for _, c := range cfg.Components {
		if model.Label(c) == label && endpoint == "default" && len(c.EndpointConfigs()) == 1 {
			return label + ".steps"
		}
	}
	return label + ".endpoint." + endpoint + ".steps"
}

// keySpaces tells range-sharded databases how many keys there are: the
// largest key space of the traffic.
func (d *decoder) keySpaces(cfg *model.Config) {
	var n uint64
	for _, tr := range cfg.Traffic {
		if tr.Keys != nil {
			n = max(n, tr.Keys.N())
		}
	}
	for _, c := range cfg.Components {
		db, ok := c.(*model.DatabaseConfig)
		if !ok {
			continue
		}
		db.KeySpace = n
		if db.ShardBy == "range" && db.Shards > 1 && n == 0 {
			d.errorf(model.Label(c)+".shard_by", "range sharding needs request keys: give the traffic keys = \"zipf(s=0.9, n=100000)\"")
		}
	}
}

// injectStep reads one Gatling open injection step.
func (d *decoder) injectStep(t *table) model.InjectStep {
	var s model.InjectStep
	n := 0
	for _, k := range []string{"nothing_for", "at_once", "ramp", "heaviside", "constant", "ramp_rate"} {
		if t.has(k) {
			s.Kind = k
			n++
		}
	}
	t.known = append(t.known, "nothing_for", "at_once", "ramp", "heaviside", "constant", "ramp_rate")
	if n != 1 {
		d.errorf(t.path, "an injection step needs exactly one of nothing_for, at_once, ramp, heaviside, constant, ramp_rate; this one has %d", n)
		return s
	}
	switch s.Kind {
	case "nothing_for":
		s.Over = t.duration("nothing_for", 0)
	case "at_once", "ramp", "heaviside":
		s.Users = t.integer(s.Kind, 1, 1, 1_000_000_000, false)
	case "constant", "ramp_rate":
		s.Rate, _ = t.rate(s.Kind)
		s.Random = t.boolean("randomized", false)
	}
	if s.Kind == "ramp_rate" {
		var ok bool
		if s.To, ok = t.rate("to"); !ok && !t.has("to") {
			d.errorf(t.key("to"), "ramp_rate needs to = the final rate")
		}
	}
	if s.Kind != "nothing_for" && s.Kind != "at_once" {
		s.Over = t.duration("over", 0)
		if s.Over <= 0 {
			d.errorf(t.key("over"), "%s needs over = \"30s\" (the step's duration)", s.Kind)
		}
	}
	t.done(nil)
	return s
}

// ParseDuration parses a duration as scenario files write them ("250ms",
// "1h30m", "0").
func ParseDuration(s string) (sim.Time, error) {
	d, err := dist.ParseDuration(s)
	return sim.Time(d), err
}

// Contents says what the scenario holds, for a person: "1 traffic source,
// 2 services, 1 balancer, 1 cache".
func (sc *Scenario) Contents() string {
	c := sc.Config
	parts := []string{count(len(c.Traffic), "traffic source")}
	var kinds []string
	n := map[string]int{}
	for _, k := range c.Components {
		if n[string(k.Kind())] == 0 {
			kinds = append(kinds, string(k.Kind()))
		}
		n[string(k.Kind())]++
	}
	sort.Strings(kinds)
	for _, k := range kinds {
		parts = append(parts, count(n[k], k))
	}
	return strings.Join(parts, ", ")
}

// Prices says which price model the scenario's costs follow, for a person:
// "web $0.17/h per instance + $0.02/h per core; lb $0.03/h".
func (sc *Scenario) Prices() string {
	var parts []string
	for _, c := range sc.Config.Components {
		name := c.ComponentName()
		if f := c.FleetConfig(); f != nil {
			switch {
			case f.PricePerHour > 0 && f.PricePerCoreHour > 0:
				parts = append(parts, fmt.Sprintf("%s $%g/h per instance + $%g/h per core", name, f.PricePerHour, f.PricePerCoreHour))
			case f.PricePerCoreHour > 0:
				parts = append(parts, fmt.Sprintf("%s $%g/h per core", name, f.PricePerCoreHour))
			case f.PricePerHour > 0:
				parts = append(parts, fmt.Sprintf("%s $%g/h per instance, whatever its cores (price_per_core_hour prices cores)", name, f.PricePerHour))
			}
		} else if b, ok := c.(*model.BalancerConfig); ok && b.PricePerHour > 0 {
			parts = append(parts, fmt.Sprintf("%s $%g/h", name, b.PricePerHour))
		}
	}
	if len(parts) == 0 {
		return "no component has a price: cost is 0 for every setting"
	}
	return strings.Join(parts, "; ")
}

// ScanTraces reads every trace the scenario replays, to the end (streaming:
// one row in memory at a time), so that validation fails exactly where a
// run would: an unsorted, truncated or malformed trace is an error naming
// its file and line. A trace without a row is a warning.
func (sc *Scenario) ScanTraces() (warnings []string, err error) {
	for _, tr := range sc.Config.Traffic {
		p, ok := tr.Arrivals.(*model.TraceProcess)
		if !ok || p.Open == nil {
			continue
		}
		r, err := p.Open()
		if err != nil {
			return warnings, fmt.Errorf("traffic.%s: %v", tr.Name, err)
		}
		rows := 0
		for _, ok := r.Next(); ok; _, ok = r.Next() {
			rows++
		}
		err = r.Err()
		r.Close()
		if err != nil {
			return warnings, fmt.Errorf("traffic.%s: %v", tr.Name, err)
		}
		if rows == 0 {
			warnings = append(warnings, fmt.Sprintf("traffic.%s: the trace has no rows: this source sends no request", tr.Name))
		}
	}
	return warnings, nil
}
