package auth

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/config"
)

// RemoteOptions say how remote key sets are fetched.
type RemoteOptions struct {
	// MinRefresh is the least time between two fetches of one key set: an
	// unknown kid triggers a fetch only when the last one is older, so a
	// flood of random kids costs at most one fetch per MinRefresh. It is also
	// the floor for a Cache-Control max-age and the first retry delay.
	MinRefresh time.Duration
	// MaxRefresh is the most time between two refreshes, and the refresh
	// interval when the server sends no max-age.
	MaxRefresh time.Duration
	Timeout    time.Duration // per fetch (discovery and JWKS together)
	MaxBytes   int64         // largest discovery or JWKS document read
	Client     *http.Client  // nil: NewFetchClient(Timeout)
	Logger     zerolog.Logger
	Now        func() time.Time
}

// Defaults for RemoteOptions fields left zero.
const (
	DefaultMinRefresh = 30 * time.Second
	DefaultMaxRefresh = 10 * time.Minute
	DefaultTimeout    = 10 * time.Second
	DefaultMaxBytes   = 1 << 20
)

// RemoteKeySet is the key set of a trusted external issuer, fetched from its
// JWKS URL (found by OIDC discovery when not given), refreshed in the
// background and on unknown kids, and kept when a refresh fails.
type RemoteKeySet struct {
	issuer       string
	discoveryURL string // "" when the JWKS URL was given
	o            RemoteOptions

	mu        sync.Mutex
	jwksURL   string
	byID      map[string]*Key
	noKid     []*Key
	loaded    bool      // a fetch has succeeded once
	fetchedAt time.Time // of the keys held
	lastTry   time.Time // of the last fetch, whatever its outcome
	lastErr   error
	maxAge    time.Duration // from the last successful response
	inflight  *fetchCall
	refreshes uint64
	failures  uint64
	digest    [sha256.Size]byte // of the JWKS document the keys came from
	gen       atomic.Uint64     // bumped whenever the document changes
}

type fetchCall struct {
	done chan struct{}
	err  error
}

// NewRemoteKeySet returns the key set of issuer, fetched from jwksURL, or
// found by OIDC discovery at issuer + "/.well-known/openid-configuration"
// when jwksURL is "". Nothing is fetched until Run or a lookup.
func NewRemoteKeySet(issuer, jwksURL string, o RemoteOptions) (*RemoteKeySet, error) {
	if o.MinRefresh <= 0 {
		o.MinRefresh = DefaultMinRefresh
	}
	if o.MaxRefresh < o.MinRefresh {
		o.MaxRefresh = max(DefaultMaxRefresh, o.MinRefresh)
	}
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.Client == nil {
		o.Client = NewFetchClient(o.Timeout)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	r := &RemoteKeySet{issuer: issuer, jwksURL: jwksURL, o: o, byID: map[string]*Key{}}
	if jwksURL == "" {
		r.discoveryURL = strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration"
		if err := config.CheckFetchURL(r.discoveryURL); err != nil {
			return nil, fmt.Errorf("issuer %q: %v", issuer, err)
		}
	} else if err := config.CheckFetchURL(jwksURL); err != nil {
		return nil, fmt.Errorf("issuer %q: %v", issuer, err)
	}
	r.o.Logger = o.Logger.With().Str("issuer", issuer).Logger()
	return r, nil
}

// NewFetchClient returns the HTTP client for discovery and JWKS documents:
// the system trust store (SSL_CERT_FILE honoured), HTTPS_PROXY honoured, a
// timeout, and redirects only to https (or loopback) URLs.
func NewFetchClient(timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConnsPerHost:   2,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 {
				return errors.New("too many redirects")
			}
			return config.CheckFetchURL(req.URL.String())
		},
	}
}

// Issuer returns the issuer whose keys these are.
func (r *RemoteKeySet) Issuer() string { return r.issuer }

