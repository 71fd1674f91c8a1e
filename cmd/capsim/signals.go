package main

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
)

// exitTerminated is the shell's code for a process ended by SIGTERM
// (128 + 15).
const exitTerminated = 143

// interrupts cancels ctx at the first SIGINT or SIGTERM, so that a run
// stops within milliseconds and writes nothing; a second signal ends the
// process at once. code is the exit status for the first signal (130 for
// SIGINT, 143 for SIGTERM); stop undoes it all.
type interrupts struct {
	ctx    context.Context
	cancel context.CancelFunc
	sigs   chan os.Signal
	first  atomic.Int32
}

func newInterrupts() *interrupts {
	in := &interrupts{sigs: make(chan os.Signal, 2)}
	in.ctx, in.cancel = context.WithCancel(context.Background())
	signal.Notify(in.sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		s, ok := <-in.sigs
		if !ok {
			return
		}
		in.first.Store(int32(codeOf(s)))
		in.cancel()
		if s, ok = <-in.sigs; ok {
			os.Exit(codeOf(s)) // the second signal: at once
		}
	}()
	return in
}

func codeOf(s os.Signal) int {
	if s == syscall.SIGTERM {
		return exitTerminated
	}
	return exitInterrupted
}

// code is the exit status for the signal received (130 if none was, for a
// cancellation from elsewhere).
func (in *interrupts) code() int {
	if c := in.first.Load(); c != 0 {
		return int(c)
	}
	return exitInterrupted
}

func (in *interrupts) stop() {
	signal.Stop(in.sigs)
	close(in.sigs)
	in.cancel()
}
