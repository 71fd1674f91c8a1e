package model

import (
	"testing"

	"github.com/capsim/capsim/sim"
)

// A time-based window counts the calls of the last seconds only: failures
// older than the window do not trip the breaker.
func TestBreakerTimeWindow(t *testing.T) {
	b := newBreaker(&BreakerConfig{WindowTime: 2 * sim.Second, FailureRate: 0.5, MinCalls: 4, Open: 10 * sim.Second, HalfOpenCalls: 2})
	at := func(s float64) sim.Time { return sim.FromSeconds(s) }
	b.record(at(0.1), true, 0, false)
	b.record(at(0.2), true, 0, false)
	b.record(at(0.3), true, 0, false) // 3 failures: too few calls yet
	if b.state != breakerClosed {
		t.Fatal("opened before min_calls")
	}
	b.record(at(5.0), false, 0, false) // the failures are out of the window now
	b.record(at(5.1), false, 0, false)
	b.record(at(5.2), false, 0, false)
	b.record(at(5.3), true, 0, false) // 1 of 4 in the window
	if b.state != breakerClosed {
		t.Fatalf("opened on failures that left the window (calls %d, fails %d)", b.calls, b.fails)
	}
	b.record(at(5.4), true, 0, false) // 2 of 5: 40 %
	b.record(at(5.5), true, 0, false) // 3 of 6: 50 %: open
	if b.state != breakerOpen || b.openUntil != at(15.5) {
		t.Fatalf("state %d until %v, want open until 15.5s", b.state, b.openUntil)
	}
	if ok, _ := b.permit(at(15.4)); ok {
		t.Error("a call went through an open breaker")
	}
	if ok, trial := b.permit(at(15.5)); !ok || !trial || b.state != breakerHalfOpen {
		t.Error("no trial call after the open time")
	}
}

// Slow calls trip a breaker like failures do.
func TestBreakerSlowCalls(t *testing.T) {
	b := newBreaker(&BreakerConfig{Window: 4, FailureRate: 1, MinCalls: 4, Open: sim.Second, HalfOpenCalls: 1, SlowCall: 100 * sim.Millisecond, SlowRate: 0.75})
	for i, took := range []sim.Time{50, 150, 200, 300} {
		b.record(sim.Time(i), false, took*sim.Millisecond, false)
	}
	if b.state != breakerOpen {
		t.Errorf("3 of 4 calls slower than 100 ms did not open the breaker")
	}
}

// A retry budget of 20 % (and no minimum) lets 20 retries through per 100
// calls of the last TTL, and forgets calls older than the TTL.
func TestRetryBudget(t *testing.T) {
	b := newBudget(&RetryBudget{Percent: 0.2, TTL: 10 * sim.Second})
	for i := 0; i < 100; i++ {
		b.request(sim.Time(i) * sim.Millisecond)
	}
	n := 0
	for b.withdraw(sim.Second) {
		n++
	}
	if n != 20 {
		t.Errorf("%d retries from 100 calls at 20 %%, want 20", n)
	}
	if b.withdraw(20 * sim.Second) {
		t.Error("a retry after the calls left the TTL")
	}
}
