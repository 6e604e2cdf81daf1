package exoteltest

import (
	"fmt"
	"math/rand/v2"
	"time"
)

// SampleUsers makes n plausible users for the sandbox and for tests that
// need a populated account: a few admins, some supervisors, mixed email and
// device verification, and last logins from today to never. The same n,
// seed and now give the same users.
func SampleUsers(n int, seed int64, now time.Time) []SeedUser {
	firsts := []string{"Aarav", "Priya", "Rahul", "Ananya", "Vikram", "Meera", "Arjun", "Kavya", "Rohan", "Isha",
		"Sanjay", "Neha", "Karthik", "Divya", "Aditya", "Pooja", "Nikhil", "Sneha", "Varun", "Lakshmi"}
	lasts := []string{"Sharma", "Iyer", "Nair", "Reddy", "Patel", "Gupta", "Menon", "Rao", "Das", "Kulkarni",
		"Singh", "Joshi", "Pillai", "Bose", "Chatterjee"}
	rng := rand.New(rand.NewPCG(uint64(seed), 0x73616d706c65)) // "sample"
	users := make([]SeedUser, n)
	for i := range users {
		first, last := firsts[i%len(firsts)], lasts[(i/len(firsts)+i)%len(lasts)]
		role := "user"
		switch {
		case i%40 == 0:
			role = "admin"
		case i%9 == 0:
			role = "supervisor"
		}
		u := SeedUser{
			FirstName:     first,
			LastName:      last,
			Email:         fmt.Sprintf("%s.%s.%d@example.com", lower(first), lower(last), i),
			Role:          role,
			EmailVerified: rng.IntN(10) < 7,
			DateCreated:   now.Add(-time.Duration(n-i) * 24 * time.Hour),
		}
		verified := rng.IntN(10) < 6
		var available *bool
		if verified {
			on := rng.IntN(2) == 0
			available = &on
		}
		// Indian mobile numbers start with 6-9; keep them valid and unique.
		u.Devices = []SeedDevice{{ContactURI: fmt.Sprintf("+9198%08d", 10000000+i), Verified: verified, Available: available}}
		if rng.IntN(5) > 0 { // one in five never logged in
			u.LastLogin = now.Add(-time.Duration(rng.IntN(200*24)) * time.Hour)
		}
		users[i] = u
	}
	return users
}

func lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
