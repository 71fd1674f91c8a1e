// Package calibrate learns a capsim scenario from the distributed traces of
// a system that exists (capsim import traces): its services and endpoints,
// each endpoint's steps in observed order — self-time segments fitted to a
// distribution around its calls, calls taken with their observed
// probability, overlapping calls as a parallel step, async work — the
// network latency of its calls, and the rate of its root requests.
//
// Traces stream in from package spans; an Assembler groups their spans into
// traces within a bounded window, so memory is bounded by the traces open
// at once, not by the file; a Learner takes one finished trace at a time
// and keeps per endpoint exact counts and a bounded reservoir of samples.
// What cannot be learned from traces (instances, cores, concurrency,
// prices) is written as a stated assumption, or taken from a Kubernetes
// manifest. docs/calibration.md describes the method and its limits.
package calibrate
