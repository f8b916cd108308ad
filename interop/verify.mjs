// Verifies tokens authgate signed against authgate's JWKS endpoint.
// Usage: node verify.mjs JWKS_URL ISSUER AUDIENCE < tokens.json
// where tokens.json is {"ALG": "token", ...}. Prints
// {"ALG": {"ok": true, "sub": ..., "kid": ...} | {"ok": false, "error": ...}}.
import * as jose from 'jose'

const [url, issuer, audience] = process.argv.slice(2)
if (!url || !issuer || !audience) {
  console.error('usage: node verify.mjs JWKS_URL ISSUER AUDIENCE < tokens.json')
  process.exit(2)
}
let input = ''
for await (const chunk of process.stdin) input += chunk
const tokens = JSON.parse(input)

const jwks = jose.createRemoteJWKSet(new URL(url))
const results = {}
for (const [alg, token] of Object.entries(tokens)) {
  try {
    const { payload, protectedHeader } = await jose.jwtVerify(token, jwks, { issuer, audience, algorithms: [alg] })
    results[alg] = { ok: true, sub: payload.sub, kid: protectedHeader.kid }
  } catch (e) {
    results[alg] = { ok: false, error: `${e.code ?? e.name}: ${e.message}` }
  }
}
process.stdout.write(JSON.stringify(results))
