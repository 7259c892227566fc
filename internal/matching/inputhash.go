package matching

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
)

// InputHash is the SHA-256 (hex) of a match run's frozen input: the instance, the pins
// outside the engine, the staff's overrides with their reasons, and the version of the
// engine and of the way the input is built. encoding/json sorts map keys, so the hash is
// canonical. internal/matchrun stores it with each run and compares it at publication; an
// erasure that redacts a name inside a stored run's override reasons hashes the run again.
// overrides is hashed as encoding/json encodes it (the runs store vocab.Override values;
// the engine does not depend on the schema's types).
func InputHash(in Instance, pins map[string]string, overrides any, version string) (string, error) {
	b, err := json.Marshal(struct {
		Instance  Instance          `json:"instance"`
		Pins      map[string]string `json:"pins"`
		Overrides any               `json:"overrides"`
		Version   string            `json:"version"`
	}{in, pins, overrides, version})
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:]), nil
}
