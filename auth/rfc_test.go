package auth

import (
	"crypto/ed25519"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// Test vectors from the RFCs: the examples of RFC 7515 appendix A (JWS),
// RFC 8037 appendix A (Ed25519) and RFC 7638 §3.1 (thumbprint).
const (
	rfc7515A1Key = "AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"
	rfc7515A1JWS = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9" +
		".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
		".dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

	rfc7515A2JWK = `{"kty":"RSA","e":"AQAB","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ"}`
	rfc7515A2JWS = "eyJhbGciOiJSUzI1NiJ9" +
		".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
		".cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw"

	rfc7515A3JWK = `{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`
	rfc7515A3JWS = "eyJhbGciOiJFUzI1NiJ9" +
		".eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ" +
		".DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q"

	rfc8037Seed = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"
	rfc8037JWK  = `{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}`
	rfc8037JWS  = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc" +
		".hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"

	rfc7638JWK        = `{"kty":"RSA","e":"AQAB","alg":"RS256","kid":"2011-04-29","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"}`
	rfc7638Thumbprint = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
)

// jwkKey parses one JWK the way a JWK Set entry is parsed.
func jwkKey(t *testing.T, raw string) *Key {
	t.Helper()
	keys, skipped, err := parseJWKS([]byte(`{"keys":[` + raw + `]}`))
	if err != nil || len(keys) != 1 {
		t.Fatalf("parseJWKS(%s) = %v, %v, %v", raw, keys, skipped, err)
	}
	return keys[0]
}

// verifyJWS checks a compact JWS's signature with key under alg, as the
// Verifier does after picking the key.
func verifyJWS(t *testing.T, jws, alg string, key *Key) error {
	t.Helper()
	i := strings.LastIndex(jws, ".")
	sig, err := b64url.DecodeString(jws[i+1:])
	if err != nil {
		t.Fatal(err)
	}
	if !key.accepts(alg) {
		t.Fatalf("the key does not accept %s", alg)
	}
	return jwt.GetSigningMethod(alg).Verify(jws[:i], sig, key.verify)
}

func TestRFCVectors(t *testing.T) {
	t.Run("RFC 7515 A.1 HS256", func(t *testing.T) {
		secret, _ := b64url.DecodeString(rfc7515A1Key)
		key, err := NewHMACKey(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifyJWS(t, rfc7515A1JWS, "HS256", key); err != nil {
			t.Errorf("A.1 = %v", err)
		}
	})
	t.Run("RFC 7515 A.2 RS256", func(t *testing.T) {
		key := jwkKey(t, rfc7515A2JWK)
		if err := verifyJWS(t, rfc7515A2JWS, "RS256", key); err != nil {
			t.Errorf("A.2 = %v", err)
		}
		if err := verifyJWS(t, rfc7515A2JWS, "PS256", key); err == nil {
			t.Error("the RS256 signature verified as PS256")
		}
		if key.accepts("HS256") || key.accepts("ES256") {
			t.Error("an RSA key accepts HS256 or ES256")
		}
	})
	t.Run("RFC 7515 A.3 ES256", func(t *testing.T) {
		key := jwkKey(t, rfc7515A3JWK)
		if err := verifyJWS(t, rfc7515A3JWS, "ES256", key); err != nil {
			t.Errorf("A.3 = %v", err)
		}
		if key.accepts("ES384") || key.accepts("RS256") {
			t.Error("a P-256 key accepts ES384 or RS256")
		}
	})
	t.Run("RFC 8037 A.4 Ed25519", func(t *testing.T) {
		key := jwkKey(t, rfc8037JWK)
		if err := verifyJWS(t, rfc8037JWS, "EdDSA", key); err != nil {
			t.Errorf("A.4 verify = %v", err)
		}
		seed, _ := b64url.DecodeString(rfc8037Seed)
		signer := ed25519.NewKeyFromSeed(seed)
		i := strings.LastIndex(rfc8037JWS, ".")
		sig, err := jwt.SigningMethodEdDSA.Sign(rfc8037JWS[:i], signer)
		if err != nil {
			t.Fatal(err)
		}
		if got := b64url.EncodeToString(sig); got != rfc8037JWS[i+1:] {
			t.Errorf("A.4 sign = %s, want the RFC's signature", got)
		}
		// A.3: the thumbprint of the RFC 8037 key.
		if tp, _ := Thumbprint(key.verify); tp != "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k" {
			t.Errorf("RFC 8037 A.3 thumbprint = %s", tp)
		}
	})
	t.Run("RFC 7638 3.1 thumbprint", func(t *testing.T) {
		key := jwkKey(t, rfc7638JWK)
		tp, err := Thumbprint(key.verify)
		if err != nil || tp != rfc7638Thumbprint {
			t.Errorf("Thumbprint = %q, %v; want %s", tp, err, rfc7638Thumbprint)
		}
		if key.ID != "2011-04-29" || key.Alg != "RS256" {
			t.Errorf("kid %q alg %q: a JWK's own kid and alg are kept", key.ID, key.Alg)
		}
		noKid := jwkKey(t, strings.Replace(rfc7638JWK, `"kid":"2011-04-29",`, "", 1))
		if noKid.ID != rfc7638Thumbprint {
			t.Errorf("a JWK without kid got kid %q, want its thumbprint", noKid.ID)
		}
	})
}
