package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
	"github.com/rs/zerolog"

	"github.com/authgate/authgate/config"
	"github.com/authgate/authgate/state"
)

// openStore returns the state store: Redis when AUTHGATE_REDIS_URL or
// AUTHGATE_REDIS_URL_FILE is set (so that every replica shares it), else
// memory, for one replica. Opening Redis dials nothing: a Redis that is
// down fails the requests that need it, and /readyz.
func openStore(cfg config.Config, logger zerolog.Logger) (state.Store, error) {
	raw, name := cfg.RedisURL, "AUTHGATE_REDIS_URL"
	if cfg.RedisURLFile != "" {
		name = "AUTHGATE_REDIS_URL_FILE"
		b, err := os.ReadFile(cfg.RedisURLFile)
		if err != nil {
			return nil, fmt.Errorf("%s: reading the URL file: %w", name, err)
		}
		raw = strings.TrimSpace(string(b))
	}
	if raw == "" {
		return state.NewMemory(nil), nil
	}
	st, err := state.OpenRedis(raw, cfg.RedisPrefix)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	// go-redis has one logger for the whole process: the first store
	// opened sets it, so that its lines become authgate's.
	redisLogOnce.Do(func() { redis.SetLogger(redisLog{logger.With().Str("component", "redis").Logger()}) })
	return st, nil
}

var redisLogOnce sync.Once

// redisLog turns go-redis's log lines into zerolog warnings.
type redisLog struct{ l zerolog.Logger }

func (r redisLog) Printf(_ context.Context, format string, v ...any) {
	r.l.Warn().Msg(strings.TrimSpace(fmt.Sprintf(format, v...)))
}
