package roster

import (
	"encoding/binary"
	"hash/maphash"
	"math"
	"math/bits"
)

// seen remembers the phones and emails a Validator has met and the row
// each first appeared on, in memory that does not depend on how long the
// values are: a phone is its E.164 digits as one integer, an email a 64-bit
// hash of its lower-cased form. Rows that add a value are numbered in order
// (their entry); the tables map a value to its entry, and the log holds each
// entry's row number and lower-cased email.
//
// A hash can collide; the log is what makes that harmless. On a hash hit the
// earlier email is read back from the log and compared in full, so two
// different emails are never called duplicates, and since equal emails
// always hash alike a real duplicate is never missed. Keeping every email
// costs about its length per row, but no pointer, header or map bucket; the
// alternative, reading the earlier row back from the input, would need a
// seekable file and a reader that can restart mid-file for every encoding
// and for workbooks.
type seen struct {
	phones slots // E.164 digits → entry
	emails slots // hash of the lower-cased email → entry; equal hashes may repeat
	log    entryLog
	// wide holds phones whose digits do not fit in a uint64 (more than 19
	// digits; phonenumbers' valid numbers have fewer, but nothing here
	// relies on it).
	wide map[string]uint32
	// hash hashes a lower-cased email; tests replace it to force collisions.
	hash func(lower []byte) uint64
}

func newSeen() *seen {
	seed := maphash.MakeSeed()
	return &seen{hash: func(b []byte) uint64 { return maphash.Bytes(seed, b) }}
}

// maxEntries bounds the entries the tables can name (entry+1 must fit in
// uint32). A file with more rows than this is 40 GB or more; rows past it
// are still checked against the earlier ones but not remembered.
const maxEntries = math.MaxUint32 - 1

// dup is an earlier row that had the same value.
type dup struct {
	row   int
	found bool
}

// add looks email (as written and accepted; "" for none) and phone (E.164;
// "" for none) up, remembers whichever is new as first seen on row, and
// returns the earlier rows of those that are not.
func (s *seen) add(row int, email, phone string) (emailDup, phoneDup dup) {
	var buf [maxEmailLen]byte
	lower := buf[:copy(buf[:], email)]
	var h uint64
	if email != "" {
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		h = s.hash(lower)
		if e, ok := s.findEmail(h, lower); ok {
			emailDup = dup{s.log.row(e), true}
		}
	}
	var pk uint64
	pkOK := false
	if phone != "" {
		var e uint32
		var ok bool
		if pk, pkOK = phoneKey(phone); pkOK {
			e, ok = s.phones.find(pk)
		} else {
			e, ok = s.wide[phone]
		}
		if ok {
			phoneDup = dup{s.log.row(e), true}
		}
	}
	newEmail, newPhone := email != "" && !emailDup.found, phone != "" && !phoneDup.found
	if !newEmail && !newPhone || s.log.entries >= maxEntries {
		return emailDup, phoneDup
	}
	var stored []byte
	if newEmail {
		stored = lower
	}
	e := s.log.append(row, stored)
	if newEmail {
		s.emails.insert(h, e)
	}
	switch {
	case !newPhone:
	case pkOK:
		s.phones.insert(pk, e)
	default:
		if s.wide == nil {
			s.wide = map[string]uint32{}
		}
		s.wide[phone] = e
	}
	return emailDup, phoneDup
}

// findEmail returns the entry of the email equal to lower, among those
// whose hash is h.
func (s *seen) findEmail(h uint64, lower []byte) (uint32, bool) {
	t := &s.emails
	if t.n == 0 {
		return 0, false
	}
	for i := t.home(h); t.vals[i] != 0; i = t.next(i) {
		if t.keys[i] == h && string(s.log.email(t.vals[i]-1)) == string(lower) {
			return t.vals[i] - 1, true
		}
	}
	return 0, false
}