// Run loads the key set and keeps it fresh until ctx is done: it retries a
// failing first load with backoff, then refreshes after the server's max-age
// (bounded by MinRefresh and MaxRefresh), keeping the keys it has when a
// refresh fails.
func (r *RemoteKeySet) Run(ctx context.Context) {
	delay := time.Duration(0)
	backoff := r.o.MinRefresh
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		err := r.refresh(ctx)
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			delay, backoff = backoff, min(2*backoff, r.o.MaxRefresh)
		default:
			backoff = r.o.MinRefresh
			r.mu.Lock()
			delay = min(max(r.maxAge, r.o.MinRefresh), r.o.MaxRefresh)
			r.mu.Unlock()
		}
	}
}

// Ready reports nil once the key set has been loaded.
func (r *RemoteKeySet) Ready() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded {
		return nil
	}
	if r.lastErr != nil {
		return fmt.Errorf("keys of %s not loaded: %v", r.issuer, r.lastErr)
	}
	return fmt.Errorf("keys of %s not loaded yet", r.issuer)
}

// RemoteStats describe a remote key set for metrics.
type RemoteStats struct {
	Issuer    string
	Keys      int
	Loaded    bool
	FetchedAt time.Time
	Refreshes uint64 // successful fetches
	Failures  uint64 // failed fetches
}

// Stats returns the key set's state.
func (r *RemoteKeySet) Stats() RemoteStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return RemoteStats{Issuer: r.issuer, Keys: len(r.byID) + len(r.noKid), Loaded: r.loaded,
		FetchedAt: r.fetchedAt, Refreshes: r.refreshes, Failures: r.failures}
}

