package model

// ring is a growable FIFO of int32 (call indices). It reuses its storage, so
// steady-state pushes and pops do not allocate.
type ring struct {
	buf        []int32
	head, size int
}

func (r *ring) len() int { return r.size }

// peek is the head, without taking it.
func (r *ring) peek() int32 { return r.buf[r.head] }

func (r *ring) push(v int32) {
	if r.size == len(r.buf) {
		n := 2 * len(r.buf)
		if n == 0 {
			n = 8
		}
		nb := make([]int32, n)
		for i := 0; i < r.size; i++ {
			nb[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = nb, 0
	}
	r.buf[(r.head+r.size)%len(r.buf)] = v
	r.size++
}

func (r *ring) pop() int32 {
	v := r.buf[r.head]
	r.head++
	if r.head == len(r.buf) {
		r.head = 0
	}
	r.size--
	return v
}

// pushFront puts v at the head (a redelivered message goes first again).
func (r *ring) pushFront(v int32) {
	r.push(v) // grow if needed
	r.size--
	r.head--
	if r.head < 0 {
		r.head = len(r.buf) - 1
	}
	r.buf[r.head] = v
	r.size++
}

// popBack takes the most recently pushed value.
func (r *ring) popBack() int32 {
	r.size--
	return r.buf[(r.head+r.size)%len(r.buf)]
}

// remove deletes the first occurrence of v, searching from the head (where
// the oldest are), and reports whether it was there.
func (r *ring) remove(v int32) bool {
	for i := 0; i < r.size; i++ {
		if r.buf[(r.head+i)%len(r.buf)] != v {
			continue
		}
		for j := i; j > 0; j-- { // close the gap from the head's side
			r.buf[(r.head+j)%len(r.buf)] = r.buf[(r.head+j-1)%len(r.buf)]
		}
		r.pop()
		return true
	}
	return false
}
