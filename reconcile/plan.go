// Package reconcile makes an account match a roster: plan works out, with
// GETs only, what it takes (create, update, delete), and apply carries out
// exactly that plan and nothing else.
//
// A plan is data (Plan, written as plan.json): one Action per roster row
// and per account user no row names, each with the user's id and a
// fingerprint of the user's record as the plan saw it, the roster's
// SHA-256, the account it was made for and the guard settings. Guards —
// how many deletions, how much the roster shrank since the last one
// applied, admins, users on a call — are checked while planning, so apply
// refuses a tripped plan before any request that changes anything. Apply
// re-reads the users it will change (batched) and leaves alone, as stale,
// any whose record moved since the plan.
//
// The package is target-neutral: a Target (CCM, or the WebRTC app users
// API) reads the roster's rows, lists the account, compares a row with a
// user, and does the writes through the commands' own logic (importer's
// create-and-settle, updater's PUTs, offboard's DELETE and backup).
package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/exoroster/exoroster/atomicfile"
)

// Kind is what a plan does with one roster row or one account user.
type Kind string

// The actions. Scripts and plan.json readers match on these words.
const (
	Create    Kind = "create"    // a row nobody matches: the user is created
	Update    Kind = "update"    // a row whose user differs in what the API can change
	Unchanged Kind = "unchanged" // a row whose user already matches
	Delete    Kind = "delete"    // a user no row names, with --prune
	Unmanaged Kind = "unmanaged" // a user no row names, without --prune: left alone
	Conflict  Kind = "conflict"  // a row whose identifiers name different users: never guessed
	Protected Kind = "protected" // left alone by a guard (admin, on a call, outside --scope)
	Invalid   Kind = "invalid"   // a row that cannot be read, or one of two rows naming the same user
	Differs   Kind = "differs"   // a row whose user differs only in what the API cannot change
)

// Kinds lists the actions in the order a plan's table shows them.
func Kinds() []Kind {
	return []Kind{Create, Update, Delete, Unchanged, Unmanaged, Differs, Protected, Conflict, Invalid}
}

// Changes reports whether the action writes to the account.
func (k Kind) Changes() bool { return k == Create || k == Update || k == Delete }

// NeedsFixing reports whether the action is a roster row a person must fix
// (plan's exit code 3).
func (k Kind) NeedsFixing() bool { return k == Invalid || k == Conflict }

// Version is the plan file format's version.
const Version = 1

// Plan is everything apply needs, and everything a person reviews.
type Plan struct {
	Version   int         `json:"version"`
	CreatedAt time.Time   `json:"created_at"`
	Account   Account     `json:"account"`
	Roster    RosterInfo  `json:"roster"`
	Settings  Settings    `json:"settings"`
	Guards    GuardReport `json:"guards"`
	// AccountUsers is how many users the listing found; OutOfScope how
	// many of them --scope leaves out (they have no action).
	AccountUsers int          `json:"account_users"`
	OutOfScope   int          `json:"out_of_scope"`
	Counts       map[Kind]int `json:"counts"`
	Notes        []string     `json:"notes,omitempty"`
	Actions      []*Action    `json:"actions"`
}

// Account names what a plan was made for: a plan for another is refused.
type Account struct {
	Target  string `json:"target"`   // ccm or webrtc
	ID      string `json:"id"`       // the account SID; customer-app for webrtc
	BaseURL string `json:"base_url"` // scheme and host
}

func (a Account) String() string { return a.Target + " account " + a.ID + " at " + a.BaseURL }

// RosterInfo is the roster a plan was made from.
type RosterInfo struct {
	Path   string   `json:"path"`
	SHA256 string   `json:"sha256"`
	Rows   int      `json:"rows"`   // data rows, invalid ones included
	Header []string `json:"header"` // as read: the results file's input columns
}

