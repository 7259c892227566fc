package db

import "time"

// CheckpointAt runs d's checkpointer at each tick of ticks (instead of its own ticker),
// calling after with what each checkpoint did.
func (d *DB) CheckpointAt(ticks <-chan time.Time, after func(Checkpointed, error)) {
	d.ckpt.loop(d, ticks, time.Minute, after)
}
