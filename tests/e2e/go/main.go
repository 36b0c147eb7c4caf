// A plugin written in Go, calling an API the way Go programs usually do: an http.Client on
// net/http's default transport, which takes its proxy from HTTPS_PROXY / HTTP_PROXY (identity in
// the proxy URL's userinfo), offers HTTP/2 in TLS, keeps connections alive, and trusts the CAs in
// SSL_CERT_FILE. Used by tests/e2e/go_client_test.sh.
//
//	goclient [-method M] [-body TEXT] [-chunked] [-repeat N] [-header 'Name: value']... URL
//
// Prints one JSON object per request: {"status", "proto", "reused", "body", "error"}.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"os"
	"strings"
	"time"
)

type headerList []string

func (h *headerList) String() string     { return strings.Join(*h, "; ") }
func (h *headerList) Set(v string) error { *h = append(*h, v); return nil }

type result struct {
	Status int    `json:"status"`
	Proto  string `json:"proto"`
	Reused bool   `json:"reused"`
	Body   string `json:"body"`
	Error  string `json:"error,omitempty"`
}

type options struct {
	method  string
	body    string
	chunked bool
	headers headerList
}

// newRequest builds one request. A chunked body is a reader whose length net/http cannot know,
// so the transport sends it with Transfer-Encoding: chunked.
func newRequest(url string, o *options, reused *bool) (*http.Request, error) {
	var body io.Reader
	if o.body != "" {
		body = strings.NewReader(o.body)
		if o.chunked {
			body = io.MultiReader(body)
		}
	}
	req, err := http.NewRequest(o.method, url, body)
	if err != nil {
		return nil, err
	}
	for _, h := range o.headers {
		name, value, found := strings.Cut(h, ":")
		if !found {
			return nil, fmt.Errorf("header without a colon: %q", h)
		}
		req.Header.Add(strings.TrimSpace(name), strings.TrimSpace(value))
	}
	trace := &httptrace.ClientTrace{GotConn: func(info httptrace.GotConnInfo) { *reused = info.Reused }}
	return req.WithContext(httptrace.WithClientTrace(req.Context(), trace)), nil
}

func send(client *http.Client, url string, o *options) result {
	var r result
	req, err := newRequest(url, o, &r.Reused)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	resp, err := client.Do(req)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		r.Error = err.Error()
	}
	r.Status, r.Proto, r.Body = resp.StatusCode, resp.Proto, string(data)
	return r
}

func main() {
	var o options
	flag.StringVar(&o.method, "method", "GET", "request method")
	flag.StringVar(&o.body, "body", "", "request body")
	flag.BoolVar(&o.chunked, "chunked", false, "send the body without a length (chunked)")
	flag.Var(&o.headers, "header", "a request header 'Name: value' (repeatable)")
	repeat := flag.Int("repeat", 1, "requests sent one after another on the same client")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: goclient [options] URL")
		os.Exit(2)
	}

	client := &http.Client{Timeout: 10 * time.Second} // http.DefaultTransport
	out := json.NewEncoder(os.Stdout)
	for i := 0; i < *repeat; i++ {
		if err := out.Encode(send(client, flag.Arg(0), &o)); err != nil {
			os.Exit(1)
		}
	}
}
