// Mints one token per algorithm with keys jose generates, for authgate to
// verify. Usage: node mint.mjs ISSUER AUDIENCE
// Prints {"jwks": {"keys": [...]}, "tokens": {"RS256": "...", ...}}.
import * as jose from 'jose'

const [issuer, audience] = process.argv.slice(2)
if (!issuer || !audience) {
  console.error('usage: node mint.mjs ISSUER AUDIENCE')
  process.exit(2)
}

const keys = []
const tokens = {}
for (const alg of ['RS256', 'PS256', 'ES256', 'ES384', 'EdDSA']) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true })
  const jwk = await jose.exportJWK(publicKey)
  jwk.kid = await jose.calculateJwkThumbprint(jwk)
  jwk.alg = alg
  jwk.use = 'sig'
  keys.push(jwk)
  tokens[alg] = await new jose.SignJWT({ username: `jose-${alg}`, roles: ['interop'] })
    .setProtectedHeader({ alg, kid: jwk.kid, typ: 'JWT' })
    .setSubject(`jose-${alg}`)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('10m')
    .setJti(crypto.randomUUID())
    .sign(privateKey)
}
process.stdout.write(JSON.stringify({ jwks: { keys }, tokens }))
