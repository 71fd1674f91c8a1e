package experiments

import (
	"context"
	"errors"
	"runtime"

	"golang.org/x/sync/errgroup"
)

// forEach runs f(ctx, i) for every i in [from, to) on at most workers
// goroutines (GOMAXPROCS when ≤ 0): the one worker pool of replications,
// sweep points and plans. It starts nothing more once a call has failed or
// ctx is done; the ctx given to f is cancelled then, so running simulations
// stop too. The error is the failed call's with the lowest index, so that
// it does not depend on the number of workers either.
func forEach(ctx context.Context, from, to, workers int, f func(ctx context.Context, i int) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	errs := make([]error, to-from)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for i := from; i < to && gctx.Err() == nil; i++ {
		g.Go(func() error {
			errs[i-from] = f(gctx, i)
			return errs[i-from]
		})
	}
	g.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	var canceled error
	for _, err := range errs {
		switch {
		case err == nil:
		case errors.Is(err, context.Canceled):
			canceled = err // stopped because another call failed
		default:
			return err
		}
	}
	return canceled
}
