package statuspatch

import "testing"

type status struct {
	Secret   string `json:"secret,omitempty"`
	Username string `json:"username,omitempty"`
	Count    int    `json:"count,omitempty"`
}

func TestBodyClearsEmptyClearableFields(t *testing.T) {
	got, err := Body(status{Username: "alice"}, "secret", "username")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"status":{"secret":null,"username":"alice"}}`; string(got) != want {
		t.Errorf("Body = %s, want %s", got, want)
	}
}
