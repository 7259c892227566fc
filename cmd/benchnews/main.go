package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gocart-coalition/coalition/internal/benchnews"
)

func main() {
	bin := flag.String("bin", "./bin/coalition", "the coalition binary to measure")
	n := flag.Int("recipients", 100_000, "recipients of the newsletter")
	dkimN := flag.Int("dkim-recipients", 20_000, "recipients of the run with DKIM signing (0 skips it)")
	keep := flag.Bool("keep", false, "keep each run's database and service log (their directory is printed)")
	flag.Parse()
	if _, err := os.Stat(*bin); err != nil {
		fmt.Fprintf(os.Stderr, "benchnews: %v (run make build first)\n", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *dkimN > 0 {
		r, err := benchnews.Run(ctx, benchnews.Config{Bin: *bin, Recipients: *dkimN, DKIM: true, Log: os.Stdout, Keep: *keep})
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchnews: with DKIM: %v\n", err)
			os.Exit(1)
		}
		report(r, "with DKIM (RSA-2048)")
	}
	r, err := benchnews.Run(ctx, benchnews.Config{Bin: *bin, Recipients: *n, Log: os.Stdout, Keep: *keep})
	if err != nil {
		fmt.Fprintf(os.Stderr, "benchnews: %v\n", err)
		os.Exit(1)
	}
	report(r, "without DKIM")
	fmt.Println(r)
}

// loadavg is the first field of /proc/loadavg: how busy the machine was.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

func report(r benchnews.Result, what string) {
	if r.Growth != "" {
		fmt.Printf("benchnews: %s: database growth per recipient: %s\n", what, r.Growth)
	}
	fmt.Printf("benchnews: %s: %d recipients in %.2f s: %.0f msg/s, peak RSS %.0f MB, %.0f bytes/recipient, first message after %.2f s; CPU per message: service %.0f µs, harness+sink %.0f µs (load average %s); first message DKIM-signed %v, List-Unsubscribe/-Post/List-Id %v\n",
		what, r.Recipients, r.Elapsed.Seconds(), r.Rate, float64(r.PeakRSS)/(1<<20), r.BytesPerRcpt, r.FirstMessage.Seconds(),
		float64(r.ServiceCPU.Microseconds())/float64(r.Recipients), float64(r.SinkCPU.Microseconds())/float64(r.Recipients), loadavg(), r.DKIMSigned, r.ListUnsubHeads)
}
