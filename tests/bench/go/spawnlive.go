// spawnlive.go — the Go side of BM_SpawnLive (tests/bench/runtime_bench.cc):
// N goroutines that are all alive at once. Each one signals `started`, then
// blocks on `gate`; main waits until all N have started, samples the RSS,
// opens the gate and waits for all of them to exit.
// bytes_per_live_g = (RSS with N parked - RSS before spawning) / N.
// Run by tests/bench/run_runtime_bench.sh next to the anchors in
// /work/shared/bench/go-runtime (same RESULT line format).
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
)

var started, gate, done sync.WaitGroup

func worker() {
	started.Done()
	gate.Wait()
	done.Done()
}

// Resident set in bytes, from /proc/self/statm.
func rss() int64 {
	var size, resident int64
	f, err := os.Open("/proc/self/statm")
	if err != nil {
		return 0
	}
	defer f.Close()
	if _, err := fmt.Fscan(f, &size, &resident); err != nil {
		return 0
	}
	return resident * int64(os.Getpagesize())
}

func main() {
	n := flag.Int("n", 1000000, "number of goroutines")
	flag.Parse()

	started.Add(*n)
	done.Add(*n)
	gate.Add(1)
	rss0 := rss()
	start := time.Now()
	for i := 0; i < *n; i++ {
		go worker()
	}
	started.Wait()
	rssLive := rss()
	live := runtime.NumGoroutine() - 1
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	gate.Done()
	done.Wait()
	el := time.Since(start)
	fmt.Printf("RESULT bench=spawnlive procs=%d n=%d total_ms=%.2f ns_per_g=%.1f live=%d bytes_per_live_g=%.0f rss_live_mb=%.1f stack_inuse_mb=%.1f\n",
		runtime.GOMAXPROCS(0), *n, float64(el)/1e6, float64(el)/float64(*n), live,
		float64(rssLive-rss0)/float64(*n), float64(rssLive)/(1<<20), float64(ms.StackInuse)/(1<<20))
}
