package main

import (
	"bytes"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/authgate/authgate/config"
)

// lockedBuffer is a bytes.Buffer that counts its writes.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) state() (string, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String(), l.writes
}

// TestLogBuffer: info lines wait (at most the interval, here an hour, so
// that only Flush, a warning or the size writes them), a warning writes
// what waits and then itself, in order, and a full batch is written at once.
func TestLogBuffer(t *testing.T) {
	out := &lockedBuffer{}
	lb := newLogBuffer(out, time.Hour)
	log := zerolog.New(lb)
	log.Info().Msg("one")
	log.Debug().Msg("two")
	if got, _ := out.state(); got != "" {
		t.Fatalf("info lines written before their time: %q", got)
	}
	log.Warn().Msg("three")
	got, writes := out.state()
	if want := `{"level":"info","message":"one"}` + "\n" + `{"level":"debug","message":"two"}` + "\n" + `{"level":"warn","message":"three"}` + "\n"; got != want || writes != 2 {
		t.Fatalf("after a warning: %q in %d writes, want %q in 2", got, writes, want)
	}
	log.Info().Msg("four")
	if err := lb.Flush(); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.state(); !strings.HasSuffix(got, `"message":"four"}`+"\n") {
		t.Fatalf("Flush did not write the waiting line: %q", got)
	}
	_, before := out.state()
	line := strings.Repeat("x", 1000)
	for range maxLogBatch/1000 + 1 {
		log.Info().Msg(line)
	}
	if _, after := out.state(); after != before+1 {
		t.Errorf("%d writes for a full batch, want 1", after-before)
	}
}

// TestLogBufferInterval: a waiting line is written by the interval alone.
func TestLogBufferInterval(t *testing.T) {
	out := &lockedBuffer{}
	log := zerolog.New(newLogBuffer(out, 10*time.Millisecond))
	log.Info().Msg("soon")
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, _ := out.state(); got != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the line was never written")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLogBufferConcurrent: lines written at once from many goroutines
// arrive whole (run with -race).
func TestLogBufferConcurrent(t *testing.T) {
	out := &lockedBuffer{}
	lb := newLogBuffer(out, time.Millisecond)
	log := zerolog.New(lb)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				log.Info().Int("g", g).Int("i", i).Msg("line")
			}
		})
	}
	wg.Wait()
	lb.Flush()
	got, _ := out.state()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	if len(lines) != 8*500 {
		t.Fatalf("%d lines, want %d", len(lines), 8*500)
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, `{"level":"info","g":`) || !strings.HasSuffix(l, `"message":"line"}`) {
			t.Fatalf("torn line %q", l)
		}
	}
}

// TestLogOutput: the server's log is buffered unless the interval is 0 or
// the format is console.
func TestLogOutput(t *testing.T) {
	for _, tt := range []struct {
		env      []string
		buffered bool
	}{
		{nil, true},
		{[]string{"AUTHGATE_LOG_FLUSH_INTERVAL=0"}, false},
		{[]string{"AUTHGATE_LOG_FORMAT=console"}, false},
	} {
		cfg, err := config.Load(append([]string{"AUTHGATE_JWT_SECRET=" + testSecret}, tt.env...))
		if err != nil {
			t.Fatal(err)
		}
		out, _ := logOutput(cfg, os.Stderr)
		if _, ok := out.(*logBuffer); ok != tt.buffered {
			t.Errorf("%v: buffered %v, want %v", tt.env, ok, tt.buffered)
		}
	}
}

// BenchmarkAccessLine is one access line as observe writes it, to /dev/null
// line by line and through a logBuffer.
func BenchmarkAccessLine(b *testing.B) {
	devnull, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		b.Fatal(err)
	}
	defer devnull.Close()
	lb := newLogBuffer(devnull, 100*time.Millisecond)
	for _, bc := range []struct {
		name string
		log  zerolog.Logger
	}{{"unbuffered", zerolog.New(devnull).With().Timestamp().Logger()}, {"buffered", zerolog.New(lb).With().Timestamp().Logger()}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				bc.log.Info().Str("request_id", "d4n3kq0c3a5s7e8f9g0h").Str("decision", "allow").Str("rule", "default").
					Str("sub", "user-123").Str("client", "127.0.0.1").Str("method", "GET").Str("path", "/api/items").
					Int("status", 200).Int64("size", 2).Dur("duration", 123456*time.Nanosecond).Str("remote", "127.0.0.1:40000").Msg("request")
			}
		})
	}
	lb.Flush()
}