// Action is what the plan does with one row or user.
type Action struct {
	// N numbers the actions from 1: the apply results file's row.
	N    int  `json:"n"`
	Kind Kind `json:"action"`
	// Row is the roster's data row, 0 for a user no row names.
	Row    int    `json:"row,omitempty"`
	UserID string `json:"user_id,omitempty"`
	Who    string `json:"who"`
	// Reason says why, for every action but create, update and unchanged.
	Reason string `json:"reason,omitempty"`
	// Changes are the fields an update writes, old → new.
	Changes []Change `json:"changes,omitempty"`
	// Differs are fields that differ but that the API cannot change (with
	// Why): the whole story of a differs action, notes on an update.
	Differs []Change `json:"differs,omitempty"`
	// Seen is the user's record as the plan saw it, for update and delete
	// (and the other actions on a user, for the reader).
	Seen *Seen `json:"seen,omitempty"`
	// New is what a create sends.
	New *NewUser `json:"new,omitempty"`
	// Input is the roster row's cells as read.
	Input []string `json:"input,omitempty"`
}

// Change is one field of a user, old → new.
type Change struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
	// DeviceID is the device a phone change re-numbers.
	DeviceID int64 `json:"device_id,omitempty"`
	// Why a difference is not applied.
	Why string `json:"why,omitempty"`
}

