package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/ratelimit"
	"github.com/exoroster/exoroster/resolve"
	"github.com/exoroster/exoroster/results"
	"github.com/exoroster/exoroster/roster"
)

// ccm is the importer's built-in Target: Exotel's CCM Users API. A user is
// looked up by email or phone with the bulk GET's filters; a 409 names
// which of them is taken; an email a deleted user held may be retried as
// local+N@domain.
type ccm struct {
	api API
	res *resolve.Resolver // nil for a dry run, which looks nothing up
	cfg Config
	log *slog.Logger
}

// CCMRows is how the CCM target reads a roster, for reading one before
// connecting (Prepare, validate).
func CCMRows() Rows { return &ccm{} }

func newCCM(api API, pacer Pacer, cfg Config) *ccm {
	t := &ccm{api: api, cfg: cfg, log: cfg.Logger}
	if api != nil && pacer != nil {
		t.res = resolve.New(api, pacer, resolve.Config{Workers: cfg.Workers, MaxAttempts: cfg.MaxAttempts, Logger: cfg.Logger})
	}
	return t
}

func (t *ccm) CheckHeader(h *roster.Header) error { return h.CheckForImport() }

func (t *ccm) NewChecker(h *roster.Header, opts roster.Options) Checker {
	return &ccmChecker{t: t, v: roster.NewValidator(h, opts), restore: h.IsExport(), extraCol: extraDevicesColumn(h)}
}

func (t *ccm) ExplainAuth(err error) error { return exotel.ExplainAuth(err) }

// Retrying reports the retries of creates that got no answer on the
// client's log, when the client does (exotel.Classifier).
func (t *ccm) Retrying(maxAttempts int) func(error) ratelimit.Verdict {
	return exotel.Classifier(t.api, maxAttempts)
}

type ccmChecker struct {
	t *ccm
	v *roster.Validator
	// restore: the file is exoroster's own export or backup; extraCol is
	// its extra_devices column, or -1.
	restore  bool
	extraCol int
}

func (c *ccmChecker) Check(rec roster.Record) (Person, []roster.Problem) {
	p, problems := c.v.Check(rec)
	return c.person(rec, p), problems
}

// Stream checks src's rows on every CPU (roster.Checker), in file order.
func (c *ccmChecker) Stream(src roster.RecordSource) RowStream {
	return &ccmStream{c: c, ck: roster.NewChecker(src, c.v, 0)}
}

func (c *ccmChecker) person(rec roster.Record, p roster.Person) *ccmPerson {
	person := &ccmPerson{t: c.t, p: p, req: createRequest(p), restore: c.restore}
	if c.restore && c.extraCol >= 0 && c.extraCol < len(rec.Raw) {
		person.extra = strings.TrimSpace(results.Restore(rec.Raw[c.extraCol]))
	}
	return person
}

type ccmStream struct {
	c  *ccmChecker
	ck *roster.Checker
}

func (s *ccmStream) Next() (CheckedRow, error) {
	r, err := s.ck.Next()
	if err != nil {
		return CheckedRow{}, err
	}
	return CheckedRow{Rec: r.Record, Person: s.c.person(r.Record, r.Person), Problems: r.Problems}, nil
}

func (s *ccmStream) Close() { s.ck.Close() }

// extraDevicesColumn is the index of an export's extra_devices column, or
// -1.
func extraDevicesColumn(h *roster.Header) int {
	for i, n := range h.Names {
		if strings.EqualFold(strings.TrimSpace(n), "extra_devices") {
			return i
		}
	}
	return -1
}

// ccmPerson is one row on its way to the CCM API.
type ccmPerson struct {
	t     *ccm
	p     roster.Person
	req   exotel.CreateUserRequest
	plusN int // +N suffix in use; 0 for the address as written
	// restore: the row is a user's record from exoroster's own export or
	// backup; extra lists the devices after its first (extra_devices),
	// which the API cannot create.
	restore bool
	extra   string
}

// Describe says what a dry run would send: "would create First Last, role
// R, email, phone", without the email or phone a row lacks. Built in one
// allocation: a dry run describes every row.
func (c *ccmPerson) Describe() string {
	p := c.p
	var b strings.Builder
	b.Grow(len("would create ") + len(p.FirstName) + 1 + len(p.LastName) + len(", role ") + len(p.Role) +
		2 + len(p.Email) + 2 + len(p.Phone))
	b.WriteString("would create ")
	b.WriteString(p.FirstName)
	b.WriteByte(' ')
	b.WriteString(p.LastName)
	b.WriteString(", role ")
	b.WriteString(p.Role)
	for _, s := range [...]string{p.Email, p.Phone} {
		if s != "" {
			b.WriteString(", ")
			b.WriteString(s)
		}
	}
	return b.String()
}

