package exoteltest_test

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/exoroster/exoroster/exotel"
	"github.com/exoroster/exoroster/exotel/exoteltest"
)

// A create whose answer is lost still took effect; the fake's books show it.
func ExampleNewServer() {
	srv := exoteltest.NewServer(exoteltest.Options{Seed: 1, DropAfterRate: 1, FaultMethods: []string{"POST"}})
	defer srv.Close()

	client, _ := exotel.New(exotel.Options{
		BaseURL: srv.URL(),
		Credentials: exotel.Credentials{APIKey: "test-key", APIToken: exotel.NewSecret("test-token"),
			AccountSID: "test-sid"},
		HTTPClient: &http.Client{Timeout: 5 * time.Second},
	})
	_, err := client.CreateUser(context.Background(), exotel.CreateUserRequest{
		FirstName: "Asha", LastName: "Rao", Email: "asha@example.com", DeviceContactURI: "+919800000001"})

	fmt.Println("ambiguous:", exotel.IsAmbiguous(err))
	fmt.Println("users:", len(srv.Users()))
	fmt.Println("creates:", srv.CreatesByEmail()["asha@example.com"])
	fmt.Println("dropped:", srv.Requests()[0].Dropped)
	// Output:
	// ambiguous: true
	// users: 1
	// creates: 1
	// dropped: after
}
