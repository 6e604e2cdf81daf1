package reconcile

import (
	"fmt"
	"slices"
	"strings"

	"github.com/exoroster/exoroster/roster"
)

// Scope limits what a sync manages, so a partial roster cannot prune the
// rest of the account: users outside it are never touched, and a row that
// would create or change one is protected. Empty lists do not limit.
type Scope struct {
	Roles   []string `json:"roles,omitempty"`   // API roles: admin, supervisor, user
	Domains []string `json:"domains,omitempty"` // email domains, lower case
}

// ParseScope reads --scope values: role=user,supervisor and
// domain=corp.com (each may be given more than once).
func ParseScope(values []string) (Scope, error) {
	var s Scope
	for _, v := range values {
		key, list, ok := strings.Cut(v, "=")
		if !ok {
			return Scope{}, fmt.Errorf("--scope %q: use role=ROLE[,ROLE] or domain=DOMAIN[,DOMAIN]", v)
		}
		for _, item := range strings.Split(list, ",") {
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			switch strings.ToLower(strings.TrimSpace(key)) {
			case "role", "roles":
				role, err := roster.NormalizeRole(item)
				if err != nil {
					return Scope{}, fmt.Errorf("--scope role=%s: %v", item, err)
				}
				if !slices.Contains(s.Roles, role) {
					s.Roles = append(s.Roles, role)
				}
			case "domain", "domains":
				d := strings.ToLower(strings.TrimPrefix(item, "@"))
				if strings.ContainsAny(d, "@ /") || !strings.Contains(d, ".") {
					return Scope{}, fmt.Errorf("--scope domain=%s: not an email domain (like corp.com)", item)
				}
				if !slices.Contains(s.Domains, d) {
					s.Domains = append(s.Domains, d)
				}
			default:
				return Scope{}, fmt.Errorf("--scope %q: scope by role= or domain=", v)
			}
		}
	}
	return s, nil
}

// Empty reports whether the scope manages everything.
func (s Scope) Empty() bool { return len(s.Roles) == 0 && len(s.Domains) == 0 }

// Contains reports whether a user with this role and email is managed, and
// when not, why.
func (s Scope) Contains(role, email string) (bool, string) {
	if len(s.Roles) > 0 && !slices.Contains(s.Roles, strings.ToLower(role)) {
		return false, "role " + orNone(role) + " is outside --scope role=" + strings.Join(s.Roles, ",")
	}
	if len(s.Domains) > 0 {
		_, domain, _ := strings.Cut(roster.EmailKey(email), "@")
		if !slices.Contains(s.Domains, domain) {
			if email == "" {
				return false, "the user has no email, so --scope domain=" + strings.Join(s.Domains, ",") + " cannot place them"
			}
			return false, "email " + email + " is outside --scope domain=" + strings.Join(s.Domains, ",")
		}
	}
	return true, ""
}

func (s Scope) String() string {
	var parts []string
	if len(s.Roles) > 0 {
		parts = append(parts, "role="+strings.Join(s.Roles, ","))
	}
	if len(s.Domains) > 0 {
		parts = append(parts, "domain="+strings.Join(s.Domains, ","))
	}
	if len(parts) == 0 {
		return "everything"
	}
	return strings.Join(parts, " ")
}
