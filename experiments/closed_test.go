package experiments_test

import (
	"fmt"
	"math"
	"testing"
)

// machineRepairman is M/M/1//N: N users thinking Exp(Z) between requests
// to one exponential server of rate μ. With ρ = 1/(Zμ),
// p0 = 1 / Σ_{k=0..N} N!/(N−k)! ρ^k, X = μ(1−p0), R = N/X − Z.
// Reference: Kleinrock vol. 1, §3.10 (finite customer population).
func machineRepairman(n int, z, mu float64) (x, r float64) {
	rho := 1 / (z * mu)
	var sum, term float64 = 0, 1
	for k := 0; k <= n; k++ {
		if k > 0 {
			term *= float64(n-k+1) * rho
		}
		sum += term
	}
	p0 := 1 / sum
	x = mu * (1 - p0)
	return x, float64(n)/x - z
}

// Closed model: N VUs with exponential think time against one exponential
// station match the machine-repairman throughput and response time, and
// the interactive response time law R = N/X − Z holds.
func TestClosedModelMachineRepairman(t *testing.T) {
	t.Parallel()
	for _, n := range []int{5, 20, 40} {
		o := runTOML(t, fmt.Sprintf(`
[run]
duration = "4100s"
warmup = "100s"
[traffic.vus]
to = "s"
vus = %d
think = "exp(200ms)"
[service.s]
steps = [ { cpu = "exp(10ms)" } ]
`, n))
		x, r := machineRepairman(n, 0.2, 100)
		within(t, fmt.Sprintf("N=%d throughput (req/s)", n), o.Summary.Throughput, x, 0.02)
		within(t, fmt.Sprintf("N=%d response (ms)", n), o.Summary.Latency.Mean, 1000*r, 0.02)
		tr := o.Result.Traffic[0]
		checkResponseTimeLaw(t, o.Summary.Throughput, o.Summary.Latency.Mean/1000, tr.VUs, tr.MeanThink.Seconds())
	}
}

// checkResponseTimeLaw: R = N/X − Z, with N the mean number of VUs and Z
// the mean think time actually drawn, to within 1 %. (The law is an
// identity on the sample path; with the nominal Z, sampling noise in the
// think times, tiny relative to Z, is large relative to R.)
func checkResponseTimeLaw(t *testing.T, x, r, n, z float64) {
	t.Helper()
	if want := n/x - z; math.Abs(r-want) > 0.01*want {
		t.Errorf("response time law: R = %.5f s, N/X − Z = %.5f s", r, want)
	}
}

// ramping-vus: the VU count follows the stages, and VUs retire after their
// iteration when the ramp goes down.
func TestRampingVUs(t *testing.T) {
	t.Parallel()
	o := runTOML(t, `
[run]
duration = "300s"
window = "10s"
[traffic.vus]
to = "s"
vus = 0
vu_stages = [ { duration = "100s", target = 50 }, { duration = "100s", target = 50 }, { duration = "100s", target = 0 } ]
think = "const(1s)"
[service.s]
cores = 64
steps = [ { cpu = "const(10ms)" } ]
`)
	// Each VU does one request per 1.01 s: the in-flight + thinking VUs are
	// N(t); throughput per window ≈ N(t)/1.01.
	for _, c := range []struct {
		window int
		vus    float64
	}{{2, 12.5}, {15, 50}, {25, 22.5}, {29, 2.5}} {
		w := o.Result.Windows[c.window]
		got := float64(w.Arrivals) / w.Length.Seconds()
		if math.Abs(got-c.vus/1.01) > 0.1*c.vus/1.01+1 {
			t.Errorf("window %d: %.1f requests/s, want about %.1f (%v VUs)", c.window, got, c.vus/1.01, c.vus)
		}
	}
	if v := o.Result.Traffic[0].VUs; math.Abs(v-100.0/3) > 0.5 {
		t.Errorf("mean VUs %v, want 33.3 (ramps averaging 25, a hold at 50)", v)
	}
}

// Coordinated omission made visible: when the service stalls, a closed-loop
// user waits instead of sending, so the measured latencies under-count the
// stall; the corrected histogram adds the requests users on schedule would
// have sent. Without stalls longer than the pacing, both agree.
func TestCoordinatedOmission(t *testing.T) {
	t.Parallel()
	src := `
[run]
duration = "600s"
[traffic.vus]
to = "s"
vus = 10
think = "const(100ms)"
[service.s]
steps = [ { cpu = "exp(2ms)" }, { sleep = "const(1ms)", p = 1 } ]
`
	o := runTOML(t, src)
	ts := o.Summary.Traffic["vus"]
	if ts.Corrected == nil || *ts.Corrected != ts.Latency {
		t.Errorf("no stall: corrected %+v, measured %+v", ts.Corrected, ts.Latency)
	}
	// 1 % of requests stall for 2 s.
	o = runTOML(t, src, `service.s.steps[1]={ sleep = "const(2s)", p = 0.01 }`)
	ts = o.Summary.Traffic["vus"]
	// The stall is 1 % of the requests sent, but users on schedule would
	// have been stuck 20 times longer: the corrected p95 shows it.
	t.Logf("p95 measured %.1f ms, corrected %.1f ms", ts.Latency.P95, ts.Corrected.P95)
	if ts.Corrected.P95 < 50*ts.Latency.P95 || ts.Corrected.Mean < 5*ts.Latency.Mean {
		t.Errorf("stalls: corrected %+v not far above measured %+v", *ts.Corrected, ts.Latency)
	}
}