func (c Change) String() string {
	return c.Field + " " + orNone(c.Old) + " → " + orNone(c.New)
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// NewUser is what a create sends, in the target's terms.
type NewUser struct {
	UserID     string `json:"user_id,omitempty"` // webrtc: the caller's id
	FirstName  string `json:"first_name,omitempty"`
	LastName   string `json:"last_name,omitempty"`
	Name       string `json:"name,omitempty"` // webrtc
	Email      string `json:"email,omitempty"`
	Phone      string `json:"phone,omitempty"`
	SIPContact string `json:"sip_contact,omitempty"` // ccm: a sip: cell, not sent (Exotel makes SIP devices)
	Role       string `json:"role,omitempty"`
	DeviceName string `json:"device_name,omitempty"`
	SIPEnabled *bool  `json:"sip_enabled,omitempty"` // webrtc
}

// Seen is a user's record as a plan saw it: date_updated and the fields
// the actions depend on, and their fingerprint.
type Seen struct {
	Fingerprint string            `json:"fingerprint"`
	Fields      map[string]string `json:"fields"`
}

// NewSeen fingerprints fields.
func NewSeen(fields map[string]string) *Seen {
	return &Seen{Fingerprint: fingerprint(fields), Fields: fields}
}

// fingerprint is the SHA-256 of the fields as sorted key=value lines.
func fingerprint(fields map[string]string) string {
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	h := sha256.New()
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%q\n", k, fields[k])
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// Intact reports whether the fingerprint still matches the fields: a plan
// edited by hand does not.
func (s *Seen) Intact() bool { return s != nil && s.Fingerprint == fingerprint(s.Fields) }

// Settings are the choices a plan was made with; apply carries them out.
type Settings struct {
	Match Match `json:"match"`
	Scope Scope `json:"scope"`
	Prune bool  `json:"prune"`
	// MaxDelete and MaxDeletePercent: more deletions than either trips
	// the guard.
	MaxDelete        int  `json:"max_delete"`
	MaxDeletePercent int  `json:"max_delete_percent"`
	AllowShrink      bool `json:"allow_shrink"`
	AllowAdmins      bool `json:"allow_admins"`
	// DefaultRegion reads the roster's numbers without a country code.
	DefaultRegion string `json:"default_region"`
}

// Guard defaults, the (and Okta's import safeguard's).
const (
	DefaultMaxDelete        = 50
	DefaultMaxDeletePercent = 20
	// ShrinkPercent: a roster with fewer rows than this share of the last
	// one applied is taken for a truncated file.
	ShrinkPercent = 80
)

// Match says how rows find their users.
type Match string

// The --match modes.
const (
	MatchEmailPhone Match = "email,phone" // by email, else by phone (the ccm default)
	MatchEmail      Match = "email"
	MatchPhone      Match = "phone"
	MatchUserID     Match = "user_id" // the webrtc target's only mode
)

// ParseMatch reads --match.
func ParseMatch(s string) (Match, error) {
	switch m := Match(strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", ""))); m {
	case MatchEmailPhone, MatchEmail, MatchPhone, MatchUserID:
		return m, nil
	case "email-phone", "email+phone":
		return MatchEmailPhone, nil
	}
	return "", fmt.Errorf("--match %q: use email, phone or user_id (default: email, then phone)", s)
}

// GuardReport is what the guards found while planning.
type GuardReport struct {
	InScope int `json:"in_scope"` // account users --scope manages
	Deletes int `json:"deletes"`
	// LastApplied is the roster last applied to this account, from the
	// state file; nil when none was.
	LastApplied *Applied `json:"last_applied,omitempty"`
	// Tripped holds one sentence per guard that refuses the plan.
	Tripped []string `json:"tripped,omitempty"`
}

// ChangesPending counts the actions that write.
func (p *Plan) ChangesPending() int {
	n := 0
	for _, a := range p.Actions {
		if a.Kind.Changes() {
			n++
		}
	}
	return n
}

// NeedsFixing counts the rows a person must fix.
func (p *Plan) NeedsFixing() int {
	return p.Counts[Invalid] + p.Counts[Conflict]
}

// Write writes the plan as indented JSON.
func (p *Plan) Write(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(p)
}

// Save writes the plan to path atomically (a temporary file renamed over
// it), so apply never reads half a plan.
func (p *Plan) Save(path string) error { return writeAtomically(path, "the plan", p.Write) }

// writeAtomically writes path through a temporary file beside it, synced
// and renamed over it, so a reader never sees half a file. what names the
// file in the error: "cannot write <what>: …".
func writeAtomically(path, what string, write func(io.Writer) error) error {
	if err := atomicfile.Write(path, write); err != nil {
		return fmt.Errorf("cannot write %s: %w", what, err)
	}
	return nil
}

// Load reads a plan file and returns it with the SHA-256 of its bytes
// (what an apply's results file is tied to).
func Load(path string) (*Plan, string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "", fmt.Errorf("cannot read the plan: %w", err)
	}
	p, err := Parse(data)
	if err != nil {
		return nil, "", fmt.Errorf("%s %w", path, err)
	}
	sum := sha256.Sum256(data)
	return p, hex.EncodeToString(sum[:]), nil
}

// Parse reads a plan file's bytes. Its error reads after the file's name:
// "is not a plan file: …".
func Parse(data []byte) (*Plan, error) {
	var p Plan
	if err := json.Unmarshal(data, &p); err != nil {
		return nil, fmt.Errorf("is not a plan file: %v", err)
	}
	if p.Version != Version {
		return nil, fmt.Errorf("is a plan of format version %d; this exoroster reads version %d: plan again", p.Version, Version)
	}
	if err := p.check(); err != nil {
		return nil, fmt.Errorf("is damaged: %v", err)
	}
	p.count() // the guards count the actions, not what the file says of them
	return &p, nil
}

// check refuses a plan apply could misread.
func (p *Plan) check() error {
	switch {
	case p.Account.Target == "" || p.Account.ID == "":
		return errors.New("it names no account")
	case p.CreatedAt.IsZero():
		return errors.New("it has no creation time")
	}
	for i, a := range p.Actions {
		if a == nil || a.N != i+1 {
			return fmt.Errorf("action %d is out of order", i+1)
		}
		if !slices.Contains(Kinds(), a.Kind) {
			return fmt.Errorf("action %d has the unknown action %q", a.N, a.Kind)
		}
		switch {
		case a.Kind == Create && a.New == nil:
			return fmt.Errorf("action %d creates nobody", a.N)
		case (a.Kind == Update || a.Kind == Delete) && (a.UserID == "" || a.Seen == nil):
			return fmt.Errorf("action %d names no user or record", a.N)
		case a.Kind == Update && len(a.Changes) == 0:
			return fmt.Errorf("action %d updates nothing", a.N)
		case a.Seen != nil && !a.Seen.Intact():
			return fmt.Errorf("action %d's record of user %s does not match its fingerprint (was the plan edited?)", a.N, a.UserID)
		}
	}
	return nil
}

// count fills Counts from the actions.
func (p *Plan) count() {
	p.Counts = map[Kind]int{}
	for _, k := range Kinds() {
		p.Counts[k] = 0
	}
	for _, a := range p.Actions {
		p.Counts[a.Kind]++
	}
}
