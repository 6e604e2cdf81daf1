package importer

import (
	"testing"

	"github.com/exoroster/exoroster/roster"
)

func TestCCMDescribe(t *testing.T) {
	tests := []struct {
		name string
		p    roster.Person
		want string
	}{
		{name: "everything", p: roster.Person{FirstName: "Rahul", LastName: "Sharma", Role: "agent", Email: "r@x.com", Phone: "+919876543210"},
			want: "would create Rahul Sharma, role agent, r@x.com, +919876543210"},
		{name: "no phone", p: roster.Person{FirstName: "Priya", LastName: "Nair", Role: "supervisor", Email: "p@x.com"},
			want: "would create Priya Nair, role supervisor, p@x.com"},
		{name: "no email", p: roster.Person{FirstName: "Asha", LastName: "K", Role: "agent", Phone: "+919876543211"},
			want: "would create Asha K, role agent, +919876543211"},
		{name: "names and role only", p: roster.Person{FirstName: "Madonna", Role: "agent"},
			want: "would create Madonna , role agent"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := (&ccmPerson{p: tc.p}).Describe(); got != tc.want {
				t.Errorf("Describe = %q, want %q", got, tc.want)
			}
		})
	}
}
