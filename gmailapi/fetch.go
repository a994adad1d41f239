package gmailapi

import (
	"context"
	"sync"
)

// FetchResult is the outcome of fetching one message.
type FetchResult struct {
	ID      string
	Message *RawMessage // nil when Err is set
	Err     error
}

// FetchRaw fetches ids in format raw with up to workers concurrent
// requests, metered by the client's quota limiter, and calls handle with
// each result from the calling goroutine, in completion order. handle may
// therefore write to non-thread-safe stores. A non-nil error from handle
// stops the fetch and is returned. Per-message errors that remain after
// retries are handed to handle and do not stop the fetch.
//
// When Gmail returns "Too many concurrent requests for user", FetchRaw
// lowers the number of requests in flight (never below one) and raises it
// again, one at a time, after a run of successes.
func (c *Client) FetchRaw(ctx context.Context, ids []string, workers int, handle func(FetchResult) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	workers = max(workers, 1)
	limit := newConcurrencyLimit(workers)
	jobs := make(chan string)
	results := make(chan FetchResult)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range jobs {
				msg, err := c.getRaw(ctx, id, limit)
				select {
				case results <- FetchResult{ID: id, Message: msg, Err: err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for _, id := range ids {
			select {
			case jobs <- id:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()

	for res := range results {
		if err := handle(res); err != nil {
			cancel()
			for range results { // let the workers exit
			}
			return err
		}
	}
	return ctx.Err()
}
