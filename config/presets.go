package config

import "fmt"

// Identity-header presets, the values of AUTHGATE_HEADER_PRESET: the header
// names other tools use, so authgate drops in where they sit today.
const (
	PresetAuthgate    = "authgate"     // X-Auth-Subject, X-Auth-User, X-Auth-Roles
	PresetRemote      = "remote"       // Authelia: Remote-User, Remote-Groups, Remote-Email, Remote-Name
	PresetForwarded   = "forwarded"    // oauth2-proxy upstream headers: X-Forwarded-User, -Email, -Groups, -Preferred-Username
	PresetAuthRequest = "auth-request" // oauth2-proxy auth_request headers: X-Auth-Request-User, -Email, -Groups, -Preferred-Username
)

// Preset is the claim mapping of a header preset and the header family it
// owns: every name in Family (normalised, see NormalizeHeaderName) is
// removed from client requests whatever the mapping, as is X-Auth-*.
type Preset struct {
	Mapping ClaimHeaders
	Family  []string
}

// IdentityPrefix is the header family authgate always owns: X-Auth-*.
const IdentityPrefix = "x-auth-"

// PresetFor returns the preset called name; roles is AUTHGATE_ROLES_CLAIM.
func PresetFor(name, roles string) (Preset, error) {
	switch name {
	case PresetAuthgate:
		return Preset{Mapping: ClaimHeaders{{"sub", "X-Auth-Subject"}, {"username", "X-Auth-User"}, {roles, "X-Auth-Roles"}}}, nil
	case PresetRemote:
		return Preset{
			Mapping: ClaimHeaders{{"username", "Remote-User"}, {roles, "Remote-Groups"}, {"email", "Remote-Email"}, {"name", "Remote-Name"}},
			Family:  []string{"remote-user", "remote-groups", "remote-email", "remote-name"},
		}, nil
	case PresetForwarded:
		return Preset{
			Mapping: ClaimHeaders{{"sub", "X-Forwarded-User"}, {"email", "X-Forwarded-Email"}, {roles, "X-Forwarded-Groups"}, {"preferred_username", "X-Forwarded-Preferred-Username"}},
			Family:  []string{"x-forwarded-user", "x-forwarded-email", "x-forwarded-groups", "x-forwarded-preferred-username", "x-forwarded-access-token"},
		}, nil
	case PresetAuthRequest:
		return Preset{
			Mapping: ClaimHeaders{{"sub", "X-Auth-Request-User"}, {"email", "X-Auth-Request-Email"}, {roles, "X-Auth-Request-Groups"}, {"preferred_username", "X-Auth-Request-Preferred-Username"}},
		}, nil
	}
	return Preset{}, fmt.Errorf("%q must be one of authgate, remote, forwarded, auth-request", name)
}
