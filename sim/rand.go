package sim

import "math/rand/v2"

// Stream is an independent pseudo-random stream (PCG-DXSM) for one component
// and purpose. It implements rand.Source, so it can be passed to gonum's
// distuv distributions as Src, and embeds *rand.Rand for direct draws.
type Stream struct {
	*rand.Rand
	pcg rand.PCG
}

// NewStream derives the stream for (seed, component, purpose). The derivation
// depends only on those three values, so adding or renaming another component
// leaves this stream's draws unchanged, and two scenarios run with the same
// seed see the same draws wherever names match (common random numbers).
func NewStream(seed uint64, component, purpose string) *Stream {
	h := fnv64(component, purpose)
	s := &Stream{}
	s.pcg.Seed(splitmix(seed^h), splitmix(h+0x9e3779b97f4a7c15*(seed+1)))
	s.Rand = rand.New(&s.pcg)
	return s
}

// Uint64 makes Stream a rand.Source.
func (s *Stream) Uint64() uint64 { return s.pcg.Uint64() }

// fnv64 is FNV-1a over component, a zero byte, and purpose.
func fnv64(component, purpose string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < len(component); i++ {
		h ^= uint64(component[i])
		h *= prime
	}
	h ^= 0
	h *= prime
	for i := 0; i < len(purpose); i++ {
		h ^= uint64(purpose[i])
		h *= prime
	}
	return h
}

// splitmix is the SplitMix64 finaliser, used to spread seeds over 64 bits.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// Mix64 is MurmurHash3's 64-bit finaliser: it spreads keys over 64 bits
// (for hash tables and hash sharding).
func Mix64(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	return k ^ k>>33
}