// phoneKey is an E.164 number's digits as an integer: different numbers
// have different keys, because E.164 digits never start with 0.
func phoneKey(e164 string) (uint64, bool) {
	if len(e164) < 2 || e164[0] != '+' || len(e164) > 21 {
		return 0, false
	}
	var k uint64
	for i := 1; i < len(e164); i++ {
		c := e164[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		hi, lo := bits.Mul64(k, 10)
		lo, carry := bits.Add64(lo, uint64(c-'0'), 0)
		if hi != 0 || carry != 0 {
			return 0, false
		}
		k = lo
	}
	return k, true
}

// bytes reports the memory the index holds, for benchmarks.
func (s *seen) bytes() int {
	return s.phones.bytes() + s.emails.bytes() + s.log.bytes()
}

// slots is an open-addressing hash table from uint64 keys to entries, with
// linear probing: two flat arrays, 12 bytes a slot, no pointers for the
// garbage collector to scan. Its size need not be a power of two (slots
// are chosen by multiply-shift), so it grows by half rather than doubling.
type slots struct {
	keys []uint64
	vals []uint32 // entry+1; 0 marks a free slot
	n    int
}

const (
	minSlots = 1024
	// maxLoad keeps probe runs short: at 80 % full a linear-probing miss
	// looks at about 13 slots, in adjacent memory.
	maxLoadNum, maxLoadDen = 4, 5
)

// home is key's first slot: the key mixed (phone numbers are far from
// random), then scaled to the table's size.
func (t *slots) home(key uint64) int {
	hi, _ := bits.Mul64(mix(key), uint64(len(t.keys)))
	return int(hi)
}

func (t *slots) next(i int) int {
	if i++; i == len(t.keys) {
		return 0
	}
	return i
}

// find returns the entry of key: for a key inserted more than once (an
// email hash shared by different emails), any one of them.
func (t *slots) find(key uint64) (uint32, bool) {
	if t.n == 0 {
		return 0, false
	}
	for i := t.home(key); t.vals[i] != 0; i = t.next(i) {
		if t.keys[i] == key {
			return t.vals[i] - 1, true
		}
	}
	return 0, false
}

// insert adds key → entry, beside any entries the key already has.
func (t *slots) insert(key uint64, entry uint32) {
	if (t.n+1)*maxLoadDen > len(t.keys)*maxLoadNum {
		t.grow()
	}
	t.place(key, entry+1)
	t.n++
}

func (t *slots) place(key uint64, val uint32) {
	i := t.home(key)
	for t.vals[i] != 0 {
		i = t.next(i)
	}
	t.keys[i], t.vals[i] = key, val
}

func (t *slots) grow() {
	size := max(minSlots, len(t.keys)+len(t.keys)/2)
	keys, vals := t.keys, t.vals
	t.keys, t.vals = make([]uint64, size), make([]uint32, size)
	for i, v := range vals {
		if v != 0 {
			t.place(keys[i], v)
		}
	}
}

func (t *slots) bytes() int { return cap(t.keys)*8 + cap(t.vals)*4 }

// mix is a bijective 64-bit finaliser (MurmurHash3's fmix64).
func mix(k uint64) uint64 {
	k ^= k >> 33
	k *= 0xff51afd7ed558ccd
	k ^= k >> 33
	k *= 0xc4ceb9fe1a85ec53
	k ^= k >> 33
	return k
}

// entryLog holds, for each entry in order, its row and its lower-cased
// email (empty when the entry added only a phone), packed as varints and
// bytes in chunks that are never copied. Every 64th entry's position is
// kept, so reading an entry back skips at most 63 others.
type entryLog struct {
	chunks  [][]byte
	marks   []logMark // position and row of entries 0, 64, 128, …
	lastRow int
	entries uint32
}

type logMark struct {
	chunk, off uint32
	row        int
}

const (
	logChunk = 1 << 20
	markDist = 64
	// maxRecord is the longest a record can be: two varints and an email.
	maxRecord = 2*binary.MaxVarintLen64 + maxEmailLen
)

// append adds an entry for row with email (lower case; nil for none) and
// returns its number.
func (l *entryLog) append(row int, email []byte) uint32 {
	last := len(l.chunks) - 1
	if last < 0 || len(l.chunks[last])+maxRecord > cap(l.chunks[last]) {
		l.chunks = append(l.chunks, make([]byte, 0, logChunk))
		last++
	}
	c := l.chunks[last]
	e := l.entries
	if e%markDist == 0 {
		l.marks = append(l.marks, logMark{chunk: uint32(last), off: uint32(len(c)), row: row})
	}
	c = binary.AppendVarint(c, int64(row-l.lastRow))
	c = binary.AppendUvarint(c, uint64(len(email)))
	c = append(c, email...)
	l.chunks[last] = c
	l.lastRow = row
	l.entries++
	return e
}

// read returns entry e's row and email, which aliases the log.
func (l *entryLog) read(e uint32) (int, []byte) {
	m := l.marks[e/markDist]
	c := l.chunks[m.chunk]
	off := int(m.off)
	row := m.row
	for i := e - e%markDist; ; i++ {
		d, n := binary.Varint(c[off:])
		if i > e-e%markDist {
			row += int(d) // the mark's own delta is already in its row
		}
		off += n
		size, n := binary.Uvarint(c[off:])
		off += n
		if i == e {
			return row, c[off : off+int(size)]
		}
		off += int(size)
		if off == len(c) { // the next record starts the next chunk
			m.chunk++
			c, off = l.chunks[m.chunk], 0
		}
	}
}

func (l *entryLog) row(e uint32) int {
	r, _ := l.read(e)
	return r
}

func (l *entryLog) email(e uint32) []byte {
	_, b := l.read(e)
	return b
}

func (l *entryLog) bytes() int {
	n := cap(l.marks) * 16
	for _, c := range l.chunks {
		n += cap(c)
	}
	return n
}
