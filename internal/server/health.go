package server

import (
	"context"
	"encoding/json"
	"net/http"
	"time"
)

// healthz answers as long as the process serves HTTP (liveness).
func healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// readyz answers 200 only when the database is reachable and every migration is applied
// (readiness): a load balancer sends traffic only to ready processes.
func (s *srv) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	body := map[string]string{"status": "ready", "database": "ok", "migrations": "current"}
	status := http.StatusOK
	if err := s.cfg.DB.Ping(ctx); err != nil {
		s.cfg.Logger.WarnContext(ctx, "readyz: database", "err", err)
		body["status"], body["database"], status = "unavailable", "unreachable", http.StatusServiceUnavailable
	} else if st, err := s.cfg.DB.MigrationStatus(ctx); err != nil {
		s.cfg.Logger.WarnContext(ctx, "readyz: migrations", "err", err)
		body["status"], body["migrations"], status = "unavailable", "unknown", http.StatusServiceUnavailable
	} else if !st.Current() {
		body["status"], body["migrations"], status = "unavailable", "pending", http.StatusServiceUnavailable
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}
