// Package check validates user input the same way everywhere: it trims text, counts
// limits in characters (and refuses text whose UTF-8 encoding is over a byte limit), and
// adds a user error with the field's path for anything wrong, so a service can collect
// every problem of an input before deciding not to write.
package check
