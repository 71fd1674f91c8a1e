package scenario

import (
	"strings"

	"github.com/capsim/capsim/model"
	"github.com/capsim/capsim/sim"
)

// arrivalProcesses are the keys of a [traffic.NAME] table that choose its
// arrival process, each with its decoder: exactly one per source. A new
// process registers here (its model type in model/arrivals_*.go).
var arrivalProcesses = []struct {
	key    string
	decode func(d *decoder, t *table) model.ArrivalProcess
}{
	{"rate", (*decoder).rateProcess},
	{"stages", (*decoder).stagesProcess},
	{"diurnal", (*decoder).diurnalProcess},
	{"users", (*decoder).usersProcess},
	{"inject", (*decoder).injectProcess},
	{"vus", (*decoder).vuProcess},
	{"trace", (*decoder).traceProcess},
}

// arrivals reads the source's arrival process, and the keys that modify
// it (arrivals = "uniform", a flash crowd).
func (d *decoder) arrivals(t *table, c *model.TrafficConfig) {
	var keys []string
	n := 0
	for _, p := range arrivalProcesses {
		keys = append(keys, p.key)
		if t.has(p.key) || p.key == "vus" && t.has("vu_stages") {
			n++
			a := p.decode(d, t) // each one present, so that its keys are checked too
			if c.Arrivals == nil {
				c.Arrivals = a
			}
		}
	}
	if n != 1 {
		list := strings.Join(keys[:len(keys)-1], ", ") + " or " + keys[len(keys)-1]
		d.errorf(t.path, "give exactly one of %s (this source has %d)", list, n)
	}
	if t.has("start_rate") && !t.has("stages") {
		t.known = append(t.known, "start_rate")
		d.errorf(t.key("start_rate"), "start_rate only applies with stages")
	}
	if t.has("think") && !t.has("vus") && !t.has("vu_stages") {
		t.known = append(t.known, "think")
		d.errorf(t.key("think"), "think applies to closed-model users (vus); in a session, give each step its think")
	}
	uniform := false
	switch arr := t.str("arrivals", "poisson"); arr {
	case "poisson":
	case "uniform":
		uniform = true
		if _, users := c.Arrivals.(*model.UsersProcess); users {
			d.errorf(t.key("arrivals"), "arrivals applies to rate and stages; for users use shape")
		}
	default:
		d.errorf(t.key("arrivals"), "unknown arrival process %q; allowed: poisson, uniform", arr)
	}
	var flash *model.Flash
	if ft := t.sub("flash"); ft != nil {
		flash = &model.Flash{At: ft.duration("at", 0), Rise: ft.duration("rise", 0), Hold: ft.duration("hold", 0), Decay: ft.duration("decay", 0)}
		flash.Peak, _ = ft.rate("peak")
		if flash.Peak <= 0 {
			d.errorf(ft.key("peak"), "want the flash crowd's extra requests per second at its height")
		}
		ft.done(nil)
	}
	switch p := c.Arrivals.(type) {
	case *model.RateProcess:
		p.Uniform, p.Flash = uniform, flash
	case *model.StagesProcess:
		p.Uniform, p.Flash = uniform, flash
	case *model.DiurnalProcess:
		p.Uniform, p.Flash = uniform, flash
	case *model.CountsProcess:
		p.Uniform = uniform
		if flash != nil {
			d.errorf(t.key("flash"), "a flash crowd adds to a rate, stages or diurnal profile")
		}
	default:
		if uniform {
			d.errorf(t.key("arrivals"), "arrivals applies to rate, stages, diurnal and counts traces (a request trace keeps its own times)")
		}
		if flash != nil {
			d.errorf(t.key("flash"), "a flash crowd adds to a rate, stages or diurnal profile")
		}
	}
}

func (d *decoder) rateProcess(t *table) model.ArrivalProcess {
	p := &model.RateProcess{}
	if r, ok := t.rate("rate"); ok {
		p.Rate = r
		if r <= 0 {
			d.errorf(t.key("rate"), "must be greater than 0")
		}
	}
	return p
}

func (d *decoder) stagesProcess(t *table) model.ArrivalProcess {
	p := &model.StagesProcess{}
	p.StartRate, _ = t.rate("start_rate")
	for _, st := range d.tables(t, "stages", `{ duration = "1m", target = 100 }`) {
		var s model.Stage
		s.Duration = st.duration("duration", 0)
		if s.Duration <= 0 {
			d.errorf(st.key("duration"), "each stage needs a duration greater than 0")
		}
		if r, ok := st.rate("target"); ok {
			s.Target = r
		} else if !st.has("target") {
			d.errorf(st.key("target"), "each stage needs a target rate")
		}
		st.done(nil)
		p.Stages = append(p.Stages, s)
	}
	return p
}

