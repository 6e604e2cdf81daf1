package roster

import (
	"bytes"
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
// always hash alike a real duplicate is never missed. As every hit is
// re-compared anyway, the email table keeps only 32 bits of the hash:
// about a hundred chance matches in a million rows cost a hundred reads. Keeping every email
// costs about its length per row, but no pointer, header or map bucket; the
// alternative, reading the earlier row back from the input, would need a
// seekable file and a reader that can restart mid-file for every encoding
// and for workbooks.
type seen struct {
	phones slots[uint64] // E.164 digits → entry
	emails slots[uint32] // hash of the lower-cased email, folded → entry; equal keys may repeat
	log    entryLog
	// wide holds phones whose digits do not fit in a uint64 (more than 19
	// digits; phonenumbers' valid numbers have fewer, but nothing here
	// relies on it).
	wide map[string]uint32
	seed maphash.Seed
	// forceHash, when set, replaces the email hash: tests force collisions.
	forceHash func(lower []byte) uint64
}

func newSeen() *seen {
	return &seen{seed: maphash.MakeSeed()}
}

// hash is the 64-bit hash of a lower-cased email.
func (s *seen) hash(lower []byte) uint64 {
	if s.forceHash != nil {
		// A copy, so that handing lower to an unknown function does not move
		// every row's buffer to the heap.
		return s.forceHash(bytes.Clone(lower))
	}
	return maphash.Bytes(s.seed, lower)
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
	var h uint32
	if email != "" {
		for i, c := range lower {
			if 'A' <= c && c <= 'Z' {
				lower[i] = c + 'a' - 'A'
			}
		}
		h64 := s.hash(lower)
		h = uint32(h64 ^ h64>>32)
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
// whose key is h.
func (s *seen) findEmail(h uint32, lower []byte) (uint32, bool) {
	t := &s.emails
	if t.n == 0 {
		return 0, false
	}
	for i := t.home(h); t.vals[i] != 0; i = t.next(i) {
		if t.keys[i] == h && s.log.sameEmail(t.vals[i]-1, lower) {
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

// slots is an open-addressing hash table from integer keys to entries,
// with linear probing: two flat arrays (12 or 8 bytes a slot), no pointers
// for the garbage collector to scan. Its size need not be a power of two (slots
// are chosen by multiply-shift), so it grows by a quarter rather than
// doubling, and stays between 64 and 80 % full.
type slots[K uint32 | uint64] struct {
	keys []K
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
func (t *slots[K]) home(key K) int {
	hi, _ := bits.Mul64(mix(uint64(key)), uint64(len(t.keys)))
	return int(hi)
}

func (t *slots[K]) next(i int) int {
	if i++; i == len(t.keys) {
		return 0
	}
	return i
}

// find returns the entry of key: for a key inserted more than once (an
// email hash shared by different emails), any one of them.
func (t *slots[K]) find(key K) (uint32, bool) {
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
func (t *slots[K]) insert(key K, entry uint32) {
	if (t.n+1)*maxLoadDen > len(t.keys)*maxLoadNum {
		t.grow()
	}
	t.place(key, entry+1)
	t.n++
}

func (t *slots[K]) place(key K, val uint32) {
	i := t.home(key)
	for t.vals[i] != 0 {
		i = t.next(i)
	}
	t.keys[i], t.vals[i] = key, val
}

func (t *slots[K]) grow() {
	size := max(minSlots, len(t.keys)+len(t.keys)/4)
	keys, vals := t.keys, t.vals
	t.keys, t.vals = make([]K, size), make([]uint32, size)
	for i, v := range vals {
		if v != 0 {
			t.place(keys[i], v)
		}
	}
}

func (t *slots[K]) bytes() int {
	keySize := 4
	if uint64(^K(0)) > math.MaxUint32 {
		keySize = 8
	}
	return cap(t.keys)*keySize + cap(t.vals)*4
}

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
// email (none when the entry added only a phone), packed as varints and
// bytes in chunks that are never copied. An email is kept as the part up
// to its @ and a number for its domain: a roster's people share a few
// domains, and each is kept once (the first maxDomains of them; later ones
// are written out in their records). Every 64th entry's position is kept,
// so reading an entry back skips at most 63 others.
type entryLog struct {
	chunks  [][]byte
	marks   []logMark // position and row of entries 0, 64, 128, …
	lastRow int
	entries uint32
	domains map[string]uint32 // domain → its number + 1
	names   []string          // domains by number
}

type logMark struct {
	chunk, off uint32
	row        int
}

const (
	logChunk   = 1 << 20
	markDist   = 64
	maxDomains = 1024
	// maxRecord is the longest a record can be: the varints, and an email
	// with its domain written out.
	maxRecord = 5*binary.MaxVarintLen64 + maxEmailLen
)

// splitEmail cuts an email after its last @: the part kept in every
// record, and the domain kept once.
func splitEmail(email []byte) (head, domain []byte) {
	at := bytes.LastIndexByte(email, '@')
	return email[:at+1], email[at+1:]
}

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
	if email == nil {
		c = binary.AppendUvarint(c, 0)
	} else {
		head, domain := splitEmail(email)
		c = binary.AppendUvarint(c, uint64(len(head))+1)
		c = append(c, head...)
		id, ok := l.domains[string(domain)]
		if !ok && len(l.names) < maxDomains {
			if l.domains == nil {
				l.domains = map[string]uint32{}
			}
			l.names = append(l.names, string(domain))
			id = uint32(len(l.names))
			l.domains[l.names[id-1]] = id
		}
		c = binary.AppendUvarint(c, uint64(id))
		if id == 0 { // not numbered: written out
			c = binary.AppendUvarint(c, uint64(len(domain)))
			c = append(c, domain...)
		}
	}
	l.chunks[last] = c
	l.lastRow = row
	l.entries++
	return e
}

// find returns entry e's row and its record's email part: the chunk's
// bytes from there on.
func (l *entryLog) find(e uint32) (row int, rest []byte) {
	m := l.marks[e/markDist]
	c := l.chunks[m.chunk][m.off:]
	row = m.row
	for i := e - e%markDist; ; i++ {
		d, n := binary.Varint(c)
		if i > e-e%markDist {
			row += int(d) // the mark's own delta is already in its row
		}
		c = c[n:]
		if i == e {
			return row, c
		}
		// Skip the email: the part up to @, and the domain's number or,
		// when it has none, the domain.
		h, n := binary.Uvarint(c)
		c = c[n:]
		if h > 0 {
			c = c[h-1:]
			id, n := binary.Uvarint(c)
			c = c[n:]
			if id == 0 {
				size, n := binary.Uvarint(c)
				c = c[n+int(size):]
			}
		}
		if len(c) == 0 { // the next record starts the next chunk
			m.chunk++
			c = l.chunks[m.chunk]
		}
	}
}

func (l *entryLog) row(e uint32) int {
	r, _ := l.find(e)
	return r
}

// sameEmail reports whether entry e's email is email (lower case).
func (l *entryLog) sameEmail(e uint32, email []byte) bool {
	_, c := l.find(e)
	h, n := binary.Uvarint(c)
	if h == 0 {
		return false
	}
	c = c[n:]
	head := c[:h-1]
	if !bytes.HasPrefix(email, head) {
		return false
	}
	c = c[h-1:]
	domain := email[len(head):]
	id, n := binary.Uvarint(c)
	if id > 0 {
		return string(domain) == l.names[id-1]
	}
	size, n2 := binary.Uvarint(c[n:])
	return string(domain) == string(c[n+n2:n+n2+int(size)])
}

// email returns entry e's email, or nil; for tests.
func (l *entryLog) email(e uint32) []byte {
	_, c := l.find(e)
	h, n := binary.Uvarint(c)
	if h == 0 {
		return nil
	}
	c = c[n:]
	out := append([]byte(nil), c[:h-1]...)
	c = c[h-1:]
	id, n := binary.Uvarint(c)
	if id > 0 {
		return append(out, l.names[id-1]...)
	}
	size, n2 := binary.Uvarint(c[n:])
	return append(out, c[n+n2:n+n2+int(size)]...)
}

func (l *entryLog) bytes() int {
	n := cap(l.marks) * 16
	for _, c := range l.chunks {
		n += cap(c)
	}
	for _, d := range l.names {
		n += len(d) + 16 + 24 // the string, its header, a map entry's share
	}
	return n
}