// lookup finds the key for a token. An unknown kid triggers one refresh,
// unless the last fetch started less than MinRefresh ago: concurrent lookups
// share one fetch, and the fetch does not die with the request that caused
// it.
func (r *RemoteKeySet) lookup(ctx context.Context, alg, kid string) (any, error) {
	r.mu.Lock()
	key, err := findKey(r.byID, r.noKid, alg, kid)
	r.mu.Unlock()
	var te *TokenError
	if kid == "" || !errors.As(err, &te) || te.Reason != ReasonUnknownKey {
		return key, err
	}
	if ferr := r.refreshShared(ctx, false); ferr != nil {
		return nil, newTokenError(ErrInvalidToken, ReasonUnknownKey, fmt.Errorf("no key with kid %q; refreshing the key set: %v", kid, ferr))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return findKey(r.byID, r.noKid, alg, kid)
}

// refreshShared joins the fetch in flight or starts one, and waits for it
// as long as ctx allows. Unless force is set, it starts none when the last
// one started less than MinRefresh ago.
func (r *RemoteKeySet) refreshShared(ctx context.Context, force bool) error {
	r.mu.Lock()
	call := r.inflight
	if call == nil {
		now := r.o.Now()
		if !force && !r.lastTry.IsZero() && now.Sub(r.lastTry) < r.o.MinRefresh {
			r.mu.Unlock()
			return nil // rate-limited: the caller looks again in what it has
		}
		r.lastTry = now
		call = &fetchCall{done: make(chan struct{})}
		r.inflight = call
		go func() {
			call.err = r.fetchAndStore(context.WithoutCancel(ctx))
			r.mu.Lock()
			r.inflight = nil
			r.mu.Unlock()
			close(call.done)
		}()
	}
	r.mu.Unlock()
	select {
	case <-call.done:
		return call.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// refresh is a scheduled refresh, shared with any lookup's.
func (r *RemoteKeySet) refresh(ctx context.Context) error { return r.refreshShared(ctx, true) }

// generation changes whenever a fetch brings another JWKS document: the
// cached verifications of the old keys are then void.
func (r *RemoteKeySet) generation() uint64 { return r.gen.Load() }

func (r *RemoteKeySet) fetchAndStore(ctx context.Context) error {
	keys, digest, maxAge, err := r.fetch(ctx)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failures++
		r.lastErr = err
		ev := r.o.Logger.Warn().Err(err)
		if r.loaded {
			ev = ev.Int("keys_kept", len(r.byID)+len(r.noKid)).Time("keys_fetched_at", r.fetchedAt)
		}
		ev.Msg("fetching the issuer's key set failed; keeping the keys it had")
		return err
	}
	byID, noKid := map[string]*Key{}, []*Key(nil)
	for _, k := range keys {
		if k.ID == "" {
			noKid = append(noKid, k)
		} else {
			byID[k.ID] = k
		}
	}
	r.byID, r.noKid = byID, noKid
	if digest != r.digest {
		r.digest = digest
		r.gen.Add(1)
	}
	r.loaded, r.fetchedAt, r.maxAge, r.lastErr = true, r.o.Now(), maxAge, nil
	r.refreshes++
	r.o.Logger.Info().Int("keys", len(keys)).Str("jwks_url", r.jwksURL).Msg("issuer key set loaded")
	return nil
}

// fetch discovers the JWKS URL if needed and reads the key set, with a
// digest of the document.
func (r *RemoteKeySet) fetch(ctx context.Context) ([]*Key, [sha256.Size]byte, time.Duration, error) {
	var none [sha256.Size]byte
	ctx, cancel := context.WithTimeout(ctx, r.o.Timeout)
	defer cancel()
	r.mu.Lock()
	jwksURL := r.jwksURL
	r.mu.Unlock()
	if jwksURL == "" {
		u, err := r.discover(ctx)
		if err != nil {
			return nil, none, 0, err
		}
		r.mu.Lock()
		r.jwksURL, jwksURL = u, u
		r.mu.Unlock()
	}
	body, header, err := r.get(ctx, jwksURL)
	if err != nil {
		return nil, none, 0, err
	}
	keys, skipped, err := parseJWKS(body)
	if err != nil {
		return nil, none, 0, fmt.Errorf("%s: %v", jwksURL, err)
	}
	if len(skipped) > 0 {
		r.o.Logger.Debug().Strs("skipped", skipped).Msg("keys in the set that authgate does not verify with")
	}
	if len(keys) == 0 {
		return nil, none, 0, fmt.Errorf("%s: the JWK Set holds no signature keys", jwksURL)
	}
	return keys, sha256.Sum256(body), maxAge(header.Get("Cache-Control")), nil
}

// discover reads the OIDC discovery document, which must name the same
// issuer (OpenID Connect Discovery 1.0 §4.3), for its jwks_uri.
func (r *RemoteKeySet) discover(ctx context.Context) (string, error) {
	body, _, err := r.get(ctx, r.discoveryURL)
	if err != nil {
		return "", err
	}
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		return "", fmt.Errorf("%s: not a discovery document: %v", r.discoveryURL, err)
	}
	if doc.Issuer != r.issuer {
		return "", fmt.Errorf("%s names issuer %q, not %q", r.discoveryURL, doc.Issuer, r.issuer)
	}
	if err := config.CheckFetchURL(doc.JWKSURI); err != nil {
		return "", fmt.Errorf("%s: jwks_uri: %v", r.discoveryURL, err)
	}
	return doc.JWKSURI, nil
}

// get fetches a document of at most MaxBytes.
func (r *RemoteKeySet) get(ctx context.Context, url string) ([]byte, http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.o.Client.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, nil, fmt.Errorf("%s answered %s", url, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, r.o.MaxBytes+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", url, err)
	}
	if int64(len(body)) > r.o.MaxBytes {
		return nil, nil, fmt.Errorf("%s: the document is larger than %d bytes", url, r.o.MaxBytes)
	}
	return body, resp.Header, nil
}

// maxAge reads max-age from a Cache-Control header; no-store and no-cache
// count as zero, and no max-age at all as forever (MaxRefresh bounds both).
func maxAge(cacheControl string) time.Duration {
	if cacheControl == "" {
		return time.Duration(1<<63 - 1)
	}
	for part := range strings.SplitSeq(cacheControl, ",") {
		part = strings.ToLower(strings.TrimSpace(part))
		switch {
		case part == "no-store", part == "no-cache":
			return 0
		case strings.HasPrefix(part, "max-age="):
			if n, err := strconv.ParseInt(strings.Trim(part[len("max-age="):], `"`), 10, 64); err == nil && n >= 0 {
				return time.Duration(min(n, 1<<31)) * time.Second
			}
		}
	}
	return time.Duration(1<<63 - 1)
}
