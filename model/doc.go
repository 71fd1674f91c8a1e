// Package model is capsim's system model: traffic sources, load balancers and
// service fleets, and the requests that flow between them, run on the sim
// engine. It knows nothing of TOML, files or plots: a scenario is handed to it
// as a Config (see package experiments/scenario for the file format) and it
// returns plain result data (Result).
//
// Semantics, in brief (docs/scenario.md has the user-facing version):
//
//   - A request has an endpoint, an optional key and an intended start time;
//     its latency is measured from the intended start (no coordinated
//     omission).
//   - A service instance admits up to Concurrency requests at once; up to
//     Queue more wait for admission in FIFO order; beyond that a request is
//     rejected. An admitted request runs its endpoint's steps in order: a cpu
//     step holds one of the instance's Cores (FIFO) for a sampled time; a call
//     step holds the concurrency slot, not a core, while the callee works; a
//     sleep step holds the slot only.
//   - A failed call (rejected, timed out, error) fails the calling endpoint
//     with the same outcome, up to the client. A call that times out is
//     abandoned by the caller, but the callee finishes its work: that work is
//     counted as wasted, as is all work for requests that did not succeed.
package model