func (d *decoder) diurnalProcess(t *table) model.ArrivalProcess {
	dt := t.sub("diurnal")
	if dt == nil {
		t.known = append(t.known, "diurnal")
		d.errorf(t.key("diurnal"), "want a table: diurnal = { peak = 900, trough = 100 }")
		return &model.DiurnalProcess{Period: 24 * sim.Hour}
	}
	p := &model.DiurnalProcess{Period: dt.duration("period", 24*sim.Hour), PeakAt: dt.duration("peak_at", 0)}
	p.Peak, _ = dt.rate("peak")
	p.Trough, _ = dt.rate("trough")
	if p.Period <= 0 {
		d.errorf(dt.key("period"), "must be greater than 0")
		p.Period = 24 * sim.Hour
	}
	if !dt.has("peak") || p.Peak < p.Trough {
		d.errorf(dt.key("peak"), "want peak ≥ trough (requests per second at the busiest and quietest time of the cycle)")
	}
	dt.done(nil)
	return p
}

var shapes = map[string]model.Shape{
	"linear": model.ShapeLinear, "heaviside": model.ShapeHeaviside,
	"at_once": model.ShapeAtOnce, "poisson": model.ShapePoisson,
}

func (d *decoder) usersProcess(t *table) model.ArrivalProcess {
	p := &model.UsersProcess{}
	p.Users = t.integer("users", 0, 1, 1_000_000_000, false)
	p.Over = t.duration("over", 0)
	shape := t.str("shape", "linear")
	sh, ok := shapes[shape]
	if !ok {
		d.errorf(t.key("shape"), "unknown shape %q; allowed: linear, heaviside, at_once, poisson", shape)
	}
	p.Shape = sh
	if ok && p.Over == 0 && sh != model.ShapeAtOnce {
		d.errorf(t.key("users"), "users arriving with shape %q need over = \"30s\" (the period they arrive over); for all at once say shape = \"at_once\"", shape)
	}
	return p
}

func (d *decoder) injectProcess(t *table) model.ArrivalProcess {
	p := &model.InjectProcess{}
	for _, st := range d.tables(t, "inject", `{ ramp = 1000, over = "30s" }`) {
		p.Steps = append(p.Steps, d.injectStep(st))
	}
	return p
}

func (d *decoder) vuProcess(t *table) model.ArrivalProcess {
	p := &model.VUProcess{}
	p.VUs = t.integer("vus", 0, 0, 10_000_000, false)
	for _, st := range d.tables(t, "vu_stages", `{ duration = "1m", target = 100 }`) {
		var s model.Stage
		s.Duration = st.duration("duration", 0)
		if s.Duration <= 0 {
			d.errorf(st.key("duration"), "each stage needs a duration greater than 0")
		}
		s.Target = float64(st.integer("target", 0, 0, 10_000_000, false))
		if !st.has("target") {
			d.errorf(st.key("target"), "each stage needs a target number of VUs")
		}
		st.done(nil)
		p.Stages = append(p.Stages, s)
	}
	if p.VUs == 0 && len(p.Stages) == 0 {
		d.errorf(t.key("vus"), "must be at least 1 (or ramp up with vu_stages)")
	}
	p.Think = t.distribution("think")
	p.Pacing = t.duration("pacing", 0)
	return p
}

// checkSizes refuses closed models that cannot fit: every virtual user
// keeps a request in the system, so more of them than run.max_in_flight
// would stop the run at its start.
func (d *decoder) checkSizes(cfg *model.Config) {
	limit := cfg.MaxInFlight
	switch limit {
	case model.Unlimited:
		return
	case 0:
		limit = model.DefaultMaxInFlight
	}
	for _, tr := range cfg.Traffic {
		p, ok := tr.Arrivals.(*model.VUProcess)
		if !ok {
			continue
		}
		most := float64(p.VUs)
		for _, st := range p.Stages {
			most = max(most, st.Target)
		}
		if most > float64(limit) {
			d.errorf("traffic."+tr.Name+".vus", "%.0f virtual users each keep a request in the system: more than run.max_in_flight (%d); raise it (a request takes about 760 bytes) or use fewer VUs", most, limit)
		}
	}
}
