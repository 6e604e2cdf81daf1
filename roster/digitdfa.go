package roster

import (
	"regexp/syntax"
	"slices"
)

// digitDFA is a regular expression over the digits 0–9, matched against a
// whole string, as a deterministic automaton: the form in which it can
// answer what phoneRules' validity cache must know, namely after how many
// leading digits of a number the rest no longer matters, only its length.
//
// That point is a uniform state: one from which every digit leads to the
// same state, itself uniform (or dead). Two numbers of one length that
// share the digits up to a uniform state end in the same state, so the
// pattern matches both or neither.
type digitDFA struct {
	next    [][10]int32 // the state after each digit; deadState (-1) when no match is possible any more
	match   []bool      // the string so far matches
	uniform []bool
}

// deadState is where a digit leads when no match is possible any more.
const deadState = -1

// compileDigitDFA builds the automaton of pattern (Go regexp syntax, as
// phonenumbers compiles it inside ^(?:…)$). ok is false when the pattern
// has something other than characters, alternation and repetition (such
// as \b), or more than maxStates states.
func compileDigitDFA(pattern string, maxStates int) (d *digitDFA, ok bool) {
	re, err := syntax.Parse(pattern, syntax.Perl) // regexp.Compile's flags
	if err != nil {
		return nil, false
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, false
	}
	b := dfaBuilder{prog: prog, index: map[string]int32{}, d: &digitDFA{}, mark: make([]uint32, len(prog.Inst))}
	start, ok := b.closure([]uint32{uint32(prog.Start)})
	if !ok {
		return nil, false
	}
	b.state(start)
	var step []uint32
	for s := 0; s < len(b.sets); s++ {
		for digit := range 10 {
			step = step[:0]
			for _, pc := range b.sets[s] {
				if in := &prog.Inst[pc]; consumes(in, rune('0'+digit)) {
					step = append(step, in.Out)
				}
			}
			next := int32(deadState)
			if len(step) > 0 {
				set, ok := b.closure(step)
				if !ok {
					return nil, false
				}
				if len(set) > 0 {
					next = b.state(set)
				}
			}
			b.d.next[s][digit] = next
		}
		if len(b.sets) > maxStates {
			return nil, false
		}
	}
	b.d.markUniform()
	return b.d, true
}

type dfaBuilder struct {
	prog  *syntax.Prog
	sets  [][]uint32 // each state's instructions: characters to match and Match
	index map[string]int32
	d     *digitDFA
	// Scratch space, so that following a state's moves allocates only for
	// a state not seen before.
	mark         []uint32 // mark[pc] == gen: pc is in the closure being built
	gen          uint32
	stack, found []uint32
	key          []byte
}

// closure follows the empty moves from pcs and returns the sorted
// instructions that consume a character or match (valid until the next
// call); ok is false at an instruction it does not handle.
func (b *dfaBuilder) closure(pcs []uint32) ([]uint32, bool) {
	b.gen++
	b.stack = append(b.stack[:0], pcs...)
	b.found = b.found[:0]
	for len(b.stack) > 0 {
		pc := b.stack[len(b.stack)-1]
		b.stack = b.stack[:len(b.stack)-1]
		if b.mark[pc] == b.gen {
			continue
		}
		b.mark[pc] = b.gen
		switch in := &b.prog.Inst[pc]; in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			b.stack = append(b.stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			b.stack = append(b.stack, in.Out)
		case syntax.InstFail:
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			b.found = append(b.found, pc)
		default: // InstEmptyWidth: ^, $, \b and the like
			return nil, false
		}
	}
	slices.Sort(b.found)
	return b.found, true
}

// consumes reports whether in matches r, as regexp's matchers decide it.
func consumes(in *syntax.Inst, r rune) bool {
	switch in.Op {
	case syntax.InstRune:
		return in.MatchRune(r)
	case syntax.InstRune1:
		return r == in.Rune[0]
	case syntax.InstRuneAny:
		return true
	case syntax.InstRuneAnyNotNL:
		return r != '\n'
	}
	return false
}

// state numbers set, adding (a copy of) it when new.
func (b *dfaBuilder) state(set []uint32) int32 {
	b.key = b.key[:0]
	for _, pc := range set {
		b.key = append(b.key, byte(pc), byte(pc>>8), byte(pc>>16), byte(pc>>24))
	}
	if s, ok := b.index[string(b.key)]; ok {
		return s
	}
	s := int32(len(b.sets))
	b.index[string(b.key)] = s
	b.sets = append(b.sets, slices.Clone(set))
	match := false
	for _, pc := range set {
		match = match || b.prog.Inst[pc].Op == syntax.InstMatch
	}
	b.d.next = append(b.d.next, [10]int32{})
	b.d.match = append(b.d.match, match)
	return s
}

// markUniform finds the uniform states: the largest set of states whose
// digits all lead to one state that is dead or in the set.
func (d *digitDFA) markUniform() {
	d.uniform = make([]bool, len(d.next))
	for s, next := range d.next {
		d.uniform[s] = !slices.ContainsFunc(next[1:], func(t int32) bool { return t != next[0] })
	}
	for changed := true; changed; {
		changed = false
		for s, next := range d.next {
			if d.uniform[s] && next[0] != deadState && !d.uniform[next[0]] {
				d.uniform[s], changed = false, true
			}
		}
	}
}

// settled returns how many of digits' leading digits reach a uniform
// state: beyond them only the number's length matters to the pattern.
// It is len(digits) when no prefix does.
func (d *digitDFA) settled(digits []byte) int {
	s := int32(0)
	for i := 0; ; i++ {
		if s == deadState || d.uniform[s] || i == len(digits) {
			return i
		}
		s = d.next[s][digits[i]-'0']
	}
}

// matches reports whether the pattern matches the whole of digits (ownCode
// and stripForCode read a region's general pattern with it).
func (d *digitDFA) matches(digits []byte) bool {
	s := int32(0)
	for _, c := range digits {
		if s = d.next[s][c-'0']; s == deadState {
			return false
		}
	}
	return d.match[s]
}
