package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"

	"github.com/authgate/authgate/internal/yamlfile"
)

// User is one entry of the users file.
type User struct {
	Username string         `yaml:"username"`
	ID       string         `yaml:"id"`
	Password string         `yaml:"password"` // a bcrypt or argon2id hash
	Claims   map[string]any `yaml:"claims"`
}

// Users checks credentials against a fixed list of users.
type Users struct {
	byName map[string]User
	dummy  string                                    // compared against for unknown users
	cmp    func(hash, password string) (bool, error) // ComparePassword; tests count calls
}

// LoadUsers reads a users file (YAML, see README.md). Errors name the file
// and the line of the offending entry.
func LoadUsers(path string) (*Users, error) {
	var doc struct {
		Users []User `yaml:"users"`
	}
	list, err := yamlfile.Load(path, "users", &doc)
	if err != nil {
		return nil, err
	}
	u, err := NewUsers(doc.Users)
	var ue *userError
	if errors.As(err, &ue) {
		return nil, list.Errorf(ue.index, "", "%v", ue.err)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return u, nil
}

type userError struct {
	index int
	err   error
}

func (e *userError) Error() string { return fmt.Sprintf("user %d: %v", e.index+1, e.err) }

// NewUsers checks the list and returns a Users for it.
func NewUsers(list []User) (*Users, error) {
	u := &Users{
		byName: make(map[string]User, len(list)),
		cmp:    ComparePassword,
	}
	for i, usr := range list {
		bad := func(format string, args ...any) error {
			return &userError{index: i, err: fmt.Errorf(format, args...)}
		}
		switch {
		case usr.Username == "":
			return nil, bad("username is missing")
		case usr.ID == "":
			return nil, bad("%q: id is missing", usr.Username)
		}
		if _, dup := u.byName[usr.Username]; dup {
			return nil, bad("%q is listed twice", usr.Username)
		}
		if err := CheckHash(usr.Password); err != nil {
			return nil, bad("%q: password: %v", usr.Username, err)
		}
		for name := range usr.Claims {
			if reservedClaims[name] {
				return nil, bad("%q: claim %q is set by authgate and cannot be given", usr.Username, name)
			}
		}
		// Checked here, not at each login: a value JSON cannot carry (.nan,
		// a map with non-string keys) would make every login of the user fail.
		if _, err := json.Marshal(usr.Claims); err != nil {
			return nil, bad("%q: claims cannot go into a token: %v", usr.Username, err)
		}
		u.byName[usr.Username] = usr
	}
	like := HashArgon2id("", DefaultArgon2())
	if len(list) > 0 {
		like = list[0].Password
	}
	dummy, err := hashLike(like)
	if err != nil {
		return nil, err
	}
	u.dummy = dummy
	return u, nil
}

// Lookup returns the user called username, as the users file has it now:
// a refresh re-reads its user with it.
func (u *Users) Lookup(username string) (User, bool) {
	usr, ok := u.byName[username]
	return usr, ok
}

// TokenClaims are the extra claims of the user's tokens: the file's claims
// and the username.
func (usr User) TokenClaims() map[string]any {
	extra := make(map[string]any, len(usr.Claims)+1)
	maps.Copy(extra, usr.Claims)
	extra["username"] = usr.Username
	return extra
}

// Authenticate returns the user whose username and password these are. An
// unknown user and a wrong password both give ErrInvalidCredentials, after a
// hash comparison of the same cost (against a dummy hash for unknown users;
// the dummy has the cost of the first user's hash, so keep costs alike).
func (u *Users) Authenticate(ctx context.Context, username, password string) (User, error) {
	if err := ctx.Err(); err != nil {
		return User{}, err
	}
	usr, known := u.byName[username]
	hash := usr.Password
	if !known {
		hash = u.dummy
	}
	ok, err := u.cmp(hash, password)
	if err != nil {
		return User{}, fmt.Errorf("comparing password hashes: %w", err)
	}
	if !known || !ok {
		return User{}, ErrInvalidCredentials
	}
	return usr, nil
}