func (c *ccmPerson) Notes() []string {
	if c.p.SIPContact != "" && !c.restore {
		return []string{"SIP address " + c.p.SIPContact + " not sent: Exotel creates SIP devices itself"}
	}
	return nil
}

func (c *ccmPerson) PhoneGated() bool { return c.req.DeviceContactURI == "" }

func (c *ccmPerson) CanLookUp() bool { return c.req.Email != "" || c.p.Phone != "" }

func (c *ccmPerson) Create(ctx context.Context) (User, error) {
	u, err := c.t.api.CreateUser(ctx, c.req)
	if err != nil {
		return nil, err
	}
	return u, nil
}

func (c *ccmPerson) Find(ctx context.Context) (User, error) {
	u, err := c.t.findOne(ctx, c.req.Email, c.p.Phone)
	if u == nil {
		return nil, err
	}
	return u, err
}

// Conflict handles 409: the email (1022) or device (1021) exists.
func (c *ccmPerson) Conflict(ctx context.Context, conflict error) (User, bool, string, error) {
	ae := &exotel.APIError{}
	errors.As(conflict, &ae)
	email, phone := c.req.Email, c.p.Phone
	switch ae.Code {
	case exotel.CodeEmailExists:
		phone = ""
	case exotel.CodeDeviceExists:
		email = ""
	}
	u, err := c.t.findOne(ctx, email, phone)
	if err != nil {
		return nil, false, "", err
	}
	if u != nil {
		return u, false, "", nil
	}
	if ae.Code == exotel.CodeEmailExists && email != "" {
		return c.emailOfDeletedUser()
	}
	return nil, false, "conflict, but no current user has this row's " + c.identity(), nil
}

// emailOfDeletedUser handles 409 1022 for an address no current user holds:
// a deleted user's, which Exotel never frees.
func (c *ccmPerson) emailOfDeletedUser() (User, bool, string, error) {
	cfg := c.t.cfg
	if cfg.OnEmailTaken != EmailTakenPlus {
		return nil, false, fmt.Sprintf("%s belonged to a deleted user and Exotel never frees it; %s",
			c.req.Email, cfg.EmailTakenAdvice(plusAddress(c.p.Email, 1))), nil
	}
	if c.plusN >= cfg.PlusLimit {
		return nil, false, fmt.Sprintf("%s through +%d are all taken by deleted users", c.p.Email, c.plusN), nil
	}
	c.plusN++
	c.req.Email = plusAddress(c.p.Email, c.plusN)
	return nil, true, "", nil
}

func (c *ccmPerson) Mismatch(found User) string {
	u := found.(*exotel.User)
	if why := mismatch(u, c.p, c.req.Email); why != "" {
		return fmt.Sprintf("%s already belongs to another user (%s %s, id %s): %s",
			c.identity(), u.FirstName, u.LastName, u.ID, why)
	}
	return ""
}

func (c *ccmPerson) Settled(found User, status results.Status) (userID, deviceID string, notes []string) {
	u := found.(*exotel.User)
	if c.plusN > 0 {
		notes = append(notes, fmt.Sprintf("email used: %s (%s belonged to a deleted user)", c.req.Email, c.p.Email))
	}
	if status == results.Exists && u.Role != "" && u.Role != c.req.Role {
		notes = append(notes, "role on Exotel is "+u.Role+", roster says "+c.req.Role)
	}
	if n := c.notRestored(); n != "" && status == results.Created {
		notes = append(notes, n)
	}
	if d := deviceFor(u, c.p.Phone); d != nil {
		deviceID = strconv.FormatInt(d.ID, 10)
	}
	return u.ID, deviceID, notes
}

// notRestored says, for a user re-created from exoroster's own export or
// backup, which of its devices did not come back: a first device that is
// SIP (Exotel creates SIP devices itself, not through the API) and the
// devices after the first (the API creates a user with one device). So a
// restored user is never reported as a plain created.
func (c *ccmPerson) notRestored() string {
	var lost []string
	if c.p.SIPContact != "" {
		lost = append(lost, c.p.SIPContact)
	}
	if c.extra != "" {
		lost = append(lost, strings.Split(c.extra, ";")...)
	}
	if !c.restore || len(lost) == 0 {
		return ""
	}
	why := "the API creates a user with one phone device; add the others on the dashboard"
	if c.p.SIPContact != "" {
		why = "the first was a SIP device, which Exotel creates itself, and the API creates a user with at most one phone device"
	}
	return fmt.Sprintf("not restored: %d of the user's devices (%s): %s", len(lost), why, strings.Join(lost, ", "))
}

