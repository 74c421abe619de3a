package httpapi

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/dotenv/apikeys/shared/authz"
	"github.com/dotenv/apikeys/shared/fault"
)

// Router serves a set of routes from the route table.
type Router struct {
	mux    *http.ServeMux
	logger *slog.Logger
}

// NewRouter mounts, for every route, the handler of its operation behind
// its guard (guard wraps a route's handler: shared/gate's Guard
// authenticates and authorizes). Every route must have a handler and every
// handler a route: a mismatch is a wiring mistake reported at start.
func NewRouter(routes authz.Routes, handlers authz.Handlers, guard func(authz.Route, http.Handler) http.Handler, logger *slog.Logger) (*Router, error) {
	mux := http.NewServeMux()
	seen := map[authz.Operation]bool{}
	for _, rt := range routes {
		h, ok := handlers[rt.Op()]
		if !ok {
			return nil, fmt.Errorf("httpapi: no handler for operation %s (%s %s)", rt.Operation, rt.Method, rt.Pattern)
		}
		seen[rt.Op()] = true
		mux.Handle(rt.Method+" "+rt.Pattern, guard(rt, h))
	}
	for op := range handlers {
		if !seen[op] {
			return nil, fmt.Errorf("httpapi: handler for %s has no route", op)
		}
	}
	return &Router{mux: mux, logger: logger}, nil
}

var probeMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// ServeHTTP routes the request; unknown paths answer 404 and known paths
// with another method 405, both as problem+json.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			rt.logger.ErrorContext(r.Context(), "handler panicked", "method", r.Method, "path", r.URL.Path, "panic", fmt.Sprint(v))
			if !sw.wrote {
				WriteError(sw, r, rt.logger, fault.New(fault.CodeInternal, "internal error"))
			}
		}
		rt.logger.DebugContext(r.Context(), "request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	}()
	if _, pattern := rt.mux.Handler(r); pattern != "" {
		rt.mux.ServeHTTP(sw, r)
		return
	}
	var allow []string
	for _, m := range probeMethods {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := rt.mux.Handler(probe); p != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		WriteError(sw, r, rt.logger, fault.New(fault.CodeNotFound, "there is no such route in this API"))
		return
	}
	sw.Header().Set("Allow", strings.Join(allow, ", "))
	WriteError(sw, r, rt.logger, fault.New(fault.CodeMethodNotAllowed, "%s is not allowed here; allowed: %s", r.Method, strings.Join(allow, ", ")))
}

// statusWriter remembers the status written, for the access log.
type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }
