// Package dist holds the probability distributions a scenario draws from:
// durations (service times, think times, latencies) and keys (which user or
// item a request is about). Every sampler is stateless and draws from the
// sim.Stream passed in, so one distribution value can be shared by many
// components, each with its own stream.
//
// Duration distributions are written as strings (see Parse): "const(2ms)",
// "exp(5ms)", "uniform(1ms, 3ms)", "normal(mean=10ms, sd=2ms)",
// "lognormal(mean=20ms, sd=30ms)", "lognormal(median=20ms, p99=250ms)",
// "gamma(mean=10ms, cv=0.5)", "erlang(k=3, mean=9ms)",
// "pareto(xm=1ms, alpha=2.5)", "empirical(file.csv)". Key distributions
// (ParseKeys): "zipf(s=0.8, n=1000000)", "uniform(n=1000)",
// "hotset(fraction=0.1, share=0.9, n=10000)".
package dist
