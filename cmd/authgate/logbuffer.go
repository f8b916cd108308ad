package main

import (
	"io"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// logBuffer batches the process log's info and debug lines (the access
// lines, mostly) and writes them at most interval after the first of a
// batch, or as soon as maxLogBatch bytes wait: one write for many lines,
// where one write a line cost a busy authgate about 7 µs a request on one
// core (the write, and the thread switches it invites). A line at warn or
// above writes what waits and then itself at once, so that the log keeps
// its order and a problem is never held back. Flush writes what waits; the
// process calls it before it exits.
type logBuffer struct {
	out      io.Writer
	interval time.Duration

	mu      sync.Mutex
	buf     []byte
	pending bool // a flush is scheduled
}

const maxLogBatch = 32 << 10

func newLogBuffer(out io.Writer, interval time.Duration) *logBuffer {
	return &logBuffer{out: out, interval: interval, buf: make([]byte, 0, maxLogBatch)}
}

// Write holds p (a whole line: zerolog writes one per call).
func (b *logBuffer) Write(p []byte) (int, error) {
	return b.WriteLevel(zerolog.InfoLevel, p)
}

// WriteLevel holds a line below warn, and writes one at warn or above at
// once, after what waits.
func (b *logBuffer) WriteLevel(level zerolog.Level, p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if level >= zerolog.WarnLevel && level != zerolog.NoLevel {
		if err := b.flushLocked(); err != nil {
			return 0, err
		}
		return b.out.Write(p)
	}
	b.buf = append(b.buf, p...)
	if len(b.buf) >= maxLogBatch {
		return len(p), b.flushLocked()
	}
	if !b.pending {
		b.pending = true
		time.AfterFunc(b.interval, func() { _ = b.Flush() })
	}
	return len(p), nil
}

// Flush writes the lines that wait.
func (b *logBuffer) Flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.pending = false
	return b.flushLocked()
}

func (b *logBuffer) flushLocked() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.out.Write(b.buf)
	b.buf = b.buf[:0] // a failed write drops the batch, as zerolog drops a line
	return err
}
