package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
)

// TestWebSocketUpgrade proxies a WebSocket handshake and then bytes both
// ways; the upstream sees the identity of the upgrade request.
func TestWebSocketUpgrade(t *testing.T) {
	var upgradeReq recorded
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		if !strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
			http.Error(w, "not an upgrade", 400)
			return
		}
		upgradeReq = recorded{Header: r.Header.Clone()}
		conn, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		brw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		brw.Flush()
		line, _ := brw.ReadString('\n') // echo one line
		brw.WriteString("echo: " + line)
		brw.Flush()
	})
	f := newFixture(t, false, "AUTHGATE_UPSTREAM="+b.server.URL)
	conn, err := net.Dial("tcp", f.front.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"X-Auth-User: mallory\r\nAuthorization: Bearer "+f.token(t, nil, 0)+"\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("status = %d, want 101", resp.StatusCode)
	}
	io.WriteString(conn, "ping\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "echo: ping\n" {
		t.Fatalf("read %q, %v; want the upstream's echo", line, err)
	}
	assertNoForged(t, upgradeReq)
	if upgradeReq.Header.Get("X-Auth-User") != "alice" {
		t.Errorf("upstream identity on upgrade = %v", upgradeReq.Header)
	}
}

func TestWebSocketNeedsToken(t *testing.T) {
	f := newFixture(t, true)
	req := f.request(t, "GET", "/ws", nil)
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Connection", "Upgrade")
	resp, _ := f.do(t, req)
	if resp.StatusCode != 401 {
		t.Errorf("unauthenticated upgrade = %d, want 401", resp.StatusCode)
	}
}

func TestH2CUpgradeRefused(t *testing.T) {
	f := newFixture(t, true, "AUTHGATE_PROTECTED_PATHS=/private/*")
	resp, body := f.raw(t, "GET /x HTTP/1.1\r\nHost: h\r\nUpgrade: h2c\r\nConnection: Upgrade, HTTP2-Settings\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n")
	if resp.StatusCode != 400 || errorBody(t, resp, body) != msgBadUpgrade {
		t.Errorf("h2c upgrade = %d %s, want 400 %q", resp.StatusCode, body, msgBadUpgrade)
	}
	if _, reached := f.backend.take(t); reached {
		t.Error("upstream reached")
	}
}

// TestServerSentEvents checks that a streamed response reaches the client
// event by event: the upstream waits for the client to read the first event
// before it sends the second.
func TestServerSentEvents(t *testing.T) {
	firstRead := make(chan struct{})
	b := newBackend(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "data: one\n\n")
		http.NewResponseController(w).Flush()
		<-firstRead
		io.WriteString(w, "data: two\n\n")
	})
	f := newFixture(t, false, "AUTHGATE_UPSTREAM="+b.server.URL)
	req := f.request(t, "GET", "/events", nil)
	req.Header.Set("Authorization", "Bearer "+f.token(t, nil, 0))
	resp, err := f.front.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	line, err := br.ReadString('\n')
	if err != nil || line != "data: one\n" {
		t.Fatalf("first line %q, %v", line, err)
	}
	close(firstRead)
	rest, _ := io.ReadAll(br)
	if string(rest) != "\ndata: two\n\n" {
		t.Errorf("rest = %q", rest)
	}
}

// TestBufferPool: the body copy buffers come back without an allocation,
// and a slice of another size (not one of the pool's) is not taken in.
func TestBufferPool(t *testing.T) {
	var bp bufferPool
	if n := testing.AllocsPerRun(100, func() { bp.Put(bp.Get()) }); n != 0 && !raceEnabled {
		t.Errorf("a Get and Put allocate %v times", n)
	}
	if b := bp.Get(); len(b) != copyBufferSize {
		t.Errorf("Get = %d bytes, want %d", len(b), copyBufferSize)
	}
	bp.Put(make([]byte, 10)) // must neither panic nor come back
	for range 3 {
		if b := bp.Get(); len(b) != copyBufferSize {
			t.Errorf("Get after a short Put = %d bytes", len(b))
		}
	}
}
