package exotel

import "path"

// resourceName is the last element of a resource URL's path ("/users"),
// which logs and errors put before a request's own path: the rest names
// the account, which every request of a run shares.
func resourceName(urlPath string) string {
	name := path.Base(urlPath)
	if name == "." || name == "/" {
		return ""
	}
	return "/" + name
}
