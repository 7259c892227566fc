// Package clip shortens text to fit a stored column without breaking a UTF-8 character
// (PostgreSQL rejects invalid UTF-8, so a byte cut in the middle of "é" would fail a write).
package clip
