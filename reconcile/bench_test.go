package reconcile

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// BenchmarkDecide plans a 5,000-row roster against a 5,000-user account:
// 4,500 unchanged, 250 renamed, 250 new hires, 250 leavers pruned.
func BenchmarkDecide(b *testing.B) {
	const n = 5000
	var users []*Member
	var rows strings.Builder
	rows.WriteString("first_name,last_name,email,phone,role\n")
	for i := range n {
		phone := fmt.Sprintf("+9198%08d", 10000000+i)
		email := fmt.Sprintf("agent%d@corp.com", i)
		users = append(users, ccmMember(user(fmt.Sprintf("u%05d", i), "Agent", fmt.Sprint("No", i), email, phone, "user")))
		last := fmt.Sprint("No", i)
		switch {
		case i >= n-250:
			continue // a leaver
		case i%20 == 0:
			last += "x" // renamed
		}
		fmt.Fprintf(&rows, "Agent,%s,%s,%s,user\n", last, email, phone)
	}
	for i := range 250 {
		fmt.Fprintf(&rows, "New,Hire%d,hire%d@corp.com,+9197%08d,user\n", i, i, 10000000+i)
	}
	tg := NewCCM(nil, nil, Account{ID: "sid"}, Config{})
	r := readRoster(b, tg, rows.String())
	l := &Listing{Members: users}
	s := defaults()
	s.Prune, s.MaxDelete = true, 1000
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		p := Decide(r, l, tg, s, nil, time.Now())
		if p.Counts[Delete] != 250 || p.Counts[Create] != 250 {
			b.Fatalf("counts %v", p.Counts)
		}
	}
	b.ReportMetric(float64(len(r.Wants))*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkWebRTCList lists a 2,000-user app (40 pages) whose answers take
// 5 ms: one worker pages one at a time, as the listing did before it went
// through the exporter; more fetch the pages after the first concurrently.
func BenchmarkWebRTCList(b *testing.B) {
	e := newFakeEnvWith(b, exoteltest.Options{Latency: 5 * time.Millisecond})
	e.srv.SeedWebRTC(exoteltest.SampleWebRTCUsers(2000, 1, testNow)...)
	for _, workers := range []int{1, 4, 8} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				l, err := e.appWith(Config{Workers: workers}).List(context.Background(), e.halt())
				if err != nil || len(l.Members) != 2000 {
					b.Fatalf("%v, %d members", err, len(l.Members))
				}
			}
		})
	}
}
