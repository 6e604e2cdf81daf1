// Package roster reads a roster CSV of people to create in Exotel and checks each row
// offline, before any API call is spent on it.
//
// The flow is: NewReader reads the header line and matches its cells to Fields
// (case- and punctuation-insensitively, with aliases such as "Surname" or "Mobile");
// Header.CheckForImport says whether the file can be imported at all; Reader.Next
// streams the data rows; a Validator turns each Record into a Person ready for the
// API, or into the list of Problems that stop it.
package roster

import "strconv"

// Field is a column the importer understands.
type Field int

// The fields, in the order of the CCM create-user request.
const (
	FieldFirstName Field = iota
	FieldLastName
	FieldName // one column holding the full name, split into first and last
	FieldEmail
	FieldPhone
	FieldRole
	FieldDeviceName
	FieldUserID // used to find users by offboard/update; import ignores it
	// FieldNewEmail and FieldNewPhone carry update's new value for a column
	// that also identifies the row (find by phone, change the phone).
	FieldNewEmail
	FieldNewPhone
	// FieldSIPEnabled is a WebRTC app user's sip_enabled; the CCM target
	// does not read it.
	FieldSIPEnabled
	fieldCount
)

// String returns the canonical column name, which is the API's parameter name
// where there is one.
func (f Field) String() string {
	switch f {
	case FieldFirstName:
		return "first_name"
	case FieldLastName:
		return "last_name"
	case FieldName:
		return "name"
	case FieldEmail:
		return "email"
	case FieldPhone:
		return "device_contact_uri"
	case FieldRole:
		return "role"
	case FieldDeviceName:
		return "device_name"
	case FieldUserID:
		return "user_id"
	case FieldNewEmail:
		return "new_email"
	case FieldNewPhone:
		return "new_phone"
	case FieldSIPEnabled:
		return "sip_enabled"
	}
	return "Field(" + strconv.Itoa(int(f)) + ")"
}

// fieldForKey maps a normalised header (see headerKey) to its field. A switch rather
// than a map keeps the table free of package state.
func fieldForKey(k string) (Field, bool) {
	switch k {
	case "first name", "firstname", "given name", "givenname", "forename":
		return FieldFirstName, true
	case "last name", "lastname", "surname", "family name", "familyname":
		return FieldLastName, true
	case "name", "full name", "fullname", "agent name", "employee name":
		return FieldName, true
	case "email", "e mail", "mail", "email address", "e mail address", "email id", "e mail id":
		return FieldEmail, true
	case "device contact uri", "phone", "phone number", "phone no", "mobile", "mobile number",
		"mobile no", "contact", "contact number", "contact no", "cell", "cell number", "msisdn":
		return FieldPhone, true
	case "role", "user role", "access":
		return FieldRole, true
	case "device name", "device":
		return FieldDeviceName, true
	case "user id", "userid", "id", "exotel id":
		return FieldUserID, true
	case "new email", "new e mail", "new mail", "new email address", "new e mail address", "new email id":
		return FieldNewEmail, true
	case "new phone", "new phone number", "new phone no", "new mobile", "new mobile number", "new mobile no",
		"new contact", "new contact number", "new contact no", "new number", "new cell", "new msisdn",
		"new device contact uri", "new contact uri":
		return FieldNewPhone, true
	case "sip enabled", "sipenabled", "enable sip":
		return FieldSIPEnabled, true
	}
	return 0, false
}

// isQuietKey reports headers that exoroster itself writes in exports and results
// files. They carry no input, but they are expected, so re-importing such a file
// must not warn about them.
func isQuietKey(k string) bool {
	switch k {
	// export columns
	case "email verified", "device id", "device type", "device verified", "device available",
		"device status", "extra devices", "last login", "active call", "date created", "date updated":
		return true
	// a WebRTC app's export columns, and its status in a results file
	case "phone device", "sip device", "created at", "updated at", "user status":
		return true
	// results columns
	case "row", "status", "http status", "error code", "message", "attempts":
		return true
	}
	return len(k) > len("input ") && k[:len("input ")] == "input "
}