func (c *ccmPerson) identity() string {
	switch email, phone := c.req.Email, c.p.Phone; {
	case email != "" && phone != "":
		return "email " + email + " or phone " + phone
	case email != "":
		return "email " + email
	case phone != "":
		return "phone " + phone
	}
	return "identity"
}

// plusAddress returns local+n@domain.
func plusAddress(email string, n int) string {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return email
	}
	return email[:at] + "+" + strconv.Itoa(n) + email[at:]
}

// mismatch explains why u is not the person the row describes, or returns
// "" when it is: same names (ignoring case and spacing), same email, and the
// row's phone among u's devices.
func mismatch(u *exotel.User, p roster.Person, email string) string {
	var diffs []string
	if !sameName(u.FirstName, p.FirstName) || !sameName(u.LastName, p.LastName) {
		diffs = append(diffs, fmt.Sprintf("names differ (roster: %s %s)", p.FirstName, p.LastName))
	}
	if email != "" && roster.EmailKey(u.Email) != roster.EmailKey(email) {
		diffs = append(diffs, "email differs ("+orNone(u.Email)+" on Exotel)")
	}
	if p.Phone != "" && !u.HasContact(p.Phone) {
		diffs = append(diffs, "phone "+p.Phone+" is not among its devices")
	}
	return strings.Join(diffs, "; ")
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.Join(strings.Fields(a), " "), strings.Join(strings.Fields(b), " "))
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func createRequest(p roster.Person) exotel.CreateUserRequest {
	return exotel.CreateUserRequest{
		FirstName:        p.FirstName,
		LastName:         p.LastName,
		Email:            p.Email,
		DeviceContactURI: p.Phone,
		Role:             p.Role,
		DeviceName:       p.DeviceName,
	}
}

func deviceFor(u *exotel.User, phone string) *exotel.Device {
	for i := range u.Devices {
		if phone != "" && u.Devices[i].ContactURI == phone {
			return &u.Devices[i]
		}
	}
	return u.PrimaryDevice()
}

// ident is what a row is looked up by: its email, else its phone. One
// filter per row is enough, and the phone filter costs a second GET per
// batch only for rows without an email.
func ident(email, phone string) (resolve.Ident, resolve.Key, string) {
	if email != "" {
		return resolve.Ident{Email: email}, resolve.KeyEmail, email
	}
	return resolve.Ident{Phone: phone}, resolve.KeyPhone, phone
}

// FindAll finds the users of up to 50 rows with one bulk GET by email (and
// one by phone for rows without an email). A row whose lookup failed stays
// unchecked: its worker looks it up alone when it must.
func (t *ccm) FindAll(ctx context.Context, persons []Person) ([]User, []bool, error) {
	users, checked := make([]User, len(persons)), make([]bool, len(persons))
	idents := make([]resolve.Ident, len(persons))
	for i, p := range persons {
		c := p.(*ccmPerson)
		idents[i], _, _ = ident(c.p.Email, c.p.Phone)
	}
	ix, err := t.res.Lookup(ctx, idents)
	if err != nil {
		return users, checked, err
	}
	for i, p := range persons {
		c := p.(*ccmPerson)
		_, key, value := ident(c.p.Email, c.p.Phone)
		found, err := ix.Users(key, value)
		if err != nil {
			continue
		}
		if len(found) > 0 {
			users[i] = found[0]
		}
		checked[i] = true
	}
	return users, checked, nil
}

// findOne looks a user up by email, else by phone, with the bulk GET's
// filters. It returns nil when nobody matches.
func (t *ccm) findOne(ctx context.Context, email, phone string) (*exotel.User, error) {
	if email == "" && phone == "" {
		return nil, nil
	}
	id, key, value := ident(email, phone)
	ix, err := t.res.Lookup(ctx, []resolve.Ident{id})
	if err != nil {
		return nil, err
	}
	users, err := ix.Users(key, value)
	if err != nil || len(users) == 0 {
		return nil, err
	}
	return users[0], nil
}
